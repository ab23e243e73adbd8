// The kernel-matrix scenario (issue #4). Runs as root inside a QEMU guest booted by
// test/kernels/run.sh on a real Debian kernel, once per boot, and for each of kprobe and fentry:
//   1. starts the real capture restricted to that mode: it must load, attach and pass the self-test,
//      with the vfs_unlink/vfs_rename layout read from BTF and equal to what kernels.conf says;
//   2. a child process creates, modifies, renames and deletes files in the monitored /tmp/m, on a
//      second tmpfs mounted at /tmp/m/mnt, and in the unmonitored /tmp/u; the io_uring helper
//      creates (IORING_OP_OPENAT) and deletes (IORING_OP_UNLINKAT) files without those syscalls;
//   3. every expected event must arrive with its absolute path, op and who-data, none from /tmp/u;
//   4. negative control: with the OTHER vfs_unlink dentry argument than BTF says, the capture's
//      self-test must fail on deletion, and a raw load (loader + ring reader, no self-test) must
//      report no deletion correctly while it still reports creations: proof the matrix can fail.
//      (Where the verifier checks the argument's type, fentry on 5.10, it refuses the load instead.)
// When the capture refuses a mode, the same programs are loaded raw with the BTF layout to show
// which operations do arrive (diagnosis; the mode still fails).
// Prints one `KMATRIX {json}` line (parsed by test/kernels/report.ts); exits 0 when all passed.
//
//   node dist/test/kernels/scenario.js                 in the guest (reads wba_* from /proc/cmdline)
//   node dist/test/kernels/scenario.js --imports-only  on the host: the staged tree resolves
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaptureEvent, EventDecodeError, decodeEvent } from '../../src/capture/event.js';
import { DENTRY_RULES, LAYOUT_HOOKS, LayoutHook, otherDentryArg, probeKernel } from '../../src/bpf/kernel.js';
import { openLibbpf } from '../../src/bpf/libbpf.js';
import { AttachMode, FimPrograms } from '../../src/bpf/loader.js';
import { RingBufferReader } from '../../src/bpf/ringbuf.js';
import { Capture } from '../../src/capture/capture.js';
import type { Logger } from '../../src/log.js';
import { ProcessPaths } from '../../src/capture/process-paths.js';
import { Watches, isUnder } from '../../src/capture/watches.js';
import { ExpectedCapture, SequenceCommand, matchesExpected, realtimeSequence, resolveExpected } from '../support/fim-sequence.js';

if (process.argv.includes('--imports-only')) {
  console.log('scenario: every import resolved');
  process.exit(0);
}

const MONITORED = '/tmp/m';
const MOUNTED = '/tmp/m/mnt';
const UNMONITORED = '/tmp/u';
const HELPER = '/bin/uring-unlink';
const HELPER_COMM = 'uring-unlink';
const MODES: AttachMode[] = ['kprobe', 'fentry'];
/** Generous: TCG runs the guest 10-50 times slower than the host. */
const EVENT_WAIT_MS = 15_000;

interface Expected {
  op: CaptureEvent['op'];
  path: string;
  newPath?: string;
}

interface Expectations {
  /** kernels.conf: vfs_unlink's dentry argument and vfs_rename's ABI on this kernel. */
  unlinkArg?: number;
  renameAbi?: string;
}

/** The layout the capture resolved (from BTF), as a raw load takes it. */
function layoutOf(c: Capture): Layout {
  const hooks = Object.fromEntries(LAYOUT_HOOKS.map((h) => [h, c.hookLayout![h].index])) as Record<LayoutHook, number>;
  return { unlink: c.unlinkArg!.index, renamedata: c.renameAbi!.abi === 'renamedata', hooks };
}

/** The argument layout a load is given. */
interface Layout {
  unlink: number;
  renamedata: boolean;
  hooks: Record<LayoutHook, number>;
}

interface SequenceResult {
  step: string;
  seen: number;
  expected: number;
  missing: string[];
  whoErrors: string[];
}

