// `install-service`: the unit for this installation, its user and its configuration, checked
// with systemd-analyze (systemd itself does not run here: --no-start).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliReachableByAll, runCli } from '../support/cli.js';
import { tempDir } from '../support/manager.js';

const BUNDLED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../conf/ossec.conf');

describe('install-service', function () {
  this.timeout(60_000);
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => (tmp = tempDir('wba-service')));
  afterEach(() => tmp.cleanup());

  it('writes a unit that runs this build as the service user and passes systemd-analyze verify', async () => {
    const unitDir = path.join(tmp.dir, 'units');
    const configDir = path.join(tmp.dir, 'etc');
    const cli = cliReachableByAll(); // the service user must be able to read the build
    const r = await runCli(['-c', BUNDLED, 'install-service', '--unit-dir', unitDir, '--config-dir', configDir, '--no-start'], [], cli);
    expect(r.code, r.stderr).to.equal(0);
    const unitFile = path.join(unitDir, 'wazuh-bpf-agent.service');
    const unit = fs.readFileSync(unitFile, 'utf8');
    const configFile = path.join(configDir, 'ossec.conf');
    expect(unit).to.include(`ExecStart=${process.execPath} ${cli} -c ${configFile} --home /var/lib/wazuh-bpf-agent run\n`);
    expect(unit).to.match(/^User=wazuh-bpf-agent$/m);
    expect(unit).to.match(/^AmbientCapabilities=CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH$/m);
    const verify = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).to.equal(0);
    expect(verify.stderr).to.equal('');

    const gid = Number(spawnSync('id', ['-g', 'wazuh-bpf-agent'], { encoding: 'utf8' }).stdout.trim());
    const st = fs.statSync(configFile);
    expect({ mode: st.mode & 0o777, uid: st.uid, gid: st.gid }).to.deep.equal({ mode: 0o640, uid: 0, gid });
    expect(fs.readFileSync(configFile, 'utf8')).to.equal(fs.readFileSync(BUNDLED, 'utf8'));
    expect(r.stderr).to.match(/systemd is not running here|Not started \(--no-start\)/);

    // a second run keeps the administrator's configuration
    fs.appendFileSync(configFile, '<!-- edited -->\n');
    const again = await runCli(['-c', BUNDLED, 'install-service', '--unit-dir', unitDir, '--config-dir', configDir, '--no-start'], [], cli);
    expect(again.code, again.stderr).to.equal(0);
    expect(fs.readFileSync(configFile, 'utf8')).to.match(/edited/);
    expect(again.stderr).to.include(`Keeping the existing ${configFile}.`);
  });

  it('refuses a broken configuration before installing anything', async () => {
    const bad = path.join(tmp.dir, 'bad.conf');
    fs.writeFileSync(bad, '<ossec_config><client><server><address>x</address><port>99999</port></server></client></ossec_config>\n');
    const unitDir = path.join(tmp.dir, 'units');
    const r = await runCli(['-c', bad, 'install-service', '--unit-dir', unitDir, '--config-dir', path.join(tmp.dir, 'etc'), '--no-start']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^wazuh-bpf-agent: ERROR: .*port.*line 1/m);
    expect(fs.existsSync(unitDir)).to.equal(false);
  });
});
