// Waiting, in the two forms the agent needs.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `work`, `ms` at most: resolves undefined then, and what `work` has not done goes on unwatched. */
export async function within<T>(work: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, ms))))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sleeps and waits that a shutdown cuts short, so retry loops stop at once on SIGTERM. */
export class Stoppable {
  private isStopped = false;
  private readonly onStopCallbacks = new Set<() => void>();

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Sleeps `ms`, or less when stop() comes first. */
  sleep(ms: number): Promise<void> {
    if (this.isStopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onStopCallbacks.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.onStopCallbacks.add(done);
    });
  }

  /** Calls `fn` on stop (at once if already stopped); returns a function that unregisters it. */
  onStop(fn: () => void): () => void {
    if (this.isStopped) {
      fn();
      return () => {};
    }
    this.onStopCallbacks.add(fn);
    return () => this.onStopCallbacks.delete(fn);
  }

  stop(): void {
    this.isStopped = true;
    for (const fn of [...this.onStopCallbacks]) fn();
    this.onStopCallbacks.clear();
  }
}
