// The FIM engine: keeps the baseline, runs scans, turns real-time capture events into Wazuh FIM
// events, and runs the integrity synchronization with the manager (sync.ts). Events leave through
// `send` (the spool), sync messages through `sendSync` (the client buffer's sync lane); the engine
// never touches sockets, and keeps no schedule: when scans and syncs run is runner.ts's.
import fs from 'node:fs';
import { MonitoredRoot, OpenFile } from './access.js';
import type { CaptureEvent, FimOp } from '../capture/event.js';
import type { DirectoryConfig, SyscheckConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { type Baseline, type BaselineEntry, BaselineHeldFullError } from './db.js';
import { type FileState, type FimChecks, buildFileState } from './state.js';
import {
  type AuditData, type FimMode, fileAddedMessage, fileDeletedMessage, fileModifiedMessage, scanEndMessage, scanStartMessage,
} from './wire.js';
import { parseSyncRequest } from './sync-messages.js';
import { DbState, checkDbState } from './db-state.js';
import { DiffStore } from './diff.js';
import { FirstScanProgress } from './first-scan.js';
import { FileHashes, HashAlgorithm, HashError, HashLane, HashPool } from './hash.js';
import { pathMatches } from '../config/syscheck.js';
import { WalkedFile, configFor, errnoText, expandDirectories, isMonitoredFile, printablePath, vanished, walkDirectory } from './scan.js';
import type { WhoResolver } from './who.js';
import type { FimEventFields } from '../spool/record.js';
import { SpoolWriteError } from '../spool/spool.js';
import { FimOrigin, fimEventFields } from './event-record.js';
import { IntegritySync } from './sync.js';
import { PerSecondLimit } from '../timers.js';

export interface FimEngineOptions {
  syscheck: SyscheckConfig;
  baseline: Baseline;
  hashes: HashPool;
  who: WhoResolver;
  /**
   * Hands one message (`8:syscheck:...` / `5:fim_file:...`) to the spool, with the event's
   * structured form for FIM events. Synchronous: once it returns, the event survives a crash, so
   * the baseline may move on.
   */
  send: (message: string, fim?: FimEventFields) => void;
  /**
   * Hands one integrity sync message (`5:fim_file:...`) to the sync lane: resolves once it was
   * taken, rejects when `signal` aborts first. Not durable: a sync can always be run again.
   */
  sendSync: (message: string, signal: AbortSignal) => Promise<void>;
  /** Told as each sync state goes out (the runner's sync schedule counts a sync in progress by them). */
  syncStateSent?: () => void;
  log: Logger;
  /** Stored copies for report_changes. */
  diffs?: DiffStore;
  /** Seconds since the epoch. */
  now?: () => number;
}

export interface ScanSummary {
  files: number;
  added: number;
  modified: number;
  deleted: number;
}

/** The id of the last scan started: each gets a new one, so rows it did not see are told from rows it did. */
const SCAN_META = 'scan';
/** While the first scan has not ended: how far it got (first-scan.ts), written with the rows it covers. */
const FIRST_SCAN_META = 'first-scan';
/** Files whose hashing a scan starts before comparing the first of them with the baseline. */
const SCAN_AHEAD = 64;
/**
 * How long a real-time check may hash one file on the real-time lane. Past it the file is hashed
 * again on the scan lane (its event still carries its mode and who-data) and the real-time lane
 * moves on. A file of file_max_size (1 GiB) hashes in a few seconds on one core.
 */
const REALTIME_HASH_DEADLINE_MS = 2_000;
/** Real-time path events handled at once (in order per path); more wait, holding the capture back. */
const REALTIME_IN_FLIGHT = 128;
/**
 * A 'write' event comes before its write (the kernel updates mtime before it copies the data, so
 * a look at once can see a new mtime with old content), and the kernel sends at most one per file
 * per 500 ms (write_interval_ns in bpf/fim.h): the file is checked this long after each event,
 * which sees that write and every one the kernel held back in between. A file written without
 * pause is thus checked about twice a second; at most two checks wait per file.
 */
const WRITE_RECHECK_MS = 600;
const WRITE_CHECKS_WAITING = 2;
/** The operations by which a directory appears in a tree (its files are then reported added). */
const DIRECTORY_ARRIVALS: ReadonlySet<FimOp> = new Set<FimOp>(['create', 'mkdir', 'rename']);
/**
 * Reads in a row before `readState` stops waiting for a quiet file and returns the last read as
 * it is: a file rewritten without pause (a busy log) still gets a state, which the next scan corrects.
 */
const SETTLE_ATTEMPTS = 3;

/**
 * What a check reports: everything; only changes to rows already stored (a resumed first scan
 * where it had not been yet: new files are baselined silently); or nothing (the first scan).
 */
type Report = 'everything' | 'changes' | 'nothing';

/** A file's state as read through the access layer; `file` (regular files) is open until released. */
interface ReadState {
  state: FileState;
  /** The attributes the state was built from (fstat of the read fd, or the link's lstat). */
  stat: fs.BigIntStats;
  file?: OpenFile;
}

export class FimEngine {
  private scanning: Promise<ScanSummary> | undefined;
  private readonly sync: IntegritySync;
  private readonly now: () => number;
  /** <max_eps>: FIM events a second. */
  private readonly eventLimit: PerSecondLimit;
  private fullWarned = false;
  private dbState: DbState = 'empty';
  /** The configured directories, wildcards expanded: at start and at each scan, as Wazuh does. */
  private dirs: DirectoryConfig[];
  private stopping = false;
  /** Rows in the baseline, counted once and then kept (file_limit is checked for every new file). */
  private entries: number | undefined;
  /** Real-time path events being handled, and the last one queued for each path. */
  private readonly realtime = new Set<Promise<void>>();
  private readonly pathQueues = new Map<string, Promise<void>>();
  /** Checks waiting after write events, per file. */
  private readonly writeChecks = new Map<string, Set<NodeJS.Timeout>>();
  /** While a scan runs before the first scan ended: how far the first scan got. */
  private firstScan: FirstScanProgress | undefined;
  /**
   * The id of the scan running, if any: a real-time check marks the row it writes as seen by it.
   * Marked 0 instead, a file changed (or added) in real time after the walk passed it would be
   * "unseen" at the end of its directory's walk: a false 553, then a 554 at its next event.
   */
  private runningScanId = 0;

  constructor(private readonly o: FimEngineOptions) {
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.dirs = expandDirectories(o.syscheck.directories);
    this.eventLimit = new PerSecondLimit(o.syscheck.maxEps);
    const { maxEps, queueSize } = o.syscheck.synchronization;
    this.sync = new IntegritySync({ baseline: o.baseline, send: o.sendSync, maxEps, queueSize, log: o.log, now: this.now, stateSent: o.syncStateSent });
  }

  /** The monitored directories as of the last expansion (wildcards resolved). */
  get directories(): readonly DirectoryConfig[] {
    return this.dirs;
  }

  /** A scheduled scan; concurrent calls share the one running. */
  scan(): Promise<ScanSummary> {
    this.scanning ??= this.runScan().finally(() => this.scanEnded());
    return this.scanning;
  }

  /**
   * Scans only the monitored directories among `paths` (after real-time events were lost), once
   * any running scan ended. Changes are reported in scheduled mode, without who-data: nothing
   * tells who made them. No scan start/end messages: it is not a full scan.
   */
  async rescan(paths: readonly string[]): Promise<ScanSummary> {
    while (this.scanning) await this.scanning.catch(() => undefined);
    this.scanning = this.runScan(paths).finally(() => this.scanEnded());
    return this.scanning;
  }

  private scanEnded(): void {
    this.scanning = undefined;
    this.runningScanId = 0;
  }

  private async runScan(only?: readonly string[]): Promise<ScanSummary> {
    const { baseline, syscheck, log } = this.o;
    const scanId = Number(baseline.getMeta(SCAN_META) ?? '0') + 1;
    // The first scan builds the baseline silently, as Wazuh's does; later ones report changes. A
    // first scan cut short (a stop, a crash) is resumed at the next scan: what it stored is compared.
    const interrupted = FirstScanProgress.parse(baseline.getMeta(FIRST_SCAN_META));
    const first = interrupted ?? (scanId === 1 ? FirstScanProgress.none : undefined);
    baseline.transaction(() => {
      baseline.setMeta(SCAN_META, String(scanId));
      if (first) baseline.setMeta(FIRST_SCAN_META, first.toString());
    });
    this.firstScan = first;
    this.runningScanId = scanId;
    const summary: ScanSummary = { files: 0, added: 0, modified: 0, deleted: 0 };
    /** Files a resumed first scan baselined silently: where it had not been before. */
    let unreached = 0;
    const started = this.now();
    if (!only) {
      log.info('File integrity monitoring scan started.');
      this.o.send(scanStartMessage(started));
      this.dirs = expandDirectories(syscheck.directories);
    }
    if (interrupted) {
      log.info(`Resuming the first scan, interrupted before it ended: changes to the ${baseline.count()} files it stored are reported, ` +
        'and files added where it had been; files it had not reached are baselined silently.');
    }
    const dirs = this.dirs;
    for (const dir of dirs) {
      if (only && !only.includes(dir.path)) continue;
      // Files are hashed SCAN_AHEAD at a time (every hashing thread busy), then compared with the
      // baseline one by one, in walk order.
      const ahead: { f: WalkedFile; read: Promise<ReadState | undefined> }[] = [];
      const compare = async () => {
        const { f, read } = ahead.shift()!;
        const report: Report = !first ? 'everything'
          : !interrupted ? 'nothing'
          : interrupted.covers(dir.path, f.path) ? 'everything' : 'changes';
        const change = await this.check(f.path, dir, 'scheduled', 'scan', undefined, report, scanId, read);
        if (change === 'added') summary.added++;
        else if (change === 'modified') summary.modified++;
        if (change === 'added' && report === 'changes') unreached++;
      };
      const root = this.openRoot(dir);
      if (root) {
        try {
          for (const f of walkDirectory(root, dir, syscheck, dirs, log)) {
            if (this.stopping) break;
            if (configFor(f.path, dirs) !== dir) continue;
            summary.files++;
            if (this.beyondFileLimit(f.path)) continue;
            const read = this.readState(root, f.path, dir, 'scan', f);
            // awaited in compare(); this only keeps an early failure from counting as unhandled
            read.catch(() => undefined);
            ahead.push({ f, read });
            if (ahead.length >= SCAN_AHEAD) await compare();
          }
          // after a stop, files hashed before it are not stored past one whose hash it cancelled
          while (ahead.length && !this.stopping) await compare();
        } finally {
          for (const { read } of ahead.splice(0)) void read.then((r) => r?.file?.close(), () => undefined);
          root.close();
        }
      }
      // a scan cut short by a stop reports no deletions: the next start scans again
      if (this.stopping) return summary;
      for (const gone of baseline.unseen(dir.path, scanId)) {
        if (configFor(gone.path, dirs) !== dir) continue;
        await this.reportDeleted(gone, dir, 'scheduled', 'scan');
        summary.deleted++;
      }
      if (this.firstScan) {
        this.firstScan = this.firstScan.whole(dir.path);
        baseline.setMeta(FIRST_SCAN_META, this.firstScan.toString());
      }
    }
    this.firstScan = undefined;
    if (only) {
      log.info(`File integrity monitoring rescan of ${only.length} directories ended: ${summary.added} added, ${summary.modified} modified, ${summary.deleted} deleted.`);
      return summary;
    }
    if (syscheck.fileLimit.enabled) {
      const { state, change } = checkDbState(this.dbState, syscheck.fileLimit.entries, baseline.count());
      this.dbState = state;
      if (change) {
        log[change.level](change.log);
        this.o.send(change.message);
      }
    }
    if (first) baseline.deleteMeta(FIRST_SCAN_META);
    this.o.send(scanEndMessage(this.now()));
    log.info(`File integrity monitoring scan ended: ${summary.files} files, ${summary.added} added, ${summary.modified} modified, ${summary.deleted} deleted.`);
    if (interrupted) {
      log.info(`The resumed first scan ended: ${summary.added - unreached} files added where it had been were reported, ` +
        `${unreached} where it had not been were baselined silently.`);
    }
    return summary;
  }

  /**
   * Real-time events from the capture (or inotify). Each path's events are handled in arrival
   * order, different paths side by side (at most REALTIME_IN_FLIGHT at once), so one slow file
   * holds back only its own later events. Resolves once every event was taken in.
   */
  async onCapture(events: CaptureEvent[]): Promise<void> {
    for (const e of events) {
      const paths = e.op === 'rename' ? [e.path, e.newPath] : [e.path];
      for (const p of paths) {
        if (p === undefined || this.stopping) continue;
        if (e.op === 'write') {
          this.checkAfterWrite(p, e);
          continue;
        }
        while (this.realtime.size >= REALTIME_IN_FLIGHT) await Promise.race(this.realtime.values());
        this.handleInOrder(p, e);
      }
    }
  }

  /** Resolves when no real-time event is being handled. */
  async idle(): Promise<void> {
    while (this.realtime.size) await Promise.all(this.realtime.values());
  }

  /** Stops scans, real-time handling and the synchronization where they are; in-flight work is abandoned. */
  stop(): void {
    this.stopping = true;
    this.sync.stop();
    for (const timers of this.writeChecks.values()) for (const t of timers) clearTimeout(t);
    this.writeChecks.clear();
  }

  private checkAfterWrite(p: string, e: CaptureEvent): void {
    const waiting = this.writeChecks.get(p) ?? new Set<NodeJS.Timeout>();
    if (waiting.size >= WRITE_CHECKS_WAITING) return;
    const timer = setTimeout(() => {
      waiting.delete(timer);
      if (!waiting.size) this.writeChecks.delete(p);
      if (!this.stopping) this.handleInOrder(p, e);
    }, WRITE_RECHECK_MS).unref();
    waiting.add(timer);
    this.writeChecks.set(p, waiting);
  }

  private handleInOrder(p: string, e: CaptureEvent): void {
    const previous = this.pathQueues.get(p) ?? Promise.resolve();
    const run: Promise<void> = previous.then(() => this.onPathEvent(p, e)).catch((err: unknown) => {
      if (this.stopping) return;
      const message = `FIM real-time event for '${printablePath(p)}' failed: ${(err as Error).message}`;
      // refused on a full disk: counted and logged once for the episode, and looked for again after it
      if (err instanceof SpoolWriteError || err instanceof BaselineHeldFullError) this.o.log.debug(message);
      else this.o.log.error(message);
    });
    const done = run.finally(() => {
      this.realtime.delete(done);
      if (this.pathQueues.get(p) === run) this.pathQueues.delete(p);
    });
    this.pathQueues.set(p, run);
    this.realtime.add(done);
  }

  /**
   * One path of a real-time event, as Wazuh's fim_realtime_event/fim_whodata_event take it: a file
   * or link is checked; a directory (moved in, renamed inside) is walked and what it holds is
   * checked in real-time mode with the event's who-data; a path that is gone is reported deleted,
   * with every entry that was below it (a directory moved out or removed: fim_process_missing_entry).
   */
  private async onPathEvent(p: string, e: CaptureEvent): Promise<void> {
    const dir = configFor(p, this.dirs);
    if (!dir || (!dir.realtime && !dir.whodata) || this.stopping) return;
    const mode: FimMode = dir.whodata && e.who ? 'whodata' : 'realtime';
    const audit = mode === 'whodata' ? this.o.who.audit(e.who!) : undefined;
    const origin = { capture: e.source, ktimeNs: e.ktimeNs };
    const root = this.openRoot(dir);
    let read: ReadState | undefined;
    let present = false;
    try {
      if (root) {
        const st = this.lstatBeneath(root, p);
        if (st?.isDirectory()) {
          // only what can bring a directory in is walked: a chmod, or an rmdir that failed, of
          // a big directory in a loop must not make the agent read the tree each time
          if (DIRECTORY_ARRIVALS.has(e.op)) await this.checkSubtree(root, p, dir, mode, origin, audit);
          return;
        }
        if (st && !st.isFile() && !st.isSymbolicLink()) return;
        present = st !== undefined && isMonitoredFile(p, dir, this.o.syscheck);
        if (st && !present) return;
        if (present && this.beyondFileLimit(p)) return;
        if (present) read = await this.readState(root, p, dir, 'realtime');
      }
    } finally {
      root?.close();
    }
    if (read) {
      await this.check(p, dir, mode, origin, audit, 'everything', 0, Promise.resolve(read));
      return;
    }
    if (present) return;
    const known = this.o.baseline.get(p);
    if (known) {
      await this.reportDeleted(known, dir, mode, origin, audit);
      return;
    }
    // each in its own path's turn: `rm -rf` sends the files' own deletions too, side by side with
    // the directory's, and each entry must be reported once
    for (const below of this.o.baseline.below(p)) {
      if (this.stopping) return;
      const owner = configFor(below.path, this.dirs);
      if (owner && (owner.realtime || owner.whodata)) this.handleInOrder(below.path, e);
    }
  }

  /** A directory that appeared in a real-time tree: its files and links, checked as real-time events. */
  private async checkSubtree(
    root: MonitoredRoot, start: string, dir: DirectoryConfig, mode: FimMode, origin: FimOrigin, audit: AuditData | undefined,
  ): Promise<void> {
    for (const f of walkDirectory(root, dir, this.o.syscheck, this.dirs, this.o.log, start)) {
      if (this.stopping) return;
      if (configFor(f.path, this.dirs) !== dir) continue;
      await this.check(f.path, dir, mode, origin, audit, 'everything', 0, this.readState(root, f.path, dir, 'realtime', f));
    }
  }

  /** The monitored root of `dir`, opened; undefined (and a warning unless it is gone) when it cannot be. */
  private openRoot(dir: DirectoryConfig): MonitoredRoot | undefined {
    try {
      return MonitoredRoot.open(dir.path, dir.followSymbolicLink, dir.wildcardBase);
    } catch (e) {
      if (!vanished(e)) this.o.log.warn(`(6222): Stat() function failed on: '${printablePath(dir.path)}' due to ${errnoText(e)}.`);
      return undefined;
    }
  }

  /** lstat beneath the root; undefined when the path is gone (or behind a link now, as good as gone). */
  private lstatBeneath(root: MonitoredRoot, p: string): fs.BigIntStats | undefined {
    try {
      return root.lstat(p);
    } catch (e) {
      if (!vanished(e)) this.o.log.debug(`(6222): Stat() function failed on: '${printablePath(p)}' due to ${errnoText(e)}.`);
      return undefined;
    }
  }

  /** Compares one existing file with the baseline; reports and stores what changed. */
  private async check(
    p: string, dir: DirectoryConfig, mode: FimMode, origin: FimOrigin, audit: AuditData | undefined, report: Report,
    scanId: number, reading: Promise<ReadState | undefined>,
  ): Promise<'added' | 'modified' | 'unchanged' | 'unreadable'> {
    const read = await reading;
    if (!read) return 'unreadable';
    try {
      return await this.compare(p, read, dir, mode, origin, audit, report, scanId);
    } finally {
      read.file?.close();
    }
  }

  private async compare(
    p: string, read: ReadState, dir: DirectoryConfig, mode: FimMode, origin: FimOrigin, audit: AuditData | undefined, report: Report,
    scanId: number,
  ): Promise<'added' | 'modified' | 'unchanged'> {
    const { baseline } = this.o;
    const { state } = read;
    const known = baseline.get(p);
    const ts = this.now();
    const changed = !known || known.state.checksum !== state.checksum;
    const contentChanges = dir.reportChanges && changed && read.file ? this.diff(p, dir, read) : undefined;
    const opts = { mode, checks: checksOf(dir), tags: dir.tags, audit, contentChanges };
    const seenBy = scanId || this.runningScanId;
    if (!known) {
      // the scan's look-ahead may have read a few files past the limit: none of them is stored
      if (this.beyondFileLimit(p)) return 'unchanged';
      // The event is spooled before the baseline changes: a crash in between repeats it, never loses it.
      if (report === 'everything') await this.emit(fileAddedMessage(p, state, ts, opts), fimEventFields('added', p, state, mode, origin, ts, audit));
      this.store(p, dir, scanId, () => baseline.put({ path: p, state, lastEvent: ts }, seenBy));
      if (this.entries !== undefined) this.entries++;
      return 'added';
    }
    if (known.state.checksum === state.checksum) {
      if (scanId) this.store(p, dir, scanId, () => baseline.touch(p, scanId));
      return 'unchanged';
    }
    const msg = fileModifiedMessage(p, known.state, state, ts, opts);
    if (msg && report !== 'nothing') await this.emit(msg, fimEventFields('modified', p, state, mode, origin, ts, audit));
    this.store(p, dir, scanId, () => baseline.put({ path: p, state, lastEvent: msg ? ts : known.lastEvent }, seenBy));
    return msg ? 'modified' : 'unchanged';
  }

  /**
   * Writes the row a check found for `p`; in a scan before the first scan ended, in the same
   * transaction as the first scan's progress past `p`: the progress never covers a file whose row
   * is not stored (a resumed first scan would report that file added).
   */
  private store(p: string, dir: DirectoryConfig, scanId: number, write: () => void): void {
    const progress = scanId ? this.firstScan?.past(dir.path, p) : undefined;
    if (!progress) return write();
    this.o.baseline.transaction(() => {
      write();
      this.o.baseline.setMeta(FIRST_SCAN_META, progress.toString());
    });
    this.firstScan = progress;
  }

  private diff(p: string, dir: DirectoryConfig, read: ReadState): string | undefined {
    const { syscheck } = this.o;
    const limits = [syscheck.diff.fileSize.enabled ? dir.diffSizeLimitKb * 1024 : Infinity, syscheck.fileMaxSize || Infinity];
    return this.o.diffs?.contentChanges(p, read.file!, {
      maxBytes: Math.min(...limits, Number.MAX_SAFE_INTEGER),
      nodiff: pathMatches(syscheck.nodiff, p, { list: 'nodiff' }),
      // a file only its owner may read: its content is not the business of whoever could put it here
      ownerOnly: (Number(read.stat.mode) & 0o044) === 0 && p !== dir.path,
    });
  }

  private async reportDeleted(entry: BaselineEntry, dir: DirectoryConfig, mode: FimMode, origin: FimOrigin, audit?: AuditData): Promise<void> {
    const message = fileDeletedMessage(entry.path, entry.state, entry.lastEvent, { mode, checks: checksOf(dir), tags: dir.tags, audit });
    await this.emit(message, fimEventFields('deleted', entry.path, entry.state, mode, origin, this.now(), audit));
    this.o.baseline.delete(entry.path);
    if (this.entries !== undefined) this.entries--;
    if (dir.reportChanges) this.o.diffs?.forget(entry.path);
    this.fullWarned = false;
  }

  /**
   * A file the baseline does not hold while it holds file_limit entries: it is neither read nor
   * hashed nor stored (Wazuh hashes it, then fails the insert with this debug line).
   */
  private beyondFileLimit(p: string): boolean {
    const limit = this.o.syscheck.fileLimit;
    if (!limit.enabled || limit.entries <= 0 || this.entryCount() < limit.entries || this.o.baseline.get(p)) return false;
    if (!this.fullWarned) {
      this.fullWarned = true;
      this.o.log.warn(`File database is full (file_limit ${limit.entries} entries): '${printablePath(p)}' and further new files are not monitored.`);
    }
    this.o.log.debug(`Couldn't insert '${printablePath(p)}' entry into DB. The DB is full, please check your configuration.`);
    return true;
  }

  private entryCount(): number {
    return (this.entries ??= this.o.baseline.count());
  }

  /** Sends one FIM event, at most `max_eps` a second (Wazuh's syscheck pacing; 0 = unlimited). */
  private async emit(message: string, fim: FimEventFields): Promise<void> {
    const paced = this.eventLimit.take();
    if (paced) await paced;
    this.o.send(message, fim);
  }

  /**
   * The entry's state, read through the access layer: a link's from its lstat (the target is never
   * read; Wazuh reports the empty-input hashes), a regular file's hashes and attributes from one
   * open descriptor, which stays open in the result for the report_changes copy. Undefined when
   * it cannot be read (a warning), is too large to hash (Wazuh's warning; not recorded), or is
   * gone or no longer a file or link (debug only: the baseline reports it as deleted, as Wazuh's does).
   */
  private async readState(root: MonitoredRoot, p: string, dir: DirectoryConfig, lane: HashLane, listed?: WalkedFile): Promise<ReadState | undefined> {
    const c = checksOf(dir);
    const { log, syscheck } = this.o;
    if (listed?.kind === 'symlink') return { state: this.buildState(listed.stat, c), stat: listed.stat };
    for (let attempt = 1; ; attempt++) {
      let entry;
      try {
        entry = root.open(p);
      } catch (e) {
        const err = new HashError(p, (e as NodeJS.ErrnoException).code ?? String(e));
        if (vanished(err.code)) log.debug(err.message);
        else log.warn(err.message);
        return undefined;
      }
      if (entry.kind === 'symlink') return { state: this.buildState(entry.stat, c), stat: entry.stat };
      if (entry.kind !== 'file') {
        log.debug(`(6324): Couldn't generate hashes for '${printablePath(p)}': it is no longer a regular file.`);
        return undefined;
      }
      const { file } = entry;
      try {
        const algorithms = (['md5', 'sha1', 'sha256'] as HashAlgorithm[]).filter((a) => c[a]);
        // Wazuh hashes only 0 < size < file_max_size (create_db.c fim_get_data); the rest get the empty-input hashes
        const hashed = algorithms.length > 0 && entry.stat.size > 0n && entry.stat.size < BigInt(syscheck.fileMaxSize);
        const h = hashed ? await this.hash(file, algorithms, lane) : undefined;
        const stat = file.fstat();
        // nlink 0: deleted or renamed over while read (a link or a FIFO swapped in): read the path again
        const stable = stat.nlink > 0n && (!hashed || (stat.ctimeNs === entry.stat.ctimeNs && stat.size === BigInt(h!.size)));
        if (stable || attempt === SETTLE_ATTEMPTS) {
          if (!stable) log.debug(`'${printablePath(p)}' kept changing while it was hashed; its last read is recorded.`);
          const hashes = h && { md5: h.md5 ?? '', sha1: h.sha1 ?? '', sha256: h.sha256 ?? '' };
          return { state: this.buildState(stat, c, hashes), stat, file };
        }
      } catch (e) {
        file.close();
        if (!(e instanceof HashError)) throw e;
        if (e.cancelled || vanished(e.code)) log.debug(e.message);
        else log.warn(e.message);
        return undefined;
      }
      file.close();
    }
  }

  /**
   * Hashes an open file. A real-time job past its deadline goes on on the scan lane (the real-time
   * lane must stay free for the next events); cancelled for good only when the agent stops.
   */
  private async hash(file: OpenFile, algorithms: HashAlgorithm[], lane: HashLane): Promise<FileHashes> {
    const maxBytes = this.o.syscheck.fileMaxSize;
    file.reading('hash');
    try {
      return await this.o.hashes.hash(file.fd, file.path, algorithms, { lane, maxBytes, deadlineMs: lane === 'realtime' ? REALTIME_HASH_DEADLINE_MS : undefined });
    } catch (e) {
      if (!(e instanceof HashError && e.cancelled) || lane !== 'realtime' || this.stopping) throw e;
      this.o.log.debug(`Hashing '${printablePath(file.path)}' took over ${REALTIME_HASH_DEADLINE_MS} ms; it goes on with the scheduled scan's threads.`);
      return this.o.hashes.hash(file.fd, file.path, algorithms, { lane: 'scan', maxBytes });
    }
  }

  private buildState(st: fs.BigIntStats, c: FimChecks, hashes?: { md5: string; sha1: string; sha256: string }): FileState {
    return buildFileState({
      stat: { mode: Number(st.mode), size: st.size, uid: st.uid, gid: st.gid, ino: st.ino, mtime: st.mtimeMs / 1000n },
      userName: this.o.who.userName(Number(st.uid)),
      groupName: this.o.who.groupName(Number(st.gid)),
      hashes,
      checks: c,
    });
  }

  /**
   * Starts an integrity synchronization round (when: runner.ts), cancelling what the last one still
   * had to send. Resolves once its first message was handed to `sendSync`: true; false when it was
   * not (synchronization disabled, cancelled, stopped, or the baseline could not be read).
   */
  startSync(): Promise<boolean> {
    if (!this.o.syscheck.synchronization.enabled) return Promise.resolve(false);
    return this.sync.start();
  }

  /** A manager synchronization request (`fim_file dbsync checksum_fail {...}`), answered in turn. */
  onSyncRequest(component: string, payload: string): void {
    const req = parseSyncRequest(`${component} ${payload}`);
    if (!req) {
      this.o.log.debug(`Ignoring malformed synchronization request: ${printablePath(payload.slice(0, 120))}`);
      return;
    }
    this.sync.request(req);
  }

  /** Resolves once the synchronization has nothing left to read or send. */
  syncIdle(): Promise<void> {
    return this.sync.idle();
  }
}

/** <directories check_*> as the wire format's check set (check_owner covers uid and user name). */
export function checksOf(d: DirectoryConfig): FimChecks {
  const c = d.checks;
  return { size: c.size, perm: c.perm, owner: c.owner, group: c.group, mtime: c.mtime, inode: c.inode, md5: c.md5, sha1: c.sha1, sha256: c.sha256 };
}
