import { expect } from 'chai';
import { ConfigError } from '../../src/config/errors.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { defaultSyscheckConfig } from '../../src/config/syscheck.js';
import type { AgentConfig, EnrollmentConfig, ServerConfig } from '../../src/config/types.js';
import { configErrorOf } from '../support/config-corpus.js';

const FILE = '/var/ossec/etc/ossec.conf';

/** Lines joined with \n, so that line numbers in the tests are easy to count. */
const conf = (...lines: string[]) => lines.join('\n');
const parse = (...lines: string[]): AgentConfig => parseAgentConfig(conf(...lines), FILE);

const parseError = (...lines: string[]): ConfigError => configErrorOf(() => parse(...lines));

const server = (address: string, extra: Partial<ServerConfig> = {}): ServerConfig => ({
  address, port: 1514, protocol: 'tcp', maxRetries: 5, retryInterval: 10, ...extra,
});

const DEFAULT_ENROLLMENT: EnrollmentConfig = {
  enabled: true,
  port: 1515,
  authorizationPassPath: 'etc/authd.pass',
  sslCipher: 'HIGH:!ADH:!EXP:!MD5:!RC4:!3DES:!CAMELLIA:@STRENGTH',
  autoMethod: false,
  delayAfterEnrollment: 20,
  useSourceIp: false,
};

const MINIMAL = ['<ossec_config>', '  <client>', '    <server><address>10.0.0.1</address></server>', '  </client>', '</ossec_config>'];

