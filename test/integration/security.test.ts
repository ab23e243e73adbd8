// The command line's file-safety refusals and secrecy, as an administrator meets them: unsafe
// ossec.conf (exit 2), client.keys and enrollment password file (exit 3), the home's modes, and
// neither the password nor the key anywhere in the output or ossec.log, even at debug level.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { CliProcess, runCli, sendToQueue, startCli } from '../support/cli.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';
import { isValidKeepalive } from '../support/remoted.js';

const root = process.geteuid?.() === 0;
const KEY = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567';

/** The one-line error the command ends with (after any log lines), without a stack trace. */
function finalError(stderr: string): string {
  const last = stderr.trimEnd().split('\n').at(-1)!;
  expect(last, stderr).to.match(/^wazuh-bpf-agent: ERROR: /);
  expect(stderr).to.not.match(/\n\s+at /);
  return last;
}

/** Every entry under `dir` (itself included) with its mode. */
function walk(dir: string): { path: string; mode: number; isDir: boolean }[] {
  const st = fs.lstatSync(dir);
  const self = { path: dir, mode: st.mode & 0o7777, isDir: st.isDirectory() };
  if (!st.isDirectory()) return [self];
  return [self, ...fs.readdirSync(dir).flatMap((name) => walk(path.join(dir, name)))];
}