interface UringResult {
  what: string;
  /** Helper exit status: 0 done, 2 operation unknown to this kernel, 3 io_uring unavailable. */
  exit: number;
  stderr: string;
  /** False (n/a) only when the kernel refused the operation and predates it (UNLINKAT is 5.11+). */
  applicable: boolean;
  caught: boolean;
  who?: { pid: number; comm: string; helperPid: number };
}

/**
 * lost-deletes: loaded, and deletions went missing (what the original bug did, silently);
 * refused: the verifier rejected the program (it checks fentry ctx reads against BTF);
 * reported: deletions still arrived correctly, i.e. this control cannot fail: a test failure.
 */
type NegativeOutcome = 'lost-deletes' | 'refused' | 'reported' | 'other';

/** A raw load (FimPrograms + RingBufferReader, no self-test) and what a child's operations gave. */
interface RawRun {
  error?: string;
  /** libbpf's warn/info lines while loading, when the load failed. */
  libbpf?: string[];
  seen: string[];
  missing: string[];
  /** Records from a child working only in the unmonitored directory (the kernel must drop them). */
  unmonitoredRecords: number;
  undecodable: number;
}

interface ModeResult {
  mode: AttachMode;
  ok: boolean;
  failures: string[];
  picked?: string;
  attempts?: { mode: string; ok: boolean; reason: string }[];
  unlinkArg?: { index: number; source: string; detail: string };
  renameAbi?: string;
  events?: { expected: number; seen: number; missing: string[]; whoErrors: string[]; unmonitored: number };
  uring?: UringResult[];
  /** Set when the capture refused the mode: the programs loaded raw with the BTF layout. */
  diagnosis?: RawRun;
  negative?: {
    wrongArg: 2 | 3;
    /** How the capture's self-test took the wrong argument. */
    selfTest: { outcome: NegativeOutcome; reason: string };
    raw: { outcome: NegativeOutcome; error?: string; deletesExpected: number; deletesCorrect: number; createsExpected: number; createsSeen: number; unmonitoredRecords: number };
    asExpected: boolean;
  };
  /** Issue 14's operation sequence, step by step. */
  sequence?: SequenceResult[];
  /** Each new hook with the other dentry argument than BTF says. */
  hookNegatives?: { hook: LayoutHook; wrongArg: number; outcome: 'lost' | 'refused' | 'reported' | 'other'; detail: string }[];
  /** Where BTF puts each hooked function's dentry. */
  hookLayout?: Record<string, number>;
  /** libbpf's and the verifier's words when a load failed. */
  libbpf?: string[];
  /** The verifier's reason when it refused the wrong argument. */
  negativeLibbpf?: string[];
  seconds: number;
}

/** Logs to the console (the boot log) and keeps the lines for the result. */
class ConsoleLogger implements Logger {
  readonly lines: string[] = [];
  constructor(private readonly tag: string) {}
  private put(level: string, msg: string): void {
    this.lines.push(`${level}: ${msg}`);
    console.log(`LOG [${this.tag}] ${level}: ${msg}`);
  }
  debug(msg: string): void { this.put('debug', msg); }
  info(msg: string): void { this.put('info', msg); }
  warn(msg: string): void { this.put('warn', msg); }
  error(msg: string): void { this.put('error', msg); }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(25);
  return done();
}

/** Settings the harness puts on the kernel command line (wba_package=..., wba_unlink_arg=...). */
function cmdline(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of fs.readFileSync('/proc/cmdline', 'utf8').trim().split(/\s+/)) {
    const m = /^wba_(\w+)=(.*)$/.exec(word);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

interface Exit { pid: number; code: number | null; stderr: string }

/** Runs a program to completion; resolves with its pid (the actor the events must name). */
function run(file: string, args: string[], cwd: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ pid: child.pid!, code, stderr: stderr.trim() }));
  });
}

