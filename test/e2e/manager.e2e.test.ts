// End to end against a REAL Wazuh 4.14.7 manager (built by ../shared/wazuh-manager in CI, or
// `docker compose up` for users): the agent's own CLI enrolls, runs, and its events must come
// out of the manager's analysisd as alerts in alerts.json. No manager = failure, not a skip.
//
//   WAZUH_MANAGER_ADDRESS (127.0.0.1)  WAZUH_AUTHD_PASSWORD (TestPass123)
//   WAZUH_ALERTS_JSON (/opt/wazuh-test/logs/alerts/alerts.json)
//
// Until the FIM engine lands, the FIM events are written to the agent's local queue socket in
// the exact shape Wazuh 4.14.7's agent sends (test/fixtures/capture-agent-4.14.7.json).
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/manager.js';

const ADDRESS = process.env.WAZUH_MANAGER_ADDRESS ?? '127.0.0.1';
const PASSWORD = process.env.WAZUH_AUTHD_PASSWORD ?? 'TestPass123';
const ALERTS = process.env.WAZUH_ALERTS_JSON ?? '/opt/wazuh-test/logs/alerts/alerts.json';
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');

interface Alert {
  rule: { id: string; description: string };
  agent: { id: string; name: string };
  full_log?: string;
  syscheck?: Record<string, unknown> & { path?: string; event?: string; audit?: Record<string, unknown> };
}

/** Reads alerts.json from a byte offset, keeping the alerts of one agent. */
class AlertsTail {
  private offset: number;
  readonly alerts: Alert[] = [];
  private partial = '';

  constructor(private readonly file: string, private readonly agentName: string) {
    this.offset = fs.existsSync(file) ? fs.statSync(file).size : 0;
  }

  private poll(): void {
    if (!fs.existsSync(this.file)) return;
    const size = fs.statSync(this.file).size;
    if (size < this.offset) this.offset = 0; // rotated
    if (size === this.offset) return;
    const fd = fs.openSync(this.file, 'r');
    const buf = Buffer.alloc(size - this.offset);
    fs.readSync(fd, buf, 0, buf.length, this.offset);
    fs.closeSync(fd);
    this.offset = size;
    const lines = (this.partial + buf.toString('utf8')).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      const a = JSON.parse(line) as Alert;
      if (a.agent?.name === this.agentName) this.alerts.push(a);
    }
  }

  async waitFor(what: string, match: (a: Alert) => boolean, timeoutMs = 60_000): Promise<Alert> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.poll();
      const found = this.alerts.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no alert for ${what} from agent ${this.agentName} within ${timeoutMs} ms; saw rules [${this.alerts.map((a) => a.rule.id).join(', ')}]`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: ADDRESS, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(3000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

function runCli(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

function sendToQueue(socketPath: string, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socketPath, () => c.end(lines.map((l) => `${l}\n`).join(''), () => resolve()));
    c.on('error', reject);
  });
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function fimEvent(type: 'added' | 'modified' | 'deleted', file: string, extra: Record<string, unknown> = {}): string {
  const attributes = {
    type: 'file', size: type === 'added' ? 14 : 30, perm: 'rw-r--r--', uid: '0', gid: '0', user_name: 'root', group_name: 'root',
    inode: '2211851', mtime: type === 'added' ? 1795561597 : 1795561600,
    hash_md5: type === 'added' ? '582f7f4c4894606ed8ddc187d4b10e1a' : '3eba58c6ff812f1dfa630d3aa739a385',
    hash_sha1: type === 'added' ? '828377355fc4a417d07d8bc19c4c5b8734240c10' : 'bce192d724db53bc2cc3491bfe1beee1b2b7d171',
    hash_sha256: type === 'added'
      ? 'c808d09618a22b677f46b14c19cf36ead59be005198b1c1680dc251832e487e5'
      : 'fdbb418f70d10bf55b948a29683c28a9c60d99a6126cd39e7755801ddb24cd0a',
    checksum: type === 'added' ? 'd8d4e29665353bad046964ab471446cd23ce6d55' : '597741e285d55b1a32029aadb820da0eda431c78',
  };
  const data: Record<string, unknown> = { path: file, version: '2.0', mode: 'realtime', type, timestamp: Math.floor(Date.now() / 1000), attributes, ...extra };
  if (type === 'modified') {
    data.changed_attributes = ['size', 'mtime', 'md5', 'sha1', 'sha256'];
    data.old_attributes = { ...attributes, size: 14, mtime: 1795561597, hash_md5: '582f7f4c4894606ed8ddc187d4b10e1a' };
  }
  return `8:syscheck:${JSON.stringify({ type: 'event', data })}`;
}

describe('end to end with a real Wazuh manager', function () {
  this.timeout(180_000);
  const agentName = `e2e-${process.pid}-${Date.now() % 100000}`;
  const { dir, cleanup } = tempDir('wba-e2e');
  const conf = path.join(dir, 'ossec.conf');
  const home = path.join(dir, 'home');
  const passFile = path.join(dir, 'authd.pass');
  let agent: ChildProcess | undefined;
  let tail: AlertsTail;

  const startAgent = () => {
    agent = spawn(process.execPath, [CLI, '-c', conf, '--home', home, 'run'], { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const stopAgent = async () => {
    const p = agent;
    agent = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };

  before(async () => {
    for (const port of [1514, 1515]) {
      if (!(await reachable(port))) {
        throw new Error(`no Wazuh manager at ${ADDRESS}:${port}: start one (../shared/wazuh-manager/start.sh, or docker compose up)`);
      }
    }
    fs.writeFileSync(passFile, `${PASSWORD}\n`, { mode: 0o600 });
    fs.writeFileSync(
      conf,
      `<ossec_config>
  <client>
    <server><address>${ADDRESS}</address><port>1514</port><protocol>tcp</protocol><retry_interval>2</retry_interval></server>
    <notify_time>5</notify_time>
    <time-reconnect>30</time-reconnect>
    <enrollment>
      <agent_name>${agentName}</agent_name>
      <authorization_pass_path>${passFile}</authorization_pass_path>
      <delay_after_enrollment>1</delay_after_enrollment>
    </enrollment>
  </client>
