// Reading a whole FIM baseline in tests, where it is small: the agent itself never does (it reads
// ranges a page at a time, src/fim/db.ts RangeCursor).
import type { Baseline, BaselineEntry } from '../../src/fim/db.js';

/** Every entry of `db`, in byte order of path. */
export function allEntries(db: Baseline): BaselineEntry[] {
  const cursor = db.entries();
  const entries: BaselineEntry[] = [];
  while (!cursor.done) entries.push(...cursor.next(1000));
  return entries;
}