/** A node child that creates, modifies, renames and deletes `<dir>/<stem>.txt` in each dir. */
async function fileOps(dirs: string[], stem: string, cwd: string): Promise<number> {
  const script = `
    const fs = require('fs');
    for (const dir of ${JSON.stringify(dirs)}) {
      fs.writeFileSync(dir + '/${stem}.txt', 'one');
      fs.appendFileSync(dir + '/${stem}.txt', 'two');
      fs.renameSync(dir + '/${stem}.txt', dir + '/${stem}-renamed.txt');
      fs.unlinkSync(dir + '/${stem}-renamed.txt');
    }`;
  const r = await run(process.execPath, ['-e', script], cwd);
  if (r.code !== 0) throw new Error(`file-operation child exited with ${r.code}: ${r.stderr}`);
  return r.pid;
}

function expectedOps(dirs: string[], stem: string): Expected[] {
  return dirs.flatMap((d) => [
    { op: 'create' as const, path: `${d}/${stem}.txt` },
    { op: 'modify' as const, path: `${d}/${stem}.txt` },
    { op: 'rename' as const, path: `${d}/${stem}.txt`, newPath: `${d}/${stem}-renamed.txt` },
    { op: 'delete' as const, path: `${d}/${stem}-renamed.txt` },
  ]);
}

const matches = (e: CaptureEvent, x: Expected) => e.op === x.op && e.path === x.path && (x.newPath === undefined || e.newPath === x.newPath);
const show = (x: { op: string; path?: string; newPath?: string }) => `${x.op} ${x.path}${x.newPath ? ` -> ${x.newPath}` : ''}`;

function releaseAtLeast(major: number, minor: number): boolean {
  const [a, b] = os.release().split(/[.-]/).map(Number) as [number, number];
  return a > major || (a === major && b >= minor);
}

interface RawLoad {
  events: CaptureEvent[];
  undecodable: number;
  stop(): Promise<void>;
}

/** The mode's programs loaded without the capture (no self-test), anchored at MONITORED, read into `events`. */
async function rawLoad(mode: AttachMode, layout: Layout): Promise<RawLoad | { error: string; libbpf: string[] }> {
  const mark = openLibbpf().recentLog().length;
  let programs: FimPrograms;
  try {
    programs = FimPrograms.load({ mode, unlinkDentryArg: layout.unlink, renameUsesRenamedata: layout.renamedata, dentryArgs: layout.hooks });
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0]!, libbpf: openLibbpf().recentLog().slice(mark) };
  }
  const watches = new Watches([MONITORED]);
  for (const a of watches.scan()) programs.setAnchor(a.device, a.inode, a.id);
  const reader = new RingBufferReader(programs.eventsFd);
  const processPaths = new ProcessPaths();
  const out: RawLoad = {
    events: [],
    undecodable: 0,
    stop: async () => {
      await reader.stop();
      programs.close();
    },
  };
  reader.on('batch', (b) =>
    b.forEach((rec) => {
      try {
        out.events.push(decodeEvent(rec, (id) => watches.pathOf(id), processPaths));
      } catch (e) {
        if (!(e instanceof EventDecodeError)) throw e;
        out.undecodable++;
      }
    }),
  );
  await reader.start();
  return out;
}

/**
 * A raw load, a child working in the monitored tree and another in the unmonitored one.
 * `settleMs` after the creations: time for later events (or their absence) to show.
 */
async function rawRun(mode: AttachMode, layout: Layout, stem: string, settleMs: number): Promise<RawRun> {
  const out: RawRun = { seen: [], missing: [], unmonitoredRecords: 0, undecodable: 0 };
  const raw = await rawLoad(mode, layout);
  if ('error' in raw) return { ...out, error: raw.error, libbpf: raw.libbpf };
  const { events } = raw;
  try {
    const pid = await fileOps([MONITORED, MOUNTED], stem, MONITORED);
    const upid = await fileOps([UNMONITORED], stem, UNMONITORED);
    const ops = expectedOps([MONITORED, MOUNTED], stem);
    const byChild = (x: Expected) => events.some((e) => e.who?.pid === pid && matches(e, x));
    await waitFor(() => ops.filter((x) => x.op === 'create').every(byChild), EVENT_WAIT_MS);
    await sleep(settleMs);
    out.seen = ops.filter(byChild).map(show);
    out.missing = ops.filter((x) => !byChild(x)).map(show);
    out.unmonitoredRecords = events.filter((e) => e.who?.pid === upid).length;
    out.undecodable = raw.undecodable;
  } finally {
    await raw.stop();
  }
  return out;
}

