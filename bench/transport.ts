// Transport benchmark: FIM deletion events formatted as Wazuh messages, stored in the spool,
// drained by the client buffer (pacing off), encrypted, framed and written to the test manager
// over loopback TCP; the agent side pinned to one core, the manager (decrypting and answering
// only, no analysis) to the other. The baseline,
// measured in the same run on the same core: the codec alone (encrypt + frame, no I/O, no spool),
// the ceiling of what the pipeline around it can reach.
//
//   node dist/bench/transport.js [--events N]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent } from '../src/agent.js';
import { parseAgentConfig } from '../src/config/load.js';
import { fimEventFields } from '../src/fim/event-record.js';
import { FileState, buildFileState } from '../src/fim/state.js';
import { fileDeletedMessage } from '../src/fim/wire.js';
import { readHostInfo } from '../src/host.js';
import { MemoryLogger } from '../src/log.js';
import { SecureChannel } from '../src/wazuh/channel.js';
import { frameTcp } from '../src/wazuh/codec.js';
import { SenderCounter } from '../src/wazuh/counters.js';
import { readAgentKey } from '../src/wazuh/keys.js';
import { TEST_PASSWORD } from '../test/support/manager.js';
import { arg, report, runMain } from './common.js';
import { ManagerProcess } from './support/manager-client.js';

const EVENTS = arg('events', 100_000);
const WAZUH_DEFAULT_EPS = 500;
const GOAL = 20_000;

function sampleState(): FileState {
  return buildFileState({
    stat: { mode: 0o100644, size: 4096n, uid: 0, gid: 0, ino: 1234567n, mtime: 1_700_000_000n },
    userName: 'root',
    groupName: 'root',
    hashes: { md5: 'd41d8cd98f00b204e9800998ecf8427e', sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  });
}

const eventFor = (i: number, state: FileState) => {
  const p = `/srv/data/dir${i % 100}/file-${i}.dat`;
  return { message: fileDeletedMessage(p, state, 1_700_000_000, { mode: 'realtime' }), fim: fimEventFields('deleted', p, state, 'realtime', 'scan', 1_700_000_000) };
};

function codecOnly(home: string, state: FileState): number {
  const key = readAgentKey(path.join(home, 'etc', 'client.keys'))!;
  const channel = new SecureChannel(key, SenderCounter.open(fs.mkdtempSync(path.join(os.tmpdir(), 'wba-rids-'))), { verifyManagerCounters: false });
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < EVENTS; i++) bytes += frameTcp(channel.seal(eventFor(i, state).message)).length;
  if (bytes === 0) throw new Error('nothing encoded');
  return EVENTS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function main(): Promise<void> {
  const cpus = os.availableParallelism();
  const pinned = cpus >= 2;
  if (pinned) execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
  const manager = await ManagerProcess.start({ cpu: pinned ? 1 : undefined, light: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wba-transport-'));
  const home = path.join(tmp, 'home');
  const passwordFile = path.join(tmp, 'authd.pass');
  fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o600 });
  const conf = `<ossec_config>
  <client>
    <server><address>127.0.0.1</address><port>${manager.remotedPort}</port></server>
    <enrollment><port>${manager.authdPort}</port><authorization_pass_path>${passwordFile}</authorization_pass_path>
      <agent_name>bench-transport</agent_name><delay_after_enrollment>1</delay_after_enrollment></enrollment>
  </client>
  <client_buffer><disabled>yes</disabled></client_buffer>
  <syscheck><disabled>yes</disabled></syscheck>
</ossec_config>`;
  const agent = new Agent({ config: parseAgentConfig(conf, 'bench.conf'), home, log: new MemoryLogger(), reportedVersion: 'v4.14.7', host: readHostInfo() });
  try {
    await agent.start();
    while (!agent.connectedServer) await new Promise((r) => setTimeout(r, 20));
    const state = sampleState();
    const t0 = Date.now();
    for (let i = 0; i < EVENTS; i++) {
      const e = eventFor(i, state);
      agent.submit(e.message, e.fim);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    let got = 0;
    while ((got = await manager.count('8:syscheck:')) < EVENTS) await new Promise((r) => setTimeout(r, 50));
    const seconds = (Date.now() - t0) / 1000;
    const rate = EVENTS / seconds;
    const codecRate = codecOnly(home, state);
    const result = {
      bench: 'transport',
      events: EVENTS,
      pinned_cores: pinned,
      events_per_s: Math.round(rate),
      codec_only_events_per_s: Math.round(codecRate),
      ratio_vs_codec_only: Number((rate / codecRate).toFixed(3)),
      goal_events_per_s: GOAL,
      ratio_vs_goal: Number((rate / GOAL).toFixed(2)),
      ratio_vs_wazuh_default_eps: Number((rate / WAZUH_DEFAULT_EPS).toFixed(1)),
    };
    report(
      `transport (${EVENTS} FIM events, agent on one core): ${result.events_per_s} events/s formatted, spooled, encrypted, framed and ` +
        `received by the test manager = ${result.ratio_vs_codec_only}x of the codec alone (${result.codec_only_events_per_s}/s); ` +
        `${result.ratio_vs_goal}x the 20,000/s goal, ${result.ratio_vs_wazuh_default_eps}x Wazuh's default 500 EPS`,
      result,
    );
    if (got !== EVENTS) throw new Error(`manager got ${got} of ${EVENTS}`);
  } finally {
    await agent.stop();
    manager.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

runMain(main);
