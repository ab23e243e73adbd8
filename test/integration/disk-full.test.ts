// A full disk under the agent: its home on a 20 MiB tmpfs, filled while files are created in a
// real-time directory. The agent (the CLI, a child process) must stay up, say so once, keep every
// event it accepted (in memory while the disk is full), and deliver them in real-time mode once
// space returns: with report_changes, across a restart on the still-full disk, and with the
// manager away so that the memory queue fills up and refuses.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess } from '../support/agent-process.js';
import { fillFilesystem } from '../support/disk.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';
import type { TestAlert } from '../support/analysis.js';
import { sleep, until } from '../support/wait.js';

/** `cond`, failing at once when the agent has exited meanwhile. */
function whileAlive(agent: AgentProcess, cond: () => boolean): () => boolean {
  return () => {
    if (!agent.alive) throw new Error(`the agent exited; its log:\n${agent.stderr.slice(-4000)}`);
    return cond();
  };
}

const added = (manager: TestManager): TestAlert[] => manager.remoted.alerts.filter((a) => a.rule.id === '554');
const paths = (alerts: TestAlert[]) => new Set(alerts.map((a) => String(a.syscheck?.['path'])));
const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;

describe('disk full: the agent keeps running and loses nothing it accepted', function () {
  this.timeout(240_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };
  let home: string;
  let tree: string;
  let agents: AgentProcess[];

  beforeEach(async function () {
    if (process.geteuid?.() !== 0) this.skip(); // mounts a tmpfs, loads BPF
    manager = await new TestManager().start();
    tmp = tempDir('wba-diskfull');
    home = path.join(tmp.dir, 'home');
    tree = path.join(tmp.dir, 'tree');
    fs.mkdirSync(home);
    fs.mkdirSync(tree);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m,mode=0750', 'tmpfs', home]);
    agents = [];
  });
  afterEach(async () => {
    for (const a of agents) {
      if (a.alive) a.kill('SIGKILL');
      await a.exited;
    }
    await manager?.stop();
    if (home) execFileSync('umount', ['--lazy', home]);
    tmp?.cleanup();
  });

  function start(o: { reportChanges?: boolean; queueSize?: number } = {}): AgentProcess {
    const passwordFile = path.join(tmp.dir, 'authd.pass');
    fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`);
    const conf = path.join(tmp.dir, 'ossec.conf');
    fs.writeFileSync(conf, agentConf({
      servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, notifyTime: 2, timeReconnect: 10,
      extra: `  <syscheck>
    <frequency>43200</frequency>
    <max_eps>0</max_eps>
    <directories realtime="yes"${o.reportChanges ? ' report_changes="yes"' : ''}>${tree}</directories>
  </syscheck>`,
    }).replace('<queue_size>5000</queue_size>', `<queue_size>${o.queueSize ?? 5000}</queue_size>`));
    const agent = new AgentProcess(['-c', conf, '--home', home, 'run']);
    agents.push(agent);
    return agent;
  }

  function create(from: number, n: number): string[] {
    const made: string[] = [];
    for (let i = from; i < from + n; i++) {
      const p = path.join(tree, `file-${String(i).padStart(5, '0')}.txt`);
      fs.writeFileSync(p, `content ${i}\n`);
      made.push(p);
    }
    return made;
  }

  async function ready(agent: AgentProcess, from = 0): Promise<void> {
    await agent.waitForLine(/File integrity monitoring scan ended/, from, 60_000);
    await agent.waitForLine(/Connected to the server/, from, 60_000);
  }

  /** The condition is logged once when it starts and once when it ends, and the manager heard both. */
  function expectToldOnce(agent: AgentProcess): void {
    expect(count(agent.stderr, /Disk full or failing: cannot write/), agent.stderr.slice(-3000)).to.equal(1);
    expect(count(agent.stderr, /Disk space available again after \d+ s/)).to.equal(1);
    expect(agent.stderr).to.not.match(/FIM real-time event for .* failed|Error: |at .*\.js:\d+/);
  }

  async function fullThenFreed(o: { reportChanges?: boolean }): Promise<void> {
    const agent = start(o);
    await ready(agent);
    create(0, 20); // before: report_changes has copies to give up
    await until('20 files', whileAlive(agent, () => paths(added(manager)).size === 20), 30_000);
    const filler = fillFilesystem(home);
    const files = create(20, 2000);
    await sleep(5000);
    expect(agent.alive).to.equal(true);
    fs.rmSync(filler);
    await until('2,020 additions at the manager', whileAlive(agent, () => paths(added(manager)).size === 2020), 120_000);
    await agent.waitForLine(/Disk space available again/, 0, 10_000);
    const alerts = added(manager).filter((a) => files.includes(String(a.syscheck?.['path'])));
    expect(alerts.every((a) => a.syscheck?.['mode'] === 'realtime'), 'captured in real time, reported in real time').to.equal(true);
    expectToldOnce(agent);
    await until('rule 205 at the manager', whileAlive(agent, () => manager.remoted.alerts.some((a) => a.rule.id === '205')), 10_000);
    const buffer = manager.remoted.alerts.filter((a) => ['203', '205'].includes(a.rule.id)).map((a) => a.full_log);
    expect(buffer.some((l) => /Agent buffer: 'full'\. Disk full \((ENOSPC|SQLITE_FULL)/.test(String(l))), `rule 203 at the manager: ${buffer.join(' | ')}`).to.equal(true);
    expect(buffer.some((l) => /Agent buffer: 'normal'\. Disk space available again/.test(String(l))), 'rule 205 at the manager').to.equal(true);
    if (o.reportChanges) {
      expect(agent.stderr).to.match(/report_changes gave up its \d+ stored copies/);
    }
  }

  it('2,000 files created while the disk is full all reach the manager in real-time mode', async () => {
    await fullThenFreed({});
  });

  it('the same with report_changes: its copies are given up first, the events never', async () => {
    await fullThenFreed({ reportChanges: true });
  });

  it('the same with the agent restarted while the disk is still full', async () => {
    const first = start();
    await ready(first);
    const filler = fillFilesystem(home);
    const before = create(0, 1000);
    await until('the first 1,000 at the manager', whileAlive(first, () => paths(added(manager)).size === 1000), 60_000);
    first.kill('SIGTERM');
    expect(await first.exited).to.equal(0);
    const second = start();
    await ready(second);
    const after = create(1000, 1000);
    await sleep(3000);
    expect(second.alive).to.equal(true);
    fs.rmSync(filler);
    await until('2,000 additions at the manager', whileAlive(second, () => paths(added(manager)).size === 2000), 120_000);
    const modes = new Map(added(manager).map((a) => [String(a.syscheck?.['path']), a.syscheck?.['mode']]));
    expect(after.every((p) => modes.get(p) === 'realtime'), 'created after the restart: real-time').to.equal(true);
    expect(before.every((p) => modes.has(p))).to.equal(true);
    expect(count(second.stderr, /Disk full or failing: cannot write/)).to.equal(1);
    expect(second.stderr).to.not.match(/Error: |at .*\.js:\d+/);
  });

  it('with the manager away too: the memory queue fills, what it refuses is counted and found again; every accepted event is delivered', async () => {
    const agent = start({ queueSize: 500 });
    await ready(agent);
    const filler = fillFilesystem(home);
    await manager.remoted.stop();
    const files = create(0, 2000);
    await agent.waitForLine(/Disk full or failing/, 0, 30_000);
    await sleep(5000);
    expect(agent.alive).to.equal(true);
    fs.rmSync(filler);
    const recovered = await agent.waitForLine(/Disk space available again/, 0, 30_000);
    const m = /the spool kept (\d+) events in memory \(\d+ delivered from there, \d+ written to disk now\) and refused (\d+)/.exec(recovered);
    expect(m, recovered).to.not.equal(null);
    const [kept, refused] = [Number(m![1]), Number(m![2])];
    expect(kept, 'the memory queue held its bound').to.equal(500);
    expect(refused, 'the rest was refused and counted').to.be.greaterThan(0);
    await manager.remoted.start();
    await until('2,000 additions at the manager', whileAlive(agent, () => paths(added(manager)).size === 2000), 180_000);
    // a file may give two events (created empty, then written: 554 then 550); each was accepted
    // (on disk before the disk said full, or in memory) or refused
    const ours = new Set(files);
    const realtime = manager.remoted.alerts.filter((a) => ['554', '550'].includes(a.rule.id) && ours.has(String(a.syscheck?.['path'])) && a.syscheck?.['mode'] === 'realtime');
    expect(realtime.length, 'every event kept in memory was delivered, in real-time mode').to.be.at.least(kept);
    expect(paths(realtime).size + refused).to.be.at.least(2000);
    expect(agent.stderr).to.match(/Rescanning 1 real-time directories to report the changes of the events refused while the disk was full/);
    expect(manager.remoted.alerts.some((a) => a.rule.id === '204' && /Disk full and memory queue full/.test(String(a.full_log))), 'rule 204').to.equal(true);
    expectToldOnce(agent);
  });
});