/** Runs one sequence command with busybox in the guest; resolves when it exits. */
async function runCommand(c: SequenceCommand, dir: string, outside: string): Promise<Exit> {
  const [file, ...args] = c.argv as [string, ...string[]];
  return run(`/bin/${file}`, args, c.outside ? outside : dir);
}

/**
 * Issue 14's operation sequence (test/support/fim-sequence.ts, the same the e2e test runs against
 * the real manager) in a monitored directory: every step's events must arrive with the right op,
 * path and attributes, named after the busybox process that did it (its executable read in the
 * kernel: the process is gone by then); nothing from the agent's own writes.
 */
async function sequenceRun(mode: AttachMode, events: CaptureEvent[], r: ModeResult): Promise<void> {
  const dir = `${MONITORED}/seq-${mode}`;
  const outside = `${UNMONITORED}/seq-${mode}`;
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(outside, { recursive: true });
  const exe = fs.realpathSync('/bin/sh');
  const steps: SequenceResult[] = [];
  for (const step of realtimeSequence(outside)) {
    // past the kernel's write interval: each step's first write is reported
    await sleep(600);
    const from = events.length;
    for (const c of step.commands) {
      const x = await runCommand(c, dir, outside);
      if (x.code !== 0) r.failures.push(`sequence '${step.name}': ${c.argv.join(' ')} exited with ${x.code}: ${x.stderr}`);
    }
    const wanted = step.capture.map((x) => resolveExpected(x, dir));
    const hits = (x: ExpectedCapture) => events.slice(from).filter((e) => matchesExpected(e, x));
    await waitFor(() => wanted.every((x) => hits(x).length >= (x.atLeast ?? 1)), EVENT_WAIT_MS);
    const missing = wanted.filter((x) => hits(x).length < (x.atLeast ?? 1)).map((x) => `${show(x)}${x.attributes ? ` [${x.attributes}]` : ''} x${x.atLeast ?? 1} (got ${hits(x).length})`);
    const mine = events.slice(from).filter((e) =>
      e.who?.pid !== process.pid && [e.path, e.newPath].some((p) => p !== undefined && (isUnder(p, dir) || isUnder(p, outside))));
    const whoErrors = mine.filter((e) => e.who?.exe !== exe).map((e) => `${show(e)}: exe ${e.who?.exe}, expected ${exe}`);
    steps.push({ step: step.name, seen: wanted.length - missing.length, expected: wanted.length, missing, whoErrors });
    if (missing.length) r.failures.push(`sequence '${step.name}': missing ${missing.join(', ')}; seen ${mine.map((e) => `${show(e)}${e.attributes ? ` [${e.attributes}]` : ''}`).join(', ') || 'nothing'}`);
    if (whoErrors.length) r.failures.push(`sequence '${step.name}': ${whoErrors.slice(0, 3).join('; ')}`);
  }
  const own = events.filter((e) => e.op === 'write' && e.who?.pid === process.pid).length;
  if (own) r.failures.push(`${own} write event(s) name the agent's own process`);
  r.sequence = steps;
}


/**
 * Negative control per new hook: with that function's dentry argument set to the other
 * candidate, its operations must not arrive correctly (or the verifier refuses the program),
 * while creations still do. One short script does every operation.
 */
