// Hashing threads (md5/sha1/sha256 as the check_* options ask), so that scans never block the
// event loop that serves the manager connection. Two lanes: scheduled scans and real-time checks
// have threads of their own, so neither queues behind the other, and a real-time job that runs
// past its deadline is abandoned (the caller moves it to the scan lane) so one slow file never
// holds the real-time events behind it. Workers read fds the access layer opened; they never
// open a path.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { errnoText, printablePath } from './scan.js';
import { CANCELED, CANCEL_ALL, HashJob, HashReply, TOO_LARGE } from './hash-protocol.js';

export { CANCELED, TOO_LARGE } from './hash-protocol.js';

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';
export type HashLane = 'scan' | 'realtime';

export interface FileHashes {
  /** Bytes read. */
  size: number;
  md5?: string;
  sha1?: string;
  sha256?: string;
}

/** The file could not be hashed; the message is the agent's log line for it, in Wazuh's words. */
export class HashError extends Error {
  constructor(readonly path: string, readonly code: string, maxBytes = 0) {
    super(code === TOO_LARGE
      // OS_MD5_SHA1_SHA256_File's warning for a file that reached file_max_size while read
      ? `'${printablePath(path)}' filesize is larger than the maximum allowed (${Math.floor(maxBytes / 1048576)} MB). File skipped.`
      : `(6324): Couldn't generate hashes for '${printablePath(path)}' due to ${errnoText({ code })}.`);
  }

  /** Abandoned: past its deadline, or the pool is closing. */
  get cancelled(): boolean {
    return this.code === CANCELED;
  }
}

interface Pending {
  job: HashJob;
  path: string;
  resolve: (r: FileHashes) => void;
  reject: (e: Error) => void;
  deadline?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  cancel: Int32Array;
  busy: Map<number, Pending>;
}

export interface HashPoolOptions {
  /** Threads for scheduled scans (default: up to 4, one per core). */
  scanThreads?: number;
  /** Threads for real-time checks (default 1). */
  realtimeThreads?: number;
  /** <process_priority>, applied to the hashing threads only (Wazuh nices syscheckd). */
  niceness?: number;
}

/**
 * A hashing thread holds one read buffer and a few digests: a small heap keeps the threads from
 * adding tens of MiB each to the agent's resident memory (V8's defaults are sized for apps).
 */
const HASH_WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 };

/**
 * Scan jobs are sent in small batches: one message per file would cost more than hashing small
 * files. Real-time jobs go one at a time, so that a job past its deadline (counted from when it
 * was queued) holds back no other job in its batch.
 */
const BATCH: Record<HashLane, number> = { scan: 32, realtime: 1 };

class Lane {
  readonly slots: Slot[] = [];
  readonly queue: Pending[] = [];
  constructor(readonly batch: number) {}
}

export class HashPool {
  private readonly lanes: Record<HashLane, Lane> = { scan: new Lane(BATCH.scan), realtime: new Lane(BATCH.realtime) };
  private nextId = 1;
  private closed = false;

  constructor(o: HashPoolOptions = {}) {
    const scan = o.scanThreads ?? Math.max(1, Math.min(os.availableParallelism(), 4));
    for (let i = 0; i < scan; i++) this.addSlot(this.lanes.scan, o.niceness);
    for (let i = 0; i < (o.realtimeThreads ?? 1); i++) this.addSlot(this.lanes.realtime, o.niceness);
  }

  private addSlot(lane: Lane, niceness: number | undefined): void {
    const cancel = new SharedArrayBuffer(4);
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { niceness, cancel }, resourceLimits: HASH_WORKER_LIMITS });
    const slot: Slot = { worker, cancel: new Int32Array(cancel), busy: new Map() };
    worker.on('message', (replies: HashReply[]) => this.settle(lane, slot, replies));
    worker.on('error', (e) => {
      for (const p of slot.busy.values()) this.finish(p).reject(e);
      slot.busy.clear();
    });
    lane.slots.push(slot);
  }

  /**
   * Hashes the open file `fd` (named `path` in messages) from offset 0. `deadlineMs`: the job is
   * abandoned with a cancelled HashError when its thread has not finished it by then.
   */
  hash(fd: number, path: string, algorithms: HashAlgorithm[], o: { lane?: HashLane; maxBytes?: number; deadlineMs?: number } = {}): Promise<FileHashes> {
    if (this.closed) return Promise.reject(new HashError(path, CANCELED));
    const lane = this.lanes[o.lane ?? 'scan'];
    return new Promise((resolve, reject) => {
      const p: Pending = { job: { id: this.nextId++, fd, algorithms, maxBytes: o.maxBytes ?? 0 }, path, resolve, reject };
      if (o.deadlineMs !== undefined) p.deadline = setTimeout(() => this.cancelJob(lane, p), o.deadlineMs);
      lane.queue.push(p);
      this.pump(lane);
    });
  }

  /** Abandons every job, queued or running, and stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    for (const lane of Object.values(this.lanes)) {
      for (const p of lane.queue.splice(0)) this.finish(p).reject(new HashError(p.path, CANCELED));
      for (const slot of lane.slots) {
        Atomics.store(slot.cancel, 0, CANCEL_ALL);
        for (const p of slot.busy.values()) this.finish(p).reject(new HashError(p.path, CANCELED));
        slot.busy.clear();
      }
    }
    await Promise.all(Object.values(this.lanes).flatMap((l) => l.slots.map((s) => s.worker.terminate())));
  }

  private cancelJob(lane: Lane, p: Pending): void {
    const queued = lane.queue.indexOf(p);
    if (queued >= 0) {
      lane.queue.splice(queued, 1);
      this.finish(p).reject(new HashError(p.path, CANCELED));
      return;
    }
    const slot = lane.slots.find((s) => s.busy.get(p.job.id) === p);
    if (slot) Atomics.store(slot.cancel, 0, p.job.id);
  }

  private finish(p: Pending): Pending {
    clearTimeout(p.deadline);
    return p;
  }

  private pump(lane: Lane): void {
    for (const slot of lane.slots) {
      if (lane.queue.length === 0) return;
      if (slot.busy.size > 0) continue;
      const batch = lane.queue.splice(0, lane.batch);
      for (const p of batch) slot.busy.set(p.job.id, p);
      Atomics.store(slot.cancel, 0, 0);
      slot.worker.postMessage(batch.map((p) => p.job));
    }
  }

  private settle(lane: Lane, slot: Slot, replies: HashReply[]): void {
    for (const r of replies) {
      const p = slot.busy.get(r.id);
      if (!p) continue;
      slot.busy.delete(r.id);
      this.finish(p);
      if ('error' in r) {
        p.reject(new HashError(p.path, r.error, p.job.maxBytes));
        continue;
      }
      const out: FileHashes = { size: r.size };
      p.job.algorithms.forEach((a, i) => (out[a] = r.digests[i]));
      p.resolve(out);
    }
    if (!this.closed) this.pump(lane);
  }
}
