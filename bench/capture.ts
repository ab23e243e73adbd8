// Capture benchmark (a benchmark, not a test): C load generators run with no BPF, with the BPF
// object (in the attach mode this kernel allows) consumed by a minimal C libbpf reader, and with
// it consumed by the agent's own path up to the FIM engine (Capture: loader, ring-buffer worker,
// decoder, routing to the monitored trees). The loads: unlinks of N files in a monitored
// directory; small write(2)s to files outside the monitored trees (write-storm, then dd), which
// the capture must filter at the least cost. Reported: deletions/s delivered and drops for each
// reader, their ratio, and each load's rate with each reader attached against none (kernel
// overhead), as medians of interleaved rounds plus every round's ratios (the run-to-run noise).
// Runs as root.
//
//   node dist/bench/capture.js [--files N] [--workers W] [--writes N] [--block BYTES] [--dd-blocks N] [--rounds R]
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
const WRITES = arg('writes', 3_000_000);
const BLOCK = arg('block', 512);
const DD_BLOCKS = arg('dd-blocks', 500_000);
const ROUNDS = arg('rounds', 3);
const STORM_COMM = 'unlink-storm';
const execFileAsync = promisify(execFile);

interface Bins { unlinkStorm: string; writeStorm: string; reader: string }
/** Where the loads run: `storm` is the monitored directory, `outside` a sibling that is not. */
interface Dirs { storm: string; outside: string }
/** One pass of the loads: operations per second of each, and the unlink phase's length. */
interface Loads { unlinks: number; writes: number; dd: number; unlinkSeconds: number }

function build(out: string): Bins {
  const bins = { unlinkStorm: path.join(out, STORM_COMM), writeStorm: path.join(out, 'write-storm'), reader: path.join(out, 'c-reader') };
  execFileSync('cc', ['-O2', '-o', bins.unlinkStorm, path.join(SRC, 'unlink-storm.c'), '-lpthread']);
  execFileSync('cc', ['-O2', '-o', bins.writeStorm, path.join(SRC, 'write-storm.c'), '-lpthread']);
  execFileSync('cc', ['-O2', '-o', bins.reader, path.join(SRC, 'c-reader.c'), '-lbpf']);
  return bins;
}

/**
 * The loads one after the other, the writes first: a reader is still consuming the unlinks'
 * events for a while after the storm ends. Async on purpose: the agent's reader delivers on this
 * thread, which must stay free.
 */