async function hookNegatives(mode: AttachMode, right: Layout, r: ModeResult): Promise<void> {
  const dir = `${MONITORED}/neg-${mode}`;
  const script = 'mkdir d && printf x > d/f && chmod 600 d/f && ln d/f d/h && ln -s f d/s && rm -rf d';
  const ops: Record<LayoutHook, ExpectedCapture> = {
    setattr: { op: 'attrib', path: `${dir}/d/f`, attributes: ['mode'] },
    link: { op: 'link', path: `${dir}/d/h` },
    symlink: { op: 'symlink', path: `${dir}/d/s` },
    mkdir: { op: 'mkdir', path: `${dir}/d` },
    rmdir: { op: 'rmdir', path: `${dir}/d` },
  };
  const control: ExpectedCapture = { op: 'create', path: `${dir}/d/f` };
  r.hookNegatives = [];
  for (const hook of LAYOUT_HOOKS) {
    const wrong = otherDentryArg(hook, right.hooks[hook]);
    const raw = await rawLoad(mode, { ...right, hooks: { ...right.hooks, [hook]: wrong } });
    let outcome: NegativeOutcome;
    let detail: string;
    if ('error' in raw) {
      const refused = /load failed/.test(raw.error) && raw.libbpf.some((l) => /invalid bpf_context access|is not a struct/.test(l));
      outcome = refused ? 'refused' : 'other';
      detail = raw.error;
    } else {
      fs.mkdirSync(dir, { recursive: true });
      try {
        const x = await run('/bin/sh', ['-c', script], dir);
        if (x.code !== 0) throw new Error(`negative script exited with ${x.code}: ${x.stderr}`);
        const seen = (e: ExpectedCapture) => raw.events.some((ev) => matchesExpected(ev, e));
        await waitFor(() => seen(control), EVENT_WAIT_MS);
        await sleep(500);
        outcome = !seen(control) ? 'other' : seen(ops[hook]) ? 'reported' : 'lost-deletes';
        detail = seen(control) ? `${show(ops[hook])} ${seen(ops[hook]) ? 'still reported' : 'lost'}` : 'no creation either: the raw pipeline is broken';
      } finally {
        await raw.stop();
      }
    }
    r.hookNegatives.push({ hook, wrongArg: wrong, outcome: outcome === 'lost-deletes' ? 'lost' : outcome, detail });
    if (outcome === 'reported') r.failures.push(`negative control ${hook}: ${show(ops[hook])} still reported with argument ${wrong}`);
    if (outcome === 'other') r.failures.push(`negative control ${hook}: ${detail}`);
  }
}