describe('config/client: <client>, <client_buffer>, <labels>', () => {
  it("applies Wazuh's defaults to a minimal configuration", () => {
    expect(parse(...MINIMAL)).to.deep.equal({
      file: FILE,
      client: {
        servers: [server('10.0.0.1')],
        enrollment: DEFAULT_ENROLLMENT,
        notifyTime: 20,
        timeReconnect: 60,
        forceReconnectInterval: 0,
        ipUpdateInterval: 0,
        cryptoMethod: 'aes',
        autoRestart: true,
        configProfiles: [],
        verifyManagerCounters: false,
      },
      clientBuffer: { disabled: false, queueSize: 5000, eventsPerSecond: 500 },
      labels: [],
      syscheck: defaultSyscheckConfig(), // no <syscheck>: FIM disabled, as in Wazuh
      warnings: [],
    });
  });

  it('reads every option', () => {
    const config = parse(
      '<ossec_config>',
      '  <client>',
      '    <server>',
      '      <address>wazuh.example.com</address>',
      '      <port>1600</port>',
      '      <protocol>udp</protocol>',
      '      <max_retries>3</max_retries>',
      '      <retry_interval>7</retry_interval>',
      '    </server>',
      '    <enrollment>',
      '      <enabled>no</enabled>',
      '      <manager_address>enroll.example.com</manager_address>',
      '      <port>1516</port>',
      '      <agent_name>web-01</agent_name>',
      '      <groups>default,web</groups>',
      '      <agent_address>192.168.1.20</agent_address>',
      '      <ssl_cipher>HIGH:!aNULL</ssl_cipher>',
      '      <server_ca_path>/etc/wazuh/ca.pem</server_ca_path>',
      '      <agent_certificate_path>/etc/wazuh/agent.pem</agent_certificate_path>',
      '      <agent_key_path>/etc/wazuh/agent.key</agent_key_path>',
      '      <authorization_pass_path>/etc/wazuh/authd.pass</authorization_pass_path>',
      '      <auto_method>yes</auto_method>',
      '      <delay_after_enrollment>5</delay_after_enrollment>',
      '      <use_source_ip>yes</use_source_ip>',
      '    </enrollment>',
      '    <notify_time>15</notify_time>',
      '    <time-reconnect>90</time-reconnect>',
      '    <force_reconnect_interval>2h</force_reconnect_interval>',
      '    <ip_update_interval>30</ip_update_interval>',
      '    <config-profile>debian, debian12 ,,web</config-profile>',
      '    <auto_restart>no</auto_restart>',
      '    <crypto_method>aes</crypto_method>',
      '  </client>',
      '  <client_buffer>',
      '    <disabled>yes</disabled>',
      '    <queue_size>100000</queue_size>',
      '    <events_per_second>1000</events_per_second>',
      '  </client_buffer>',
      '  <labels>',
      '    <label key="aws.instance-id">i-052a1838c</label>',
      '    <label key="network.ip" hidden="yes">172.17.0.0</label>',
      '    <label key="env" hidden="no">production</label>',
      '  </labels>',
      '</ossec_config>',
    );
    expect(config).to.deep.equal({
      file: FILE,
      client: {
        servers: [server('wazuh.example.com', { port: 1600, protocol: 'udp', maxRetries: 3, retryInterval: 7 })],
        enrollment: {
          enabled: false,
          managerAddress: 'enroll.example.com',
          port: 1516,
          agentName: 'web-01',
          groups: 'default,web',
          agentAddress: '192.168.1.20',
          authorizationPassPath: '/etc/wazuh/authd.pass',
          serverCaPath: '/etc/wazuh/ca.pem',
          agentCertificatePath: '/etc/wazuh/agent.pem',
          agentKeyPath: '/etc/wazuh/agent.key',
          sslCipher: 'HIGH:!aNULL',
          autoMethod: true,
          delayAfterEnrollment: 5,
          useSourceIp: true,
        },
        notifyTime: 15,
        timeReconnect: 90,
        forceReconnectInterval: 7200,
        ipUpdateInterval: 30,
        cryptoMethod: 'aes',
        autoRestart: false,
        configProfiles: ['debian', 'debian12', 'web'],
        verifyManagerCounters: false,
      },
      clientBuffer: { disabled: true, queueSize: 100000, eventsPerSecond: 1000 },
      labels: [
        { key: 'aws.instance-id', value: 'i-052a1838c', hidden: false },
        { key: 'network.ip', value: '172.17.0.0', hidden: true },
        { key: 'env', value: 'production', hidden: false },
      ],
      syscheck: defaultSyscheckConfig(),
      warnings: [],
    });
  });

  it('keeps failover servers in file order, across <client> blocks and deprecated forms', () => {
    const config = parse(
      '<ossec_config>',
      '  <client>',
      '    <server><address>10.0.0.1</address></server>',
      '    <server-ip>10.0.0.2</server-ip>',
      '    <server><address>fd00::3</address><port>1601</port></server>',
      '    <port>1700</port>',
      '    <protocol>udp</protocol>',
      '  </client>',
      '</ossec_config>',
      '<ossec_config>',
      '  <client>',
      '    <server-hostname>manager-4.example.com</server-hostname>',
      '    <server><address>manager-5.example.com</address></server>',
      '  </client>',
      '</ossec_config>',
    );
    // The deprecated <port>/<protocol> of a block apply to that block's <server-ip>/<server-hostname>
    // servers only, even when written after them (client-config.c:215-225).
    expect(config.client.servers).to.deep.equal([
      server('10.0.0.1'),
      server('10.0.0.2', { port: 1700, protocol: 'udp' }),
      server('fd00::3', { port: 1601 }),
      server('manager-4.example.com'),
      server('manager-5.example.com'),
    ]);
  });

  it('merges several <client> blocks: later values win, enrollment option by option', () => {
    const config = parse(
      '<ossec_config>',
      '  <client>',
      '    <server><address>10.0.0.1</address></server>',
      '    <notify_time>15</notify_time>',
      '    <enrollment><agent_name>a</agent_name><groups>g1</groups></enrollment>',
      '  </client>',
      '  <client>',
      '    <notify_time>25</notify_time>',
      '    <enrollment><agent_name>b</agent_name></enrollment>',
      '  </client>',
      '</ossec_config>',
    );
    expect(config.client.notifyTime).to.equal(25);
    expect(config.client.enrollment).to.deep.equal({ ...DEFAULT_ENROLLMENT, agentName: 'b', groups: 'g1' });
  });

  it('warns about deprecated forms, naming file, line and option', () => {
    const config = parse(
      '<ossec_config>',
      '  <client>',
      '    <server-ip>10.0.0.1</server-ip>',
      '    <server-hostname>wazuh.example.com</server-hostname>',
      '    <port>1514</port>',
      '    <protocol>tcp</protocol>',
      '  </client>',
      '  <client_buffer>',
      '    <disable>no</disable>',
      '    <length>300</length>',
      '  </client_buffer>',
      '</ossec_config>',
    );
    expect(config.warnings.map((w) => w.text)).to.deep.equal([
      // client-config.c:65, 74, 84, 176; buffer-config.c:65 (<disable> is read as <disabled> without a word, buffer-config.c:44)
      `The <server-ip> tag is deprecated, please use <server><address> instead. File ${FILE}, line 3, option <client><server-ip>.`,
      `The <server-hostname> tag is deprecated, please use <server><address> instead. File ${FILE}, line 4, option <client><server-hostname>.`,
      `The <port> tag is deprecated, please use <server><port> instead. File ${FILE}, line 5, option <client><port>.`,
      `The <protocol> tag is deprecated, please use <server><protocol> instead. File ${FILE}, line 6, option <client><protocol>.`,
      `The <length> tag is deprecated for version newer than 2.1.1, please use <queue_size> instead. File ${FILE}, line 10, option <client_buffer><length>.`,
    ]);
    expect(config.warnings.map((w) => w.level)).to.deep.equal(['WARNING', 'WARNING', 'WARNING', 'WARNING', 'WARNING']);
    expect(config.clientBuffer.queueSize).to.equal(300);
  });

  const adjustments: { name: string; options: string[]; expected: Partial<AgentConfig['client']>; warning?: RegExp }[] = [
    { name: '0 for notify_time and time-reconnect means the defaults (20, 60)',
      options: ['<notify_time>0</notify_time>', '<time-reconnect>0</time-reconnect>'],
      expected: { notifyTime: 20, timeReconnect: 60 } },
    { name: 'time-reconnect not above notify_time becomes notify_time*3',
      options: ['<notify_time>30</notify_time>', '<time-reconnect>30</time-reconnect>'],
      expected: { notifyTime: 30, timeReconnect: 90 },
      // client-agent/main.c:228-231, an INFO line in Wazuh
      warning: /^Max time to reconnect can't be less than notify_time\(30\), using notify_time\*3 \(90\)\. .*, line 4, option <client><time-reconnect>\.$/ },
    { name: 'time spans in s, m, h, d, w for force_reconnect_interval',
      options: ['<force_reconnect_interval>3d</force_reconnect_interval>'], expected: { forceReconnectInterval: 259200 } },
    { name: 'a bad force_reconnect_interval is only a warning, as in Wazuh',
      options: ['<force_reconnect_interval>2 hours</force_reconnect_interval>'], expected: { forceReconnectInterval: 0 },
      // client-config.c:137-143: (1235) and the value before kept
      warning: /^\(1235\): Invalid value for element 'force_reconnect_interval': 2 hours\. File .*, line 3,/ },
    { name: 'disable-active-response is accepted and ignored',
      options: ['<disable-active-response>yes</disable-active-response>'], expected: {},
      warning: /^The <disable-active-response> element has no effect in wazuh-bpf-agent/ },
    { name: 'local_ip is accepted and ignored, as in Wazuh',
      options: ['<local_ip>10.0.0.9</local_ip>'], expected: {}, warning: /^The <local_ip> tag has no functionality, so it will have no effect\. File/ },
  ];
  for (const { name, options, expected, warning } of adjustments) {
    it(name, () => {
      const config = parse('<ossec_config>', '  <client>', ...options.map((o) => `    ${o}`),
        '    <server><address>10.0.0.1</address></server>', '  </client>', '</ossec_config>');
      expect(config.client).to.include(expected);
      if (warning) {
        expect(config.warnings).to.have.length(1);
        expect(config.warnings[0]!.text).to.match(warning);
      } else {
        expect(config.warnings.map((w) => w.text)).to.deep.equal([]);
      }
    });
  }

  it('raises events_per_second below agent.min_eps (50) to 50, with a warning', () => {
    const config = parse(...MINIMAL.slice(0, -1), '  <client_buffer><events_per_second>10</events_per_second></client_buffer>', '</ossec_config>');
    expect(config.clientBuffer.eventsPerSecond).to.equal(50);
    expect(config.warnings.map((w) => w.text)).to.deep.equal([
      // client-agent/config.c:85-88
      `Client buffer throughput too low: set to 50 eps. File ${FILE}, line 5, option <client_buffer><events_per_second>.`,
    ]);
  });

  it('accepts interface_index but warns that it has no effect', () => {
    const config = parse('<ossec_config><client>',
      '<server><address>fe80::1</address><interface_index>2</interface_index></server>', '</client></ossec_config>');
    expect(config.client.servers).to.deep.equal([server('fe80::1')]);
    expect(config.warnings[0]!.text).to.match(/^The <interface_index> element has no effect .* option <client><server><interface_index>\.$/);
  });

  it('keeps a placeholder server when another one is real', () => {
    const config = parse('<ossec_config><client>', '<server><address>MANAGER_IP</address></server>',
      '<server><address>10.0.0.1</address></server>', '</client></ossec_config>');
    expect(config.client.servers.map((s) => s.address)).to.deep.equal(['MANAGER_IP', '10.0.0.1']);
  });

  describe('labels', () => {
    const labelsOf = (...labels: string[]) => parse(...MINIMAL.slice(0, -1), '  <labels>', ...labels, '  </labels>', '</ossec_config>');

    it('a key given again keeps its place and takes the later value and hidden flag', () => {
      const config = labelsOf('<label key="a">1</label>', '<label key="b">2</label>', '<label key="a" hidden="yes">3</label>');
      expect(config.labels).to.deep.equal([{ key: 'a', value: '3', hidden: true }, { key: 'b', value: '2', hidden: false }]);
    });

    it('labels from several <labels> blocks accumulate', () => {
      const config = parse(...MINIMAL.slice(0, -1), '<labels><label key="a">1</label></labels>',
        '<labels><label key="b">2</label></labels>', '</ossec_config>');
      expect(config.labels.map((l) => l.key)).to.deep.equal(['a', 'b']);
    });

    const warned: { name: string; label: string; labels: AgentConfig['labels']; warning: RegExp }[] = [
      { name: 'skips keys starting with _ (reserved by Wazuh)', label: '<label key="_agent_ip">x</label>', labels: [],
        warning: /^Label keys starting with "_"  are reserved for internal use\. Skipping label '_agent_ip'\. .*, line 6, option <labels><label>\.$/ },
      { name: 'keeps an empty label, with a warning', label: '<label key="empty"></label>',
        labels: [{ key: 'empty', value: '', hidden: false }], warning: /^Label 'empty' is empty\./ },
      { name: 'warns about unknown attributes', label: '<label key="k" hiden="yes">v</label>',
        labels: [{ key: 'k', value: 'v', hidden: false }], warning: /^Unknown attribute 'hiden' of <label>; ignored\./ },
    ];
    for (const { name, label, labels, warning } of warned) {
      it(name, () => {
        const config = labelsOf(label);
        expect(config.labels).to.deep.equal(labels);
        expect(config.warnings).to.have.length(1);
        expect(config.warnings[0]!.text).to.match(warning);
      });
    }

    it('rejects a label with an empty key', () => {
      const error = parseError(...MINIMAL.slice(0, -1), '<labels>', '<label key="">x</label>', '</labels>', '</ossec_config>');
      expect([error.reason, error.line, error.option]).to.deep.equal(['Label with empty key', 6, 'labels.label']);
    });
  });

  describe('sections', () => {
    it('warns once per ignored section and rejects names Wazuh does not know', () => {
      const localfile = '<localfile><location>/var/log/syslog</location></localfile>';
      const config = parse(...MINIMAL.slice(0, -1), localfile, '<wodle name="a"/>', localfile, '<rootcheck/>', '</ossec_config>');
      expect(config.warnings.map((w) => w.text)).to.deep.equal([
        `Section <localfile> is not used by wazuh-bpf-agent; ignored. File ${FILE}, line 5.`,
        `Section <wodle> is not used by wazuh-bpf-agent; ignored. File ${FILE}, line 6.`,
        `Section <rootcheck> is not used by wazuh-bpf-agent; ignored. File ${FILE}, line 8.`,
      ]);
      const error = parseError(...MINIMAL.slice(0, -1), '<syscheckk/>', '</ossec_config>');
      expect([error.line, error.option]).to.deep.equal([5, 'syscheckk']);
    });

    it('reads sections from every <ossec_config> block, whatever the order', () => {
      const config = parse('<ossec_config><labels><label key="a">1</label></labels></ossec_config>',
        '<ossec_config><client><server><address>10.0.0.1</address></server></client></ossec_config>');
      expect(config.client.servers).to.have.length(1);
      expect(config.labels).to.have.length(1);
    });
  });

  describe('error messages', () => {
    it('are one line in the documented format', () => {
      const error = parseError('<ossec_config>', '  <client>', '    <server>', '      <address>10.0.0.1</address>',
        '      <port>70000</port>', '    </server>', '  </client>', '</ossec_config>');
      expect(error.message).to.equal(
        `(1235): Invalid value for element 'port': 70000. Must be 1-65535. File ${FILE}, line 5, option <client><server><port>.`);
      expect([error.file, error.line, error.option]).to.deep.equal([FILE, 5, 'client.server.port']);
    });

    it("escape line breaks (the value is given whole, as in Wazuh's line)", () => {
      const error = parseError('<ossec_config><client><server><address>10.0.0.1</address>',
        `<protocol>tcp\nudp${'x'.repeat(200)}</protocol>`, '</server></client></ossec_config>');
      expect(error.message).to.not.include('\n');
      expect(error.message).to.equal(`(1235): Invalid value for element 'protocol': tcp\\nudp${'x'.repeat(200)}. Must be tcp or udp. File ${FILE}, line 2, option <client><server><protocol>.`);
    });

    it('give the line and column of XML syntax errors', () => {
      const error = parseError('<ossec_config>', '  <client>', '    <server>', '  </client>', '</ossec_config>');
      expect(error.message).to.equal('XML syntax error: mismatched closing tag </client>: expected </server> '
        + `(opened at line 3). File ${FILE}, line 4, column 3, option <client><server>.`);
    });
  });
});
