// The FIM integrity synchronization with the manager, driven by the baseline's queries: what
// Wazuh 4.14.7's agent does with shared_modules/rsync (rsyncImplementation.cpp startRSync,
// sendChecksumFail, sendAllData; synchronizationController.hpp for the ids) over its file_entry
// table (syscheckd/src/db/src/fimDBSpecialization.h), its messages paced by <synchronization>
// <max_eps> as run_check.c fim_send_sync_state paces them. The messages are sync-messages.ts's; the
// range checksums and splits checksum.ts's; this file only reads the baseline and sends.
//
// A range is read a page at a time (db.ts RangeCursor), never the whole baseline at once, and the
// event loop runs between pages: at a million files the memory stays that of a page and no
// answer holds the agent up. One job runs at a time, in arrival order (Wazuh's rsync dispatcher
// with its thread pool of one); a new sync cancels the job running and those waiting, and so does
// stop(). Sync messages go out through `send`, the client buffer's sync lane: they are not
// spooled, as a sync can always be run again, and they leave only when no event waits.
import { setImmediate as breather } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { PerSecondLimit } from '../timers.js';
import { RangeChecksum, RangeSplit } from './checksum.js';
import type { Baseline, PathRange, RangeCursor } from './db.js';
import {
  type SyncEntry, type SyncRequest, checkSyncId, integrityCheckGlobal, integrityCheckLeft, integrityCheckRight, integrityClear, stateMessage,
} from './sync-messages.js';
import { printablePath } from './scan.js';

/** Rows read at once for a range checksum (path and checksum only): a millisecond or two. */
const CHECKSUM_PAGE = 1000;
/** Entries read at once for a no_data answer, each then sent in turn. */
const STATE_PAGE = 100;

export interface IntegritySyncOptions {
  baseline: Baseline;
  /**
   * Hands one message to the sync lane: resolves once it was taken (the lane had room), rejects
   * when `signal` aborts first.
   */
  send: (message: string, signal: AbortSignal) => Promise<void>;
  /** <synchronization><max_eps>: messages a second, 0 = unpaced. */
  maxEps: number;
  /** <synchronization><queue_size>: manager requests waiting, at most (more are dropped, as Wazuh's queue does). */
  queueSize: number;
  log: Logger;
  /** Seconds since the epoch (the sync id is time(NULL)). */
  now: () => number;
  /** Told as each state goes out: the sync is in progress while states flow (schedule.ts nextSyncCheck). */
  stateSent?: () => void;
}

type Job = (signal: AbortSignal) => Promise<void>;

/** A job that runs or waits, and what to call once it ended, failed or was cancelled: whether it ran to its end. */
interface Queued {
  job: Job;
  signal: AbortSignal;
  ended: (done: boolean) => void;
}

export class IntegritySync {
  /** The id of the sync in progress, as rsync's checkId moves it. */
  private id = 0;
  private controller = new AbortController();
  private readonly waiting: Queued[] = [];
  private working: Promise<void> | undefined;
  private readonly limit: PerSecondLimit;
  private stopped = false;

  constructor(private readonly o: IntegritySyncOptions) {
    this.limit = new PerSecondLimit(o.maxEps);
  }

  /**
   * Starts a sync (integrity_check_global, or integrity_clear for an empty baseline), cancelling the
   * last one's work. Resolves once that message was handed to `send`: true; false when it was not
   * (cancelled, stopped, or the baseline could not be read).
   */
  start(): Promise<boolean> {
    this.cancel();
    return this.enqueue((signal) => this.sendStart(signal));
  }

  /** A manager request (checksum_fail, no_data), answered after the ones before it. */
  request(req: SyncRequest): void {
    if (this.waiting.length >= this.o.queueSize) {
      this.o.log.debug(`Synchronization request dropped: ${this.o.queueSize} already wait (<synchronization><queue_size>).`);
      return;
    }
    void this.enqueue((signal) => this.answer(req, signal));
  }