async function positive(mode: AttachMode, want: Expectations, r: ModeResult, log: ConsoleLogger): Promise<Capture | undefined> {
  const capture = await Capture.start({ dirs: [MONITORED], selfTestDir: `/tmp/selftest-${mode}`, log, modes: [mode] });
  r.picked = capture.mode;
  r.attempts = capture.attempts.map((a) => ({ mode: a.mode, ok: a.ok, reason: a.reason }));
  r.unlinkArg = capture.unlinkArg;
  r.renameAbi = capture.renameAbi?.abi;
  if (capture.unlinkArg?.source !== 'btf') r.failures.push(`vfs_unlink argument came from ${capture.unlinkArg?.source}, not BTF`);
  if (want.unlinkArg !== undefined && capture.unlinkArg?.index !== want.unlinkArg) {
    r.failures.push(`BTF says vfs_unlink's dentry is argument ${capture.unlinkArg?.index}, kernels.conf says ${want.unlinkArg}`);
  }
  if (capture.renameAbi?.source !== 'btf') r.failures.push(`vfs_rename's ABI came from ${capture.renameAbi?.source}, not BTF`);
  if (want.renameAbi !== undefined && capture.renameAbi?.abi !== want.renameAbi) {
    r.failures.push(`BTF says vfs_rename is '${capture.renameAbi?.abi}', kernels.conf says '${want.renameAbi}'`);
  }
  if (capture.mode !== mode) {
    r.failures.push(`capture refused ${mode}: ${capture.attempts.map((a) => a.reason).join('; ')}`);
    await capture.stop();
    if (capture.unlinkArg && capture.renameAbi) {
      // which operations do arrive, with the layout BTF gave: the self-test stops at the first gap
      console.log(`STEP ${mode}: diagnosis (raw load, BTF layout)`);
      const d = await rawRun(mode, layoutOf(capture), 'diag', 1000);
      r.diagnosis = d;
      if (!d.error) {
        r.events = { expected: d.seen.length + d.missing.length, seen: d.seen.length, missing: d.missing, whoErrors: [], unmonitored: 0 };
        r.failures.push(`raw load with the BTF layout: ${d.seen.length}/${d.seen.length + d.missing.length} events; missing: ${d.missing.join(', ') || 'none'}`);
      }
    }
    return undefined;
  }

  const events: CaptureEvent[] = [];
  capture.on('events', (batch) => events.push(...batch));

  // the files io_uring deletes exist beforehand (created by this process: not the actor checked);
  // names per mode, so that the second mode's O_CREAT really creates
  const uringNew = `${MOUNTED}/uring-new-${mode}.txt`;
  const uringDel = [`${MONITORED}/uring-del-${mode}.txt`, `${MOUNTED}/uring-del-${mode}.txt`];
  for (const f of uringDel) fs.writeFileSync(f, 'x');

  const pid = await fileOps([MONITORED, MOUNTED, UNMONITORED], 'child', MONITORED);
  const ops = expectedOps([MONITORED, MOUNTED], 'child');

  const uringSteps: { what: string; args: [string, string]; expect: Expected; since: [number, number] }[] = [
    { what: 'io_uring create (OPENAT)', args: ['create', uringNew], expect: { op: 'create', path: uringNew }, since: [5, 6] },
    ...uringDel.map((f) => ({ what: `io_uring delete (UNLINKAT) in ${path.dirname(f)}`, args: ['unlink', f] as [string, string], expect: { op: 'delete' as const, path: f }, since: [5, 11] as [number, number] })),
  ];
  const uring: (UringResult & { expect: Expected; pid: number })[] = [];
  for (const s of uringSteps) {
    const x = await run(HELPER, s.args, MONITORED);
    // vendors backport io_uring operations (Debian's 5.10 has UNLINKAT): the kernel's answer decides
    const applicable = x.code !== 2 || releaseAtLeast(...s.since);
    uring.push({ what: s.what, exit: x.code ?? -1, stderr: x.stderr, applicable, caught: false, expect: s.expect, pid: x.pid });
    if (x.code !== 0 && applicable) r.failures.push(`${s.what}: helper exited with ${x.code}: ${x.stderr}`);
  }

  const mine = (x: Expected) => events.some((e) => e.who?.pid === pid && matches(e, x));
  const uringSeen = (u: (typeof uring)[number]) => u.exit !== 0 || events.some((e) => matches(e, u.expect));
  await waitFor(() => ops.every(mine) && uring.every(uringSeen), EVENT_WAIT_MS);
  await sleep(300); // late strays (e.g. from the unmonitored directory) would arrive by now
  for (const f of [uringNew, ...uringDel]) fs.rmSync(f, { force: true });

  const missing = ops.filter((x) => !mine(x)).map(show);
  const whoErrors: string[] = [];
  for (const e of events.filter((e) => e.who?.pid === pid)) {
    const w = e.who!;
    const want = { ppid: process.pid, uid: 0, euid: 0, gid: 0, comm: 'node', cwd: MONITORED };
    for (const [k, v] of Object.entries(want)) {
      if (w[k as keyof typeof w] !== v) whoErrors.push(`${show(e)}: who.${k} = ${JSON.stringify(w[k as keyof typeof w])}, expected ${JSON.stringify(v)}`);
    }
    if (e.source !== mode) whoErrors.push(`${show(e)}: source ${e.source}, expected ${mode}`);
  }
  const unmonitored = events.filter((e) => [e.path, e.newPath].some((p) => p !== undefined && isUnder(p, UNMONITORED))).length;
  r.events = { expected: ops.length, seen: ops.length - missing.length, missing, whoErrors, unmonitored };
  if (missing.length) r.failures.push(`missing events: ${missing.join(', ')}`);
  if (whoErrors.length) r.failures.push(`wrong who-data: ${whoErrors.slice(0, 5).join('; ')}`);
  if (unmonitored) r.failures.push(`${unmonitored} event(s) from the unmonitored ${UNMONITORED}`);

  r.uring = uring.map(({ expect, pid: helperPid, ...u }) => {
    const e = events.find((ev) => matches(ev, expect));
    const out: UringResult = { ...u, caught: e !== undefined };
    if (e) out.who = { pid: e.who?.pid ?? -1, comm: e.who?.comm ?? '', helperPid };
    if (u.exit === 0 && !e) r.failures.push(`${u.what}: no ${show(expect)} event`);
    // io_uring runs the operation in the helper's own thread or in an io-wq worker thread of the
    // helper (same process, comm iou-wrk-<tid>); upstream 5.10's io-wq were kernel threads, which
    // would make the who-data name a kernel thread: that must show up as a failure
    const comm = e?.who?.comm ?? '';
    if (e && (e.who?.pid !== helperPid || !(comm === HELPER_COMM || /^iou-wrk-\d+$/.test(comm)))) {
      r.failures.push(`${u.what}: event names pid ${e.who?.pid} (${comm}), expected the helper ${helperPid} (${HELPER_COMM} or its iou-wrk thread)`);
    }
    return out;
  });

  console.log(`STEP ${mode}: operation sequence`);
  r.hookLayout = Object.fromEntries(LAYOUT_HOOKS.map((h) => [h, capture.hookLayout![h].index]));
  for (const h of LAYOUT_HOOKS) {
    if (capture.hookLayout![h].source !== 'btf') r.failures.push(`${DENTRY_RULES[h].func}'s dentry argument came from ${capture.hookLayout![h].source}, not BTF`);
  }
  await sequenceRun(mode, events, r);
  return capture;
}

