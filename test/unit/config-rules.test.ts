// The consequence of each rule of issue 17 ("verdicts as Wazuh 4.14.7 gives them"), on the
// verdict cases of test/fixtures/config/verdicts: config-verdicts.test.ts shows that we log the
// lines the real daemons logged; this shows what follows from them here (the default kept, a
// line's paths dropped, FIM disabled, the file refused). Each title cites the Wazuh 4.14.7 source
// line the rule follows.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { parseAgentConfig } from '../../src/config/load.js';
import { REAL_HOST, defaultSyscheckConfig } from '../../src/config/syscheck.js';
import type { AgentConfig } from '../../src/config/types.js';
import { configErrorOf } from '../support/config-corpus.js';
import { FIXTURES } from '../support/fixtures.js';

const VERDICTS = path.join(FIXTURES, 'config', 'verdicts');
const DEFAULTS = defaultSyscheckConfig();

function load(name: string): AgentConfig {
  const file = path.join(VERDICTS, `${name}.conf`);
  return parseAgentConfig(fs.readFileSync(file, 'utf8'), file, { env: {}, pathExists: REAL_HOST.pathExists });
}

const monitored = (config: AgentConfig) => config.syscheck.directories.map((d) => d.path);
const messages = (config: AgentConfig) => config.warnings.filter((w) => w.level !== 'INFO').map((w) => w.message);

/** FIM disabled, the agent running on: syscheckd/src/main.c:134-136 after Read_Syscheck's OS_INVALID. */
function expectSyscheckInvalid(config: AgentConfig, cause: string): void {
  expect(config.syscheck.disabled).to.equal(true);
  expect(config.syscheck.directories).to.deep.equal([]);
  expect(config.client.servers.map((s) => s.address)).to.deep.equal(['10.0.0.1']);
  expect(messages(config).slice(-3)).to.deep.equal([
    cause, `(1202): Configuration error at '${config.file}'.`, `(1207): syscheck remote configuration in '${config.file}' is corrupted.`,
  ]);
  expect(config.warnings.at(-1)!.option).to.equal('syscheck');
}

