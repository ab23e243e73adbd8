// Hashes files for the pool in hash.ts, off the main thread: one read of each file feeds every
// requested digest. The file is checked around the read, so that a file deleted, replaced or
// rewritten meanwhile is not reported with digests of a version that never existed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { HashJob, HashReply, HashedStat, NOT_REGULAR } from './hash.js';

const CHUNK = 1 << 20;
const buffer = Buffer.allocUnsafe(CHUNK);

function hashedStat(st: fs.BigIntStats): HashedStat {
  return { dev: st.dev, ino: st.ino, mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, mtimeMs: st.mtimeMs };
}

/** Whether `path` still names the inode `st` describes (lstat: a symlink put in its place is another file). */
function stillNamed(path: string, st: fs.BigIntStats): boolean {
  try {
    const now = fs.lstatSync(path, { bigint: true });
    return now.ino === st.ino && now.dev === st.dev;
  } catch {
    return false;
  }
}

function hashFile(job: HashJob): HashReply {
  const digests = job.algorithms.map((a) => crypto.createHash(a));
  let fd: number | undefined;
  try {
    // O_NONBLOCK: a FIFO put in the file's place since it was listed must not block the open
    fd = fs.openSync(job.path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const before = fs.fstatSync(fd, { bigint: true });
    // a device or FIFO may never end: only regular files are read
    if (!before.isFile()) return { id: job.id, error: NOT_REGULAR };
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      size += n;
      const chunk = buffer.subarray(0, n);
      for (const d of digests) d.update(chunk);
    }
    const after = fs.fstatSync(fd, { bigint: true });
    const stable = after.ctimeNs === before.ctimeNs && after.size === BigInt(size) && stillNamed(job.path, after);
    return { id: job.id, size, digests: digests.map((d) => d.digest('hex')), stat: hashedStat(after), stable };
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
