// The whole agent with FIM against the test manager: a 1,000-file tree, real-time who-data
// changes made by another process, the manager's alerts, a restart without duplicates, and the
// manager's FIM inventory converging to the agent's baseline through integrity sync.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Agent } from '../../src/agent.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { Baseline } from '../../src/fim/db.js';
import { readHostInfo } from '../../src/host.js';
import { MemoryLogger } from '../../src/log.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';
import { allEntries } from '../support/baseline.js';

describe('agent with FIM and the test manager', function () {
  this.timeout(90_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };
  let agent: Agent | undefined;
  let tree: string;
  let conf: string;
  let home: string;
  let log: MemoryLogger;

  const start = async () => {
    log = new MemoryLogger();
    agent = new Agent({ config: parseAgentConfig(conf, path.join(tmp.dir, 'ossec.conf')), home, log, reportedVersion: 'v4.14.7', host: readHostInfo(), handshakeTimeoutMs: 3000 });
    await agent.start();
  };
  const until = async (what: string, cond: () => boolean, ms = 30_000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const fimAlerts = () => manager.remoted.alerts.filter((a) => ['550', '553', '554'].includes(a.rule.id));
  const inventoryMatches = () => {
    const inv = manager.remoted.inventory.get(manager.authd.keys[0]?.id ?? '') ?? new Map();
    const db = new Baseline(path.join(home, 'queue', 'fim', 'db', 'fim.db'));
    try {
      const rows = allEntries(db);
      return rows.length === inv.size && rows.every((r) => inv.get(r.path) === r.state.checksum);
    } finally {
      db.close();
    }
  };

  before(async () => {
    manager = await new TestManager().start();
    tmp = tempDir('wba-fim-agent');
    tree = path.join(tmp.dir, 'tree');
    home = path.join(tmp.dir, 'home');
    fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'ignored'));
    for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(tree, i % 2 ? 'sub' : '', `f${i}.txt`), `content ${i}\n`);
    fs.symlinkSync(path.join(tree, 'f0.txt'), path.join(tree, 'link'));
    const passwordFile = path.join(tmp.dir, 'authd.pass');
    fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`);
    conf = agentConf({
      servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, notifyTime: 2,
      extra: `  <syscheck>
    <frequency>43200</frequency>
    <directories whodata="yes">${tree}</directories>
    <ignore>${tree}/ignored</ignore>
    <synchronization><interval>2</interval><max_eps>0</max_eps></synchronization>
  </syscheck>`,
    });
  });
  after(async () => {
    await agent?.stop();
    await manager.stop();
    tmp.cleanup();
  });

  it('builds the baseline silently and the manager inventory converges to it', async () => {
    await start();
    await until('the first scan', () => log.has('info', /File integrity monitoring scan ended: 1001 files/));
    expect(fimAlerts()).to.deep.equal([]);
    await until('inventory sync', inventoryMatches);
  });

  it('reports exactly the real changes, with who-data, nothing for ignored paths', async () => {
    execFileSync('/bin/sh', ['-c', [
      'echo more >> f2.txt', 'echo more >> sub/f3.txt', 'echo new > new.txt', 'echo new > sub/new.txt',
      'rm f4.txt sub/f5.txt', 'echo x > ignored/x.txt', 'echo via-link >> link',
    ].join(' && ')], { cwd: tree });
    const expected = ['550 /f0.txt', '550 /f2.txt', '550 /sub/f3.txt', '553 /f4.txt', '553 /sub/f5.txt', '554 /new.txt', '554 /sub/new.txt'];
    const got = () => fimAlerts().map((a) => `${a.rule.id} ${(a.syscheck as { path: string }).path.slice(tree.length)}`).sort();
    await until('the seven alerts', () => expected.every((e) => got().includes(e)));
    await new Promise((r) => setTimeout(r, 1000)); // anything extra would arrive now
    expect(got()).to.deep.equal(expected);
    const deletion = fimAlerts().find((a) => a.rule.id === '553')!;
    expect((deletion.syscheck as { mode: string }).mode).to.equal('whodata');
    expect((deletion.syscheck as { audit: { process: { cwd: string } } }).audit.process.cwd).to.equal(tree);
  });

  it('a directory moved in from outside, renamed inside and moved out: 554s and 553s in real time, with who-data', async () => {
    const outside = path.join(tmp.dir, 'outside');
    fs.mkdirSync(path.join(outside, 'pkg', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'pkg', 'a'), 'a\n');
    fs.writeFileSync(path.join(outside, 'pkg', 'sub', 'b'), 'b\n');
    const before = fimAlerts().length;
    const since = () => fimAlerts().slice(before).map((a) => `${a.rule.id} ${(a.syscheck as { path: string }).path.slice(tree.length)}`).sort();
    const steps: [string, string[]][] = [
      [`mv ${outside}/pkg ${tree}/pkg`, ['554 /pkg/a', '554 /pkg/sub/b']],
      [`mv ${tree}/pkg ${tree}/moved`, ['553 /pkg/a', '553 /pkg/sub/b', '554 /moved/a', '554 /moved/sub/b']],
      [`mv ${tree}/moved ${outside}/back`, ['553 /moved/a', '553 /moved/sub/b']],
    ];
    const want: string[] = [];
    for (const [command, alerts] of steps) {
      execFileSync('/bin/sh', ['-c', command]);
      want.push(...alerts);
      await until(command, () => want.every((w) => since().includes(w)), 10_000);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(since()).to.deep.equal([...want].sort());
    for (const a of fimAlerts().slice(before)) {
      const sc = a.syscheck as { mode: string; audit: { process: { name: string } } };
      expect(sc.mode).to.equal('whodata');
      expect(sc.audit.process.name).to.match(/mv$/);
    }
  });

  it('restarts without repeating anything, and the inventory still matches', async () => {
    const before = fimAlerts().length;
    await agent!.stop();
    agent = undefined;
    await start();
    await until('the scan after restart', () => log.has('info', /File integrity monitoring scan ended: 1001 files, 0 added, 0 modified, 0 deleted/));
    await new Promise((r) => setTimeout(r, 1000));
    expect(fimAlerts().length).to.equal(before);
    await until('inventory sync', inventoryMatches);
  });
});