describe('config rules: what follows from each of Wazuh 4.14.7\'s verdicts', () => {
  describe('unknown elements', () => {
    it('inside <syscheck>: (1230), skipped, the rest read (syscheck-config.c:2226)', () => {
      const config = load('syscheck-unknown-element');
      expect(config.syscheck.frequency).to.equal(DEFAULTS.frequency);
      expect(monitored(config)).to.deep.equal(['/etc']);
      expect(config.warnings[0]).to.include({ level: 'WARNING', line: 8, option: 'syscheck.frecuency' });
    });

    it('inside <synchronization>: (1230), skipped (syscheck-config.c:1289)', () => {
      const config = load('sync-unknown-element');
      expect(config.syscheck.synchronization).to.deep.equal(DEFAULTS.synchronization);
      expect(config.syscheck.disabled).to.equal(false);
    });

    it('inside <diff> or <file_limit>: skipped silently (parse_diff has no else, syscheck-config.c:1390-1611; 1783-1822)', () => {
      expect(load('diff-unknown-element').warnings).to.deep.equal([]);
      expect(load('diff-unknown-element').syscheck.diff).to.deep.equal(DEFAULTS.diff);
      expect(load('file-limit-unknown-child').syscheck.fileLimit).to.deep.equal(DEFAULTS.fileLimit);
    });
  });

  describe('invalid values that keep the default', () => {
    for (const name of ['max-eps-not-a-number', 'max-eps-out-of-range']) {
      it(`${name}: (1235), max_eps stays ${DEFAULTS.maxEps} (syscheck-config.c:2192-2199)`, () => {
        const config = load(name);
        expect(config.syscheck).to.include({ disabled: false, maxEps: DEFAULTS.maxEps });
        expect(monitored(config)).to.deep.equal(['/etc']);
      });
    }

    const sync: [string, keyof AgentConfig['syscheck']['synchronization'], string][] = [
      ['sync-enabled-true', 'enabled', '1215-1222'], ['sync-interval-words', 'interval', '1223-1230'],
      ['sync-interval-zero', 'interval', '1223-1230'], ['sync-max-interval-bad', 'maxInterval', '1231-1238'],
      ['sync-response-timeout-bad', 'responseTimeout', '1239-1246'], ['sync-queue-size-too-small', 'queueSize', '1247-1256'],
      ['sync-max-eps-negative', 'maxEps', '1257-1265'], ['sync-thread-pool-zero', 'threadPool', '1276-1287'],
    ];
    for (const [name, field, lines] of sync) {
      it(`${name}: (1235), <synchronization> ${field} keeps its default (syscheck-config.c:${lines})`, () => {
        const config = load(name);
        expect(config.syscheck.synchronization[field]).to.equal(DEFAULTS.synchronization[field]);
        expect(config.syscheck.disabled).to.equal(false);
        expect(config.warnings[0]!.level).to.equal('WARNING');
        expect(config.warnings[0]!.option).to.match(/^syscheck\.synchronization\.[a-z_]+$/);
      });
    }

    it("max_interval below interval is raised to it, with Wazuh's warning (syscheck-config.c:1293-1296)", () => {
      const config = load('sync-max-interval-below-interval');
      expect(config.syscheck.synchronization).to.include({ interval: 600, maxInterval: 600 });
    });

    it('an unknown <database> value is ignored silently: disk stays (syscheck-config.c:1743-1750)', () => {
      const config = load('database-unknown');
      expect(config.syscheck.database).to.equal('disk');
      expect(config.warnings).to.deep.equal([]);
    });
  });

  describe('invalid values that make the whole <syscheck> invalid (Read_Syscheck returns OS_INVALID)', () => {
    const cases: [string, string, string][] = [
      ['frequency-with-unit', "(1235): Invalid value for element 'frequency': 12h.", '1753-1760'],
      ['scan-time-bad', "(1235): Invalid value for element 'scan_time': 25:00.", '1762-1769'],
      ['scan-day-bad', "(1235): Invalid value for element 'scan_day': someday.", '1772-1780'],
      ['file-limit-enabled-bad', "(1235): Invalid value for element 'enabled': true.", '1788-1799'],
      ['file-limit-entries-bad', "(1235): Invalid value for element 'entries': lots.", '1801-1806'],
      ['scan-on-start-bad', "(1235): Invalid value for element 'scan_on_start': 1.", '1872-1881'],
      ['disabled-false', "(1235): Invalid value for element 'disabled': false.", '1884-1893'],
      ['skip-nfs-bad', "(1235): Invalid value for element 'skip_nfs': on.", '1896-1906'],
      ['process-priority-out-of-range', "(1235): Invalid value for element 'process_priority': 20.", '2162-2171'],
      ['max-files-per-second-negative', "(1235): Invalid value for element 'max_files_per_second': -1.", '2218-2224'],
      ['allow-remote-prefilter-bad', "(1235): Invalid value for element 'allow_remote_prefilter_cmd': maybe.", '2202-2216'],
      ['restart-audit-bad', "(1235): Invalid value for element 'restart_audit': always.", '2070-2080'],
      ['whodata-provider-unknown', "(1235): Invalid value for element 'provider': kprobe.", '2129-2139'],
      ['whodata-queue-size-bad', "(1235): Invalid value for element 'queue_size': 5.", '2141-2150'],
      ['whodata-unknown-child', '(1231): Invalid NULL element in the configuration.', '2154-2158'],
      ['ignore-type-regex', "(6679): Invalid attribute 'type' for 'ignore' option.", '1952-1963'],
      ['prefilter-cmd-missing', "(1235): Invalid value for element 'prefilter_cmd': /usr/sbin/no-such-prelink -y.", '2063-2066'],
    ];
    for (const [name, cause, lines] of cases) {
      it(`${name}: FIM disabled, the agent still connects (syscheck-config.c:${lines}; syscheckd/src/main.c:134-136)`, () => {
        expectSyscheckInvalid(load(name), cause);
      });
    }

    it('a bad whodata queue_size is logged as an ERROR, the others as WARNING (syscheck-config.c:2146)', () => {
      expect(load('whodata-queue-size-bad').warnings[0]!.level).to.equal('ERROR');
      expect(load('frequency-with-unit').warnings[0]!.level).to.equal('WARNING');
    });

    it('a prefilter_cmd whose program exists keeps <syscheck> valid (syscheck-config.c:2058-2066)', () => {
      const config = load('prefilter-cmd-present');
      expect(config.syscheck.disabled).to.equal(false);
      expect(messages(config)).to.deep.equal([]);
    });
  });

  describe('<directories> attributes', () => {
    const skipped: [string, string, string][] = [
      ['directories-check-all-maybe', "(6924): Invalid option 'maybe' for attribute 'check_all'. The paths '/etc,/usr/bin' will not be monitored.", '815'],
      ['directories-realtime-true', "(6924): Invalid option 'true' for attribute 'realtime'. The paths '/etc' will not be monitored.", '951'],
      ['directories-diff-size-limit-bytes', "(6924): Invalid option '100B' for attribute 'diff_size_limit'. The paths '/etc' will not be monitored.", '1032'],
      ['directories-recursion-level-words', "(1235): Invalid value for element 'recursion_level': deep.", '992'],
    ];
    for (const [name, message, line] of skipped) {
      it(`${name}: that line's paths are not monitored, the rest is (syscheck-config.c:${line}, goto out_free)`, () => {
        const config = load(name);
        expect(monitored(config)).to.deep.equal(['/var/www']);
        expect(config.syscheck.disabled).to.equal(false);
        expect(messages(config)).to.deep.equal([message]);
        expect(config.warnings[0]).to.include({ line: 8, option: 'syscheck.directories' });
      });
    }

    it('an unknown attribute: (6701), the directory monitored with the defaults (syscheck-config.c:1049)', () => {
      const [dir] = load('directories-unknown-attribute').syscheck.directories;
      expect(dir).to.include({ path: '/etc', realtime: false, recursionLevel: 256 });
    });

    it("recursion_level over 320: Wazuh's message says 320, its code sets the default 256 (syscheck-config.c:999-1001)", () => {
      const config = load('directories-recursion-level-too-big');
      expect(config.syscheck.directories[0]).to.include({ path: '/etc', recursionLevel: 256 });
      expect(messages(config)).to.deep.equal(["Recursion level '321' exceeding limit. Setting 320."]);
    });

    it('empty <directories/> are accepted and add nothing (syscheck-config.c:1114-1118)', () => {
      const config = load('directories-empty');
      expect(monitored(config)).to.deep.equal(['/etc']);
      expect(config.warnings).to.deep.equal([]);
    });
  });

  describe('<diff>', () => {
    it('a bad limit stops reading <diff>: stored as -1 KB (no diff fits), the later <nodiff> not read (syscheck-config.c:1590-1596)', () => {
      const { syscheck } = load('diff-file-size-limit-bytes');
      expect(syscheck.diff.diskQuota.limitKb).to.equal(2 * 1024 * 1024); // read before the bad value
      expect(syscheck.diff.fileSize.limitKb).to.equal(-1);
      expect(syscheck.directories[0]!.diffSizeLimitKb).to.equal(-1); // syscheckd/src/config.c:48-52
      expect(syscheck.nodiff).to.deep.equal([]);
      expect(syscheck.disabled).to.equal(false);
    });

    it('a bad enabled stops reading <diff> where it is (syscheck-config.c:1540-1543)', () => {
      const { syscheck } = load('diff-disk-quota-enabled-bad');
      expect(syscheck.diff).to.deep.equal(DEFAULTS.diff);
      expect(syscheck.nodiff).to.deep.equal([]);
    });

    it('a <nodiff> attribute other than type="sregex": (6679) and the rest of <diff> not read (syscheck-config.c:1437-1441)', () => {
      const { syscheck } = load('diff-nodiff-type-regex');
      expect(syscheck.diff.fileSize.limitKb).to.equal(DEFAULTS.diff.fileSize.limitKb);
      expect(syscheck.disabled).to.equal(false);
    });
  });

  it('an empty <ignore type="sregex"/> is accepted: a pattern that matches every path (syscheck-config.c:1952-1958)', () => {
    const config = load('ignore-sregex-empty');
    // both elements added: Wazuh does not drop a repeated pattern
    expect(config.syscheck.ignore).to.deep.equal([{ type: 'sregex', value: '' }, { type: 'sregex', value: '' }]);
    expect(config.warnings).to.deep.equal([]);
  });

  describe('<client> and <client_buffer>', () => {
    it('events_per_second below agent.min_eps: raised to 50 with a warning (client-agent/config.c:85-88)', () => {
      const config = load('client-buffer-eps-below-minimum');
      expect(config.clientBuffer.eventsPerSecond).to.equal(50);
      expect(config.warnings.map((w) => [w.level, w.message])).to.deep.equal([['WARNING', 'Client buffer throughput too low: set to 50 eps']]);
    });

    const refused: [string, string, string][] = [
      ['client-buffer-eps-zero', "(1235): Invalid value for element 'events_per_second': 0.", 'buffer-config.c:82-85'],
      ['client-buffer-eps-too-big', "(1235): Invalid value for element 'events_per_second': 1001.", 'buffer-config.c:82-85'],
      ['client-buffer-queue-size-bad', "(1235): Invalid value for element 'queue_size': 100001.", 'buffer-config.c:59-61'],
      ['client-buffer-disabled-bad', "(1235): Invalid value for element 'disabled': true.", 'buffer-config.c:44-51'],
      ['client-buffer-unknown-element', "(1230): Invalid element in the configuration: 'queue_length'.", 'buffer-config.c:88'],
      ['client-empty-block', "(1230): Invalid element in the configuration: 'client'.", 'config/config.c:137, 300'],
      ['labels-empty-block', "(1230): Invalid element in the configuration: 'labels'.", 'config/config.c:243, 300'],
      ['unknown-section', "(1230): Invalid element in the configuration: 'sycheck'.", 'config/config.c:300'],
    ];
    for (const [name, message, source] of refused) {
      it(`${name}: refused, as wazuh-agentd does not start (${source})`, () => {
        const { reason } = configErrorOf(() => load(name));
        expect(reason.startsWith(message), reason).to.equal(true);
      });
    }

    it('deprecated <length> and <local_ip>: warnings, the file accepted (buffer-config.c:65; client-config.c:61)', () => {
      expect(load('client-buffer-length-deprecated').clientBuffer.queueSize).to.equal(5000);
      expect(messages(load('client-buffer-length-deprecated'))).to.deep.equal([
        'The <length> tag is deprecated for version newer than 2.1.1, please use <queue_size> instead.',
      ]);
      expect(messages(load('client-local-ip'))).to.deep.equal(['The <local_ip> tag has no functionality, so it will have no effect.']);
      expect(load('client-buffer-disable-old-name').warnings).to.deep.equal([]); // buffer-config.c:44
    });

    it('an empty <notify_time> is 0, so the default 20 (OS_StrIsNum takes "", client-config.c:116-126; client-agent/main.c:222-224)', () => {
      expect(load('client-notify-time-empty').client.notifyTime).to.equal(20);
    });
  });
});
