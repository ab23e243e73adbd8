// Issue 14, end to end against the REAL Wazuh 4.14.7 manager (test/support/real-manager.ts):
// real-time FIM must raise every alert the real Wazuh 4.14.7 agent raises for the same operations.
//
// The agent monitors two directories, one realtime="yes" and one whodata="yes" (check_all,
// report_changes off), each with an unmonitored "outside" directory on the same filesystem. After
// its first scan, every step of the sequence (test/support/fim-sequence.ts) runs in both directories
// at once, then the 1.5 s pause the real agent's alerts were recorded with
// (test/fixtures/realtime-sequence-4.14.7.json, by test/support/record-realtime-sequence.ts).
//
// For each step and directory, every alert the real agent raised in every recorded run must come
// from ours: same rule, syscheck.event, path (relative to the directory), changed_attributes, and
// the attributes after that do not depend on the tree (perm, uid, gid, size, md5, less those that
// differed between the recorded runs; mtime only where the step sets it: touch -t). "In time" is
// by the alert's own timestamp (analysisd's clock, the same host): from the step's start to 2 s
// after its end. In the whodata directory each alert must carry who-data naming the full path of
// the executable that ran (the commands are short-lived: the kernel must have read it), and
// syscheck.mode must be 'realtime' / 'whodata'. Every failure is collected; the test fails once
// with a table of them.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess } from '../support/agent-process.js';
import { Alert, AlertsTail, alertTime } from '../support/alerts-tail.js';
import { runCli } from '../support/cli.js';
import { FIXTURES } from '../support/fixtures.js';
import { SequenceStep, realtimeSequence } from '../support/fim-sequence.js';
import { tempDir } from '../support/manager.js';
import { ALERTS, PASSWORD, realAgentConf, requireManager } from '../support/real-manager.js';
import { AfterField, SequenceFixture, StepTimes, alertKey, runStep } from '../support/sequence-run.js';

