// The kernel matrix's table (run by test/kernels/run.sh on the host): reads the boots the harness
// recorded (one JSON line each: suite, package, console log, timings), takes the last `KMATRIX
// {json}` line of each guest's serial console (read as bytes: a kernel message or a stray escape
// sequence can share the console), prints one row per kernel and mode, then what failed and why.
// Exit status 0 only when every kernel booted, reported, and passed in every mode.
//
//   node dist/test/kernels/report.js RUNS.jsonl
import fs from 'node:fs';

interface Boot {
  suite: string;
  package: string;
  expectUnlinkArg: number;
  expectRenameAbi: string;
  bootSeconds: number;
  qemuExit: number;
  console: string;
}

interface UringResult { what: string; exit: number; applicable: boolean; caught: boolean; who?: { pid: number; comm: string; helperPid: number } }

interface ModeResult {
  mode: string;
  ok: boolean;
  failures: string[];
  picked?: string;
  unlinkArg?: { index: number; source: string };
  renameAbi?: string;
  events?: { expected: number; seen: number };
  uring?: UringResult[];
  diagnosis?: { error?: string };
  negative?: {
    wrongArg: number;
    selfTest: { outcome: string };
    raw: { outcome: string; error?: string; deletesExpected: number; deletesCorrect: number; createsExpected: number; createsSeen: number };
    asExpected: boolean;
  };
  libbpf?: string[];
  negativeLibbpf?: string[];
  sequence?: { step: string; seen: number; expected: number; missing: string[]; whoErrors: string[] }[];
  hookNegatives?: { hook: string; wrongArg: number; outcome: string; detail: string }[];
  hookLayout?: Record<string, number>;
  seconds: number;
}

interface KernelResult {
  release: string;
  ok: boolean;
  error?: string;
  probe?: {
    btf: { present: boolean; types?: number; parseMs?: number };
    vfsUnlink: { index: number; source: string; detail: string };
    vfsRename: { abi: string; source: string };
    kprobes: { ok: boolean; reason: string };
    fentry: { ok: boolean; reason: string };
    lockdown: { mode?: string; reason: string };
  };
  modes: ModeResult[];
  seconds?: number;
}

/** The guest's last result line, or why there is none. */
function readResult(consolePath: string): { result?: KernelResult; guestExit?: number; problem?: string } {
  let text: string;
  try {
    // latin1: every byte maps to one char, so garbage cannot break the decoding of the rest
    text = fs.readFileSync(consolePath).toString('latin1');
  } catch (e) {
    return { problem: `no console log: ${(e as Error).message}` };
  }
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\r/g, '').replace(/\x1b(\[[0-9;?]*[a-zA-Z]|c)/g, ''));
  const exitLine = lines.filter((l) => /GUEST-EXIT \d+/.test(l)).pop();
  const guestExit = exitLine ? Number(/GUEST-EXIT (\d+)/.exec(exitLine)![1]) : undefined;
  const line = lines.filter((l) => l.includes('KMATRIX {')).pop();
  if (!line) return { guestExit, problem: 'no KMATRIX line on the console (the guest did not boot, crashed, or timed out)' };
  const json = line.slice(line.indexOf('KMATRIX {') + 'KMATRIX '.length);
  try {
    // the JSON is ASCII apart from file names; re-decode as UTF-8 for those
    return { result: JSON.parse(Buffer.from(json, 'latin1').toString('utf8')) as KernelResult, guestExit };
  } catch (e) {
    return { guestExit, problem: `unreadable KMATRIX line (${(e as Error).message}): ${json.slice(0, 200)}` };
  }
}

function uringCell(u: UringResult[] | undefined): string {
  if (!u?.length) return '-';
  const cell = (x: UringResult) => {
    const op = x.what.includes('UNLINKAT') ? 'unlink' : 'create';
    if (!x.applicable && x.exit !== 0) return `${op} n/a`;
    if (!x.caught) return `${op} MISSED`;
    const who = x.who && x.who.pid === x.who.helperPid ? x.who.comm : `${x.who?.comm} (not the helper)`;
    return `${op} ✓ ${who}`;
  };
  // create, then the two deletions (monitored dir, mount): show the deletions once when alike
  const [create, ...unlinks] = u.map(cell);
  const dels = [...new Set(unlinks)];
  return [create, ...dels.map((d) => (unlinks.length > 1 && dels.length === 1 ? `${d} ×${unlinks.length}` : d))].join(', ');
}

function negativeCell(n: ModeResult['negative']): string {
  if (!n) return '-';
  const verdict = n.asExpected ? 'failed as expected' : 'NOT AS EXPECTED';
  const how = n.selfTest.outcome === 'refused' && n.raw.outcome === 'refused'
    ? 'verifier refuses the load'
    : `self-test ${n.selfTest.outcome === 'lost-deletes' ? 'fails on delete' : n.selfTest.outcome}; raw: ${n.raw.outcome === 'refused' ? 'refused' : `${n.raw.deletesCorrect}/${n.raw.deletesExpected} deletes right, ${n.raw.createsSeen}/${n.raw.createsExpected} creates`}`;
  return `${verdict} (arg ${n.wrongArg}): ${how}`;
}

