// Garbage in client.keys, as `wazuh-bpf-agent run` meets it: never a stack trace; every malformed
// line is logged "(1401): Error reading authentication key: ... File <file>, line <n>."; with
// enrollment disabled the agent exits 3 with one "(4109)" line, with it enabled it enrolls a new
// key over the garbage and connects. A well-formed key the manager does not know keeps the agent
// trying, alive, until it is stopped.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess } from '../support/agent-process.js';
import { Rng } from '../support/fuzz.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';
import { isValidKeepalive } from '../support/remoted.js';

const KEY = '5c3a16da4999009cac52ccd6a9f4e9665246e5d8f4c4b186c126018c48f55b55';

const GARBAGE: { name: string; content: string | Buffer; lines: number[] }[] = [
  { name: 'too few fields', content: `001 web-01 ${KEY}\n`, lines: [1] },
  { name: 'a line without spaces', content: `# a comment\n001web-01any${KEY}\n`, lines: [2] },
  { name: 'bad ids', content: `0x1 web-01 any ${KEY}\n123456789 web-02 any ${KEY}\n-1 web-03 any ${KEY}\n`, lines: [1, 2, 3] },
  { name: 'a base64 key (not hex, and "+/=" are not key characters)', content: '001 web-01 any XDoW2kmZAJysUszWqfTplmUkbl2PTEsYbBJgGMSPVbU+/==\n', lines: [1] },
  { name: 'a bad IP', content: `001 web-01 999.0.0.1 ${KEY}\n`, lines: [1] },
  { name: 'binary garbage', content: Buffer.concat([binaryLine(7), Buffer.from('\n'), binaryLine(8), Buffer.from('\n')]), lines: [1, 2] },
  { name: 'an empty file', content: '', lines: [] },
];

describe('client.keys garbage and the run command', function () {
  this.timeout(30_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };
  let running: AgentProcess | undefined;

  before(async () => {
    manager = await new TestManager().start();
  });
  after(async () => {
    await manager.stop();
  });
  beforeEach(() => {
    tmp = tempDir('wba-keys');
  });
  afterEach(async () => {
    running?.kill();
    await running?.exited;
    running = undefined;
    tmp.cleanup();
  });

  /** An ossec.conf for the test manager; `enrollment` off: the agent may only use client.keys. */
  function conf(enrollment: boolean): string {
    const passwordFile = path.join(tmp.dir, 'authd.pass');
    fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o600 });
    const text = agentConf({ servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, agentName: 'keys-agent' })
      .replace('<enabled>yes</enabled>', `<enabled>${enrollment ? 'yes' : 'no'}</enabled>`);
    const file = path.join(tmp.dir, 'ossec.conf');
    fs.writeFileSync(file, text);
    return file;
  }

  function writeKeys(content: string | Buffer): { home: string; keys: string } {
    const home = path.join(tmp.dir, 'home');
    const keys = path.join(home, 'etc', 'client.keys');
    fs.mkdirSync(path.dirname(keys), { recursive: true });
    fs.writeFileSync(keys, content, { mode: 0o640 });
    return { home, keys };
  }

  for (const g of GARBAGE) {
    it(`${g.name}, enrollment disabled: exit 3, one line per bad line, then one (4109) line`, async () => {
      const { home, keys } = writeKeys(g.content);
      const agent = new AgentProcess(['-c', conf(false), '--home', home, 'run']);
      expect(await agent.exited).to.equal(3);
      const lines = agent.stderr.trimEnd().split('\n');
      expect(lines.at(-1)).to.equal(`wazuh-bpf-agent: ERROR: (4109): Unable to start without auth keys. Exiting. No valid key in '${keys}' and <enrollment> is disabled.`);
      const problems = lines.filter((l) => l.includes('(1401)'));
      expect(problems.map((l) => Number(/, line (\d+)\.$/.exec(l)?.[1]))).to.deep.equal(g.lines);
      for (const p of problems) {
        expect(p).to.match(new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d wazuh-bpf-agent: ERROR: \\(1401\\): Error reading authentication key: .+\\. File ${keys}, line \\d+\\.$`));
        expect(p).to.not.include(KEY);
      }
      expect(agent.stderr).to.not.match(/\n\s+at |CRITICAL/);
      expect(agent.stderr).to.not.match(/[\u0000-\u0008\u000b-\u001f]/); // binary garbage arrives escaped
    });
  }

  it('a client.keys that cannot be read (a directory): exit 3, one line', async () => {
    const home = path.join(tmp.dir, 'home');
    const keys = path.join(home, 'etc', 'client.keys');
    fs.mkdirSync(keys, { recursive: true });
    const agent = new AgentProcess(['-c', conf(false), '--home', home, 'run']);
    expect(await agent.exited).to.equal(3);
    expect(agent.stderr.trimEnd().split('\n').at(-1)).to.equal(`wazuh-bpf-agent: ERROR: cannot read ${keys}: EISDIR: illegal operation on a directory, read`);
    expect(agent.stderr).to.not.match(/\n\s+at |CRITICAL/);
  });

  it('garbage with enrollment enabled: logs the bad lines, enrolls a new key over them, connects', async () => {
    const { home, keys } = writeKeys(Buffer.concat([Buffer.from(`0x1 web-01 any ${KEY}\n`), binaryLine(11)]));
    const enrolledBefore = manager.authd.keys.length;
    running = new AgentProcess(['-c', conf(true), '--home', home, 'run']);
    await running.waitForLine(new RegExp(`ERROR: \\(1401\\): Error reading authentication key: agent id '0x1' is not 1-8 digits\\. File ${keys}, line 1\\.$`));
    await running.waitForLine(/INFO: \(4102\): Connected to the server/);
    expect(manager.authd.keys).to.have.length(enrolledBefore + 1);
    const key = manager.authd.keys.at(-1)!;
    expect(fs.readFileSync(keys, 'utf8')).to.equal(`${key.id} keys-agent any ${key.key}\n`);
    await manager.remoted.waitFor('a keepalive', () => manager.remoted.received(/^#!-/, key.id).some((m) => isValidKeepalive(m.text)));
    expect(running.stderr).to.not.include(key.key);
  });

  it('a well-formed key the manager does not know: keeps trying, alive, and stops cleanly on SIGTERM', async () => {
    const { home } = writeKeys(`099 someone-else any ${KEY}\n`);
    const rejectedBefore = manager.remoted.rejections.length;
    const agent = new AgentProcess(['-c', conf(false), '--home', home, 'run']);
    running = agent;
    await agent.waitForLine(/INFO: Trying to connect to server \(\[127\.0\.0\.1\]:\d+\/tcp\)\.$/);
    await manager.remoted.waitFor('the startup message, refused', () =>
      manager.remoted.rejections.slice(rejectedBefore).some((r) => r.reason === 'agent key not found for id 099'));
    expect(agent.alive).to.equal(true);
    agent.kill('SIGTERM');
    expect(await agent.exited).to.equal(0);
    expect(agent.stderr).to.not.match(/\n\s+at |CRITICAL/);
    expect(agent.stderr).to.not.include(KEY);
  });
});

/** 300 seeded random bytes that make one line (no newline) and do not start as a comment would. */
function binaryLine(seed: number): Buffer {
  const bytes = new Rng(seed).bytes(300);
  bytes.forEach((b, i) => (bytes[i] = b === 0x0a ? 0x00 : b));
  bytes[0] = 0x01;
  return bytes;
}
