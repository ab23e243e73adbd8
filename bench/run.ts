// `npm run bench`: the five benchmarks one after the other, each in its own process (so that one's
// peak memory or leftover threads cannot colour the next), then a summary table of their JSON
// lines. Each benchmark measures its own baseline in the same run.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = ['capture', 'scan', 'transport', 'latency', 'scale'] as const;

function runOne(name: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(HERE, `${name}.js`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`bench ${name} failed (exit ${code})`));
      const result = JSON.parse(line) as Record<string, unknown>;
      result['seconds'] = Math.round((Date.now() - started) / 1000);
      console.log(JSON.stringify(result));
      resolve(result);
    });
  });
}

function summary(r: Record<string, Record<string, unknown>>): string[] {
  const c = r['capture']!, s = r['scan']!, t = r['transport']!, l = r['latency']!, sc = r['scale']!;
  const lat = (x: unknown) => x as { p50_ms: number; p99_ms: number };
  const scaleRuns = sc['runs'] as { files: number; mode: string; first_scan_s: number; sync_s: number | null; states_sent: number; sync_complete: boolean; vmhwm_mib: number }[];
  const scaleRow = (x: (typeof scaleRuns)[number]) =>
    `| scale, ${x.files} files, sync ${x.mode} | first scan ${x.first_scan_s} s, sync ${x.sync_complete ? `${x.sync_s} s` : `${x.states_sent} states sent (unfinished)`}, VmHWM ${x.vmhwm_mib} MiB | ` +
    `VmHWM at ${scaleRuns[0]!.files} files: ${scaleRuns[0]!.vmhwm_mib} MiB | +${x.vmhwm_mib - scaleRuns[0]!.vmhwm_mib} MiB | growth ≤ ${sc['goal_growth_mib']} MiB, ≤ ${sc['goal_level_mib']} MiB at 100k |`;
  return [
    `| benchmark | result | baseline (same run) | ratio | goal |`,
    `| --- | --- | --- | --- | --- |`,
    `| capture (${c['mode']}) | ${c['events_per_s_agent']} deletions/s to the FIM engine, ${c['drops_agent']} drops | minimal C libbpf reader: ${c['events_per_s_c_reader']}/s, ${c['drops_c_reader']} drops | ${c['ratio_agent_vs_c_reader']}× | ≥ 0.9×, 0 drops |`,
    `| capture overhead | unlink rate with the agent attached | same load, no BPF | ${c['ratio_unlink_rate_agent_vs_no_bpf']}× | ≥ 0.85× |`,
    `| capture overhead, writes | ${c['write_block_bytes']}-byte write(2)s outside the trees with the agent attached (dd: ${c['ratio_dd_rate_agent_vs_no_bpf']}×) | same load, no BPF | ${c['ratio_write_rate_agent_vs_no_bpf']}× | |`,
    `| baseline scan | ${s['agent_files_per_s']} files/s (${s['files']} files, md5+sha1+sha256), peak RSS ${s['peak_rss_mib']} MiB | md5sum + sha1sum + sha256sum: ${s['tools_files_per_s']} files/s | ${s['ratio_agent_vs_three_tools']}× | ≥ 0.8×, ≤ 150 MiB |`,
    `| transport (1 core) | ${t['events_per_s']} FIM events/s to the test manager | codec alone: ${t['codec_only_events_per_s']}/s | ${t['ratio_vs_codec_only']}× (${t['ratio_vs_goal']}× the goal) | ≥ 20,000/s |`,
    `| latency (${l['rate_per_s']}/s, ${l['capture_mode']}) | deletion → manager p50 ${lat(l['deletion_to_manager']).p50_ms} ms, p99 ${lat(l['deletion_to_manager']).p99_ms} ms | local socket → manager p99 ${lat(l['local_socket_to_manager']).p99_ms} ms | ${l['ratio_p99_vs_local_socket']}× | p99 ≤ 50 ms |`,
    ...scaleRuns.map(scaleRow),
    `| scale, real-time during the sync | change → manager at most ${sc['realtime_change_max_ms']} ms, ${sc['events_dropped']} events dropped | | | ≤ ${sc['goal_change_ms']} ms, 0 dropped |`,
  ];
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmarks load BPF programs and pin CPUs: run them as root');
  const results: Record<string, Record<string, unknown>> = {};
  const t0 = Date.now();
  for (const b of BENCHES) results[b] = await runOne(b);
  console.error(`\nmachine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `Linux ${os.release()}, Node ${process.versions.node}; ${Math.round((Date.now() - t0) / 1000)} s in all\n`);
  for (const line of summary(results)) console.error(line);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
