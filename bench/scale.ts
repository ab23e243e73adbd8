// Scale benchmark: the agent, run as an administrator runs it (`run`, who-data), over a generated
// tree of small files (100,000 and 1,000,000 by default), against the test manager answering
// every integrity check with no_data: the worst case, in which the sync after the first scan must
// send the state of every file. Measured per tree size, with <synchronization><max_eps> 0
// (unpaced: the memory worst case, and it finishes) and stock (10/s: how far it got in
// --stock-seconds): the first scan's time, the agent's VmHWM and RSS (sampled from /proc, all its
// threads), a real-time change made every few seconds while the sync streams (time until its
// event reaches the manager), and events dropped. The baseline in the same run is the agent's
// own memory at the smallest size: the goal is memory flat with the number of files.
//
//   node dist/bench/scale.js [--files 100000,1000000] [--modes unpaced,stock] [--stock-seconds 60]
//
// Wazuh's syncing (fim_sync.c, dbsync/rsync) is paced the same way by sync max_eps; the real
// Wazuh agent's figures on this machine are in the README's scale table.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_PASSWORD } from '../test/support/manager.js';
import { arg, percentile, report, runMain } from './common.js';
import { ManagerProcess } from './support/manager-client.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(HERE, '../src/cli.js');
const list = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return (i > 0 ? process.argv[i + 1]! : dflt).split(',').filter(Boolean);
};
const SIZES = list('files', '100000,1000000').map(Number);
const MODES = list('modes', 'unpaced,stock') as ('unpaced' | 'stock')[];
const STOCK_SECONDS = arg('stock-seconds', 60);
/** A real-time change every this often while the sync streams. */
const CHANGE_EVERY_MS = 3_000;
const FILES_PER_DIR = 100;
const GOAL_GROWTH_MIB = 32;
const GOAL_LEVEL_MIB = 80;
const GOAL_CHANGE_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Files of a few bytes, FILES_PER_DIR a directory: the file count, not the bytes, is what scales. */
function makeTree(root: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `d${Math.floor(i / FILES_PER_DIR)}`);
    if (i % FILES_PER_DIR === 0) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}`), `file ${i}\n`);
  }
}

/** The agent's resident memory, sampled: current and peak (VmHWM, the kernel's own high-water mark). */
class MemorySampler {
  private timer: NodeJS.Timeout;
  rssMiB = 0;
  hwmMiB = 0;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 250);
  }
  sample(): void {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
      this.rssMiB = Math.round(kb('VmRSS') / 1024);
      this.hwmMiB = Math.round(kb('VmHWM') / 1024);
    } catch {
      // the process has exited: keep the last sample
    }
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

interface RunResult {
  files: number;
  mode: 'unpaced' | 'stock';
  first_scan_s: number;
  rss_after_scan_mib: number;
  sync_s: number | null;
  /** Files whose state reached the manager (each once, though a new sync may send some again). */
  states_sent: number;
  sync_complete: boolean;
  vmhwm_mib: number;
  rss_after_mib: number;
  realtime_change_ms: { samples: number; p50: number; max: number };
  events_dropped: number;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms: number, every = 500): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

async function runOnce(root: string, files: number, mode: 'unpaced' | 'stock'): Promise<RunResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wba-scale-'));
  const home = path.join(tmp, 'home');
  const manager = await ManagerProcess.start({ light: true, noData: true });
  const passwordFile = path.join(tmp, 'authd.pass');
  fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o600 });
  const conf = path.join(tmp, 'ossec.conf');
  // Stock <syscheck> but file_limit (off, so every file is stored) and skip_dev (the tree is on
  // /dev/shm, a tmpfs without nodev, which Wazuh's skip_dev skips: fs_op.c HasFilesystem). Unpaced: sync max_eps 0 and
  // no client buffer (its 500 messages/s, which Wazuh's sync messages go through too, would pace
  // a million states to half an hour).
  fs.writeFileSync(
    conf,
    `<ossec_config>
  <client>
    <server><address>127.0.0.1</address><port>${manager.remotedPort}</port></server>
    <enrollment><port>${manager.authdPort}</port><authorization_pass_path>${passwordFile}</authorization_pass_path>
      <agent_name>bench-scale</agent_name><delay_after_enrollment>1</delay_after_enrollment></enrollment>
  </client>
  ${mode === 'unpaced' ? '<client_buffer><disabled>yes</disabled></client_buffer>' : ''}
  <syscheck>
    <frequency>43200</frequency>
    <file_limit><enabled>no</enabled></file_limit>
    <skip_dev>no</skip_dev>
    <synchronization>${mode === 'unpaced' ? '<max_eps>0</max_eps>' : ''}</synchronization>
    <directories whodata="yes">${root}</directories>
  </syscheck>
