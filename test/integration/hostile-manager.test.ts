// The corpus of hostile manager messages, each sent to a running `wazuh-bpf-agent run` process
// through the test remoted. After each one: the process is alive, it logged a line about that
// input, and it still works (an event injected afterwards reaches the manager; keepalives go on).
// A length prefix out of bounds cannot be resynchronised: there the agent must drop the
// connection and reconnect.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { deriveKey, encodeManagerPayload, frameTcp } from '../../src/wazuh/codec.js';
import { AgentProcess } from '../support/agent-process.js';
import { sendToQueue } from '../support/cli.js';
import { craftManagerPayload } from '../support/hostile.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';
import { TestRemoted, isValidKeepalive } from '../support/remoted.js';

interface HostileMessage {
  name: string;
  send(remoted: TestRemoted, agentId: string): void;
  /** The line the agent must log about it. */
  logs: RegExp;
  /** The agent must drop the connection and connect again. */
  reconnects?: boolean;
}

const ACK = Buffer.from('#!-agent ack ');
const md5 = (data: Buffer) => crypto.createHash('md5').update(data).digest('hex');
/** A frame header announcing `length` bytes, and a few bytes after it. */
const lengthPrefix = (length: number) => {
  const b = Buffer.alloc(12, 0x41);
  b.writeUInt32LE(length, 0);
  return b;
};
/** A file push the agent can verify (the md5 matches), under `name`. */
const pushFile = (remoted: TestRemoted, agentId: string, name: string) => {
  const content = Buffer.from('pushed by a hostile manager\n');
  remoted.sendToAgent(agentId, `#!-up file ${md5(content)} ${name}\n`);
  remoted.sendToAgent(agentId, content);
  remoted.sendToAgent(agentId, '#!-close file ');
};
const PROBLEM = String.raw`WARNING: \(1214\): Problem receiving message from '\[127\.0\.0\.1\]:\d+/tcp': `;