/** Steps of issue 14's sequence with every event seen (and the right executable), of all steps. */
function sequenceCell(seq: ModeResult['sequence']): string {
  if (!seq) return '-';
  const good = seq.filter((x) => x.seen === x.expected && !x.whoErrors.length).length;
  return `${good}/${seq.length} steps${good === seq.length ? ' ✓' : ''}`;
}

function hookNegativesCell(n: ModeResult['hookNegatives']): string {
  if (!n?.length) return '-';
  return n.map((x) => `${x.hook} ${x.wrongArg}: ${x.outcome === 'lost' || x.outcome === 'refused' ? x.outcome : x.outcome.toUpperCase()}`).join(', ');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  const fmt = (r: string[]) => `| ${r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join(' | ')} |`;
  return [fmt(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(fmt)].join('\n');
}

function main(): number {
  const runsFile = process.argv[2];
  if (!runsFile) throw new Error('usage: report.js RUNS.jsonl');
  const boots = fs.readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Boot);
  const rows: string[][] = [['kernel', 'BTF unlink arg', 'rename', 'mode', 'attached', 'events', 'io_uring', 'negative control (wrong arg)', 'sequence', 'new hooks, wrong arg', 'result']];
  const problems: string[] = [];
  const notes: string[] = [];
  const timings: string[] = [];
  const kernels: string[] = [];
  let ok = boots.length > 0;
  for (const b of boots) {
    const { result, guestExit, problem } = readResult(b.console);
    timings.push(`${b.suite}: boot + scenario ${b.bootSeconds.toFixed(1)} s${result?.seconds !== undefined ? ` (scenario ${result.seconds} s: ${result.modes.map((m) => `${m.mode} ${m.seconds} s`).join(', ')})` : ''}`);
    if (!result) {
      ok = false;
      rows.push([`${b.package}`, '?', '?', '-', '-', '-', '-', '-', '-', '-', 'NO RESULT']);
      problems.push(`${b.suite} (${b.package}): ${problem}; qemu exit ${b.qemuExit}; console: ${b.console}`);
      continue;
    }
    if (!result.ok || guestExit !== 0) ok = false;
    if (result.error) problems.push(`${b.suite} (${result.release}): scenario crashed: ${result.error}`);
    if (guestExit === undefined) problems.push(`${b.suite}: no GUEST-EXIT line; console: ${b.console}`);
    const probe = result.probe;
    if (probe) {
      kernels.push(
        `${result.release} (${b.package}): BTF ${probe.btf.present ? `${probe.btf.types} types, parsed in ${probe.btf.parseMs?.toFixed(0)} ms` : 'absent'}; ` +
          `vfs_unlink dentry = argument ${probe.vfsUnlink.index} (${probe.vfsUnlink.detail}); vfs_rename: ${probe.vfsRename.abi} (${probe.vfsRename.source}); ` +
          `kprobes ${probe.kprobes.ok ? 'yes' : 'no'} (${probe.kprobes.reason}); fentry ${probe.fentry.ok ? 'yes' : 'no'} (${probe.fentry.reason}); lockdown: ${probe.lockdown.mode ?? probe.lockdown.reason}`,
      );
    }
    for (const m of result.modes) {
      const arg = m.unlinkArg ?? probe?.vfsUnlink;
      rows.push([
        result.release,
        arg ? `${arg.index} (${arg.source}; want ${b.expectUnlinkArg})` : '?',
        m.renameAbi ?? probe?.vfsRename.abi ?? '?',
        m.mode,
        m.picked ?? '-',
        // after a refused mode, the counts come from the raw diagnostic load
        m.events ? `${m.events.seen}/${m.events.expected}${m.diagnosis ? ' (raw)' : ''}` : m.diagnosis?.error ? 'load failed' : '-',
        uringCell(m.uring),
        negativeCell(m.negative),
        sequenceCell(m.sequence),
        hookNegativesCell(m.hookNegatives),
        m.ok ? 'PASS' : 'FAIL',
      ]);
      for (const f of m.failures) problems.push(`${result.release} ${m.mode}: ${f}`);
      if (m.negativeLibbpf?.length) notes.push(`${result.release} ${m.mode}: with the wrong argument the verifier says: ${m.negativeLibbpf.join(' | ')}`);
      if (!m.ok && m.libbpf?.length) problems.push(`${result.release} ${m.mode}: libbpf said:\n    ${m.libbpf.join('\n    ')}`);
    }
    if (!result.modes.length && !result.error) problems.push(`${b.suite}: no mode ran`);
  }
  console.log(table(rows));
  if (kernels.length) console.log(`\nKernels (probeKernel() in the guest):\n- ${kernels.join('\n- ')}`);
  console.log(`\nTimings:\n- ${timings.join('\n- ')}`);
  if (notes.length) console.log(`\nNotes:\n- ${notes.join('\n- ')}`);
  if (problems.length) console.log(`\nFailures:\n- ${problems.join('\n- ')}`);
  console.log(ok ? '\nkernel matrix: PASS' : '\nkernel matrix: FAIL');
  return ok ? 0 : 1;
}

process.exitCode = main();