  /** Cancels everything for good (the agent stops). */
  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  /** Resolves once no job runs or waits. */
  async idle(): Promise<void> {
    while (this.working) await this.working;
  }

  private cancel(): void {
    this.controller.abort();
    this.controller = new AbortController();
    for (const dropped of this.waiting.splice(0)) dropped.ended(false);
  }

  private enqueue(job: Job): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((ended) => {
      this.waiting.push({ job, signal: this.controller.signal, ended });
      this.working ??= this.work();
    });
  }

  private async work(): Promise<void> {
    try {
      for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
        try {
          await next.job(next.signal);
          next.ended(true);
        } catch (e) {
          if (!next.signal.aborted) this.o.log.error(`FIM synchronization failed: ${(e as Error).message}`);
          next.ended(false);
        }
      }
    } finally {
      // set in the same turn as the last look at `waiting`: a job enqueued after it starts a new run
      this.working = undefined;
    }
  }

  /** rsync startRSync: the first and last paths and the checksum of everything between. */
  private async sendStart(signal: AbortSignal): Promise<void> {
    const id = this.o.now();
    const checksum = new RangeChecksum();
    let range: PathRange | undefined;
    await this.walk(this.o.baseline.checksums(), CHECKSUM_PAGE, signal, (e) => {
      range = { begin: range?.begin ?? e.path, end: e.path };
      checksum.add(e);
    });
    this.id = id;
    await this.emit(range ? integrityCheckGlobal({ ...range, checksum: checksum.digest(), id }) : integrityClear(id), signal);
  }

  /** rsync's answers: checksum_fail splits the range in two (or sends its one entry), no_data sends every entry. */
  private async answer(req: SyncRequest, signal: AbortSignal): Promise<void> {
    const id = checkSyncId(this.id, req.id);
    if (!id.accepted) return;
    this.id = id.current;
    const range = { begin: req.begin, end: req.end };
    if (req.command === 'no_data') {
      await this.walk(this.o.baseline.entries(range), STATE_PAGE, signal, (e) => this.emitState(e, signal));
      return;
    }
    if (req.command !== 'checksum_fail') return;
    const size = this.o.baseline.count(range);
    if (size === 1 && req.begin === req.end) {
      const entry = this.o.baseline.get(req.begin);
      if (entry) await this.emitState(entry, signal);
      return;
    }
    if (size < 2) return; // rsync throws UNEXPECTED_SIZE: nothing is sent
    const split = new RangeSplit(size);
    await this.walk(this.o.baseline.checksums(range), CHECKSUM_PAGE, signal, (e) => split.add(e));
    const halves = split.halves();
    if (!halves) {
      this.o.log.debug(`Synchronization: the range '${printablePath(req.begin)}' to '${printablePath(req.end)}' lost entries while it was split; the next sync covers it.`);
      return;
    }
    await this.emit(integrityCheckLeft({ begin: req.begin, ...halves.left, id: req.id }), signal);
    await this.emit(integrityCheckRight({ ...halves.right, end: req.end, id: req.id }), signal);
  }

  /**
   * Reads `cursor` to its end, `rows` at a time, handing each entry to `each`. The event loop runs
   * between pages (nothing holds it longer than a page), and a cancelled job stops there.
   */
  private async walk<T>(cursor: RangeCursor<T>, rows: number, signal: AbortSignal, each: (entry: T) => unknown): Promise<void> {
    while (!cursor.done) {
      for (const entry of cursor.next(rows)) await each(entry);
      if (!cursor.done) await breather(undefined, { signal });
    }
  }

  /** A state: told to `stateSent` as it goes, as Wazuh's callbackSyncFileWrapper stamps it (db.cpp). */
  private emitState(entry: SyncEntry, signal: AbortSignal): Promise<void> {
    this.o.stateSent?.();
    return this.emit(stateMessage(entry), signal);
  }

  /** One sync message, at most max_eps a second, through the sync lane. */
  private async emit(message: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const paced = this.limit.take(signal);
    if (paced) await paced;
    await this.o.send(message, signal);
  }
}
