// Runs the steps of the real-time sequence (fim-sequence.ts) as real short-lived processes, and
// the fixture of what the real Wazuh 4.14.7 agent raised for them
// (test/fixtures/realtime-sequence-4.14.7.json, written by record-realtime-sequence.ts).
import { spawn } from 'node:child_process';
import type { SequenceStep } from './fim-sequence.js';

export interface StepTimes {
  /** Date.now() before the first command was spawned. */
  start: number;
  /** Date.now() once the last command had exited. */
  end: number;
}

/** Runs one command to completion; rejects on a non-zero exit, with its stderr. */
function run(argv: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // the fixture's permissions were recorded with umask 022 (fork copies it at spawn)
    const umask = process.umask(0o022);
    let p;
    try {
      p = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    } finally {
      process.umask(umask);
    }
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} in ${cwd}: exit ${code ?? signal}: ${err}`))));
  });
}

/** Runs a step's commands one after the other, in `dir` (or `outside` for the outside ones). */
export async function runStep(step: SequenceStep, dir: string, outside: string): Promise<StepTimes> {
  const start = Date.now();
  for (const c of step.commands) await run(c.argv, c.outside ? outside : dir);
  return { start, end: Date.now() };
}

/** The attributes after a change that the fixture records (syscheck.<name>_after). */
export const AFTER_FIELDS = ['perm', 'uid', 'gid', 'uname', 'gname', 'size', 'mtime', 'inode', 'md5'] as const;
export type AfterField = (typeof AFTER_FIELDS)[number];

/** One alert the real agent raised for a step, as the fixture keeps it. */
export interface FixtureAlert {
  rule: string;
  event: string;
  /** syscheck.path relative to the monitored directory. */
  path: string;
  /** Sorted; empty when the alert has none (added, deleted). Leaves out racy_attributes. */
  changed_attributes: string[];
  /** Changed attributes present in some runs only (mtime, where the second boundary decides). */
  racy_attributes?: string[];
  after: Partial<Record<AfterField, string | number>>;
  /** syscheck fields other than the usual ones (hard link or symlink specifics), when any. */
  extra?: Record<string, unknown>;
  /** Of the `after` fields, those that differed between runs (so depend on the run, not the step). */
  unstable?: AfterField[];
  /** ms from the step's end to the alert's timestamp, in each run where it came (negative: before the end). */
  delayMs: number[];
  /** Not raised in every run: racy, not required. */
  optional?: true;
}

export interface FixtureStep {
  name: string;
  alerts: FixtureAlert[];
}

export interface SequenceFixture {
  wazuh: string;
  recorded: string;
  runs: number;
  pauseMs: number;
  /** How the real agent monitored the directory. */
  monitoring: string;
  notes: string[];
  steps: FixtureStep[];
  /** When each step of the first run started and ended. */
  times: { step: string; start: string; end: string }[];
  /** The alerts of the first run, untouched, each with the step it was given to. */
  raw: { step: string; alert: unknown }[];
}

/**
 * The identity of an alert within a step: what must match (rule, event, path, changed attributes,
 * sorted, less `ignore`).
 */
export function alertKey(a: Pick<FixtureAlert, 'rule' | 'event' | 'path' | 'changed_attributes'>, ignore: string[] = []): string {
  return `${a.rule} ${a.event} ${a.path} [${a.changed_attributes.filter((c) => !ignore.includes(c)).sort().join(',')}]`;
}
