// Latency benchmark: a file deleted by another process -> its FIM event at the manager, under a
// steady 500 deletions/s, with the agent run as an administrator would (`run`, who-data). The
// baseline, measured in the same run: the same agent's path from its local event socket to the
// manager at the same rate (spool, client buffer, session, TCP), i.e. everything but the capture
// and the FIM engine. Times are CLOCK_REALTIME in ms on one machine.
//
//   node dist/bench/latency.js [--rate R] [--seconds S]
//   BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node dist/bench/latency.js   (profile the agent)
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_PASSWORD } from '../test/support/manager.js';
import { arg, percentile, report, runMain } from './common.js';
import { ManagerProcess } from './support/manager-client.js';

const RATE = arg('rate', 500);
const SECONDS = arg('seconds', 20);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(HERE, '../src/cli.js');
const GOAL_P99_MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => performance.timeOrigin + performance.now();

function stats(latencies: number[]) {
  return {
    p50_ms: Number(percentile(latencies, 50).toFixed(1)),
    p99_ms: Number(percentile(latencies, 99).toFixed(1)),
    max_ms: Number(Math.max(...latencies).toFixed(1)),
  };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `count` lines `1:bench:q<i>` into the agent's local socket at RATE/s; their send times. */
async function queueLoad(socketPath: string, count: number): Promise<number[]> {
  const sock = net.connect(socketPath);
  await new Promise((r, j) => sock.once('connect', r).once('error', j));
  const sent: number[] = [];
  const start = nowMs();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    sent.push(nowMs());
    sock.write(`1:bench:q${i}\n`);
  }
  sock.end();
  return sent;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wba-latency-'));
  const watched = path.join(tmp, 'watched');
  const home = path.join(tmp, 'home');
  const count = RATE * SECONDS;
  const gen = path.join(tmp, 'steady-unlink');
  execFileSync('cc', ['-O2', '-o', gen, path.resolve(HERE, '../../bench/latency/steady-unlink.c')]);
  fs.mkdirSync(watched);
  for (let i = 0; i < count; i++) fs.writeFileSync(path.join(watched, `f${i}`), `file ${i}\n`);
  const manager = await ManagerProcess.start();
  const passwordFile = path.join(tmp, 'authd.pass');
  fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o600 });
  const conf = path.join(tmp, 'ossec.conf');
  // Stock settings but max_eps: syscheck's default of 50 events/s would pace a 500/s load.
  fs.writeFileSync(
    conf,
    `<ossec_config>
  <client>
    <server><address>127.0.0.1</address><port>${manager.remotedPort}</port></server>
    <enrollment><port>${manager.authdPort}</port><authorization_pass_path>${passwordFile}</authorization_pass_path>
      <agent_name>bench-latency</agent_name><delay_after_enrollment>1</delay_after_enrollment></enrollment>
  </client>
  <syscheck>
    <frequency>43200</frequency>
    <max_eps>0</max_eps>
    <directories whodata="yes">${watched}</directories>
  </syscheck>
</ossec_config>`,
  );
  let output = '';
  const agent: ChildProcess = spawn(process.execPath, [...(process.env['BENCH_AGENT_NODE_ARGS']?.split(' ') ?? []), CLI, '-c', conf, '--home', home, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (d) => (output += d));
  agent.stderr!.on('data', (d) => (output += d));
  try {
    await waitFor('the agent connected and its first scan', () => /scan ended/.test(output) && /Connected to the server/.test(output), 120_000);
    const mode = /Real-time capture mode: (\w+)/.exec(output)?.[1] ?? 'unknown';
    if (mode === 'inotify') console.error(output.split('\n').filter((l) => /kprobe|fentry|tracepoint/.test(l)).join('\n'));
    // The first integrity sync sends the manager every file's state: measure once it is done.
    let last = -1;
    await waitFor('the first integrity sync', async () => {
      const n = await manager.count('5:fim_file');
      const quiet = n === last && n > 0;
      last = n;
      if (!quiet) await sleep(2000);
      return quiet;
    }, 300_000);

    const queueCount = Math.min(count, RATE * 10);
    const sent = await queueLoad(path.join(home, 'queue', 'sockets', 'queue'), queueCount);
    await waitFor('the local-socket events', async () => (await manager.count('1:bench:q')) === queueCount, 60_000);

    const lines = execFileSync(gen, [watched, String(count), String(RATE)], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim().split('\n');
    const deleted = new Map(lines.map((l) => l.split(' ')).map(([i, t]) => [path.join(watched, `f${i}`), Number(t)]));
    let arrived = 0;
    await waitFor(`every deletion at the manager (${count})`, async () => (arrived = await manager.count('8:syscheck:{"type":"event"')) >= count, 120_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}: ${arrived} arrived; agent log tail:\n${output.split('\n').slice(-15).join('\n')}`);
      });

    const arrivals = await manager.arrivals();
    const queueLat: number[] = [];
    const delLat: number[] = [];
    for (const a of arrivals) {
      if (a.key.startsWith('q')) queueLat.push(a.at - sent[Number(a.key.slice(1))]!);
      else if (deleted.has(a.key)) delLat.push(a.at - deleted.get(a.key)!);
    }
    if (delLat.length !== count) throw new Error(`${delLat.length} of ${count} deletions reached the manager`);
    const del = stats(delLat);
    const base = stats(queueLat);
    const result = {
      bench: 'latency',
      rate_per_s: RATE,
      deletions: count,
      capture_mode: mode,
      deletion_to_manager: del,
      local_socket_to_manager: base,
      ratio_p99_vs_local_socket: Number((del.p99_ms / Math.max(base.p99_ms, 1)).toFixed(2)),
      goal_p99_ms: GOAL_P99_MS,
      ratio_goal_vs_p99: Number((GOAL_P99_MS / Math.max(del.p99_ms, 1)).toFixed(2)),
    };
    report(
      `latency (${RATE} deletions/s for ${SECONDS} s, ${mode}, who-data): deletion -> manager p50 ${del.p50_ms} ms, p99 ${del.p99_ms} ms, ` +
        `max ${del.max_ms} ms; local socket -> manager p50 ${base.p50_ms} ms, p99 ${base.p99_ms} ms (p99 ratio ${result.ratio_p99_vs_local_socket}x); ` +
        `goal p99 <= ${GOAL_P99_MS} ms`,
      result,
    );
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => (agent.exitCode !== null ? r(null) : agent.once('close', r)));
    manager.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

runMain(main);
