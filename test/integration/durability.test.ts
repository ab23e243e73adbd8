// Nothing lost: the agent process against the test manager while the manager goes away three
// times and the agent itself is killed with SIGKILL; while the first of a cluster's two nodes goes
// away and the agent fails over to the second; a first scan killed half-way; and a kernel ring
// buffer too small for a burst of deletions.
import { expect } from 'chai';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from '../../src/agent.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { Baseline } from '../../src/fim/db.js';
import { agentPaths } from '../../src/paths.js';
import { readHostInfo } from '../../src/host.js';
import { MemoryLogger } from '../../src/log.js';
import { failoverLines, resentEvents } from '../support/agent-log.js';
import { AgentProcess } from '../support/agent-process.js';
import { startCli } from '../support/cli.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';
import { TestRemoted } from '../support/remoted.js';
import { sleep, until } from '../support/wait.js';
import { allEntries } from '../support/baseline.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');

/** Deletion alerts per path, as the managers raised them (the nodes of a cluster count together). */
function deletions(...remoteds: TestRemoted[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const a of remoteds.flatMap((r) => r.alerts)) {
    if (a.rule.id !== '553') continue;
    const p = String(a.syscheck?.['path']);
    seen.set(p, (seen.get(p) ?? 0) + 1);
  }
  return seen;
}

/**
 * `eps`: the client buffer's events_per_second, or 'unpaced' (<client_buffer> disabled);
 * `remotedPorts`: the <server>s in failover order (default: the manager's remoted alone).
 */
