// Records what a real Wazuh agent raises for the real-time sequence (fim-sequence.ts): runs the
// steps in a directory that agent monitors in real time, with a pause between steps, reads the
// manager's alerts.json and writes, per step, the alerts that came, as a fixture for the e2e test.
//
//   node dist/test/support/record-realtime-sequence.js MONITORED OUTSIDE ALERTS_JSON OUT_JSON
//        [--runs 3] [--pause-ms 1500] [--agent NAME] [--wazuh 4.14.7] [--monitoring TEXT]
//
// MONITORED must be watched by the agent (realtime="yes"), its initial scan done; it is emptied
// before each run (the deletions that raises are waited out). OUTSIDE is an unmonitored directory
// on the same filesystem, emptied too. Alerts are those whose syscheck.path is under MONITORED
// (and of agent NAME when given); each goes to the step in whose window [start, next step's
// start) its timestamp falls. An alert that does not come in every run is marked optional; marks
// of an earlier recording in OUT_JSON are kept (a race seen once stays racy), and so are its notes.
import fs from 'node:fs';
import path from 'node:path';
import { Alert, AlertsTail, alertTime } from './alerts-tail.js';
import { realtimeSequence } from './fim-sequence.js';
import { AFTER_FIELDS, AfterField, FixtureAlert, FixtureStep, SequenceFixture, StepTimes, alertKey, runStep } from './sequence-run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** syscheck fields the fixture reads anyway, or that depend on nothing the step does. */
const KNOWN = new Set(['path', 'mode', 'event', 'changed_attributes', 'sha1_after', 'sha256_after', 'sha1_before', 'sha256_before',
  ...AFTER_FIELDS.flatMap((f) => [`${f}_after`, `${f}_before`])]);

function toFixtureAlert(a: Alert, root: string, stepEnd: number): FixtureAlert {
  const s = a.syscheck!;
  const after: FixtureAlert['after'] = {};
  for (const f of AFTER_FIELDS) if (s[`${f}_after`] !== undefined) after[f] = s[`${f}_after`] as string | number;
  const extra = Object.fromEntries(Object.entries(s).filter(([k]) => !KNOWN.has(k)));
  return {
    rule: a.rule.id,
    event: s.event ?? '',
    path: path.relative(root, s.path!),
    changed_attributes: [...(s.changed_attributes ?? [])].sort(),
    after,
    ...(Object.keys(extra).length ? { extra } : {}),
    delayMs: [alertTime(a) - stepEnd],
  };
}

