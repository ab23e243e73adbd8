// Baseline-scan benchmark: the FIM engine's first scan (walk, lstat, md5+sha1+sha256 in the
// hashing threads, SQLite baseline) over a generated tree, against md5sum, sha1sum and sha256sum
// run one after the other over the same files in the same run. Also the scan's peak RSS: the
// scan runs in a process of its own, so that generating the tree does not count.
//
//   node dist/bench/scan.js [--files N]     (default 100,000 files, 1 KiB to 10 MiB)
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAgentConfig } from '../src/config/load.js';
import { Baseline } from '../src/fim/db.js';
import { FimEngine } from '../src/fim/engine.js';
import { HashPool } from '../src/fim/hash.js';
import { WhoResolver } from '../src/fim/who.js';
import { MemoryLogger } from '../src/log.js';
import { arg, peakRssMiB, report, runMain } from './common.js';

const FILES = arg('files', 100_000);

/**
 * Mixed sizes from 1 KiB to 10 MiB, skewed like a real /etc + /usr: 97 % small (1-16 KiB),
 * 2.9 % medium (16 KiB-1 MiB), 0.1 % large (1-10 MiB), sizes log-uniform within each band.
 * About 1.9 GB for 100,000 files, so the tree fits in tmpfs and the disk does not set the pace.
 */
function sizeOf(i: number, rnd: () => number): number {
  const logUniform = (lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + rnd() * (Math.log(hi) - Math.log(lo))));
  const band = i % 1000;
  if (band === 0) return logUniform(1 << 20, 10 << 20);
  if (band <= 29) return logUniform(16 << 10, 1 << 20);
  return 1024 + Math.floor(rnd() * 15 * 1024);
}

function makeTree(root: string): number {
  const noise = crypto.randomBytes(11 << 20);
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, `d${i % 100}`, `s${Math.floor(i / 100) % 10}`);
    if (i < 1000) fs.mkdirSync(dir, { recursive: true });
    const size = sizeOf(i, rnd);
    const off = Math.floor(rnd() * (noise.length - size));
    fs.writeFileSync(path.join(dir, `f${i}`), noise.subarray(off, off + size));
    bytes += size;
  }
  return bytes;
}

function timeTool(tool: string, root: string): number {
  const t0 = process.hrtime.bigint();
  execFileSync('sh', ['-c', `find "$1" -type f -print0 | xargs -0 ${tool} > /dev/null`, 'sh', root], { maxBuffer: 1 << 30 });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** In the child process: one first scan (the baseline), then its numbers as JSON on stdout. */
async function scanWithAgent(root: string, db: string): Promise<void> {
  // skip_dev off: the tree is on /dev/shm, a tmpfs without nodev, which Wazuh's skip_dev skips
  const conf = `<ossec_config><client><server><address>127.0.0.1</address></server></client><syscheck>
    <directories check_all="yes">${root}</directories>
    <synchronization><enabled>no</enabled></synchronization>
    <skip_dev>no</skip_dev>
  </syscheck></ossec_config>`;
  const config = parseAgentConfig(conf, 'bench.conf');
  const baseline = new Baseline(db);
  const hashes = new HashPool();
  const log = new MemoryLogger();
  const engine = new FimEngine({ syscheck: config.syscheck, baseline, hashes, who: new WhoResolver(), send: () => undefined, sendSync: async () => undefined, log });
  const t0 = process.hrtime.bigint();
  const summary = await engine.scan();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await hashes.close();
  baseline.close();
  console.log(JSON.stringify({ seconds, files: summary.files, rss: peakRssMiB() }));
}

async function main(): Promise<void> {
  const shm = fs.mkdtempSync('/dev/shm/wba-scan-');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wba-scan-'));
  try {
    const root = path.join(shm, 'tree');
    const bytes = makeTree(root);
    // the tools first, so the agent's scan cannot be helped by a cache they warmed: all of it is
    // in tmpfs anyway, which is the point
    const tools = { md5sum: timeTool('md5sum', root), sha1sum: timeTool('sha1sum', root), sha256sum: timeTool('sha256sum', root) };
    const toolsSeconds = tools.md5sum + tools.sha1sum + tools.sha256sum;
    const child = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--scan-child', root, path.join(tmp, 'fim.db')], { encoding: 'utf8' });
    const agent = JSON.parse(child) as { seconds: number; files: number; rss: number };
    if (agent.files !== FILES) throw new Error(`the scan saw ${agent.files} files, not ${FILES}`);
    const rss = agent.rss;
    const result = {
      bench: 'scan',
      files: FILES,
      bytes,
      cpus: os.availableParallelism(),
      agent_seconds: Number(agent.seconds.toFixed(2)),
      agent_files_per_s: Math.round(FILES / agent.seconds),
      agent_mb_per_s: Math.round(bytes / 1e6 / agent.seconds),
      tools_seconds: Object.fromEntries(Object.entries(tools).map(([k, v]) => [k, Number(v.toFixed(2))])),
      tools_files_per_s: Math.round(FILES / toolsSeconds),
      ratio_agent_vs_three_tools: Number((toolsSeconds / agent.seconds).toFixed(3)),
      peak_rss_mib: rss,
    };
    report(
      `scan (${FILES} files, ${(bytes / 1e9).toFixed(2)} GB, md5+sha1+sha256): agent ${result.agent_files_per_s} files/s ` +
        `(${agent.seconds.toFixed(1)} s) vs md5sum+sha1sum+sha256sum ${result.tools_files_per_s} files/s (${toolsSeconds.toFixed(1)} s) ` +
        `= ${result.ratio_agent_vs_three_tools}x; peak RSS ${rss} MiB`,
      result,
    );
  } finally {
    fs.rmSync(shm, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const child = process.argv.indexOf('--scan-child');
runMain(child > 0 ? () => scanWithAgent(process.argv[child + 1]!, process.argv[child + 2]!) : main);
