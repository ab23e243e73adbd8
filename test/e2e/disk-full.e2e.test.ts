// End to end against the REAL Wazuh 4.14.7 manager: the agent's home on a 20 MiB tmpfs that is
// filled while files are created in a who-data directory, then freed. Every creation must become
// a rule 554 alert in alerts.json, in who-data mode (captured in real time, held in memory while
// the disk was full), and the manager must have heard the episode (rules 203 and 205).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess } from '../support/agent-process.js';
import { AlertsTail } from '../support/alerts-tail.js';
import { fillFilesystem } from '../support/disk.js';
import { tempDir } from '../support/manager.js';
import { ALERTS, PASSWORD, realAgentConf, requireManager } from '../support/real-manager.js';

const FILES = 1000;

describe('end to end: a full disk under the agent, with a real Wazuh manager', function () {
  this.timeout(300_000);
  const agentName = `e2e-disk-${process.pid}-${Date.now() % 100000}`;
  const { dir, cleanup } = tempDir('wba-e2e-disk');
  const home = path.join(dir, 'home');
  const watched = path.join(dir, 'watched');
  let agent: AgentProcess | undefined;
  let mounted = false;

  before(async () => {
    await requireManager();
    fs.mkdirSync(home);
    fs.mkdirSync(watched);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m,mode=0750', 'tmpfs', home]);
    mounted = true;
  });
  after(async () => {
    if (agent?.alive) {
      agent.kill('SIGTERM');
      await agent.exited;
    }
    if (mounted) execFileSync('umount', ['--lazy', home]);
    cleanup();
  });

  it(`${FILES} files created while the agent's disk is full all become 554 alerts once space returns`, async () => {
    const passFile = path.join(dir, 'authd.pass');
    fs.writeFileSync(passFile, `${PASSWORD}\n`, { mode: 0o600 });
    const conf = path.join(dir, 'ossec.conf');
    fs.writeFileSync(conf, realAgentConf({ agentName, passwordFile: passFile, directories: [`<directories whodata="yes">${watched}</directories>`] }));
    const tail = new AlertsTail(ALERTS, agentName);
    agent = new AgentProcess(['-c', conf, '--home', home, 'run']);
    await agent.waitForLine(/File integrity monitoring scan ended/, 0, 120_000);
    await tail.waitFor('the agent starting (501/503)', (a) => a.rule.id === '501' || a.rule.id === '503', 120_000);

    const filler = fillFilesystem(home);
    const files = Array.from({ length: FILES }, (_, i) => path.join(watched, `created-${String(i).padStart(4, '0')}.txt`));
    for (const [i, f] of files.entries()) fs.writeFileSync(f, `file ${i}\n`);
    await agent.waitForLine(/Disk full or failing: cannot write/, 0, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(agent.alive, 'the agent is still running on the full disk').to.equal(true);
    fs.rmSync(filler);
    await agent.waitForLine(/Disk space available again/, 0, 30_000);

    const want = new Set(files);
    const seen = () => new Set(tail.alerts.filter((a) => a.rule.id === '554' && want.has(String(a.syscheck?.path))).map((a) => String(a.syscheck?.path)));
    const deadline = Date.now() + 180_000;
    while (seen().size < FILES && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      tail.poll();
    }
    const added = tail.alerts.filter((a) => a.rule.id === '554' && want.has(String(a.syscheck?.path)));
    const modes = new Map<string, number>();
    for (const a of added) modes.set(String(a.syscheck?.mode), (modes.get(String(a.syscheck?.mode)) ?? 0) + 1);
    console.log(`      ${seen().size}/${FILES} creations became 554 alerts (modes: ${[...modes].map(([m, n]) => `${n} ${m}`).join(', ')}); agent log: ` +
      `${agent.stderr.split('\n').find((l) => /Disk space available again/.test(l))?.replace(/^.*?INFO: /, '')}`);
    expect(seen().size, 'every creation is a 554 in alerts.json').to.equal(FILES);
    expect(added.every((a) => a.syscheck?.mode === 'whodata'), 'who-data kept through the full disk').to.equal(true);
    await tail.waitFor('the disk-full notice (rule 203)', (a) => a.rule.id === '203' && /Disk full/.test(String(a.full_log)), 30_000);
    await tail.waitFor('the space-back notice (rule 205)', (a) => a.rule.id === '205' && /Disk space available again/.test(String(a.full_log)), 30_000);
    expect(agent.stderr.split('\n').filter((l) => /Disk full or failing/.test(l))).to.have.length(1);
    expect(agent.alive).to.equal(true);
  });
});
