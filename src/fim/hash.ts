// A small pool of worker threads that hash files (md5/sha1/sha256 as the check_* options ask),
// so baseline scans do not block the event loop that serves the manager connection.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { errnoText, printablePath } from './scan.js';

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';

export interface HashJob {
  id: number;
  path: string;
  algorithms: HashAlgorithm[];
}

/** The attributes of the inode that was read, as fstat(2) gave them once it was read. */
export interface HashedStat {
  dev: bigint;
  ino: bigint;
  mode: bigint;
  uid: bigint;
  gid: bigint;
  size: bigint;
  mtimeMs: bigint;
}

/** The worker's error for a path that names something else than a regular file when opened. */
export const NOT_REGULAR = 'NOT_REGULAR';

export type HashReply =
  | { id: number; size: number; digests: string[]; stat: HashedStat; stable: boolean }
  | { id: number; error: string };

export interface FileHashes {
  /** Bytes actually read (the file may change between stat and read). */
  size: number;
  md5?: string;
  sha1?: string;
  sha256?: string;
  /** The inode the digests belong to (the path may have named another one when it was listed). */
  stat: HashedStat;
  /**
   * False when the file changed while it was read (another ctime or size afterwards) or the path
   * no longer names that inode (deleted or replaced): the digests may describe no version at all.
   */
  stable: boolean;
}

interface Pending {
  job: HashJob;
  resolve: (r: FileHashes) => void;
  reject: (e: Error) => void;
}

/**
 * A hashing thread holds one read buffer and a few digests: a small heap keeps the threads from
 * adding tens of MiB each to the agent's resident memory (V8's defaults are sized for apps).
 */
const HASH_WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 };

/** Jobs are sent in small batches: one message per file would cost more than hashing small files. */
const BATCH = 32;

/**
 * Reads in a row before `hashSettled` stops waiting for a quiet file and returns the last read as
 * it is: a file rewritten without pause (a busy log) still gets a state, which the next scan corrects.
 */
const SETTLE_ATTEMPTS = 3;

/** The file could not be hashed; the message is the agent's log line for it, in Wazuh's words. */
export class HashError extends Error {
  constructor(readonly path: string, readonly code: string) {
    super(code === NOT_REGULAR
      ? `(6324): Couldn't generate hashes for '${printablePath(path)}': it is no longer a regular file.`
      : `(6324): Couldn't generate hashes for '${printablePath(path)}' due to ${errnoText({ code })}.`);
  }

  /**
   * The path no longer names the regular file it named when listed: deleted, replaced by a link
   * or something else, or a parent directory replaced. Wazuh counts such a file as gone.
   */
  get vanished(): boolean {
    return ['ENOENT', 'ENOTDIR', 'ELOOP', NOT_REGULAR].includes(this.code);
  }
}

export class HashPool {
  private readonly workers: { worker: Worker; busy: Map<number, Pending> }[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;

  /** `niceness`: <process_priority>, applied to the hashing threads only (Wazuh nices syscheckd). */
  constructor(size = Math.max(1, Math.min(os.availableParallelism(), 4)), niceness?: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { niceness }, resourceLimits: HASH_WORKER_LIMITS });
      const slot = { worker, busy: new Map<number, Pending>() };
      worker.on('message', (replies: HashReply[]) => this.settle(slot, replies));
      worker.on('error', (e) => {
        for (const p of slot.busy.values()) p.reject(e);
        slot.busy.clear();
      });
      this.workers.push(slot);
    }
  }

  hash(path: string, algorithms: HashAlgorithm[]): Promise<FileHashes> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, path, algorithms }, resolve, reject });
      this.pump();
    });
  }

  /**
   * Hashes `path` again while it changes under the read (at most SETTLE_ATTEMPTS reads), so the
   * digests and attributes returned describe one version of the file that the path names.
   */
  async hashSettled(path: string, algorithms: HashAlgorithm[]): Promise<FileHashes> {
    for (let attempt = 1; ; attempt++) {
      const h = await this.hash(path, algorithms);
      if (h.stable || attempt === SETTLE_ATTEMPTS) return h;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private pump(): void {
    for (const slot of this.workers) {
      if (this.queue.length === 0) return;
      if (slot.busy.size > 0) continue;
      const batch = this.queue.splice(0, BATCH);
      for (const p of batch) slot.busy.set(p.job.id, p);
      slot.worker.postMessage(batch.map((p) => p.job));
    }
  }

  private settle(slot: { busy: Map<number, Pending> }, replies: HashReply[]): void {
    for (const r of replies) {
      const p = slot.busy.get(r.id);
      if (!p) continue;
      slot.busy.delete(r.id);
      if ('error' in r) {
        p.reject(new HashError(p.job.path, r.error));
        continue;
      }
      const out: FileHashes = { size: r.size, stat: r.stat, stable: r.stable };
      p.job.algorithms.forEach((a, i) => (out[a] = r.digests[i]));
      p.resolve(out);
    }
    this.pump();
  }
}
