// Waiting, in the forms the agent needs.
import { setTimeout as delay } from 'node:timers/promises';

/** setTimeout's longest wait, about 24.8 days: Node fires a longer one after 1 ms. */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * One pending call, replaced by each set(): a setTimeout for any wait. A wait beyond setTimeout's
 * longest (a scan `frequency` or sync `max_interval` of weeks) is waited in parts.
 */
export class Timer {
  private handle: NodeJS.Timeout | undefined;

  constructor(private readonly longestMs = LONGEST_TIMEOUT_MS) {}

  /** Calls `fn` in `ms`, instead of what was set before. */
  set(ms: number, fn: () => void): void {
    this.clear();
    // a monotonic clock: a wall clock set back or forth changes no wait
    const at = performance.now() + ms;
    const arm = (): void => {
      const left = at - performance.now();
      this.handle = left > this.longestMs ? setTimeout(arm, this.longestMs) : setTimeout(fn, Math.max(0, left));
    };
    arm();
  }

  clear(): void {
    clearTimeout(this.handle);
    this.handle = undefined;
  }
}

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

/**
 * At most `max` a second (0: no limit), counted per wall-clock second as Wazuh's syscheck counts its
 * max_eps and sync max_eps (run_check.c send_syscheck_msg, fim_sync_check_eps): a burst of `max`,
 * then a wait for the next second.
 */
export class PerSecondLimit {
  /** The second being counted, and how many it has taken. */
  private window = { second: 0, taken: 0 };

  constructor(private readonly max: number) {}

  /**
   * Counts one more: undefined when it may go now (the caller goes on in the same turn), else a
   * promise that resolves when it may, or rejects with an AbortError when `signal` aborts the wait.
   */
  take(signal?: AbortSignal): Promise<void> | undefined {
    if (this.max <= 0) return undefined;
    const second = Math.floor(Date.now() / 1000);
    if (second > this.window.second) this.window = { second, taken: 0 };
    // the window may be a second ahead already: callers waiting for it have their places in it
    if (this.window.taken >= this.max) this.window = { second: this.window.second + 1, taken: 0 };
    this.window.taken++;
    const wait = this.window.second * 1000 - Date.now();
    return wait > 0 ? delay(wait, undefined, { signal }) : undefined;
  }
}