/** Negative control: the wrong vfs_unlink argument must lose deletions, visibly. */
async function negative(mode: AttachMode, layout: Layout, r: ModeResult, log: ConsoleLogger): Promise<void> {
  const wrongArg = layout.unlink === 2 ? 3 : 2;
  const refusedLog = (lines: string[]) => lines.some((l) => /invalid bpf_context access|is not a struct/.test(l));

  // (a) the product path: the self-test must notice and refuse the mode
  const capture = await Capture.start({
    dirs: [MONITORED], selfTestDir: `/tmp/selftest-neg-${mode}`, log, modes: [mode], unlinkDentryArg: wrongArg, selfTestTimeoutMs: 3000,
  });
  await capture.stop();
  const attempt = capture.attempts[0];
  const reason = attempt?.reason ?? '(no attempt)';
  const selfTest = {
    outcome: (attempt?.ok ? 'reported'
      : /self-test failed: no delete event/.test(reason) ? 'lost-deletes'
      : /load failed/.test(reason) && refusedLog(log.lines) ? 'refused'
      : 'other') as NegativeOutcome,
    reason,
  };

  // (b) the raw path: deletions are not reported correctly, while creations are (the programs
  // work), and the kernel drops the unmonitored tree
  const x = await rawRun(mode, { ...layout, unlink: wrongArg }, 'neg', 1000);
  const deletes = { expected: 0, correct: 0 };
  const creates = { expected: 0, seen: 0 };
  for (const [list, hit] of [[x.seen, true], [x.missing, false]] as const) {
    for (const s of list) {
      if (s.startsWith('delete ')) { deletes.expected++; if (hit) deletes.correct++; }
      if (s.startsWith('create ')) { creates.expected++; if (hit) creates.seen++; }
    }
  }
  let rawOutcome: NegativeOutcome;
  if (x.error) {
    rawOutcome = /load failed/.test(x.error) && refusedLog(x.libbpf ?? []) ? 'refused' : 'other';
    r.negativeLibbpf = (x.libbpf ?? []).filter((l) => /invalid bpf_context access|is not a struct|failed to load/.test(l));
  } else if (creates.seen !== creates.expected) {
    rawOutcome = 'other'; // the raw pipeline itself is broken: proves nothing
  } else {
    rawOutcome = deletes.correct === 0 ? 'lost-deletes' : 'reported';
  }
  const raw = {
    outcome: rawOutcome, error: x.error, deletesExpected: deletes.expected, deletesCorrect: deletes.correct,
    createsExpected: creates.expected, createsSeen: creates.seen, unmonitoredRecords: x.unmonitoredRecords,
  };

  const good = (o: NegativeOutcome) => o === 'lost-deletes' || o === 'refused';
  // one program, one kernel: both paths must agree on how the wrong argument ends
  const asExpected = good(selfTest.outcome) && raw.outcome === selfTest.outcome;
  r.negative = { wrongArg, selfTest, raw, asExpected };
  if (selfTest.outcome === 'reported') r.failures.push(`negative control: the self-test passed with vfs_unlink argument ${wrongArg}`);
  if (selfTest.outcome === 'other') r.failures.push(`negative control: the self-test failed, but neither on deletion nor by the verifier: ${reason}`);
  if (raw.outcome === 'reported') r.failures.push(`negative control: ${raw.deletesCorrect}/${raw.deletesExpected} deletions still reported correctly with argument ${wrongArg}`);
  if (raw.outcome === 'other') {
    r.failures.push(`negative control: raw load ${x.error ? `failed: ${x.error}` : `saw only ${creates.seen}/${creates.expected} creations (the raw pipeline itself is broken)`}`);
  }
  if (good(selfTest.outcome) && good(raw.outcome) && selfTest.outcome !== raw.outcome) {
    r.failures.push(`negative control: the self-test says ${selfTest.outcome}, the raw load ${raw.outcome}`);
  }
  if (raw.unmonitoredRecords) r.failures.push(`${raw.unmonitoredRecords} raw record(s) for ${UNMONITORED}: the kernel-side filter let them through`);
}