function empty(dir: string): void {
  for (const e of fs.readdirSync(dir)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
}

interface RunResult {
  steps: { name: string; times: StepTimes; alerts: Alert[] }[];
}

async function runOnce(root: string, outside: string, tail: AlertsTail, pauseMs: number): Promise<RunResult> {
  empty(root);
  empty(outside);
  tail.poll();
  await tail.settle(4000); // the deletions the emptying raised
  tail.alerts.length = 0;
  const steps = realtimeSequence(outside);
  const done: { name: string; times: StepTimes }[] = [];
  for (const step of steps) {
    done.push({ name: step.name, times: await runStep(step, root, outside) });
    await sleep(pauseMs);
  }
  await tail.settle(5000);
  const result: RunResult = { steps: done.map((d) => ({ ...d, alerts: [] as Alert[] })) };
  for (const a of tail.alerts) {
    const t = alertTime(a);
    let i = result.steps.length - 1;
    while (i > 0 && t < result.steps[i]!.times.start) i--;
    result.steps[i]!.alerts.push(a);
  }
  return result;
}

/**
 * Merges the runs: per step, each alert (by rule, event, path and changed attributes less mtime,
 * in time order) as often as the most runs gave it; optional where some run gave fewer. Whether
 * `mtime` is among the changed attributes is racy when it differed between runs, or when the same
 * file had an alert less than a second before (Wazuh's mtime has one-second resolution: the next
 * second boundary decides): it is then left out of changed_attributes and named in racy_attributes.
 */
function merge(root: string, runs: RunResult[]): FixtureStep[] {
  return runs[0]!.steps.map((s0, si) => {
    const perRun = runs.map((r) => {
      const byKey = new Map<string, { fa: FixtureAlert; mtimeRacy: boolean }[]>();
      const step = r.steps[si]!;
      for (const a of [...step.alerts].sort((x, y) => alertTime(x) - alertTime(y))) {
        const fa = toFixtureAlert(a, root, step.times.end);
        const mtimeRacy = step.alerts.some((b) => b !== a && b.syscheck!.path === a.syscheck!.path && alertTime(b) <= alertTime(a) && alertTime(a) - alertTime(b) < 1000);
        const k = alertKey(fa, ['mtime']);
        byKey.set(k, [...(byKey.get(k) ?? []), { fa, mtimeRacy }]);
      }
      return byKey;
    });
    const order: string[] = [];
    for (const m of perRun) for (const k of m.keys()) if (!order.includes(k)) order.push(k);
    const alerts: FixtureAlert[] = [];
    for (const k of order) {
      const max = Math.max(...perRun.map((m) => m.get(k)?.length ?? 0));
      for (let n = 0; n < max; n++) {
        const seen = perRun.map((m) => m.get(k)?.[n]).filter((x) => x !== undefined);
        const first = seen[0]!.fa;
        const unstable = AFTER_FIELDS.filter((f) => seen.some((x) => x.fa.after[f] !== first.after[f])) as AfterField[];
        const hasMtime = (x: FixtureAlert) => x.changed_attributes.includes('mtime');
        const mtimeRacy = seen.some((x) => (x.mtimeRacy && hasMtime(x.fa)) || hasMtime(x.fa) !== hasMtime(first));
        alerts.push({
          ...first,
          ...(mtimeRacy ? { changed_attributes: first.changed_attributes.filter((c) => c !== 'mtime'), racy_attributes: ['mtime'] } : {}),
          ...(unstable.length ? { unstable } : {}),
          delayMs: seen.map((x) => x.fa.delayMs[0]!),
          ...(seen.length < runs.length ? { optional: true as const } : {}),
        });
      }
    }
    const mid = (a: FixtureAlert) => [...a.delayMs].sort((x, y) => x - y)[a.delayMs.length >> 1]!;
    alerts.sort((x, y) => mid(x) - mid(y)); // stable: the order of keys where they tie
    return { name: s0.name, alerts };
  });
}

/**
 * A race seen once stays in the fixture: the marks of the previous fixture (optional alerts,
 * unstable attributes, racy changed attributes) are kept where this recording did not see the race.
 */
function keepRacy(steps: FixtureStep[], prev: FixtureStep[]): void {
  for (const p of prev) {
    const step = steps.find((s) => s.name === p.name);
    if (!step) continue;
    const used = new Set<FixtureAlert>();
    for (const pa of p.alerts) {
      const ignore = ['mtime'];
      const a = step.alerts.find((x) => !used.has(x) && alertKey(x, ignore) === alertKey(pa, ignore));
      if (!a) {
        if (pa.optional) step.alerts.push({ ...pa, delayMs: [] });
        continue;
      }
      used.add(a);
      if (pa.optional) a.optional = true;
      const unstable = [...new Set([...(a.unstable ?? []), ...(pa.unstable ?? [])])];
      if (unstable.length) a.unstable = AFTER_FIELDS.filter((f) => unstable.includes(f));
      if (pa.racy_attributes && !a.racy_attributes) {
        a.racy_attributes = pa.racy_attributes;
        a.changed_attributes = a.changed_attributes.filter((c) => !pa.racy_attributes!.includes(c));
      }
    }
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string) => {
    const i = args.indexOf(name);
    if (i < 0) return def;
    const v = args[i + 1]!;
    args.splice(i, 2);
    return v;
  };
  const runs = Number(opt('--runs', '3'));
  const pauseMs = Number(opt('--pause-ms', '1500'));
  const agent = opt('--agent', '');
  const wazuh = opt('--wazuh', '4.14.7');
  const monitoring = opt('--monitoring', '<directories check_all="yes" realtime="yes"> (stock syscheck options otherwise)');
  if (args.length !== 4) {
    console.error('usage: record-realtime-sequence MONITORED OUTSIDE ALERTS_JSON OUT_JSON [--runs N] [--pause-ms MS] [--agent NAME] [--wazuh VERSION] [--monitoring TEXT]');
    process.exit(2);
  }
  const [root, outside, alertsJson, out] = args.map((a) => path.resolve(a)) as [string, string, string, string];
  const under = root + path.sep;
  const tail = new AlertsTail(alertsJson, (a) => (!agent || a.agent?.name === agent) && (a.syscheck?.path ?? '').startsWith(under));
  const results: RunResult[] = [];
  for (let r = 0; r < runs; r++) {
    const res = await runOnce(root, outside, tail, pauseMs);
    results.push(res);
    console.error(`run ${r + 1}: ${res.steps.map((s) => `${s.name}=${s.alerts.map((a) => a.rule.id).join('+') || '-'}`).join(' ')}`);
  }
  const fixture: SequenceFixture = {
    wazuh,
    recorded: new Date().toISOString(),
    runs,
    pauseMs,
    monitoring,
    notes: [],
    steps: merge(root, results),
    times: results[0]!.steps.map((s) => ({ step: s.name, start: new Date(s.times.start).toISOString(), end: new Date(s.times.end).toISOString() })),
    raw: results[0]!.steps.flatMap((s) => s.alerts.map((alert) => ({ step: s.name, alert }))),
  };
  const prev = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as Partial<SequenceFixture>) : {};
  if (prev.notes) fixture.notes = prev.notes; // hand-written notes survive a re-recording
  if (prev.steps) keepRacy(fixture.steps, prev.steps);
  fs.writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
  console.error(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