</ossec_config>`,
  );
  let output = '';
  const agent: ChildProcess = spawn(process.execPath, [...(process.env['BENCH_AGENT_NODE_ARGS']?.split(' ') ?? []), CLI, '-c', conf, '--home', home, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (d) => (output += d));
  agent.stderr!.on('data', (d) => (output += d));
  const memory = new MemorySampler(agent.pid!);
  const started = Date.now();
  try {
    await waitFor('the first scan', () => /scan ended/.test(output), 1_800_000);
    const firstScan = (Date.now() - started) / 1000;
    memory.sample();
    const rssAfterScan = memory.rssMiB;
    if (!/Real-time capture mode: (tracepoint|kprobe|fentry)/.test(output)) throw new Error(`no eBPF real-time capture:\n${output.slice(-2000)}`);

    // The sync streams states; real-time changes meanwhile, each timed to the manager.
    const states = () => manager.statedFiles();
    const syncStart = Date.now();
    const deadline = mode === 'unpaced' ? syncStart + 1_800_000 : syncStart + STOCK_SECONDS * 1000;
    const changes: { file: string; at: number }[] = [];
    let sent = 0;
    let syncSeconds: number | null = null;
    let nextChange = Date.now() + CHANGE_EVERY_MS;
    while (Date.now() < deadline) {
      await sleep(250);
      if (Date.now() >= nextChange) {
        const file = path.join(root, 'd0', `scale-rt-${changes.length}`);
        const at = performance.timeOrigin + performance.now();
        fs.writeFileSync(file, 'changed\n');
        changes.push({ file, at });
        nextChange = Date.now() + CHANGE_EVERY_MS;
      }
      sent = await states();
      if (sent >= files) {
        syncSeconds = (Date.now() - syncStart) / 1000;
        break;
      }
    }
    // every change's event, whenever it came
    const latencies: number[] = [];
    for (const c of changes) {
      let arrived: number | undefined;
      // the event's "path" (a state message names its file in "index")
      await waitFor(`the real-time change of ${c.file} at the manager`, async () => (arrived = await manager.firstArrival(`"path":"${c.file}"`)) !== undefined, 60_000, 200);
      latencies.push(arrived! - c.at);
      fs.rmSync(c.file, { force: true });
    }
    await sleep(2000);
    memory.sample();
    const dropped = [...output.matchAll(/Agent spool is full: dropped the (\d+) oldest events/g)].reduce((n, m) => n + Number(m[1]), 0);
    return {
      files,
      mode,
      first_scan_s: Number(firstScan.toFixed(1)),
      rss_after_scan_mib: rssAfterScan,
      sync_s: syncSeconds === null ? null : Number(syncSeconds.toFixed(1)),
      states_sent: sent,
      sync_complete: sent >= files,
      vmhwm_mib: memory.hwmMiB,
      rss_after_mib: memory.rssMiB,
      realtime_change_ms: { samples: latencies.length, p50: Math.round(percentile(latencies, 50)), max: Math.round(Math.max(...latencies)) },
      events_dropped: dropped,
    };
  } catch (e) {
    throw new Error(`${(e as Error).message}; agent log tail:\n${output.split('\n').slice(-15).join('\n')}`);
  } finally {
    memory.stop();
    agent.kill('SIGTERM');
    await new Promise((r) => (agent.exitCode !== null ? r(null) : agent.once('close', r)));
    manager.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs: RunResult[] = [];
  for (const files of SIZES) {
    const shm = fs.mkdtempSync('/dev/shm/wba-scale-');
    try {
      const root = path.join(shm, 'tree');
      const t0 = Date.now();
      makeTree(root, files);
      console.error(`scale: ${files} files generated in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      for (const mode of MODES) {
        const r = await runOnce(root, files, mode);
        console.error(`scale: ${JSON.stringify(r)}`);
        runs.push(r);
      }
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  }
  const unpaced = runs.filter((r) => r.mode === 'unpaced');
  const smallest = unpaced[0], largest = unpaced[unpaced.length - 1];
  const growth = smallest && largest ? largest.vmhwm_mib - smallest.vmhwm_mib : null;
  const worstChange = Math.max(...runs.map((r) => r.realtime_change_ms.max));
  const result = {
    bench: 'scale',
    runs,
    vmhwm_growth_mib: growth,
    goal_growth_mib: GOAL_GROWTH_MIB,
    goal_level_mib: GOAL_LEVEL_MIB,
    realtime_change_max_ms: worstChange,
    goal_change_ms: GOAL_CHANGE_MS,
    events_dropped: runs.reduce((n, r) => n + r.events_dropped, 0),
  };
  report(
    runs.map((r) => `scale ${r.files} files, sync ${r.mode}: first scan ${r.first_scan_s} s, ` +
      `sync ${r.sync_complete ? `${r.sync_s} s` : `${r.states_sent} states in ${STOCK_SECONDS} s`}, VmHWM ${r.vmhwm_mib} MiB, ` +
      `RSS after scan ${r.rss_after_scan_mib} MiB, after sync ${r.rss_after_mib} MiB; real-time change -> manager p50 ${r.realtime_change_ms.p50} ms, ` +
      `max ${r.realtime_change_ms.max} ms (${r.realtime_change_ms.samples}); ${r.events_dropped} events dropped`).join('\n') +
      `\nscale: VmHWM growth ${SIZES.join(' -> ')} files: ${growth} MiB (goal <= ${GOAL_GROWTH_MIB}); worst real-time change ${worstChange} ms (goal <= ${GOAL_CHANGE_MS})`,
    result,
  );
}

runMain(main);
