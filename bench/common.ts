// Shared by the benchmarks: arguments, result lines, and the peak RSS of this process.
import fs from 'node:fs';

export const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

/** One human line on stderr, then the machine-readable JSON line on stdout (what bench/run reads). */
export function report(human: string, result: Record<string, unknown>): void {
  console.error(human);
  console.log(JSON.stringify(result));
}

/** Peak resident set of this process (all its threads), in MiB: VmHWM from /proc. */
export function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
