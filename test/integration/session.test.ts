// The agent against the in-process test manager: enrollment, handshake, keepalives, events,
// reconnection after a manager restart, failover, merged.mg pushes, counters across restarts.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Agent } from '../../src/agent.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/log.js';
import { readHostInfo } from '../../src/host.js';
import { TestManager, TEST_PASSWORD, agentConf, tempDir } from '../support/manager.js';
import { isValidKeepalive } from '../support/remoted.js';

interface Rig {
  manager: TestManager;
  home: string;
  passwordFile: string;
  log: MemoryLogger;
  cleanup: () => void;
}

async function rig(remoted: ConstructorParameters<typeof TestManager>[0] = {}): Promise<Rig> {
  const manager = await new TestManager(remoted).start();
  const { dir, cleanup } = tempDir('wba-session');
  const passwordFile = path.join(dir, 'authd.pass');
  fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o600 });
  return { manager, home: path.join(dir, 'home'), passwordFile, log: new MemoryLogger(), cleanup };
}

function makeAgent(r: Rig, conf: string): Agent {
  return new Agent({
    config: parseAgentConfig(conf, path.join(r.home, 'ossec.conf')),
    home: r.home,
    log: r.log,
    reportedVersion: 'v4.14.7',
    host: readHostInfo(),
    handshakeTimeoutMs: 3_000,
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('session with the test manager', function () {
  this.timeout(30_000);
  let r: Rig;
  let agent: Agent | undefined;

  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await r.manager.stop();
    r.cleanup();
  });

  it('enrolls, hands shakes, announces itself, keeps alive and delivers an injected event', async () => {
    r = await rig();
    const { remoted, authd } = r.manager;
    agent = makeAgent(r, agentConf({ servers: [{ port: remoted.tcpPort }], authdPort: authd.port, passwordFile: r.passwordFile }));
    await agent.start();

    expect(authd.keys).to.have.length(1);
    const key = authd.keys[0]!;
    expect(fs.statSync(agent.paths.clientKeys).mode & 0o777).to.equal(0o640);
    expect(fs.readFileSync(agent.paths.clientKeys, 'utf8')).to.equal(`${key.id} it-agent any ${key.key}\n`);

    await remoted.waitFor('two keepalives', () => remoted.messages.filter((m) => isValidKeepalive(m.text)).length >= 2);
    const texts = remoted.messages.map((m) => m.text);
    expect(texts[0]).to.equal('#!-agent startup {"version":"v4.14.7"}');
    expect(texts[1]).to.equal("1:wazuh-agent:ossec: Agent started: 'it-agent->any'.");
    const keepalive = remoted.messages.find((m) => isValidKeepalive(m.text))!.text;
    expect(keepalive).to.match(/^#!-Linux \|[^|]+ \|[^|]+ \|.+ \|\S+ \[.+\|.+: .+\] - Wazuh v4\.14\.7\nx merged\.mg\n#"_agent_ip":127\.0\.0\.1\n$/);
    expect(remoted.rejections).to.deep.equal([]);
    expect(r.log.has('info', /\(4102\): Connected to the server \(\[127\.0\.0\.1\]:\d+\/tcp\)/)).to.equal(true);

    // An event handed to the local queue socket, as any program on the host could.
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(agent!.paths.queueSocket, () => c.end('1:it-test:hello from the queue socket\n', () => resolve()));
      c.on('error', reject);
    });
    await remoted.waitFor('the injected event', () => remoted.received('1:it-test:hello from the queue socket').length === 1);
    expect(fs.statSync(agent.paths.queueSocket).mode & 0o777).to.equal(0o660);

    // What the real analysisd makes of it: the first start of this agent is rule 501.
    expect(remoted.alerts.map((a) => a.rule.id)).to.include('501');

    // Counters grow strictly across the whole session.
    const counters = remoted.messages.map((m) => m.counters.global * 10_000 + m.counters.local);
    expect(counters).to.deep.equal([...counters].sort((a, b) => a - b));
    expect(new Set(counters).size).to.equal(counters.length);

    await agent.stop();
    agent = undefined;
    await remoted.waitFor('shutdown', () => remoted.received('#!-agent shutdown ').length === 1);
  });

  it('reconnects by itself after the manager restarts, and its counters keep growing', async () => {
    r = await rig();
    const { remoted, authd } = r.manager;
    agent = makeAgent(r, agentConf({ servers: [{ port: remoted.tcpPort }], authdPort: authd.port, passwordFile: r.passwordFile }));
    await agent.start();
    await remoted.waitFor('first keepalive', () => remoted.messages.some((m) => isValidKeepalive(m.text)));

    await remoted.stop();
    const before = remoted.messages.length;
    await new Promise((res) => setTimeout(res, 1500));
    await remoted.start(); // same ports, same counter memory: a restarted manager
    await remoted.waitFor('second startup', () => remoted.received(/^#!-agent startup /).length === 2, 15_000);
    await remoted.waitFor('keepalive after reconnect', () => remoted.messages.slice(before).some((m) => isValidKeepalive(m.text)));
    expect(remoted.rejections).to.deep.equal([]);
    expect(remoted.received(/Agent started/)).to.have.length(1);
    expect(r.log.has('warn', new RegExp(`^Connection to \\[127\\.0\\.0\\.1\\]:${remoted.tcpPort}/tcp ended: .+\\.$`))).to.equal(true);
    expect(r.log.has('error', /^\(1137\): Lost connection with manager\. Setting lock\.$/)).to.equal(true);
    expect(r.log.has('info', /^Server responded\. Releasing lock\.$/)).to.equal(true);
  });

  it("reconnects when the manager goes silent for time-reconnect, in Wazuh's words (the agent closed it: no (1137))", async () => {
    r = await rig({ ackKeepalives: false });
    const { remoted, authd } = r.manager;
    agent = makeAgent(r, agentConf({ servers: [{ port: remoted.tcpPort }], authdPort: authd.port, passwordFile: r.passwordFile, timeReconnect: 3 }));
    await agent.start();
    await remoted.waitFor('second startup', () => remoted.received(/^#!-agent startup /).length === 2, 15_000);
    await remoted.waitFor('the lock released', () => r.log.has('info', /^Server responded\. Releasing lock\.$/));
    expect(r.log.has('warn', /^Server unavailable\. Setting lock\.$/)).to.equal(true);
    expect(r.log.has('error', /\(1137\)/)).to.equal(false);
  });

  it('fails over to the second server when the first is dead', async () => {
    r = await rig();
    const { remoted, authd } = r.manager;
    const dead = await freePort();
    agent = makeAgent(r, agentConf({ servers: [{ port: dead }, { port: remoted.tcpPort }], authdPort: authd.port, passwordFile: r.passwordFile }));
    await agent.start();
    await remoted.waitFor('keepalive on the second server', () => remoted.messages.some((m) => isValidKeepalive(m.text)), 15_000);
    expect(agent.connectedServer).to.equal(`[127.0.0.1]:${remoted.tcpPort}/tcp`);
    expect(r.log.has('error', new RegExp(`\\(1216\\): Unable to connect to '\\[127\\.0\\.0\\.1\\]:${dead}/tcp'`))).to.equal(true);
    expect(r.log.has('info', /Trying next server ip in the line: '127\.0\.0\.1'/)).to.equal(true);
  });

  it('speaks UDP when the server says so', async () => {
    r = await rig();
    const { remoted, authd } = r.manager;
    agent = makeAgent(r, agentConf({ servers: [{ port: remoted.udpPort, protocol: 'udp' }], authdPort: authd.port, passwordFile: r.passwordFile }));
    await agent.start();
    await remoted.waitFor('a UDP keepalive', () => remoted.messages.some((m) => m.protocol === 'udp' && isValidKeepalive(m.text)));
    expect(agent.submit('1:it-test:over udp')).to.equal(true);
    await remoted.waitFor('the UDP event', () => remoted.received('1:it-test:over udp').length === 1);
    expect(remoted.messages.every((m) => m.protocol === 'udp')).to.equal(true);
  });

  it('stores a pushed merged.mg, unpacks agent.conf and reports their md5 in keepalives', async () => {
    const agentConfText = '<agent_config>\n  <labels><label key="x">y</label></labels>\n</agent_config>\n';
    const merged = Buffer.from(`!${Buffer.byteLength(agentConfText)} agent.conf\n${agentConfText}`);
    r = await rig({ mergedMg: merged });
    const { remoted, authd } = r.manager;
    agent = makeAgent(r, agentConf({ servers: [{ port: remoted.tcpPort }], authdPort: authd.port, passwordFile: r.passwordFile }));
    await agent.start();
    const md5 = (b: Buffer | string) => crypto.createHash('md5').update(b).digest('hex');
    await remoted.waitFor('a keepalive with the merged.mg md5', () => remoted.received(new RegExp(`\\n${md5(merged)} merged\\.mg\\n`)).length > 0);
    const shared = path.join(r.home, 'shared');
    expect(fs.readFileSync(path.join(shared, 'merged.mg')).equals(merged)).to.equal(true);
    expect(fs.readFileSync(path.join(shared, 'agent.conf'), 'utf8')).to.equal(agentConfText);
    const ka = remoted.received(new RegExp(`${md5(merged)} merged\\.mg`))[0]!.text;
    expect(ka.split('\n')[0]).to.match(new RegExp(` / ${md5(agentConfText)}$`));
  });

  it('keeps counters across an agent restart, so the manager accepts the new session', async () => {
    r = await rig();
    const { remoted, authd } = r.manager;
    const conf = agentConf({ servers: [{ port: remoted.tcpPort }], authdPort: authd.port, passwordFile: r.passwordFile });
    agent = makeAgent(r, conf);
    await agent.start();
    await remoted.waitFor('keepalive', () => remoted.messages.some((m) => isValidKeepalive(m.text)));
    await agent.stop();
    agent = makeAgent(r, conf);
    await agent.start();
    await remoted.waitFor('second startup', () => remoted.received(/^#!-agent startup /).length === 2);
    await remoted.waitFor('second-run keepalive', () => remoted.messages.filter((m) => isValidKeepalive(m.text)).length >= 2);
    expect(remoted.rejections).to.deep.equal([]);
    expect(authd.keys).to.have.length(1); // no second enrollment
    expect(remoted.alerts.filter((a) => ['501', '503'].includes(a.rule.id)).map((a) => a.rule.id)).to.deep.equal(['501', '503']);
  });
});
