// The process paths of who-data (working directory, executable, and the parent's) as the kernel
// last walked them for each thread. bpf/fim.h walks them once and, while nothing they come from
// changes (for at most a second), names that walk in the thread's later events instead of
// sending the strings again (FIM_EVENT_WHO_REUSED, who_gen): a process deleting a tree sends
// thousands of events from one place. One thread's events reach the ring buffer in order, so the
// walk is always here before the events that name it; a walk the kernel could not deliver (ring
// full) is never named. Bounded: a thread not seen for a while is forgotten, and an event naming
// a forgotten walk keeps its paths undefined (who-data then falls back to /proc).
export interface ProcessPathSet {
  cwd: string | undefined;
  parentCwd: string | undefined;
  exe: string | undefined;
  parentExe: string | undefined;
}

export class ProcessPaths {
  private readonly byThread = new Map<number, { gen: number; paths: ProcessPathSet }>();

  /** Twice the kernel map's 8192 threads: user space never forgets a walk the kernel still names. */
  constructor(private readonly capacity = 16384) {}

  /** A walk the kernel sent: kept as the thread's latest. */
  walked(tid: number, gen: number, paths: ProcessPathSet): void {
    this.byThread.delete(tid); // most recent last: the first key is the one to drop
    this.byThread.set(tid, { gen, paths });
    if (this.byThread.size > this.capacity) this.byThread.delete(this.byThread.keys().next().value!);
  }

  /** The walk an event names; undefined when it is not (or no longer) known. */
  named(tid: number, gen: number): ProcessPathSet | undefined {
    const last = this.byThread.get(tid);
    if (last?.gen !== gen) return undefined;
    // recently used, as in the kernel's LRU map, where each lookup counts
    this.byThread.delete(tid);
    this.byThread.set(tid, last);
    return last.paths;
  }
}