const HOSTILE: HostileMessage[] = [
  {
    name: 'broken AES padding',
    send: (r, id) => r.sendCraftedToAgent(id, (c, key) => craftManagerPayload(key, { ...c, random: 1, message: ACK }, 'padding')),
    logs: new RegExp(`${PROBLEM}AES decryption failed \\(wrong key or corrupt padding\\)$`),
  },
  {
    name: 'encrypted with another agent\'s key',
    // One wrong key in 256 leaves valid padding; then the compression marker is what is missing.
    send: (r, id) => r.sendCraftedToAgent(id, (c) => encodeManagerPayload({ ...c, random: 1, message: ACK }, deriveKey('another-agents-key-0123456789abcdef'))),
    logs: new RegExp(`${PROBLEM}(AES decryption failed|decrypted message does not start with the compression marker)`),
  },
  {
    name: 'corrupt zlib stream',
    send: (r, id) => r.sendCraftedToAgent(id, (c, key) => craftManagerPayload(key, { ...c, random: 1, message: ACK }, 'zlib')),
    logs: new RegExp(`${PROBLEM}zlib stream is corrupt$`),
  },
  {
    name: 'wrong checksum',
    send: (r, id) => r.sendCraftedToAgent(id, (c, key) => craftManagerPayload(key, { ...c, random: 1, message: ACK }, 'checksum')),
    logs: new RegExp(`${PROBLEM}message checksum \\(md5\\) does not match its content$`),
  },
  {
    name: 'malformed counters',
    send: (r, id) => r.sendCraftedToAgent(id, (c, key) => craftManagerPayload(key, { ...c, random: 1, message: ACK }, 'counter-format')),
    logs: new RegExp(`${PROBLEM}random/counter fields are malformed$`),
  },
  {
    name: 'zlib bomb (1 MiB of "A" in 1 KiB)',
    send: (r, id) => r.sendToAgent(id, Buffer.alloc(1 << 20, 'A')),
    logs: new RegExp(`${PROBLEM}decompressed message exceeds 65536 bytes$`),
  },
  {
    name: 'counter replay',
    send: (r, id) => {
      const ack = r.sendCraftedToAgent(id, (c, key) => encodeManagerPayload({ ...c, random: 1, message: ACK }, key));
      r.sendCraftedToAgent(id, () => ack);
    },
    logs: new RegExp(`${PROBLEM}replayed or old counter \\d+:\\d+ \\(last accepted \\d+:\\d+\\)$`),
  },
  {
    name: 'truncated frame (ciphertext cut inside a block)',
    send: (r, id) => r.sendCraftedToAgent(id, (c, key) => encodeManagerPayload({ ...c, random: 1, message: ACK }, key).subarray(0, -7)),
    logs: new RegExp(`${PROBLEM}ciphertext length \\d+ is not a positive multiple of the AES block size$`),
  },
  {
    name: 'frame with an empty ciphertext ("#AES:" alone)',
    send: (r, id) => r.sendRawToAgent(id, frameTcp(Buffer.from('#AES:'))),
    logs: new RegExp(`${PROBLEM}ciphertext length 0 is not a positive multiple`),
  },
  {
    name: 'frame without the "#AES:" header (a blowfish message)',
    send: (r, id) => r.sendRawToAgent(id, frameTcp(Buffer.from(':blowfish payload'))),
    logs: new RegExp(`${PROBLEM}payload does not start with "#AES:"`),
  },
  {
    name: 'unknown control command',
    send: (r, id) => r.sendToAgent(id, '#!-launch everything now'),
    logs: /WARNING: Unknown message received from server: '#!-launch everything now'\.$/,
  },
  {
    name: 'control message that is invalid UTF-8',
    send: (r, id) => r.sendToAgent(id, Buffer.from([0x23, 0x21, 0x2d, 0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x1b])),
    logs: /WARNING: Unknown message received from server: '#!-\uFFFD\uFFFD\uFFFD\(\\n\\u001b'\.$/,
  },
  {
    name: 'data outside a file push, invalid UTF-8',
    send: (r, id) => r.sendToAgent(id, Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80])),
    logs: /WARNING: Unknown message received\. No action defined\.$/,
  },
  {
    name: 'error message with a forged log line in it',
    send: (r, id) => r.sendToAgent(id, '#!-err line one\n2026/01/01 00:00:00 wazuh-bpf-agent: INFO: forged'),
    logs: /WARNING: Error message from the manager: 'line one\\n2026\/01\/01 00:00:00 wazuh-bpf-agent: INFO: forged'$/,
  },
  {
    name: '#!-up file with a 5,000-character name',
    send: (r, id) => pushFile(r, id, 'n'.repeat(5000)),
    logs: /ERROR: \(1103\): Could not open file '.*\/shared\/n{40,}\.\.\.' due to \[\(36\)-\(name too long\)\]\.$/,
  },
  {
    name: '#!-up file with a NUL byte in the name',
    send: (r, id) => pushFile(r, id, 'evil\u0000name'),
    logs: /ERROR: \(1103\): Could not open file '.*\/shared\/evil\\u0000name' due to \[/,
  },
  {
    name: '#!-up file climbing out of the shared directory',
    send: (r, id) => pushFile(r, id, '../../../etc/cron.d/evil'),
    logs: /WARNING: Invalid file '\.\.\/\.\.\/\.\.\/etc\/cron\.d\/evil', vulnerable to directory traversal attack\. Ignoring\.$/,
  },
  {
    name: '#!-req with garbage and no target',
    send: (r, id) => r.sendToAgent(id, '#!-req \u0001garbage'),
    logs: /ERROR: Request format is incorrect \[target\]\.$/,
  },
  {
    name: '#!-req for a component that does not exist',
    send: (r, id) => r.sendToAgent(id, '#!-req 4242 \uFFFDnothing payload'),
    logs: /DEBUG: Request '4242' for '\uFFFDnothing' refused: the component is not available in wazuh-bpf-agent\.$/,
  },
  {
    name: 'a huge length prefix',
    send: (r, id) => r.sendRawToAgent(id, lengthPrefix(0x7fffffff)),
    logs: /WARNING: Connection to \[127\.0\.0\.1\]:\d+\/tcp ended: corrupt payload from the manager: frame length 2147483647 is outside 1\.\.65792\.$/,
    reconnects: true,
  },
  {
    name: 'a zero length prefix',
    send: (r, id) => r.sendRawToAgent(id, lengthPrefix(0)),
    logs: /WARNING: Connection to \[127\.0\.0\.1\]:\d+\/tcp ended: corrupt payload from the manager: frame length 0 is outside 1\.\.65792\.$/,
    reconnects: true,
  },
];

