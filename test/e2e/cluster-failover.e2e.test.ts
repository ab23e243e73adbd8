// Failover across a cluster's nodes, end to end against two REAL Wazuh 4.14.7 managers
// (test/support/real-manager.ts): the first, and a second one standing for a cluster's second
// worker, which gets the first one's client.keys as a master hands them to its workers. The
// agent lists both <server>s. In the middle of 5,000 deletions in a realtime directory the first
// node is stopped: the agent must switch to the second in Wazuh's words, and every deletion must
// reach one of the two nodes' alerts.json. Each node keeps its own counters for the agent, so the
// second one's messages start low: an agent that refused them delivered nothing more.
// The first node is started again afterwards, for the e2e files that follow.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { failoverLines, resentEvents } from '../support/agent-log.js';
import { AgentProcess } from '../support/agent-process.js';
import { Alert, AlertsTail } from '../support/alerts-tail.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/manager.js';
import { ADDRESS, FIRST, PASSWORD, SECOND, controlManager, managerScripts, realAgentConf, requireManager } from '../support/real-manager.js';
import { sleep, until } from '../support/wait.js';

const FILES = 5000;
/** remoted.keyupdate_interval: how long a running remoted may take to read a new client.keys (secure.c rem_keyupdate_main). */
const KEY_RELOAD_MS = 10_000;

describe("failover across a cluster's two nodes (real Wazuh managers)", function () {
  this.timeout(600_000);
  const agentName = `e2e-failover-${process.pid}-${Date.now() % 100000}`;
  const { dir, cleanup } = tempDir('wba-e2e-failover');
  const conf = path.join(dir, 'ossec.conf');
  const home = path.join(dir, 'home');
  const passFile = path.join(dir, 'authd.pass');
  const tree = path.join(dir, 'tree');
  const files = Array.from({ length: FILES }, (_, i) => path.join(tree, `file-${i}.txt`));
  let agent: AgentProcess | undefined;
  let firstStopped = false;
  let tails: { first: AlertsTail; second: AlertsTail };

  /** Deletion alerts per path of the tree, on the given nodes. */
  const deletions = (...nodes: AlertsTail[]) => {
    const seen = new Map<string, number>();
    for (const a of nodes.flatMap((t) => t.alerts)) {
      const p = a.syscheck?.path;
      if (a.rule.id === '553' && p?.startsWith(`${tree}/`)) seen.set(p, (seen.get(p) ?? 0) + 1);
    }
    return seen;
  };
  const poll = () => {
    tails.first.poll();
    tails.second.poll();
  };

  before(async () => {
    managerScripts();
    await requireManager(FIRST);
    await requireManager(SECOND);
    fs.writeFileSync(passFile, `${PASSWORD}\n`, { mode: 0o600 });
    fs.mkdirSync(tree);
    for (const f of files) fs.writeFileSync(f, `content of ${path.basename(f)}\n`);
    fs.writeFileSync(conf, realAgentConf({
      nodes: [FIRST, SECOND], agentName, passwordFile: passFile, directories: [`<directories realtime="yes">${tree}</directories>`],
    }));
    const byAgent = (a: Alert) => a.agent?.name === agentName;
    tails = { first: new AlertsTail(FIRST.alerts, byAgent), second: new AlertsTail(SECOND.alerts, byAgent) };
  });

  after(async function () {
    await agent?.stop();
    if (agent && this.currentTest?.state !== 'passed') console.log(`agent log: ${agent.keepLog(agentName)}`);
    if (firstStopped) await controlManager(FIRST, 'start');
    cleanup();
  });

  it("enrolls with the first node, and the second node gets the first one's client.keys", async () => {
    const enrolled = await runCli(['-c', conf, '--home', home, 'enroll']);
    expect(enrolled.code, enrolled.stdout + enrolled.stderr).to.equal(0);
    const enrolledAt = Date.now();
    // the recipe's way, while the node is stopped (README of ../shared/wazuh-manager)
    await controlManager(SECOND, 'stop');
    fs.writeFileSync(path.join(SECOND.home, 'etc/client.keys'), fs.readFileSync(path.join(FIRST.home, 'etc/client.keys')));
    await controlManager(SECOND, 'start');
    const id = fs.readFileSync(path.join(home, 'etc/client.keys'), 'utf8').split(' ')[0]!;
    expect(fs.readFileSync(path.join(SECOND.home, 'etc/client.keys'), 'utf8')).to.match(new RegExp(`^${id} ${agentName} `, 'm'));
    // The first node's remoted must have read the new key, or the agent moves on to the second at once.
    await sleep(enrolledAt + KEY_RELOAD_MS + 1000 - Date.now());
  });

  it('connects to the first node: rule 501 there, after the baseline scan', async () => {
    agent = new AgentProcess(['-c', conf, '--home', home, 'run']);
    const connected = await agent.waitForLine(/\(4102\): Connected to the server/, 0, 120_000);
    expect(connected).to.include(`([${ADDRESS}]:${FIRST.remotedPort}/tcp)`);
    await agent.waitForLine(/File integrity monitoring scan ended/, 0, 120_000);
    await tails.first.waitFor('rule 501 on the first node', (a) => a.rule.id === '501', 60_000);
  });

  it('5,000 deletions while the first node stops: each reaches one of the two alerts.json, and the agent logs the switch in Wazuh\'s words', async () => {
    execFileSync('find', [tree, '-type', 'f', '-delete']);
    await until('deletions at the first node', () => {
      poll();
      return deletions(tails.first).size >= 300;
    }, 120_000);
    firstStopped = true;
    await controlManager(FIRST, 'stop');
    await until(`${FILES} deletion alerts across both nodes`, () => {
      poll();
      return deletions(tails.first, tails.second).size === FILES;
    }, 300_000);

    const seen = deletions(tails.first, tails.second);
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    console.log(`      ${deletions(tails.first).size} deletions reached the first node, ` +
      `${deletions(tails.second).size} the second; ${total - seen.size} duplicate alerts; the agent re-sent ${resentEvents(agent!.stderr)} unconfirmed events`);
    expect(files.every((f) => seen.has(f)), 'every deleted path has its alert on one of the nodes').to.equal(true);
    expect(deletions(tails.second).size, 'the second node got what the first did not').to.be.greaterThan(0);
    expect(agent!.stderr, 'the switch, in order').to.match(failoverLines(ADDRESS, FIRST.remotedPort, SECOND.remotedPort));
    expect(agent!.stderr).to.not.match(/\(1214\)/);
  });
});