const FIXTURE = path.join(FIXTURES, 'realtime-sequence-4.14.7.json');
const PAUSE_MS = 1500;
const WITHIN_MS = 2000;
/** Attributes after the change compared everywhere (unless they differed between recorded runs). */
const COMPARED: AfterField[] = ['perm', 'uid', 'gid', 'size', 'md5'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real path of an executable found in PATH, as the kernel names it (/usr/bin/sh -> /usr/bin/dash). */
function exePath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return fs.realpathSync(p);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * The executables that may have made a step's changes: each command's own (the monitored ones), and
 * for `sh -c` scripts the external commands the script runs (the mv of the atomic save); the shell
 * writes through its builtins (printf, echo) itself.
 */
function stepExes(step: SequenceStep): Set<string> {
  const exes = new Set<string>();
  for (const c of step.commands) {
    if (c.outside) continue;
    const own = exePath(c.argv[0]!);
    if (own) exes.add(own);
    if (c.argv[0] === 'sh' && c.argv[1] === '-c') {
      for (const part of c.argv[2]!.split(/&&|\|\||;|\||\bdo\b|\bthen\b/)) {
        const word = part.trim().split(/\s+/)[0] ?? '';
        if (/^[a-z][\w.-]*$/.test(word) && !['printf', 'echo', 'exec', 'while', 'done', 'if', 'fi', 'i'].includes(word)) {
          const p = exePath(word);
          if (p) exes.add(p);
        }
      }
    }
  }
  return exes;
}

interface Failure {
  step: string;
  dir: string;
  expected: string;
  problem: string;
}

function table(rows: Failure[]): string {
  const cols: (keyof Failure)[] = ['step', 'dir', 'expected', 'problem'];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (r: Record<keyof Failure, string>) => cols.map((c, i) => r[c].padEnd(width[i]!)).join(' | ');
  return [line({ step: 'step', dir: 'dir', expected: 'expected (real agent)', problem: 'problem' }), width.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

describe('real-time sequence: every alert the real Wazuh 4.14.7 agent raises (issue 14)', function () {
  this.timeout(240_000);
  const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as SequenceFixture;
  const agentName = `e2e-seq-${process.pid}-${Date.now() % 100000}`;
  const { dir, cleanup } = tempDir('wba-e2e-seq');
  const conf = path.join(dir, 'ossec.conf');
  const home = path.join(dir, 'home');
  const passFile = path.join(dir, 'authd.pass');
  const modes = ['realtime', 'whodata'] as const;
  type Mode = (typeof modes)[number];
  const roots = { realtime: path.join(dir, 'realtime'), whodata: path.join(dir, 'whodata') } satisfies Record<Mode, string>;
  const outsides = { realtime: path.join(dir, 'realtime-outside'), whodata: path.join(dir, 'whodata-outside') } satisfies Record<Mode, string>;
  let agent: AgentProcess | undefined;
  let tail: AlertsTail;

  before(async () => {
    await requireManager();
    for (const m of modes) {
      fs.mkdirSync(roots[m]);
      fs.mkdirSync(outsides[m]);
    }
    fs.writeFileSync(passFile, `${PASSWORD}\n`, { mode: 0o600 });
    fs.writeFileSync(conf, realAgentConf({
      agentName,
      passwordFile: passFile,
      directories: [
        `<directories check_all="yes" realtime="yes" report_changes="no">${roots.realtime}</directories>`,
        `<directories check_all="yes" whodata="yes" report_changes="no">${roots.whodata}</directories>`,
      ],
    }));
    tail = new AlertsTail(ALERTS, agentName);
    const enrolled = await runCli(['-c', conf, '--home', home, 'enroll']);
    expect(enrolled.code, enrolled.stdout + enrolled.stderr).to.equal(0);
    agent = new AgentProcess(['-c', conf, '--home', home, 'run', '--debug']);
    await agent.waitForLine(/Real-time capture mode: /, 0, 60_000);
    await agent.waitForLine(/File integrity monitoring scan ended/, 0, 60_000);
    await tail.waitFor('rule 501 (connected)', (a) => a.rule.id === '501', 60_000);
  });

  after(async function () {
    await agent?.stop();
    // the agent's own account of each event, for whoever reads a failure
    if (agent && this.currentTest?.state !== 'passed') console.log(`agent log (debug): ${agent.keepLog(agentName)}`);
    cleanup();
  });

  it('raises, for every step in a realtime and a whodata directory, the alerts of the real agent, in time', async () => {
    const mode = /Real-time capture mode: (.*)/.exec(agent!.stderr)?.[1];
    const sequences = { realtime: realtimeSequence(outsides.realtime), whodata: realtimeSequence(outsides.whodata) };
    expect(sequences.realtime.map((s) => s.name)).to.deep.equal(fixture.steps.map((s) => s.name), 'fim-sequence.ts and the fixture list the same steps (re-record it)');
    const started = Date.now();
    const times: Record<Mode, StepTimes>[] = [];
    for (let i = 0; i < fixture.steps.length; i++) {
      const [rt, wd] = await Promise.all(modes.map((m) => runStep(sequences[m][i]!, roots[m], outsides[m])));
      times.push({ realtime: rt!, whodata: wd! });
      await sleep(PAUSE_MS);
    }
    await sleep(WITHIN_MS);
    await tail.settle(1000);

    const failures: Failure[] = [];
    const passed = new Map<string, boolean>(); // "step dir" -> every expectation met
    const fail = (f: Failure) => {
      failures.push(f);
      passed.set(`${f.step}\t${f.dir}`, false);
    };
    const unused = new Set(tail.alerts.filter((a) => alertTime(a) >= started - 1000 && a.syscheck?.path));
    const rel = (m: Mode, a: Alert) => path.relative(roots[m], a.syscheck!.path!);
    const under = (m: Mode, a: Alert) => a.syscheck!.path!.startsWith(roots[m] + path.sep);
    const describeAlert = (m: Mode, a: Alert) => `${a.rule.id} ${a.syscheck!.event} ${rel(m, a)} [${[...(a.syscheck!.changed_attributes ?? [])].sort().join(',')}] @${alertTime(a) - times[0]![m].start}ms`;

    for (const [i, fstep] of fixture.steps.entries()) {
      for (const m of modes) {
        passed.set(`${fstep.name}\t${m}`, true);
        const t = times[i]![m];
        const step = sequences[m][i]!;
        const setsMtime = step.commands.some((c) => c.argv[0] === 'touch' && c.argv.includes('-t'));
        const exes = stepExes(step);
        const inTime = (a: Alert) => alertTime(a) >= t.start && alertTime(a) <= t.end + WITHIN_MS;
        const candidates = () => [...unused].filter((a) => under(m, a) && inTime(a));
        // the required alerts first, then the racy ones (matched only so that they are not extras)
        const expected = [...fstep.alerts.filter((x) => !x.optional), ...fstep.alerts.filter((x) => x.optional)];
        for (const x of expected) {
          const fields = [...COMPARED.filter((f) => !x.unstable?.includes(f)), ...(setsMtime ? ['mtime' as const] : [])];
          const same = (a: Alert) => alertKey({ rule: a.rule.id, event: a.syscheck!.event ?? '', path: rel(m, a), changed_attributes: a.syscheck!.changed_attributes ?? [] }, x.racy_attributes) === alertKey(x);
          const diffs = (a: Alert) => fields.filter((f) => x.after[f] !== undefined && String(a.syscheck![`${f}_after`]) !== String(x.after[f]));
          const exact = candidates().find((a) => same(a) && diffs(a).length === 0);
          const label = `${alertKey(x)}${x.racy_attributes ? ` (${x.racy_attributes.join(',')}: racy)` : ''}${x.optional ? ' (racy)' : ''}`;
          if (!exact) {
            if (x.optional) continue;
            const near = candidates().find(same);
            const sameTarget = candidates().filter((a) => a.rule.id === x.rule && rel(m, a) === x.path);
            const late = [...unused].find((a) => under(m, a) && same(a) && alertTime(a) > t.end + WITHIN_MS);
            // an alert reported here as different or late is not listed again as an extra
            if (near) unused.delete(near);
            else if (late) unused.delete(late);
            fail({
              step: fstep.name,
              dir: m,
              expected: label,
              problem: near
                ? `different: ${diffs(near).map((f) => `${f} ${String(near.syscheck![`${f}_after`])} (want ${String(x.after[f])})`).join(', ')}`
                : late
                  ? `late: ${alertTime(late) - t.end} ms after the step's end`
                  : sameTarget.length
                    ? `missing; got ${sameTarget.map((a) => describeAlert(m, a)).join('; ')}`
                    : 'missing',
            });
            continue;
          }
          unused.delete(exact);
          const s = exact.syscheck!;
          if (s.mode !== m) fail({ step: fstep.name, dir: m, expected: label, problem: `syscheck.mode ${String(s.mode)}` });
          if (m === 'whodata') {
            const name = (s.audit as { process?: { name?: string } } | undefined)?.process?.name;
            if (!s.audit) fail({ step: fstep.name, dir: m, expected: label, problem: 'no syscheck.audit (who-data)' });
            else if (!name || !exes.has(name)) fail({ step: fstep.name, dir: m, expected: label, problem: `audit.process.name ${JSON.stringify(name)}, want ${[...exes].join(' or ')}` });
          }
        }
      }
    }
    const extras = [...unused].filter((a) => modes.some((m) => under(m, a)));

    const summary = fixture.steps.map((s) => `  ${s.name.padEnd(24)} ${modes.map((m) => `${m}: ${passed.get(`${s.name}\t${m}`) ? 'pass' : 'FAIL'}`).join('  ')}`).join('\n');
    console.log(`capture mode: ${mode}; alert times are analysisd's timestamps; per step:\n${summary}`);
    if (extras.length) {
      console.log(`alerts the real agent did not raise (not a failure):\n${extras.map((a) => `  ${modes.find((m) => under(m, a))} ${describeAlert(modes.find((m) => under(m, a))!, a)}`).join('\n')}`);
    }
    if (failures.length) expect.fail(`${failures.length} differences from the real Wazuh 4.14.7 agent (capture mode ${mode}):\n${table(failures)}\n`);
  });
});
