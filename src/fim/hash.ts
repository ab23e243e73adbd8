// A small pool of worker threads that hash files (md5/sha1/sha256 as the check_* options ask),
// so baseline scans do not block the event loop that serves the manager connection.
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';

export interface HashJob {
  id: number;
  path: string;
  algorithms: HashAlgorithm[];
}

export type HashReply = { id: number; size: number; digests: string[] } | { id: number; error: string };

export interface FileHashes {
  /** Bytes actually read (the file may change between stat and read). */
  size: number;
  md5?: string;
  sha1?: string;
  sha256?: string;
}

interface Pending {
  job: HashJob;
  resolve: (r: FileHashes) => void;
  reject: (e: Error) => void;
}

/** Jobs are sent in small batches: one message per file would cost more than hashing small files. */
const BATCH = 32;

export class HashError extends Error {
  constructor(readonly path: string, readonly code: string) {
    super(`cannot hash '${path}': ${code}`);
  }
}

export class HashPool {
  private readonly workers: { worker: Worker; busy: Map<number, Pending> }[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;

  /** `niceness`: <process_priority>, applied to the hashing threads only (Wazuh nices syscheckd). */
  constructor(size = Math.max(1, Math.min(os.availableParallelism(), 4)), niceness?: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { niceness } });
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
      const out: FileHashes = { size: r.size };
      p.job.algorithms.forEach((a, i) => (out[a] = r.digests[i]));
      p.resolve(out);
    }
    this.pump();
  }
}
