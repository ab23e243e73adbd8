import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { loadAgentConfig, parseAgentConfig } from '../../src/config/load.js';
import { BROKEN, BROKEN_CONFIGS, parseMutations } from '../support/config-corpus.js';
import { FIXTURES } from '../support/fixtures.js';

const GOOD = path.join(FIXTURES, 'config', 'good');



describe('config corpus', () => {
  describe("Wazuh 4.14.7's default agent ossec.conf (gen_ossec.sh + add_localfiles.sh, Debian 12)", () => {
    const file = path.join(GOOD, 'wazuh-default-agent.conf');

    it('loads with no Wazuh warning, only "section ignored" remarks (INFO), one per section', () => {
      const config = loadAgentConfig(file);
      expect(config.file).to.equal(file);
      const ignored = ['rootcheck', 'wodle', 'sca', 'localfile', 'active-response', 'logging'];
      expect(config.warnings.map((w) => w.level)).to.deep.equal(ignored.map(() => 'INFO'));
      config.warnings.forEach((warning, i) => {
        expect(warning.text).to.match(new RegExp(`^Section <${ignored[i]}> is not used by wazuh-bpf-agent; ignored\\. File ${file}, line \\d+\\.$`));
      });
    });

    it('gives the installed client settings', () => {
      const { client, clientBuffer, labels } = loadAgentConfig(file);
      expect(client.servers).to.deep.equal([{ address: '127.0.0.1', port: 1514, protocol: 'tcp', maxRetries: 5, retryInterval: 10 }]);
      expect(client).to.include({ notifyTime: 20, timeReconnect: 60, autoRestart: true, cryptoMethod: 'aes' });
      expect(client.configProfiles).to.deep.equal(['debian', 'debian12']);
      expect(clientBuffer).to.deep.equal({ disabled: false, queueSize: 5000, eventsPerSecond: 500 });
      expect(labels).to.deep.equal([]);
    });

    it('fails on the unedited MANAGER_IP placeholder, as wazuh-agentd does', () => {
      const text = fs.readFileSync(file, 'utf8').replace('<address>127.0.0.1</address>', '<address>MANAGER_IP</address>');
      expect(() => parseAgentConfig(text, file)).to.throw(ConfigError, /Invalid server address found: 'MANAGER_IP'.*line 10, option <client><server><address>\.$/);
    });
  });

  describe('broken configurations', () => {
    it('the table lists every file of the corpus', () => {
      expect(BROKEN_CONFIGS.map((c) => c.file).sort()).to.deep.equal(fs.readdirSync(BROKEN).sort());
      expect(BROKEN_CONFIGS.length).to.be.at.least(18);
    });

    for (const { file, line, option, reason } of BROKEN_CONFIGS) {
      it(`${file}: line ${line ?? '-'}, option ${option ?? '-'}`, () => {
        const absolute = path.join(BROKEN, file);
        let error: unknown;
        try {
          loadAgentConfig(absolute);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(ConfigError);
        const configError = error as ConfigError;
        expect(configError.file).to.equal(absolute);
        expect(configError.line).to.equal(line);
        expect(configError.option).to.equal(option);
        expect(configError.reason).to.match(reason);
        expect(configError.message).to.not.match(/[\r\n]/);
        expect(configError.message).to.not.match(/\bat .*:\d+:\d+/);
        expect(configError.message).to.include(`File ${absolute}`);
        if (line !== undefined) expect(configError.message).to.include(`, line ${line}`);
      });
    }
  });

  it('a missing file is a ConfigError naming it', () => {
    const missing = path.join(BROKEN, 'does-not-exist.conf');
    expect(() => loadAgentConfig(missing)).to.throw(ConfigError,
      `Cannot read the configuration file: no such file or directory (ENOENT). File ${missing}.`);
  });

  it('mutations of the default configuration throw nothing but ConfigError', function () {
    this.timeout(20000);
    const text = fs.readFileSync(path.join(GOOD, 'wazuh-default-agent.conf'), 'utf8');
    const pieces = ['<', '>', '/', '"', '=', '&', '\n', 'x', '0', '-', '</client>', '<server>', '<port>', '<!--'];
    parseMutations(text, { start: 0, span: 900, pieces, seed: 7 }); // inside <client>/<client_buffer>, where the readers look
  });
});
