// The real-time operation sequence of issue 14, shared by the e2e test against the real manager
// (test/e2e/realtime-sequence.e2e.test.ts: the alerts) and the kernel matrix
// (test/kernels/scenario.ts: the capture events, on each kernel in kprobe and fentry mode).
// Every step is a few short-lived processes run by the caller (coreutils on the host, busybox in
// the guest), so that who-data names a process that is gone by the time the event is handled.
// What each step must produce in the capture is stated here; the alerts the real Wazuh 4.14.7
// agent raises for the same steps are in test/fixtures/realtime-sequence-4.14.7.json.
import path from 'node:path';
import type { AttrChange, FimOp } from '../../src/capture/event.js';

/** One process: argv[0] is looked up in PATH; cwd is the monitored directory unless `outside`. */
export interface SequenceCommand {
  argv: string[];
  /** Run in the unmonitored directory (preparation that must raise nothing). */
  outside?: boolean;
}

/**
 * A capture event the step must produce (paths relative to the monitored directory, or absolute).
 * A move across the tree's edge names only its monitored side: kprobe/fentry walk to an anchor,
 * and the other side has none.
 */
export interface ExpectedCapture {
  op: FimOp;
  path?: string;
  newPath?: string;
  /** For 'attrib': attribute changes the event must include. */
  attributes?: AttrChange[];
  /** The number of such events at least (writes to a file held open). Default 1. */
  atLeast?: number;
}

export interface SequenceStep {
  name: string;
  commands: SequenceCommand[];
  /**
   * Capture events in kprobe/fentry mode (one hook per kernel function). The tracepoint mode sees
   * the same operations through their syscalls; inotify without who-data.
   */
  capture: ExpectedCapture[];
}

/** A file written ten times over ~5 s while held open (a log, a backdoor appending). */
export const HELD_OPEN_WRITES = 10;
export const HELD_OPEN_INTERVAL_S = 0.5;

/**
 * The steps, in order. `outside` is an unmonitored directory on the same filesystem as the
 * monitored one (moves between them are renames). Run with a pause between steps (the caller
 * decides; the e2e waits 1.5 s so that every mtime differs at Wazuh's one-second resolution).
 */
export function realtimeSequence(outside: string): SequenceStep[] {
  const out = (name: string) => path.join(outside, name);
  return [
    { name: 'create', commands: [{ argv: ['sh', '-c', 'printf one > a.txt'] }], capture: [{ op: 'create', path: 'a.txt' }, { op: 'modify', path: 'a.txt' }] },
    { name: 'append', commands: [{ argv: ['sh', '-c', 'printf two >> a.txt'] }], capture: [{ op: 'write', path: 'a.txt' }, { op: 'modify', path: 'a.txt' }] },
    { name: 'chmod', commands: [{ argv: ['chmod', '600', 'a.txt'] }], capture: [{ op: 'attrib', path: 'a.txt', attributes: ['mode'] }] },
    { name: 'chown', commands: [{ argv: ['chown', '65534:65534', 'a.txt'] }], capture: [{ op: 'attrib', path: 'a.txt', attributes: ['uid', 'gid'] }] },
    { name: 'touch -m', commands: [{ argv: ['touch', '-m', '-t', '202001020304.05', 'a.txt'] }], capture: [{ op: 'attrib', path: 'a.txt', attributes: ['mtime'] }] },
    { name: 'truncate', commands: [{ argv: ['truncate', '-s', '1', 'a.txt'] }], capture: [{ op: 'attrib', path: 'a.txt', attributes: ['size'] }] },
    { name: 'hard link', commands: [{ argv: ['ln', 'a.txt', 'a.hard'] }], capture: [{ op: 'link', path: 'a.hard' }] },
    { name: 'symlink create', commands: [{ argv: ['ln', '-s', 'a.txt', 's.lnk'] }], capture: [{ op: 'symlink', path: 's.lnk' }] },
    { name: 'symlink delete', commands: [{ argv: ['rm', 's.lnk'] }], capture: [{ op: 'delete', path: 's.lnk' }] },
    {
      name: 'mkdir with files',
      commands: [{ argv: ['mkdir', 'sub'] }, { argv: ['sh', '-c', 'printf x > sub/f1; printf y > sub/f2'] }],
      capture: [{ op: 'mkdir', path: 'sub' }, { op: 'create', path: 'sub/f1' }, { op: 'create', path: 'sub/f2' }],
    },
    { name: 'directory rename inside', commands: [{ argv: ['mv', 'sub', 'sub2'] }], capture: [{ op: 'rename', path: 'sub', newPath: 'sub2' }] },
    {
      name: 'rm -rf',
      commands: [{ argv: ['rm', '-rf', 'sub2'] }],
      capture: [{ op: 'delete', path: 'sub2/f1' }, { op: 'delete', path: 'sub2/f2' }, { op: 'rmdir', path: 'sub2' }],
    },
    {
      name: 'directory moved in',
      commands: [
        { argv: ['sh', '-c', 'mkdir in && printf g1 > in/g1 && printf g2 > in/g2'], outside: true },
        { argv: ['mv', out('in'), 'in'] },
      ],
      capture: [{ op: 'rename', newPath: 'in' }],
    },
    { name: 'directory moved out', commands: [{ argv: ['mv', 'in', out('moved-out')] }], capture: [{ op: 'rename', path: 'in' }] },
    {
      name: 'atomic save',
      commands: [{ argv: ['sh', '-c', 'printf saved > a.txt.tmp && mv a.txt.tmp a.txt'] }],
      capture: [{ op: 'create', path: 'a.txt.tmp' }, { op: 'rename', path: 'a.txt.tmp', newPath: 'a.txt' }],
    },
    {
      name: 'written while held open',
      commands: [{
        argv: ['sh', '-c', `exec 3>>log.txt; i=0; while [ $i -lt ${HELD_OPEN_WRITES} ]; do echo line$i >&3; sleep ${HELD_OPEN_INTERVAL_S}; i=$((i+1)); done`],
      }],
      // throttled in the kernel to one event per file per interval: several while it stays open
      capture: [{ op: 'create', path: 'log.txt' }, { op: 'write', path: 'log.txt', atLeast: 3 }],
    },
    { name: 'chmod before delete', commands: [{ argv: ['chmod', '604', 'a.txt'] }], capture: [{ op: 'attrib', path: 'a.txt', attributes: ['mode'] }] },
    { name: 'delete', commands: [{ argv: ['rm', 'a.txt'] }], capture: [{ op: 'delete', path: 'a.txt' }] },
  ];
}

/** An expected capture event with absolute paths under the monitored directory `dir`. */
export function resolveExpected(x: ExpectedCapture, dir: string): ExpectedCapture {
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));
  return { ...x, ...(x.path !== undefined ? { path: abs(x.path) } : {}), ...(x.newPath !== undefined ? { newPath: abs(x.newPath) } : {}) };
}

/** Whether a capture event is the one expected (attributes: at least those). */
export function matchesExpected(e: { op: FimOp; path?: string; newPath?: string; attributes?: AttrChange[] }, x: ExpectedCapture): boolean {
  return e.op === x.op && (x.path === undefined || e.path === x.path) && (x.newPath === undefined || e.newPath === x.newPath) &&
    (x.attributes ?? []).every((a) => e.attributes?.includes(a));
}