describe('agent process against a hostile manager', function () {
  this.timeout(30_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };
  let home: string;
  let agent: AgentProcess;
  let agentId: string;

  before(async () => {
    manager = await new TestManager().start();
    tmp = tempDir('wba-hostile');
    home = path.join(tmp.dir, 'home');
    const conf = path.join(tmp.dir, 'ossec.conf');
    const passwordFile = path.join(tmp.dir, 'authd.pass');
    fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o600 });
    fs.writeFileSync(conf, agentConf({
      servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, agentName: 'hostile-target',
      timeReconnect: 60, extra: '<syscheck><disabled>yes</disabled></syscheck>',
    }));
    // The replay case needs the counter check Wazuh's stock internal_options.conf turns off.
    fs.writeFileSync(path.join(tmp.dir, 'local_internal_options.conf'), 'remoted.verify_msg_id=1\n');
    // -d: the agent reports refused requests at debug level, as Wazuh does.
    agent = new AgentProcess(['-c', conf, '--home', home, '-d', 'run']);
    const { remoted } = manager;
    await remoted.waitFor('a keepalive', () => remoted.messages.some((m) => isValidKeepalive(m.text)));
    agentId = manager.authd.keys[0]!.id;
  });

  after(async () => {
    agent?.kill();
    await agent?.exited;
    await manager?.stop();
    tmp?.cleanup();
  });

  const keepalives = () => manager.remoted.messages.filter((m) => isValidKeepalive(m.text)).length;

  HOSTILE.forEach((h, i) => {
    it(`survives ${h.name}`, async () => {
      const { remoted } = manager;
      const logFrom = agent.stderr.length;
      const keepalivesBefore = keepalives();
      const startups = remoted.received(/^#!-agent startup /).length;

      h.send(remoted, agentId);

      const line = await agent.waitForLine(h.logs, logFrom);
      expect(line).to.not.include(manager.authd.keys[0]!.key);
      if (h.reconnects) {
        await remoted.waitFor('the agent to reconnect', () => remoted.received(/^#!-agent startup /).length > startups);
        await agent.waitForLine(/ERROR: \(1137\): Lost connection with manager\. Setting lock\.$/, logFrom);
        await agent.waitForLine(/INFO: \(4102\): Connected to the server \(\[127\.0\.0\.1\]:\d+\/tcp\)\.$/, logFrom);
        await agent.waitForLine(/INFO: Server responded\. Releasing lock\.$/, logFrom);
        await remoted.waitFor('a keepalive on the new connection', () => keepalives() > keepalivesBefore);
      }
      const event = `1:hostile-test:still working after message ${i}`;
      await sendToQueue(home, event);
      await remoted.waitFor('the event injected after it', () => remoted.received(event).length === 1);
      expect(agent.alive).to.equal(true);
      expect(agent.stderr).to.not.match(/\n\s+at /);
    });
  });

  it('kept sending keepalives through all of it', async () => {
    const before = keepalives();
    await manager.remoted.waitFor('two more keepalives', () => keepalives() >= before + 2);
    expect(agent.alive).to.equal(true);
  });

  it('answered the request for a missing component with an error, as Wazuh does', () => {
    expect(manager.remoted.received("#!-req 4242 err Component '\uFFFDnothing' is not available in wazuh-bpf-agent")).to.have.length(1);
    expect(manager.remoted.received(/^#!-req \u0001garbage/)).to.deep.equal([]);
  });
});
