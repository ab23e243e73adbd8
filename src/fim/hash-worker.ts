// Hashes files for the pool in hash.ts, off the main thread: one read of each file feeds every
// requested digest.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { HashJob, HashReply } from './hash.js';

const CHUNK = 1 << 20;
const buffer = Buffer.allocUnsafe(CHUNK);

function hashFile(job: HashJob): HashReply {
  const digests = job.algorithms.map((a) => crypto.createHash(a));
  let fd: number | undefined;
  try {
    fd = fs.openSync(job.path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      size += n;
      const chunk = buffer.subarray(0, n);
      for (const d of digests) d.update(chunk);
    }
    return { id: job.id, size, digests: digests.map((d) => d.digest('hex')) };
  } catch (e) {
    return { id: job.id, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// setpriority(PRIO_PROCESS, 0) on Linux changes the calling thread only: this hashing thread.
const { niceness } = workerData as { niceness?: number };
if (niceness !== undefined) {
  try {
    os.setPriority(niceness);
  } catch {
    // lowering below the current value needs CAP_SYS_NICE: keep the inherited priority
  }
}

parentPort!.on('message', (jobs: HashJob[]) => parentPort!.postMessage(jobs.map(hashFile)));
