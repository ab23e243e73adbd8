// End to end against a REAL Wazuh 4.14.7 manager (built by ../shared/wazuh-manager in CI, or
// `docker compose up` for users): the agent's own CLI enrolls, runs, and its events must come
// out of the manager's analysisd as alerts in alerts.json. No manager = failure, not a skip.
//
//   WAZUH_MANAGER_ADDRESS (127.0.0.1)  WAZUH_AUTHD_PASSWORD (TestPass123)
//   WAZUH_ALERTS_JSON (/opt/wazuh-test/logs/alerts/alerts.json)
//
// FIM is real: the agent monitors a directory with who-data (eBPF capture in the best mode this
// kernel allows) and a child process creates, modifies and deletes a file in it.
import { expect } from 'chai';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, runCli } from '../support/cli.js';
import { tempDir } from '../support/manager.js';

const ADDRESS = process.env.WAZUH_MANAGER_ADDRESS ?? '127.0.0.1';
const PASSWORD = process.env.WAZUH_AUTHD_PASSWORD ?? 'TestPass123';
const ALERTS = process.env.WAZUH_ALERTS_JSON ?? '/opt/wazuh-test/logs/alerts/alerts.json';

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

describe('end to end with a real Wazuh manager', function () {
  this.timeout(180_000);
  const agentName = `e2e-${process.pid}-${Date.now() % 100000}`;
  const { dir, cleanup } = tempDir('wba-e2e');
  const conf = path.join(dir, 'ossec.conf');
  const home = path.join(dir, 'home');
  const passFile = path.join(dir, 'authd.pass');
  const watched = path.join(dir, 'watched');
  let agentLog = '';
  let agent: ChildProcess | undefined;
  let tail: AlertsTail;

  const startAgent = () => {
    agentLog = '';
    agent = spawn(process.execPath, [CLI, '-c', conf, '--home', home, 'run'], { stdio: ['ignore', 'ignore', 'pipe'] });
    agent.stderr!.on('data', (d) => (agentLog += d));
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
    fs.mkdirSync(watched);
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
  <syscheck>
    <frequency>43200</frequency>
    <directories whodata="yes" report_changes="yes">${watched}</directories>
  </syscheck>
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
    const r = await runCli(['-c', conf, '--home', home, 'enroll']);
    const output = r.stdout + r.stderr;
    expect(r.code, output).to.equal(0);
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

  it('reports real file changes with who-data: rules 554 (added), 550 (modified), 553 (deleted)', async () => {
    const deadline = Date.now() + 60_000;
    while (!/Real-time capture mode: /.test(agentLog) || !/File integrity monitoring scan ended/.test(agentLog)) {
      if (Date.now() > deadline) throw new Error(`agent did not start capture and its first scan:\n${agentLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const file = path.join(watched, 'watched.txt');
    const sh = (script: string) => execFileSync('/bin/sh', ['-c', script], { cwd: watched });
    sh(`echo created > ${file}`);
    const added = await tail.waitFor('rule 554', (x) => x.rule.id === '554' && x.syscheck?.path === file);
    expect(added.syscheck!.mode).to.equal('whodata');
    sh(`echo modified >> ${file}`);
    const modified = await tail.waitFor('rule 550', (x) => x.rule.id === '550' && x.syscheck?.path === file);
    expect(modified.syscheck!.changed_attributes).to.include.members(['size', 'md5', 'sha1', 'sha256']);
    expect(modified.syscheck!.diff).to.equal('1a2\n> modified\n'); // report_changes
    sh(`rm ${file}`);
    const deleted = await tail.waitFor('rule 553', (x) => x.rule.id === '553' && x.syscheck?.path === file);
    expect(deleted.syscheck!.mode).to.equal('whodata');
    const audit = deleted.syscheck!.audit as { process: { name: string; cwd: string }; user: { id: string } };
    expect(audit.process.name).to.match(/(^|\/)rm$/);
    expect(audit.process.cwd).to.equal(watched);
    expect(audit.user.id).to.equal(String(process.getuid!()));
  });

  it('restarts with the same key and counters: the manager raises rule 503 (agent started)', async () => {
    await stopAgent();
    startAgent();
    const a = await tail.waitFor('rule 503', (x) => x.rule.id === '503');
    expect(a.full_log).to.equal(`ossec: Agent started: '${agentName}->any'.`);
    // remoted answered the keepalives that confirm delivery, so the stop left nothing to re-send
    expect(agentLog).to.match(/Started \(pid/);
    expect(agentLog).to.not.match(/events not confirmed by the manager/);
  });
});