</ossec_config>
`,
    );
    tail = new AlertsTail(ALERTS, agentName);
  });

  after(async () => {
    await stopAgent();
    cleanup();
  });

  it('enrolls with wazuh-authd through the CLI (client.keys 0640)', async () => {
    const { code, output } = await runCli(['-c', conf, '--home', home, 'enroll']);
    expect(code, output).to.equal(0);
    const keys = path.join(home, 'etc', 'client.keys');
    expect(fs.statSync(keys).mode & 0o777).to.equal(0o640);
    expect(fs.readFileSync(keys, 'utf8')).to.match(new RegExp(`^\\d{3,} ${agentName} any [0-9a-f]{64}\\n$`));
    expect(output).to.not.include(PASSWORD);
  });

  it('connects: the manager raises rule 501 (new agent connected)', async () => {
    startAgent();
    const a = await tail.waitFor('rule 501', (x) => x.rule.id === '501');
    expect(a.rule.description).to.equal('New wazuh agent connected.');
  });

  it('delivers FIM events: rules 554 (added), 550 (modified), 553 (deleted, with who-data)', async () => {
    await waitForFile(path.join(home, 'queue', 'sockets', 'queue'), 10_000);
    const file = `/tmp/${agentName}/watched.txt`;
    const audit = {
      user_id: '0', user_name: 'root', group_id: '0', group_name: 'root', process_name: '/usr/bin/rm', process_id: 4242, ppid: 4200,
      parent_name: '/usr/bin/bash', cwd: '/root', parent_cwd: '/root', audit_uid: '1000', audit_name: 'alice', effective_uid: '0', effective_name: 'root',
    };
    await sendToQueue(path.join(home, 'queue', 'sockets', 'queue'), [
      fimEvent('added', file),
      fimEvent('modified', file),
      fimEvent('deleted', file, { mode: 'whodata', audit }),
    ]);
    const added = await tail.waitFor('rule 554', (x) => x.rule.id === '554' && x.syscheck?.path === file);
    expect(added.syscheck!.event).to.equal('added');
    const modified = await tail.waitFor('rule 550', (x) => x.rule.id === '550' && x.syscheck?.path === file);
    expect(modified.syscheck!.changed_attributes).to.deep.equal(['size', 'mtime', 'md5', 'sha1', 'sha256']);
    const deleted = await tail.waitFor('rule 553', (x) => x.rule.id === '553' && x.syscheck?.path === file);
    expect(deleted.syscheck!.mode).to.equal('whodata');
    expect(deleted.syscheck!.audit).to.deep.include({ process: { id: '4242', name: '/usr/bin/rm', cwd: '/root', parent_name: '/usr/bin/bash', parent_cwd: '/root', ppid: '4200' } });
    expect(deleted.syscheck!.audit).to.deep.include({ login_user: { id: '1000', name: 'alice' } });
  });

  it('restarts with the same key and counters: the manager raises rule 503 (agent started)', async () => {
    await stopAgent();
    startAgent();
    const a = await tail.waitFor('rule 503', (x) => x.rule.id === '503');
    expect(a.full_log).to.equal(`ossec: Agent started: '${agentName}->any'.`);
  });
});
