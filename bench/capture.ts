// Capture benchmark (a benchmark, not a test): a C load generator unlinks N files as fast as it
// can; the same BPF object, in the attach mode this kernel allows, is consumed (a) by a minimal
// C libbpf reader and (b) by the agent's own path up to the FIM engine (Capture: loader,
// ring-buffer worker, decoder, routing to the monitored trees). Reported: events/s delivered and drops for each, their ratio, and the unlink rate
// with each attached against none (kernel overhead). Runs as root.
//
//   node dist/bench/capture.js [--files N] [--workers W] [--rounds R]
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureEvent } from '../src/capture/event.js';
import { readVmlinuxBtf, resolveRenameAbi, resolveUnlinkDentryArg } from '../src/bpf/kernel.js';
import { AttachMode, DEFAULT_OBJECT } from '../src/bpf/loader.js';
import { Capture } from '../src/capture/capture.js';
import { MemoryLogger } from '../src/log.js';
import { arg, median, report, runMain } from './common.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.resolve(HERE, '../../bench/capture');
const FILES = arg('files', 200_000);
const WORKERS = arg('workers', 1);
const ROUNDS = arg('rounds', 3);
const STORM_COMM = 'unlink-storm';
const execFileAsync = promisify(execFile);

interface Storm { unlinks: number; seconds: number }

function build(out: string): { storm: string; reader: string } {
  const storm = path.join(out, STORM_COMM);
  const reader = path.join(out, 'c-reader');
  execFileSync('cc', ['-O2', '-o', storm, path.join(SRC, 'unlink-storm.c'), '-lpthread']);
  execFileSync('cc', ['-O2', '-o', reader, path.join(SRC, 'c-reader.c'), '-lbpf']);
  return { storm, reader };
}

/** Async on purpose: the agent's reader delivers on this thread, which must stay free. */
async function runStorm(bin: string, dir: string): Promise<Storm> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const { stdout } = await execFileAsync(bin, [dir, String(FILES), String(WORKERS)], { encoding: 'utf8' });
  return JSON.parse(stdout) as Storm;
}

async function withCReader(bin: string, mode: AttachMode, rodata: string[], dir: string, storm: () => Promise<Storm>) {
  fs.mkdirSync(dir, { recursive: true });
  const prefix = { kprobe: 'kprobe_', fentry: 'fentry_', tracepoint: 'tp_' }[mode];
  const child = spawn(bin, [DEFAULT_OBJECT, prefix, STORM_COMM, dir, ...rodata], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!out.includes('ready')) {
    if (child.exitCode !== null) throw new Error('C reader failed to start');
    await new Promise((r) => setTimeout(r, 20));
  }
  const s = await storm();
  await new Promise((r) => setTimeout(r, 500));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  const result = JSON.parse(out.trim().split('\n').pop()!) as { events: number; drops: number };
  return { storm: s, ...result };
}

/** The agent's path up to the FIM engine: Capture (loader, ring-buffer worker, decoder, routing). */
async function withAgentCapture(mode: AttachMode, dir: string, selfTestDir: string, storm: () => Promise<Storm>) {
  fs.mkdirSync(dir, { recursive: true });
  const capture = await Capture.start({ dirs: [dir], selfTestDir, log: new MemoryLogger(), modes: [mode] });
  if (capture.mode !== mode) throw new Error(`capture started in ${capture.mode} mode, not ${mode}`);
  let events = 0;
  let drops = 0;
  capture.on('events', (evs: CaptureEvent[]) => {
    for (const e of evs) if (e.op === 'delete') events++;
  });
  capture.on('drops', (n: number) => (drops += n));
  const s = await storm();
  await new Promise((r) => setTimeout(r, 1500)); // the drop counter is read once a second
  await capture.stop();
  return { storm: s, events, drops };
}


async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the capture benchmark loads BPF programs: run it as root');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wba-bench-'));
  const shm = fs.mkdtempSync('/dev/shm/wba-bench-');
  try {
    const bins = build(tmp);
    const probe = await Capture.start({ dirs: [], selfTestDir: path.join(tmp, 'selftest'), log: new MemoryLogger(), modes: ['kprobe', 'fentry', 'tracepoint'] });
    const mode = probe.mode as AttachMode;
    await probe.stop();
    const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    const btf = readVmlinuxBtf().btf;
    const unlinkArg = resolveUnlinkDentryArg({ btf, release }).index;
    const renamedata = resolveRenameAbi({ btf, release }).abi === 'renamedata';
    const rodata = [`unlink_dentry_arg=${unlinkArg}`, `rename_uses_renamedata=${renamedata ? 1 : 0}`];
    const dir = path.join(shm, 'storm');
    const rows: { none: number; c: number; js: number; cEvents: number; jsEvents: number; cDrops: number; jsDrops: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // interleaved so drifts in the machine's speed hit all three alike
      const none = await runStorm(bins.storm, dir);
      const c = await withCReader(bins.reader, mode, rodata, dir, () => runStorm(bins.storm, dir));
      const js = await withAgentCapture(mode, dir, path.join(tmp, 'selftest'), () => runStorm(bins.storm, dir));
      const rate = (s: Storm) => s.unlinks / s.seconds;
      rows.push({ none: rate(none), c: rate(c.storm), js: rate(js.storm), cEvents: c.events / c.storm.seconds, jsEvents: js.events / js.storm.seconds, cDrops: c.drops, jsDrops: js.drops });
      console.error(`round ${r + 1}: no BPF ${rate(none).toFixed(0)}/s · C reader ${c.events}/${FILES} events, ${c.drops} drops · agent ${js.events}/${FILES} events, ${js.drops} drops`);
    }
    const result = {
      bench: 'capture',
      mode,
      files: FILES,
      workers: WORKERS,
      rounds: ROUNDS,
      unlinks_per_s_no_bpf: Math.round(median(rows.map((x) => x.none))),
      unlinks_per_s_with_c_reader: Math.round(median(rows.map((x) => x.c))),
      unlinks_per_s_with_agent: Math.round(median(rows.map((x) => x.js))),
      events_per_s_c_reader: Math.round(median(rows.map((x) => x.cEvents))),
      events_per_s_agent: Math.round(median(rows.map((x) => x.jsEvents))),
      drops_c_reader: rows.reduce((a, x) => a + x.cDrops, 0),
      drops_agent: rows.reduce((a, x) => a + x.jsDrops, 0),
      ratio_agent_vs_c_reader: Number(median(rows.map((x) => x.jsEvents / x.cEvents)).toFixed(3)),
      ratio_unlink_rate_agent_vs_no_bpf: Number(median(rows.map((x) => x.js / x.none)).toFixed(3)),
    };
    report(
      `capture (${mode}, ${FILES} unlinks x ${ROUNDS}): agent delivers ${result.events_per_s_agent} deletions/s to the FIM engine vs C reader ` +
        `${result.events_per_s_c_reader} events/s = ${result.ratio_agent_vs_c_reader}x; drops agent ${result.drops_agent}, C ${result.drops_c_reader}; ` +
        `unlink rate with agent ${result.ratio_unlink_rate_agent_vs_no_bpf}x of no BPF`,
      result,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(shm, { recursive: true, force: true });
  }
}

runMain(main);
