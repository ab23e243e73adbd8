// A filesystem filled to the last byte, for the tests of a full disk (the agent's home on a small
// tmpfs): the disk-full behaviour of the spool, the baseline, the log file and the whole agent.
import fs from 'node:fs';
import path from 'node:path';

/** Writes `dir`/filler until the filesystem refuses even a kilobyte; returns the filler's path. */
export function fillFilesystem(dir: string): string {
  const filler = path.join(dir, 'filler');
  // big chunks first, then small ones for what is left in the last pages
  for (const chunk of [1 << 20, 4096, 1024]) {
    try {
      for (;;) fs.appendFileSync(filler, Buffer.alloc(chunk));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
  }
  return filler;
}
