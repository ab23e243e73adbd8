// Hashes files for the pool in hash.ts, off the main thread: one pread pass over an fd the main
// thread opened (access.ts) feeds every requested digest. The worker never opens a path. It stops
// at the byte limit (Wazuh's OS_MD5_SHA1_SHA256_File with syscheck.file_max_size) and when the
// pool cancels the job (deadline, shutdown), checked between chunks.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { CANCEL_ALL, CANCELED, HashJob, HashReply, TOO_LARGE } from './hash-protocol.js';

const CHUNK = 1 << 20;
const buffer = Buffer.allocUnsafe(CHUNK);

const { niceness, cancel } = workerData as { niceness?: number; cancel: SharedArrayBuffer };
/** The id of the job to abandon (or CANCEL_ALL), written by the pool. */
const cancelled = new Int32Array(cancel);

function hashFd(job: HashJob): HashReply {
  const digests = job.algorithms.map((a) => crypto.createHash(a));
  try {
    let size = 0;
    for (;;) {
      const flag = Atomics.load(cancelled, 0);
      if (flag === job.id || flag === CANCEL_ALL) return { id: job.id, error: CANCELED };
      const n = fs.readSync(job.fd, buffer, 0, CHUNK, size);
      if (n === 0) break;
      size += n;
      if (job.maxBytes > 0 && size >= job.maxBytes) return { id: job.id, error: TOO_LARGE };
      const chunk = buffer.subarray(0, n);
      for (const d of digests) d.update(chunk);
    }
    return { id: job.id, size, digests: digests.map((d) => d.digest('hex')) };
  } catch (e) {
    return { id: job.id, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

// setpriority(PRIO_PROCESS, 0) on Linux changes the calling thread only: this hashing thread.
if (niceness !== undefined) {
  try {
    os.setPriority(niceness);
  } catch {
    // lowering below the current value needs CAP_SYS_NICE: keep the inherited priority
  }
}

parentPort!.on('message', (jobs: HashJob[]) => parentPort!.postMessage(jobs.map(hashFd)));
