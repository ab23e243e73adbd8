// Wazuh's internal options beside ossec.conf (validate_op.c getDefine_Int): the local file wins,
// a bad value is Wazuh's (2302) naming file and line, a missing one keeps the stock default.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { internalInt, parseDefinitions } from '../../src/config/internal-options.js';
import { loadAgentConfig } from '../../src/config/load.js';
import { tempDir } from '../support/manager.js';

const CONF = '<ossec_config><client><server><address>127.0.0.1</address></server></client><syscheck><directories>/tmp</directories></syscheck></ossec_config>';

describe('config: internal_options.conf and local_internal_options.conf', () => {
  let tmp: { dir: string; cleanup: () => void };
  let conf: string;
  beforeEach(() => {
    tmp = tempDir('wba-internal');
    conf = path.join(tmp.dir, 'ossec.conf');
    fs.writeFileSync(conf, CONF, { mode: 0o640 });
  });
  afterEach(() => tmp.cleanup());

  it('reads name=value lines, skipping comments, blank lines and what follows a value', () => {
    const defs = parseDefinitions('# comment\n\nsyscheck.file_max_size=1024\nsyscheck.rt_delay=5 # ms\r\nbad line\nsyscheck.file_max_size=7\n');
    expect(defs.get('syscheck.file_max_size')).to.deep.equal({ value: '1024', line: 3 });
    expect(defs.get('syscheck.rt_delay')).to.deep.equal({ value: '5', line: 4 });
    expect(defs.size).to.equal(2);
  });

  it('file_max_size: Wazuh stock 1024 MB without files; the local file wins over the stock one; 0 is kept (hash nothing)', () => {
    expect(loadAgentConfig(conf).syscheck.fileMaxSize).to.equal(1024 * 1024 * 1024);
    fs.writeFileSync(path.join(tmp.dir, 'internal_options.conf'), '# stock\nsyscheck.file_max_size=2048\n');
    expect(loadAgentConfig(conf).syscheck.fileMaxSize).to.equal(2048 * 1024 * 1024);
    fs.writeFileSync(path.join(tmp.dir, 'local_internal_options.conf'), 'syscheck.file_max_size=0\n');
    expect(loadAgentConfig(conf).syscheck.fileMaxSize).to.equal(0);
  });

  it("verify_msg_id: off without files, as in Wazuh's stock internal_options.conf; 1 turns it on; 2 is Wazuh's (2302)", () => {
    expect(loadAgentConfig(conf).client.verifyManagerCounters).to.equal(false);
    fs.writeFileSync(path.join(tmp.dir, 'internal_options.conf'), 'remoted.verify_msg_id=0\n');
    const local = path.join(tmp.dir, 'local_internal_options.conf');
    fs.writeFileSync(local, 'remoted.verify_msg_id=1\n');
    expect(loadAgentConfig(conf).client.verifyManagerCounters).to.equal(true);
    fs.writeFileSync(local, 'remoted.verify_msg_id=2\n');
    expect(() => loadAgentConfig(conf)).to.throw(ConfigError, `(2302): Invalid definition for remoted.verify_msg_id: '2' (must be 0-1). File ${local}, line 1.`);
  });

  it("a value that is not a whole number in 0..4095 is Wazuh's (2302), naming file and line", () => {
    for (const bad of ['4096', '-1', '1e3', 'big', '']) {
      const local = path.join(tmp.dir, 'local_internal_options.conf');
      fs.writeFileSync(local, `# x\nsyscheck.file_max_size=${bad}\n`);
      let err: unknown;
      try {
        internalInt(tmp.dir, 'syscheck', 'file_max_size', 0, 4095, 1024);
      } catch (e) {
        err = e;
      }
      expect(err, bad).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).message).to.equal(`(2302): Invalid definition for syscheck.file_max_size: '${bad}' (must be 0-4095). File ${local}, line 2.`);
    }
  });
});
