// Seeded fuzzing: a small deterministic generator, the seed (fixed, or FUZZ_SEED to explore other
// sequences), and a runner that executes a fuzz loop in a worker thread under a deadline.
import { Worker } from 'node:worker_threads';

/** The seed a fuzz test uses: FUZZ_SEED when set (any unsigned 32-bit integer), else `fixed`. */
export function fuzzSeed(fixed: number): number {
  const env = process.env.FUZZ_SEED;
  if (env === undefined || env === '') return fixed;
  const seed = Number(env);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`FUZZ_SEED must be an unsigned 32-bit integer, not '${env}'`);
  return seed;
}

/** mulberry32: 32-bit state, full period, fast; the same seed always gives the same sequence. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) {
      const r = this.next();
      for (let k = 0; k < 4 && i + k < n; k++) b[i + k] = (r >>> (8 * k)) & 0xff;
    }
    return b;
  }
}

/**
 * Hang detection, not a speed limit: a fuzz loop that has not finished after this long is stuck
 * (an endless loop or a catastrophic regex), so the worker is terminated and the test fails.
 * The loops take a few seconds; the deadline leaves a wide margin for a loaded machine.
 */
export const FUZZ_HANG_DEADLINE_MS = 120_000;

/**
 * Runs `fn` exported by the compiled module `moduleUrl` in a worker thread, with `args`, and
 * resolves with what it returns. Rejects with the loop's own error (which names seed and input),
 * or with "hang" when it does not finish within `deadlineMs`.
 */
export function runFuzzWorker<A, R>(moduleUrl: URL, fn: string, args: A, deadlineMs = FUZZ_HANG_DEADLINE_MS): Promise<R> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: { module: moduleUrl.href, fn, args } });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`hang: ${fn}(${JSON.stringify(args)}) did not finish within ${deadlineMs / 1000} s`));
    }, deadlineMs);
    worker.once('message', (m: { ok: true; result: R } | { ok: false; error: string }) => {
      clearTimeout(timer);
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fuzz worker exited with code ${code} before reporting`));
    });
  });
}