async function runLoads(bins: Bins, dirs: Dirs): Promise<Loads> {
  fs.rmSync(dirs.outside, { recursive: true, force: true });
  fs.mkdirSync(dirs.outside, { recursive: true });
  const ws = await execFileAsync(bins.writeStorm, [path.join(dirs.outside, 'w'), String(WRITES), String(WORKERS), String(BLOCK)], { encoding: 'utf8' });
  const w = JSON.parse(ws.stdout) as { writes: number; seconds: number };
  const dd = await execFileAsync('dd', ['if=/dev/zero', `of=${path.join(dirs.outside, 'dd')}`, `bs=${BLOCK}`, `count=${DD_BLOCKS}`], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  const ddSeconds = Number(/copied, ([\d.]+) s/.exec(dd.stderr)?.[1]); // dd's own clock: the copy, not the exec
  fs.rmSync(dirs.outside, { recursive: true, force: true });
  // the storm unlinks all it creates; the directory itself stays, so a reader's anchor on it holds
  fs.mkdirSync(dirs.storm, { recursive: true });
  const us = await execFileAsync(bins.unlinkStorm, [dirs.storm, String(FILES), String(WORKERS)], { encoding: 'utf8' });
  const u = JSON.parse(us.stdout) as { unlinks: number; seconds: number };
  return { unlinks: u.unlinks / u.seconds, writes: w.writes / w.seconds, dd: DD_BLOCKS / ddSeconds, unlinkSeconds: u.seconds };
}

async function withCReader(bin: string, mode: AttachMode, rodata: string[], dir: string, load: () => Promise<Loads>) {
  fs.mkdirSync(dir, { recursive: true });
  const prefix = { kprobe: 'kprobe_', fentry: 'fentry_', tracepoint: 'tp_' }[mode];
  const child = spawn(bin, [DEFAULT_OBJECT, prefix, STORM_COMM, dir, ...rodata], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!out.includes('ready')) {
    if (child.exitCode !== null) throw new Error('C reader failed to start');
    await new Promise((r) => setTimeout(r, 20));
  }
  const loads = await load();
  await new Promise((r) => setTimeout(r, 500));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  const result = JSON.parse(out.trim().split('\n').pop()!) as { events: number; drops: number };
  return { loads, ...result };
}

/** The agent's path up to the FIM engine: Capture (loader, ring-buffer worker, decoder, routing). */
async function withAgentCapture(mode: AttachMode, dir: string, selfTestDir: string, load: () => Promise<Loads>) {
  fs.mkdirSync(dir, { recursive: true });
  const capture = await Capture.start({ dirs: [dir], selfTestDir, log: new MemoryLogger(), modes: [mode] });
  if (capture.mode !== mode) throw new Error(`capture started in ${capture.mode} mode, not ${mode}`);
  let events = 0;
  let drops = 0;
  capture.on('events', (evs: CaptureEvent[]) => {
    for (const e of evs) if (e.op === 'delete') events++;
  });
  capture.on('drops', (n: number) => (drops += n));
  const loads = await load();
  await new Promise((r) => setTimeout(r, 1500)); // the drop counter is read once a second
  await capture.stop();
  return { loads, events, drops };
}

const ratio = (x: number) => Number(x.toFixed(3));

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
    const dirs = { storm: path.join(shm, 'storm'), outside: path.join(shm, 'outside') };
    const load = () => runLoads(bins, dirs);
    const rows: { none: Loads; c: Loads; js: Loads; cEvents: number; jsEvents: number; cDrops: number; jsDrops: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // interleaved so drifts in the machine's speed hit all three alike
      const none = await load();
      const c = await withCReader(bins.reader, mode, rodata, dirs.storm, load);
      const js = await withAgentCapture(mode, dirs.storm, path.join(tmp, 'selftest'), load);
      rows.push({ none, c: c.loads, js: js.loads, cEvents: c.events / c.loads.unlinkSeconds, jsEvents: js.events / js.loads.unlinkSeconds, cDrops: c.drops, jsDrops: js.drops });
      console.error(
        `round ${r + 1}: no BPF ${none.unlinks.toFixed(0)} unlinks/s, ${none.writes.toFixed(0)} writes/s · ` +
          `C reader ${c.events}/${FILES} events, ${c.drops} drops, ${c.loads.writes.toFixed(0)} writes/s · ` +
          `agent ${js.events}/${FILES} events, ${js.drops} drops, ${js.loads.writes.toFixed(0)} writes/s`,
      );
    }
    const med = (f: (x: (typeof rows)[number]) => number) => median(rows.map(f));
    const perRound = rows.map((x) => ({
      unlink_agent: ratio(x.js.unlinks / x.none.unlinks),
      unlink_c_reader: ratio(x.c.unlinks / x.none.unlinks),
      write_agent: ratio(x.js.writes / x.none.writes),
      write_c_reader: ratio(x.c.writes / x.none.writes),
      dd_agent: ratio(x.js.dd / x.none.dd),
      dd_c_reader: ratio(x.c.dd / x.none.dd),
    }));
    const result = {
      bench: 'capture',
      mode,
      files: FILES,
      workers: WORKERS,
      rounds: ROUNDS,
      unlinks_per_s_no_bpf: Math.round(med((x) => x.none.unlinks)),
      unlinks_per_s_with_c_reader: Math.round(med((x) => x.c.unlinks)),
      unlinks_per_s_with_agent: Math.round(med((x) => x.js.unlinks)),
      events_per_s_c_reader: Math.round(med((x) => x.cEvents)),
      events_per_s_agent: Math.round(med((x) => x.jsEvents)),
      drops_c_reader: rows.reduce((a, x) => a + x.cDrops, 0),
      drops_agent: rows.reduce((a, x) => a + x.jsDrops, 0),
      ratio_agent_vs_c_reader: ratio(med((x) => x.jsEvents / x.cEvents)),
      ratio_unlink_rate_agent_vs_no_bpf: ratio(med((x) => x.js.unlinks / x.none.unlinks)),
      ratio_unlink_rate_c_reader_vs_no_bpf: ratio(med((x) => x.c.unlinks / x.none.unlinks)),
      writes: WRITES,
      write_block_bytes: BLOCK,
      writes_per_s_no_bpf: Math.round(med((x) => x.none.writes)),
      writes_per_s_with_c_reader: Math.round(med((x) => x.c.writes)),
      writes_per_s_with_agent: Math.round(med((x) => x.js.writes)),
      ratio_write_rate_agent_vs_no_bpf: ratio(med((x) => x.js.writes / x.none.writes)),
      ratio_write_rate_c_reader_vs_no_bpf: ratio(med((x) => x.c.writes / x.none.writes)),
      dd_blocks: DD_BLOCKS,
      dd_blocks_per_s_no_bpf: Math.round(med((x) => x.none.dd)),
      dd_blocks_per_s_with_c_reader: Math.round(med((x) => x.c.dd)),
      dd_blocks_per_s_with_agent: Math.round(med((x) => x.js.dd)),
      ratio_dd_rate_agent_vs_no_bpf: ratio(med((x) => x.js.dd / x.none.dd)),
      ratio_dd_rate_c_reader_vs_no_bpf: ratio(med((x) => x.c.dd / x.none.dd)),
      per_round_ratios_vs_no_bpf: perRound,
      load_average_1m: Number(os.loadavg()[0].toFixed(2)), // other work on the machine: the noise's likely cause
    };
    report(
      `capture (${mode}, ${FILES} unlinks x ${ROUNDS}): agent delivers ${result.events_per_s_agent} deletions/s to the FIM engine vs C reader ` +
        `${result.events_per_s_c_reader} events/s = ${result.ratio_agent_vs_c_reader}x; drops agent ${result.drops_agent}, C ${result.drops_c_reader}; ` +
        `unlink rate with agent ${result.ratio_unlink_rate_agent_vs_no_bpf}x of no BPF (C reader ${result.ratio_unlink_rate_c_reader_vs_no_bpf}x); ` +
        `${BLOCK}-byte write rate outside the trees with agent ${result.ratio_write_rate_agent_vs_no_bpf}x (C reader ` +
        `${result.ratio_write_rate_c_reader_vs_no_bpf}x, dd ${result.ratio_dd_rate_agent_vs_no_bpf}x)`,
      result,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(shm, { recursive: true, force: true });
  }
}

runMain(main);