async function runMode(mode: AttachMode, want: Expectations): Promise<ModeResult> {
  const started = Date.now();
  const r: ModeResult = { mode, ok: false, failures: [], seconds: 0 };
  const log = new ConsoleLogger(mode);
  console.log(`STEP ${mode}: capture`);
  try {
    const capture = await positive(mode, want, r, log);
    await capture?.stop();
    if (capture && capture.unlinkArg && capture.renameAbi && capture.hookLayout) {
      console.log(`STEP ${mode}: negative control`);
      await negative(mode, layoutOf(capture), r, log);
      console.log(`STEP ${mode}: negative control per new hook`);
      await hookNegatives(mode, layoutOf(capture), r);
    }
  } catch (e) {
    r.failures.push(`exception: ${(e as Error).stack ?? e}`);
  }
  if (r.failures.length) {
    // a refused load: the loader's debug line carries libbpf's and the verifier's last words
    // (the raw diagnostic load's own lines are the same, one per line: prefer those)
    const lines = r.diagnosis?.libbpf?.length ? r.diagnosis.libbpf : log.lines.filter((l) => l.startsWith('debug: libbpf'));
    if (lines.length) r.libbpf = lines;
  }
  r.ok = r.failures.length === 0;
  r.seconds = Number(((Date.now() - started) / 1000).toFixed(1));
  return r;
}

async function main(): Promise<number> {
  const started = Date.now();
  const params = cmdline();
  const want: Expectations = { unlinkArg: params.unlink_arg ? Number(params.unlink_arg) : undefined, renameAbi: params.rename_abi };
  // every libbpf line on the console: the boot log then holds the whole verifier output
  openLibbpf().setLogger((level, text) => {
    if (level !== 'debug') console.log(`LIBBPF ${level}: ${text}`);
  });
  for (const d of [MONITORED, MOUNTED, UNMONITORED]) fs.mkdirSync(d, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'wba-matrix', MOUNTED]);

  const k = probeKernel();
  const probe = {
    release: k.release,
    btf: { present: k.btf.present, types: k.btf.types, parseMs: k.btf.parseMs },
    vfsUnlink: k.vfsUnlink,
    vfsRename: k.vfsRename,
    kprobes: k.kprobes,
    fentry: k.fentry,
    tracepoints: k.tracepoints,
    ringbuf: k.ringbuf,
    lockdown: k.lockdown,
    lsm: k.lsm,
  };
  const modes: ModeResult[] = [];
  for (const mode of MODES) modes.push(await runMode(mode, want));
  const result = {
    package: params.package,
    release: os.release(),
    expect: want,
    probe,
    modes,
    ok: modes.every((m) => m.ok),
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
  console.log(`KMATRIX ${JSON.stringify(result)}`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`KMATRIX ${JSON.stringify({ release: os.release(), ok: false, error: String((e as Error).stack ?? e), modes: [] })}`);
    process.exit(1);
  },
);
