import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { loadAgentConfig, parseAgentConfig } from '../../src/config/load.js';
import { FIXTURES } from '../support/fixtures.js';

const GOOD = path.join(FIXTURES, 'config', 'good');
const BROKEN = path.join(FIXTURES, 'config', 'broken');

/** Every file in test/fixtures/config/broken: the line and option its ConfigError must name. */
const BROKEN_CONFIGS: { file: string; line: number | undefined; option: string | undefined; reason: RegExp }[] = [
  // XML syntax
  { file: 'xml-unclosed-tag.conf', line: 11, option: 'labels', reason: /mismatched closing tag <\/ossec_config>: expected <\/labels> \(opened at line 8\)/ },
  { file: 'xml-unclosed-at-eof.conf', line: 8, option: 'client_buffer', reason: /unclosed tag <client_buffer> opened at line 8/ },
  { file: 'xml-mismatched-tag.conf', line: 5, option: 'client.server.port', reason: /mismatched closing tag <\/prot>/ },
  { file: 'xml-unterminated-comment.conf', line: 6, option: 'client', reason: /unterminated comment/ },
  { file: 'xml-unquoted-attribute.conf', line: 8, option: 'labels.label', reason: /value of attribute 'key' of <label> must be quoted/ },
  { file: 'xml-duplicate-attribute.conf', line: 8, option: 'labels.label', reason: /duplicate attribute 'key' in <label>/ },
  { file: 'xml-text-outside-element.conf', line: 8, option: undefined, reason: /text outside an element/ },
  { file: 'xml-closing-without-opening.conf', line: 8, option: undefined, reason: /closing tag <\/ossec_config> has no matching opening tag/ },
  { file: 'xml-bad-element-name.conf', line: 4, option: 'client.server', reason: /invalid element name/ },
  // Structure
  { file: 'wrong-root.conf', line: 1, option: 'agent_config', reason: /Invalid element in the configuration: 'agent_config'/ },
  { file: 'unknown-section.conf', line: 8, option: 'sycheck', reason: /Invalid element in the configuration: 'sycheck'/ },
  { file: 'unknown-element-client.conf', line: 6, option: 'client.notify-time', reason: /Invalid element in the configuration: 'notify-time'/ },
  { file: 'unknown-element-enrollment.conf', line: 8, option: 'client.enrollment.agent-name', reason: /Invalid element .*'agent-name'/ },
  { file: 'value-with-child-elements.conf', line: 5, option: 'client.server.port', reason: /takes a value, not child elements/ },
  { file: 'no-server.conf', line: 2, option: 'client.server', reason: /No manager configured/ },
  { file: 'no-client-section.conf', line: undefined, option: 'client.server', reason: /No manager configured/ },
  { file: 'server-without-address.conf', line: 6, option: 'client.server.address', reason: /No <address> in this <server> block/ },
  // Values
  { file: 'empty-value.conf', line: 6, option: 'client.notify_time', reason: /Empty value for element 'notify_time'/ },
  { file: 'protocol-unknown.conf', line: 6, option: 'client.server.protocol', reason: /'sctp' \(must be tcp or udp\)/ },
  { file: 'port-zero.conf', line: 5, option: 'client.server.port', reason: /'0' \(must be 1-65535\)/ },
  { file: 'port-too-big.conf', line: 9, option: 'client.server.port', reason: /'70000' \(must be 1-65535\)/ },
  { file: 'port-not-a-number.conf', line: 7, option: 'client.enrollment.port', reason: /'abc' \(must be 1-65535\)/ },
  { file: 'negative-notify-time.conf', line: 6, option: 'client.notify_time', reason: /'-10' \(must be 0-2147483647\)/ },
  { file: 'max-retries-zero.conf', line: 5, option: 'client.server.max_retries', reason: /'0' \(must be 1-2147483647\)/ },
  { file: 'delay-after-enrollment-zero.conf', line: 7, option: 'client.enrollment.delay_after_enrollment', reason: /'0' \(must be 1-/ },
  { file: 'crypto-blowfish.conf', line: 6, option: 'client.crypto_method', reason: /'blowfish' is not supported by wazuh-bpf-agent, use aes/ },
  { file: 'bad-yes-no.conf', line: 6, option: 'client.auto_restart', reason: /'true' \(must be yes or no\)/ },
  { file: 'placeholder-address.conf', line: 4, option: 'client.server.address', reason: /Invalid server address found: 'MANAGER_IP'/ },
  { file: 'hostname-with-slash.conf', line: 4, option: 'client.server.address', reason: /Invalid hostname: 'wazuh.example.com\/24'/ },
  { file: 'server-ip-not-an-ip.conf', line: 3, option: 'client.server-ip', reason: /Invalid IP address: 'wazuh.example.com'/ },
  { file: 'queue-size-out-of-range.conf', line: 9, option: 'client_buffer.queue_size', reason: /'100001' \(must be 1-100000\)/ },
  { file: 'events-per-second-out-of-range.conf', line: 8, option: 'client_buffer.events_per_second', reason: /'1001' \(must be 1-1000\)/ },
  { file: 'label-without-key.conf', line: 9, option: 'labels.label', reason: /Expected 'key' attribute for label/ },
  { file: 'label-hidden-not-yes-no.conf', line: 8, option: 'labels.label', reason: /attribute 'hidden': 'true' \(must be yes or no\)/ },
];

describe('config corpus', () => {
  describe("Wazuh 4.14.7's default agent ossec.conf (gen_ossec.sh + add_localfiles.sh, Debian 12)", () => {
    const file = path.join(GOOD, 'wazuh-default-agent.conf');

    it('loads with only "section ignored" warnings, one per section', () => {
      const config = loadAgentConfig(file);
      expect(config.file).to.equal(file);
      const ignored = ['rootcheck', 'wodle', 'sca', 'syscheck', 'localfile', 'active-response', 'logging'];
      expect(config.warnings).to.have.length(ignored.length);
      config.warnings.forEach((warning, i) => {
        expect(warning).to.match(new RegExp(`^Section <${ignored[i]}> is not used by wazuh-bpf-agent; ignored\\. File ${file}, line \\d+\\.$`));
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
    let state = 7;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    for (let i = 0; i < 1000; i++) {
      // Mutations inside the <client>/<client_buffer> part, where the readers look.
      const at = random(900);
      const mutated = random(2) === 0
        ? text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at)
        : text.slice(0, at) + text.slice(at + 1 + random(10));
      try {
        parseAgentConfig(mutated, '/x.conf');
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`${String(e)} for input ${JSON.stringify(mutated.slice(0, 900))}`);
        expect(e.message).to.not.match(/[\r\n]/);
      }
    }
  });
});
