// The wazuh-bpf-agent command line as an administrator runs it: help, check-config on good and
// broken files, enroll then run against the test manager, SIGTERM.
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, runCli as run, sendToQueue } from '../support/cli.js';
import { BROKEN, BROKEN_CONFIGS } from '../support/config-corpus.js';
import { FIXTURES } from '../support/fixtures.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';
import { isValidKeepalive } from '../support/remoted.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('cli', function () {
  this.timeout(30_000);

  it('has --help for the program and each command', async () => {
    for (const args of [['--help'], ['run', '--help'], ['enroll', '--help'], ['check-config', '--help'], ['install-service', '--help'], ['probe', '--help']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).to.equal(0);
      expect(r.stdout).to.match(/^Usage: wazuh-bpf-agent/);
    }
    const version = await run(['--version']);
    expect(version.code).to.equal(0);
    expect(version.stdout).to.match(/^\d+\.\d+\.\d+ \(Wazuh agent protocol, reports v4\.14\.7 by default\)\n$/);
    const bad = await run(['no-such-command']);
    expect(bad.code).to.equal(2);
  });

  it('check-config prints the effective configuration of a good file', async () => {
    for (const file of [path.join(FIXTURES, 'config', 'good', 'wazuh-default-agent.conf'), path.join(REPO, 'conf', 'ossec.conf')]) {
      const r = await run(['-c', file, 'check-config']);
      expect(r.code, r.stderr).to.equal(0);
      const cfg = JSON.parse(r.stdout) as { client: { servers: { address: string; port: number }[]; notifyTime: number } };
      expect(cfg.client.servers[0]).to.include({ address: '127.0.0.1', port: 1514 });
    }
  });

  it('check-config prints each warning with file, line and option; --strict refuses them (exit 2), not INFO remarks', async () => {
    const file = path.join(FIXTURES, 'config', 'verdicts', 'max-eps-not-a-number.conf');
    const r = await run(['-c', file, 'check-config']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal(`WARNING: (1235): Invalid value for element 'max_eps': foo. File ${file}, line 9, option <syscheck><max_eps>.\n`);
    expect((JSON.parse(r.stdout) as { syscheck: { maxEps: number } }).syscheck.maxEps).to.equal(50);
    const strict = await run(['-c', file, 'check-config', '--strict']);
    expect(strict.code).to.equal(2);
    expect(strict.stdout).to.equal('');
    expect(strict.stderr.trimEnd().split('\n').at(-1)).to.equal(`wazuh-bpf-agent: ERROR: ${file}: 1 warning, refused (--strict).`);
    // Wazuh's stock agent configuration: only INFO remarks (sections this agent does not use)
    const stock = await run(['-c', path.join(FIXTURES, 'config', 'good', 'wazuh-default-agent.conf'), 'check-config', '--strict']);
    expect(stock.code, stock.stderr).to.equal(0);
    expect(stock.stderr).to.match(/^(INFO: Section <[a-z-]+> is not used by wazuh-bpf-agent; ignored\. .*\n)+$/);
  });

  describe('check-config on the broken corpus: one line naming line and option, exit 2', () => {
    for (const c of BROKEN_CONFIGS) {
      it(c.file, async () => {
        const file = path.join(BROKEN, c.file);
        const r = await run(['-c', file, 'check-config']);
        expect(r.code).to.equal(2);
        expect(r.stdout).to.equal('');
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines, r.stderr).to.have.length(1);
        expect(lines[0]).to.match(/^wazuh-bpf-agent: ERROR: /);
        expect(lines[0]).to.include(file);
        if (c.line !== undefined) expect(lines[0]).to.match(new RegExp(`line ${c.line}\\b`));
        if (c.option !== undefined) expect(lines[0]).to.include(`option <${c.option.split('.').join('><')}>`);
        expect(r.stderr).to.not.match(/\n\s+at /);
      });
    }
  });

  describe('enroll and run against the test manager', () => {
    let manager: TestManager;
    let tmp: { dir: string; cleanup: () => void };
    let agent: ChildProcess | undefined;

    beforeEach(async () => {
      manager = await new TestManager().start();
      tmp = tempDir('wba-cli');
    });
    afterEach(async () => {
      agent?.kill('SIGKILL');
      await manager.stop();
      tmp.cleanup();
    });

    it('enrolls (0640 key), runs, delivers an event, says goodbye on SIGTERM', async () => {
      const conf = path.join(tmp.dir, 'ossec.conf');
      const passwordFile = path.join(tmp.dir, 'authd.pass');
      const home = path.join(tmp.dir, 'home');
      fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o600 });
      fs.writeFileSync(conf, agentConf({ servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, agentName: 'cli-agent' }));

      const enrolled = await run(['-c', conf, '--home', home, 'enroll']);
      expect(enrolled.code, enrolled.stderr).to.equal(0);
      const keys = path.join(home, 'etc', 'client.keys');
      expect(fs.statSync(keys).mode & 0o777).to.equal(0o640);
      expect(enrolled.stderr).to.not.include(TEST_PASSWORD);
      expect(enrolled.stderr).to.not.include(manager.authd.keys[0]!.key);

      agent = spawn(process.execPath, [CLI, '-c', conf, '--home', home, 'run'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      agent.stderr!.on('data', (d) => (stderr += d));
      const { remoted } = manager;
      await remoted.waitFor('a keepalive', () => remoted.messages.some((m) => isValidKeepalive(m.text)));
      await sendToQueue(home, '1:cli-test:via the queue');
      await remoted.waitFor('the event', () => remoted.received('1:cli-test:via the queue').length === 1);

      const exited = new Promise<number | null>((resolve) => agent!.once('exit', (code) => resolve(code)));
      agent.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(remoted.received('#!-agent shutdown ')).to.have.length(1);
      expect(manager.authd.keys).to.have.length(1); // run did not enroll again
      expect(stderr).to.match(/wazuh-bpf-agent: INFO: \(4102\): Connected to the server/);
      expect(fs.readFileSync(path.join(home, 'logs', 'ossec.log'), 'utf8')).to.match(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d wazuh-bpf-agent: INFO: /m);
      expect(stderr).to.not.include(manager.authd.keys[0]!.key);
    });

    it('refuses to run without a key when enrollment is disabled (exit 3)', async () => {
      const conf = path.join(tmp.dir, 'ossec.conf');
      fs.writeFileSync(
        conf,
        `<ossec_config><client><server><address>127.0.0.1</address><port>${manager.remoted.tcpPort}</port></server>` +
          '<enrollment><enabled>no</enabled></enrollment></client></ossec_config>\n',
      );
      const r = await run(['-c', conf, '--home', path.join(tmp.dir, 'home'), 'run']);
      expect(r.code).to.equal(3);
      expect(r.stderr).to.match(/\(4109\): Unable to start without auth keys/);
      expect(r.stderr).to.not.match(/\n\s+at /);
    });
  });
});