function fimConf(
  manager: TestManager, dir: string, tree: string, mode: 'scheduled' | 'realtime' | 'whodata', eps: number | 'unpaced',
  remotedPorts = [manager.remoted.tcpPort],
): string {
  const passwordFile = path.join(dir, 'authd.pass');
  fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`);
  const conf = agentConf({
    servers: remotedPorts.map((port) => ({ port })), authdPort: manager.authd.port, passwordFile, notifyTime: 2, timeReconnect: 10,
    extra: `  <syscheck>
    <frequency>43200</frequency>
    <max_eps>0</max_eps>
    <synchronization><max_eps>0</max_eps></synchronization>
    <directories${mode === 'scheduled' ? '' : ` ${mode}="yes"`}>${tree}</directories>
  </syscheck>`,
  });
  return eps === 'unpaced'
    ? conf.replace('<disabled>no</disabled>', '<disabled>yes</disabled>')
    : conf.replace('<events_per_second>500</events_per_second>', `<events_per_second>${eps}</events_per_second>`);
}

function makeTree(tree: string, files: number): string[] {
  const paths: string[] = [];
  for (let d = 0; d < 10; d++) fs.mkdirSync(path.join(tree, `d${d}`), { recursive: true });
  for (let i = 0; i < files; i++) {
    const p = path.join(tree, `d${i % 10}`, `file-${i}.txt`);
    fs.writeFileSync(p, `content ${i}\n`);
    paths.push(p);
  }
  return paths;
}

/** Deletes files from another process, as an attacker's `rm` would. */
function remove(files: string[]): void {
  const list = files.join('\0');
  execFileSync('xargs', ['-0', 'rm', '-f'], { input: list });
}

describe('durability: nothing lost', function () {
  this.timeout(300_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };

  beforeEach(async () => {
    manager = await new TestManager().start();
    tmp = tempDir('wba-durability');
  });
  afterEach(async () => {
    await manager.stop();
    tmp.cleanup();
  });

  it('10,000 deletions while the manager restarts three times and the agent is SIGKILLed once: all reach the manager', async () => {
    const tree = path.join(tmp.dir, 'tree');
    const home = path.join(tmp.dir, 'home');
    const files = makeTree(tree, 10_000);
    const conf = path.join(tmp.dir, 'ossec.conf');
    fs.writeFileSync(conf, fimConf(manager, tmp.dir, tree, 'realtime', 1000));
    let output = '';
    let agent: ChildProcess | undefined;
    const startAgent = () => {
      agent = spawn(process.execPath, [CLI, '-c', conf, '--home', home, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
      agent.stdout!.on('data', (d) => (output += d));
      agent.stderr!.on('data', (d) => (output += d));
    };
    const scansEnded = () => output.match(/File integrity monitoring scan ended/g)?.length ?? 0;
    const chunk = (i: number) => files.slice(i * 1000, (i + 1) * 1000);
    // Stops the manager while the agent is busy sending: some of `since + 300` alerts are in.
    const stopMidSend = async (since: number) => {
      await until('the agent sending', () => deletions(manager.remoted).size >= since + 300, 60_000);
      await manager.remoted.stop();
    };
    try {
      startAgent();
      await until('the baseline scan', () => scansEnded() === 1, 120_000);
      expect(output).to.match(/scan ended: 10000 files/);

      remove(chunk(0));
      await stopMidSend(0); // restart 1
      remove(chunk(1));
      await sleep(1500);
      await manager.remoted.start();

      remove(chunk(2));
      await sleep(500);
      agent!.kill('SIGKILL');
      await new Promise((r) => agent!.once('close', r));
      remove(chunk(3)); // while no agent runs at all
      startAgent();
      await until('the scan after the restart', () => scansEnded() === 2, 120_000);

      const before4 = deletions(manager.remoted).size;
      remove(chunk(4));
      await stopMidSend(before4); // restart 2
      remove(chunk(5));
      await sleep(1500);
      await manager.remoted.start();

      const before6 = deletions(manager.remoted).size;
      remove(chunk(6));
      remove(chunk(7));
      await stopMidSend(before6); // restart 3
      remove(chunk(8));
      await sleep(1500);
      await manager.remoted.start();
      remove(chunk(9));

      await until('10,000 deletion alerts', () => deletions(manager.remoted).size === 10_000, 180_000);
      const seen = deletions(manager.remoted);
      const total = [...seen.values()].reduce((a, b) => a + b, 0);
      const duplicates = total - seen.size;
      const resent = resentEvents(output);
      const afterKill = Number(/Spool: (\d+) events not confirmed/.exec(output)?.[1] ?? 0);
      console.log(
        `      ${seen.size}/10000 deletions reached the manager; ${duplicates} duplicate alerts; ` +
          `the agent re-sent ${resent} unconfirmed events (${afterKill} after the SIGKILL, ${resent - afterKill} after manager restarts)`,
      );
      expect(files.every((f) => seen.has(f)), 'every deleted path has its alert').to.equal(true);
      expect(seen.size).to.equal(10_000);
      expect(duplicates, 'a duplicate can only be an event the agent re-sent because the manager had not confirmed it').to.be.at.most(resent);
      expect(output).to.not.match(/Error:|at .*\.js:\d+/);
    } finally {
      agent?.kill('SIGTERM');
      if (agent && agent.exitCode === null) await new Promise((r) => agent!.once('close', r));
    }
  });

  it("5,000 deletions while the first of a cluster's two nodes goes away: each reaches one of them, and the agent logs the switch in Wazuh's words", async () => {
    // A fresh node: same client.keys, its own counters for the agent, starting at 0 (below what
    // the first node reached), as a real cluster's second worker.
    const second = new TestRemoted({ keys: () => manager.authd.keys });
    await second.start();
    const first = manager.remoted;
    const firstPort = first.tcpPort;
    const tree = path.join(tmp.dir, 'tree');
    const files = makeTree(tree, 5000);
    const conf = path.join(tmp.dir, 'ossec.conf');
    fs.writeFileSync(conf, fimConf(manager, tmp.dir, tree, 'realtime', 1000, [firstPort, second.tcpPort]));
    const agent = new AgentProcess(['-c', conf, '--home', path.join(tmp.dir, 'home'), 'run']);
    try {
      await agent.waitForLine(/File integrity monitoring scan ended/, 0, 120_000);
      remove(files);
      await until('the agent sending to the first node', () => deletions(first).size >= 300, 60_000);
      await first.stop();
      await until('5,000 deletion alerts across both nodes', () => deletions(first, second).size === 5000, 180_000);

      const seen = deletions(first, second);
      const total = [...seen.values()].reduce((a, b) => a + b, 0);
      console.log(`      ${deletions(first).size} deletions reached the first node, ${deletions(second).size} the second; ` +
        `${total - seen.size} duplicate alerts; the agent re-sent ${resentEvents(agent.stderr)} unconfirmed events`);
      expect(files.every((f) => seen.has(f)), 'every deleted path has its alert on one of the nodes').to.equal(true);
      expect(deletions(second).size, 'the second node got what the first did not').to.be.greaterThan(0);
      expect(total - seen.size, 'duplicates are only events re-sent unconfirmed').to.be.at.most(resentEvents(agent.stderr));
      expect(second.rejections).to.deep.equal([]);
      expect(agent.stderr, 'the switch, in order').to.match(failoverLines('127.0.0.1', firstPort, second.tcpPort));
      expect(agent.stderr).to.not.match(/\(1214\)|Error:|at .*\.js:\d+/);
    } finally {
      agent.kill('SIGTERM');
      await agent.exited;
      await second.stop();
    }
  });

  it('a first scan SIGKILLed half-way is resumed: changes to what it had stored are reported (550, 553, 554), the rest is baselined silently, the inventory converges', async () => {
    const tree = path.join(tmp.dir, 'tree');
    const home = path.join(tmp.dir, 'home');
    const files = makeTree(tree, 50_000);
    const conf = path.join(tmp.dir, 'ossec.conf');
    fs.writeFileSync(conf, fimConf(manager, tmp.dir, tree, 'scheduled', 'unpaced'));
    const { fimDb } = agentPaths(home);
    /** The baseline's rows, read beside the agent (WAL: readers do not block it); [] before it exists. */
    const stored = <T>(read: (b: Baseline) => T, none: T): T => {
      if (!fs.existsSync(fimDb)) return none;
      const b = new Baseline(fimDb);
      try {
        return read(b);
      } finally {
        b.close();
      }
    };
    const fimAlerts = () => manager.remoted.alerts.filter((a) => ['550', '553', '554'].includes(a.rule.id))
      .map((a) => `${a.rule.id} ${String(a.syscheck?.['path'])}`);

    const t0 = Date.now();
    let agent = startCli(['-c', conf, '--home', home, 'run']);
    try {
      // walk order: d0, d1, ... (5,000 files each): at 20,000 rows d0 and d1 are whole
      await until('the first scan half-way', () => stored((b) => b.count(), 0) >= 20_000, 120_000);
      agent.child.kill('SIGKILL');
      await agent.exited;
      const rows = new Set(stored((b) => allEntries(b).map((e) => e.path), []));
      expect(agent.stderr, 'killed before the first scan ended').to.not.match(/scan ended/);
      expect(rows.size, 'killed before the first scan ended').to.be.below(files.length);
      const inD0 = files.filter((f) => f.startsWith(path.join(tree, 'd0/')));
      const inD1 = files.filter((f) => f.startsWith(path.join(tree, 'd1/')));
      expect([...inD0, ...inD1].every((f) => rows.has(f)), 'd0 and d1 were stored').to.equal(true);

      // while the agent is down, in the part of the tree the first scan had stored
      const modified = inD0[7]!;
      const deleted = inD1[3]!;
      const added = path.join(tree, 'd0', 'added-while-down.txt');
      fs.appendFileSync(modified, 'changed while the agent was down\n');
      fs.rmSync(deleted);
      fs.writeFileSync(added, 'new while the agent was down\n');

      const killedAt = Date.now() - t0;
      const t1 = Date.now();
      agent = startCli(['-c', conf, '--home', home, 'run']);
      const restarted = agent;
      await until('the resumed first scan', () => /scan ended/.test(restarted.stderr), 180_000);
      const resumedIn = Date.now() - t1;
      const expected = [`550 ${modified}`, `553 ${deleted}`, `554 ${added}`];
      await until('the three alerts', () => expected.every((e) => fimAlerts().includes(e)), 30_000);
      expect(restarted.stderr).to.match(/Resuming the first scan/);
      expect(restarted.stderr).to.match(/scan ended: 50000 files/);

      const onDisk = new Set([...files.filter((f) => f !== deleted), added]);
      const inventory = () => manager.remoted.inventory.get(manager.authd.keys[0]!.id) ?? new Map<string, string>();
      await until('the manager inventory equal to the tree', () => inventory().size === onDisk.size && [...onDisk].every((f) => inventory().has(f)), 180_000);
      const convergedIn = Date.now() - t1;
      const checksums = stored((b) => new Map(allEntries(b).map((e) => [e.path, e.state.checksum])), new Map<string, string>());
      expect(checksums.size, 'the baseline holds the tree, the deleted file\'s row gone').to.equal(onDisk.size);
      expect([...inventory()].every(([p, c]) => checksums.get(p) === c), 'the inventory has the baseline\'s attributes').to.equal(true);
      expect(fimAlerts().sort(), 'nothing else: the files the first scan had not reached were baselined silently').to.deep.equal(expected);
      console.log(`      SIGKILLed ${killedAt} ms after start, ${rows.size} of ${files.length} files stored; restarted: ` +
        `${/scan ended: [^\n]*/.exec(restarted.stderr)?.[0]} in ${resumedIn} ms, the manager's inventory equal to the tree after ${convergedIn} ms`);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });

  it('a ring buffer too small for a burst: drops are counted, a rescan runs, every deleted path is reported', async () => {
    const tree = path.join(tmp.dir, 'tree');
    const files = makeTree(tree, 3000);
    const log = new MemoryLogger();
    const config = parseAgentConfig(fimConf(manager, tmp.dir, tree, 'whodata', 1000), path.join(tmp.dir, 'ossec.conf'));
    const agent = new Agent({
      config, home: path.join(tmp.dir, 'home'), log, reportedVersion: 'v4.14.7', host: readHostInfo(), handshakeTimeoutMs: 3000, ringBytes: 4096,
    });
    try {
      await agent.start();
      await until('the baseline scan', () => log.has('info', /scan ended: 3000 files/), 60_000);
      execFileSync('sh', ['-c', `rm -f ${tree}/d*/*`]);
      await until('every deletion at the manager', () => deletions(manager.remoted).size === 3000, 120_000);
      const dropped = log.records.find((r) => /^Real-time events lost: the kernel ring buffer was full \(\d+ events dropped/.test(r.msg));
      expect(dropped, 'the drops were logged with a count').to.not.equal(undefined);
      expect(log.has('warn', /^Rescanning 1 real-time directories to report the changes of the lost events\.$/)).to.equal(true);
      expect(log.has('info', /^File integrity monitoring rescan of 1 directories ended: 0 added, 0 modified, [1-9]\d* deleted\.$/)).to.equal(true);
      const alerts = manager.remoted.alerts.filter((a) => a.rule.id === '553');
      const modes = new Map<string, number>();
      for (const a of alerts) modes.set(String(a.syscheck?.['mode']), (modes.get(String(a.syscheck?.['mode'])) ?? 0) + 1);
      console.log(`      ${dropped!.msg}; deletions reported: ${[...modes].map(([m, n]) => `${n} ${m}`).join(', ')}`);
      expect(modes.get('scheduled'), 'the lost ones came from the rescan').to.be.greaterThan(0);
      expect(new Set(alerts.map((a) => a.syscheck?.['path']))).to.have.property('size', 3000);
      expect(files.every((f) => alerts.some((a) => a.syscheck?.['path'] === f))).to.equal(true);
    } finally {
      await agent.stop();
    }
  });
});