describe('security (command line)', function () {
  this.timeout(60_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };
  let conf: string;
  let passwordFile: string;
  let home: string;
  let agent: CliProcess | undefined;

  beforeEach(async () => {
    manager = await new TestManager().start();
    tmp = tempDir('wba-security');
    conf = path.join(tmp.dir, 'ossec.conf');
    passwordFile = path.join(tmp.dir, 'authd.pass');
    home = path.join(tmp.dir, 'home');
    fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o640 });
    fs.writeFileSync(conf, agentConf({ servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, agentName: 'sec-agent' }));
  });
  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    agent = undefined;
    await manager.stop();
    tmp.cleanup();
  });

  describe('unsafe ossec.conf: exit 2, one line naming the file and its mode', () => {
    it('writable by any user', async () => {
      fs.chmodSync(conf, 0o666);
      for (const command of ['check-config', 'run']) {
        const r = await runCli(['-c', conf, '--home', home, command]);
        expect(r.code, command).to.equal(2);
        expect(fs.existsSync(home), 'home created').to.equal(false);
        expect(finalError(r.stderr)).to.equal(
          'wazuh-bpf-agent: ERROR: Unsafe permissions on the configuration file: writable by any user (mode 0666); ' +
            `refusing to use it (fix: chmod o-w). File ${conf}.`,
        );
      }
      expect(manager.authd.requests).to.have.length(0);
    });

    it('group-writable (as Wazuh installs it) is accepted', async () => {
      fs.chmodSync(conf, 0o660);
      const r = await runCli(['-c', conf, 'check-config']);
      expect(r.code, r.stderr).to.equal(0);
    });

    it('owned by another non-root user', async function () {
      if (!root) this.skip();
      fs.chownSync(conf, 65534, 65534);
      const r = await runCli(['-c', conf, 'check-config']);
      expect(r.code).to.equal(2);
      expect(finalError(r.stderr)).to.include(`owned by uid 65534, neither root nor the agent's user (uid 0); refusing to use it (fix: chown root). File ${conf}.`);
    });
  });

  /** enroll and run exit 3, ending with the refusal of `file`, and never show `secret`. */
  async function expectSecretFileRefused(file: string, mode: string, secret: string): Promise<void> {
    for (const command of ['enroll', 'run']) {
      const r = await runCli(['-c', conf, '--home', home, command]);
      expect(r.code, command).to.equal(3);
      expect(finalError(r.stderr)).to.equal(
        `wazuh-bpf-agent: ERROR: Unsafe permissions on '${file}': writable by any user (mode ${mode}); refusing to use it (fix: chmod o-w '${file}').`,
      );
      expect(r.stderr).to.not.include(secret);
    }
  }

  it('unsafe client.keys: exit 3, one line naming the file and its mode, never the key', async () => {
    const keys = path.join(home, 'etc', 'client.keys');
    fs.mkdirSync(path.dirname(keys), { recursive: true, mode: 0o750 });
    fs.writeFileSync(keys, `001 sec-agent any ${KEY}\n`);
    fs.chmodSync(keys, 0o666);
    await expectSecretFileRefused(keys, '0666', KEY);
    expect(manager.remoted.messages).to.have.length(0);
  });

  it('unsafe enrollment password file: exit 3, nothing sent to the manager', async () => {
    fs.chmodSync(passwordFile, 0o606);
    await expectSecretFileRefused(passwordFile, '0606', TEST_PASSWORD);
    expect(manager.authd.requests).to.have.length(0);
  });

  describe('the home', () => {
    it('a home open to others is narrowed to 0750, with a warning', async () => {
      fs.mkdirSync(home, { mode: 0o755 });
      fs.chmodSync(home, 0o755);
      const r = await runCli(['-c', conf, '--home', home, 'enroll']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include(`wazuh-bpf-agent: WARNING: Directory '${home}' was open to other users (mode 0755); changed to 0750.`);
      expect(fs.statSync(home).mode & 0o777).to.equal(0o750);
    });

    it('a file where the home should be: exit 2', async () => {
      fs.writeFileSync(home, '');
      const r = await runCli(['-c', conf, '--home', home, 'enroll']);
      expect(r.code).to.equal(2);
      expect(finalError(r.stderr)).to.equal(`wazuh-bpf-agent: ERROR: Unsafe path '${home}': not a directory; refusing to use it.`);
    });

    it("another user's home: exit 2, nothing created in it", async function () {
      if (!root) this.skip();
      fs.mkdirSync(home, { mode: 0o750 });
      fs.chownSync(home, 65534, 65534);
      const r = await runCli(['-c', conf, '--home', home, 'enroll']);
      expect(r.code).to.equal(2);
      expect(finalError(r.stderr)).to.include(`Unsafe ownership of directory '${home}': owned by uid 65534, not the running user (uid 0)`);
      expect(fs.readdirSync(home)).to.deep.equal([]);
    });
  });

  it('enroll and run at debug level: neither the password nor the key in stdout, stderr or ossec.log; no state open to others', async () => {
    const tree = path.join(tmp.dir, 'tree');
    fs.mkdirSync(tree);
    fs.writeFileSync(path.join(tree, 'a.txt'), 'a\n');
    fs.writeFileSync(conf, agentConf({
      servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, agentName: 'sec-agent',
      extra: `<syscheck><frequency>43200</frequency><directories realtime="yes" report_changes="yes">${tree}</directories></syscheck>`,
    }));
    const enrolled = await runCli(['-d', '-c', conf, '--home', home, 'enroll']);
    expect(enrolled.code, enrolled.stderr).to.equal(0);
    expect(manager.authd.requests.join('\n')).to.include(TEST_PASSWORD); // it was sent, so it was known to the agent

    agent = startCli(['-d', '-c', conf, '--home', home, 'run']);
    const { remoted } = manager;
    await remoted.waitFor('a keepalive', () => remoted.messages.some((m) => isValidKeepalive(m.text)));
    await sendToQueue(home, '1:sec-test:an event');
    await remoted.waitFor('the event', () => remoted.received('1:sec-test:an event').length === 1);
    await remoted.waitFor('the baseline and the capture', () => /scan ended/.test(agent!.stderr) && /Real-time capture mode/.test(agent!.stderr), 30_000);
    fs.appendFileSync(path.join(tree, 'a.txt'), 'changed\n');
    await remoted.waitFor('the FIM alert', () => remoted.alerts.some((a) => a.rule.id === '550'));
    agent.child.kill('SIGTERM');
    const ran = await agent.exited;
    expect(ran.code, ran.stderr).to.equal(0);

    const key = manager.authd.keys[0]!.key;
    expect(fs.readFileSync(path.join(home, 'etc', 'client.keys'), 'utf8')).to.include(key);
    const logFile = path.join(home, 'logs', 'ossec.log');
    const outputs: [string, string][] = [
      ['enroll stdout', enrolled.stdout], ['enroll stderr', enrolled.stderr],
      ['run stdout', ran.stdout], ['run stderr', ran.stderr], ['ossec.log', fs.readFileSync(logFile, 'utf8')],
    ];
    expect(ran.stderr).to.match(/DEBUG: /); // debug level really was on
    for (const [where, text] of outputs) {
      expect(text, where).to.not.include(TEST_PASSWORD);
      expect(text, where).to.not.include(key);
    }

    // paths.ts layout as created: the home and every directory below it closed to others,
    // client.keys 0640, nothing writable by others.
    const entries = walk(home);
    expect(entries.length).to.be.greaterThan(10);
    for (const e of entries) {
      if (e.isDir) expect(e.mode & 0o007, `${e.path} ${e.mode.toString(8)}`).to.equal(0);
      expect(e.mode & 0o002, `${e.path} ${e.mode.toString(8)}`).to.equal(0);
    }
    expect(fs.statSync(path.join(home, 'etc', 'client.keys')).mode & 0o777).to.equal(0o640);
  });
});
