import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { loadAgentConfig, parseAgentConfig } from '../../src/config/load.js';
import {
  defaultSyscheckConfig, parseDataUnitKb, parseScanDay, parseScanTime, pathMatches, readSyscheck, sregexMatches,
} from '../../src/config/syscheck.js';
import type { AgentConfig, DirectoryConfig, FileChecks, PathMatcher, SyscheckConfig } from '../../src/config/types.js';
import { parseXml } from '../../src/config/xml.js';
import { FIXTURES } from '../support/fixtures.js';
import { configErrorOf, parseMutations } from '../support/config-corpus.js';

const FILE = '/var/ossec/etc/ossec.conf';
const GOOD = path.join(FIXTURES, 'config', 'good');

/** An ossec.conf with a manager and these lines inside <syscheck>: they start at line 6. */
const withSyscheck = (...lines: string[]) => [
  '<ossec_config>',
  '  <client>',
  '    <server><address>10.0.0.1</address></server>',
  '  </client>',
  '  <syscheck>',
  ...lines.map((l) => `    ${l}`),
  '  </syscheck>',
  '</ossec_config>',
].join('\n');

const parse = (...lines: string[]): AgentConfig => parseAgentConfig(withSyscheck(...lines), FILE);
const syscheckOf = (...lines: string[]): SyscheckConfig => parse(...lines).syscheck;

const parseError = (...lines: string[]): ConfigError => configErrorOf(() => parse(...lines));

/** readSyscheck on <syscheck> blocks given as XML, with a chosen environment. */
function readWithEnv(xml: string, env: NodeJS.ProcessEnv): { config: SyscheckConfig; warnings: string[] } {
  const ctx = { file: FILE, warnings: [] as string[] };
  const config = readSyscheck(parseXml(xml), ctx, env);
  return { config, warnings: ctx.warnings };
}

const ALL_CHECKS: FileChecks = {
  md5: true, sha1: true, sha256: true, size: true, owner: true, group: true, perm: true, mtime: true, inode: true,
};
const NO_CHECKS: FileChecks = {
  md5: false, sha1: false, sha256: false, size: false, owner: false, group: false, perm: false, mtime: false, inode: false,
};

/** A <directories> entry with Wazuh's default attributes. */
const dir = (p: string, line: number, extra: Partial<DirectoryConfig> = {}): DirectoryConfig => ({
  path: p, wildcard: false, realtime: false, whodata: false, reportChanges: false, followSymbolicLink: false,
  checks: ALL_CHECKS, recursionLevel: 256, diffSizeLimitKb: 51200, line, ...extra,
});

const checksOf = (attributes: string): FileChecks => syscheckOf(`<directories ${attributes}>/etc</directories>`).directories[0]!.checks;

describe('config/syscheck: <syscheck>', () => {
  describe('defaults', () => {
    it("applies Wazuh 4.14's defaults to a <syscheck> block with one directory", () => {
      const config = parse('<directories>/etc</directories>');
      expect(config.warnings).to.deep.equal([]);
      expect(config.syscheck).to.deep.equal({
        disabled: false,
        frequency: 43200,
        scanOnStart: true,
        directories: [dir('/etc', 6)],
        ignore: [],
        nodiff: [],
        skipNfs: true,
        skipDev: true,
        skipSys: true,
        skipProc: true,
        maxEps: 50,
        maxFilesPerSecond: 0,
        fileLimit: { enabled: true, entries: 100000 },
        processPriority: 10,
        synchronization: {
          enabled: true, interval: 300, maxInterval: 3600, responseTimeout: 30, queueSize: 16384, maxEps: 10, threadPool: 1,
        },
        whodata: { provider: 'ebpf', queueSize: 16384 },
        database: 'disk',
        diff: { diskQuota: { enabled: true, limitKb: 1048576 }, fileSize: { enabled: true, limitKb: 51200 } },
        fileMaxSize: 1024 * 1024 * 1024,
      } satisfies SyscheckConfig);
    });

    it('without any <syscheck> block FIM is disabled, as in wazuh-syscheckd', () => {
      const config = parseAgentConfig('<ossec_config><client><server><address>10.0.0.1</address></server></client></ossec_config>', FILE);
      expect(config.syscheck).to.deep.equal({ ...defaultSyscheckConfig(), disabled: true });
      expect(config.warnings).to.deep.equal([]);
    });

    it('an enabled <syscheck> without directories warns that there is nothing to monitor', () => {
      const config = parse('<frequency>60</frequency>');
      expect(config.syscheck).to.include({ disabled: false, frequency: 60 });
      expect(config.warnings).to.deep.equal([
        `No directory provided for syscheck to monitor. File ${FILE}, line 5, option <syscheck>.`,
      ]);
      expect(parse('<disabled>yes</disabled>').warnings).to.deep.equal([]);
    });
  });

  describe("Wazuh 4.14.7's default agent ossec.conf", () => {
    it('reads its <syscheck> section', () => {
      const file = path.join(GOOD, 'wazuh-default-agent.conf');
      const { syscheck, warnings } = loadAgentConfig(file);
      expect(warnings.filter((w) => w.includes('syscheck'))).to.deep.equal([]);
      expect(syscheck).to.deep.include({
        disabled: false, frequency: 43200, scanOnStart: true, skipNfs: true, skipDev: true, skipProc: true, skipSys: true,
        processPriority: 10, maxEps: 50,
        synchronization: {
          enabled: true, interval: 300, maxInterval: 3600, responseTimeout: 30, queueSize: 16384, maxEps: 10, threadPool: 1,
        },
      });
      // Sorted by path, as wazuh-syscheckd keeps them; lines 109 and 110 hold the two lists.
      expect(syscheck.directories).to.deep.equal([
        dir('/bin', 110), dir('/boot', 110), dir('/etc', 109), dir('/sbin', 110), dir('/usr/bin', 109), dir('/usr/sbin', 109),
      ]);
      const plain = ['/etc/mtab', '/etc/hosts.deny', '/etc/mail/statistics', '/etc/random-seed', '/etc/random.seed',
        '/etc/adjtime', '/etc/httpd/logs', '/etc/utmpx', '/etc/wtmpx', '/etc/cups/certs', '/etc/dumpdates', '/etc/svc/volatile'];
      expect(syscheck.ignore).to.deep.equal([
        ...plain.map((value): PathMatcher => ({ type: 'path', value })),
        { type: 'sregex', value: '.log$|.swp$' },
      ]);
      expect(syscheck.nodiff).to.deep.equal([{ type: 'path', value: '/etc/ssl/private.key' }]);

      expect(pathMatches(syscheck.ignore, '/etc/mtab')).to.equal(true);
      expect(pathMatches(syscheck.ignore, '/etc/httpd/logs/access_log')).to.equal(true);
      expect(pathMatches(syscheck.ignore, '/etc/apt/term.log')).to.equal(true);
      expect(pathMatches(syscheck.ignore, '/etc/.passwd.swp')).to.equal(true);
      expect(pathMatches(syscheck.ignore, '/etc/passwd')).to.equal(false);
      expect(pathMatches(syscheck.ignore, '/etc/logrotate.d/apt')).to.equal(false);
    });
  });

  describe('every option', () => {
    const file = path.join(GOOD, 'syscheck-every-option.conf');

    it('reads each one to the expected value', () => {
      const { syscheck } = loadAgentConfig(file);
      const { directories, ...rest } = syscheck;
      expect(rest).to.deep.equal({
        disabled: false,
        frequency: 3600,
        scanTime: '22:30',
        scanDay: [0, 6],
        scanOnStart: false,
        ignore: [
          { type: 'path', value: '/etc/mtab' },
          { type: 'path', value: '/var/www/cache' },
          { type: 'sregex', value: '.log$|.swp$' },
        ],
        nodiff: [
          { type: 'path', value: '/etc/ssl/private.key' },
          { type: 'sregex', value: '^/etc/secrets/' },
          { type: 'path', value: '/etc/shadow' },
        ],
        skipNfs: false,
        skipDev: false,
        skipSys: false,
        skipProc: false,
        maxEps: 0,
        maxFilesPerSecond: 200,
        fileLimit: { enabled: true, entries: 50000 },
        processPriority: -5,
        synchronization: {
          enabled: false, interval: 600, maxInterval: 7200, responseTimeout: 60, queueSize: 1000, maxEps: 25, threadPool: 4,
        },
        whodata: { provider: 'ebpf', queueSize: 4096 },
        database: 'memory',
        diff: { diskQuota: { enabled: true, limitKb: 2 * 1024 * 1024 }, fileSize: { enabled: true, limitKb: 10 * 1024 } },
        fileMaxSize: 1024 * 1024 * 1024,
      });
      const limit = { diffSizeLimitKb: 10240 };
      expect(directories).to.deep.equal([
        // The second <directories> for /etc (line 28) replaced the first (line 19).
        dir('/etc', 28, { ...limit, reportChanges: true }),
        dir('/home/*/.ssh', 26, { ...limit, wildcard: true, checks: { ...ALL_CHECKS, inode: false } }),
        dir('/srv/app', 20, {
          realtime: true, reportChanges: true, followSymbolicLink: true,
          checks: { ...NO_CHECKS, md5: true, sha1: true, sha256: true, size: true },
          restrict: '.conf$|^/srv/app/bin/', tags: 'web,appprod', recursionLevel: 3, diffSizeLimitKb: 2048,
        }),
        dir('/usr/bin', 19, limit),
        dir('/usr/sbin', 19, limit),
        // whodata and realtime both set: who-data prevails.
        dir('/var/www', 23, { ...limit, whodata: true, checks: { ...NO_CHECKS, sha256: true, size: true } }),
      ]);
    });

    it('warns once about each option it accepts but does not use', () => {
      const { warnings } = loadAgentConfig(file);
      const at = (line: number, option: string) => `. File ${file}, line ${line}, option ${option}.`;
      expect(warnings).to.deep.equal([
        `The check_attrs attribute is only used on Windows; ignored${at(23, '<syscheck><directories>')}`,
        `The <alert_new_files> element is deprecated and has no effect; ignored${at(41, '<syscheck><alert_new_files>')}`,
        `The <auto_ignore> element is deprecated and has no effect; ignored${at(42, '<syscheck><auto_ignore>')}`,
        `The <remove_old_diff> element is deprecated and has no effect; ignored${at(43, '<syscheck><remove_old_diff>')}`,
        `The <registry_enabled> element is only used on Windows; ignored${at(62, '<syscheck><synchronization><registry_enabled>')}`,
        ...[[68, 'restart_audit'], [69, 'audit_key'], [70, 'startup_healthcheck']].map(([line, name]) =>
          `The <${name}> element only applies to the Linux Audit who-data provider, which wazuh-bpf-agent does not use `
          + `(who-data comes from eBPF); ignored${at(line as number, `<syscheck><whodata><${name}>`)}`),
        // <restart_audit> again at line 72, outside <whodata>: not repeated.
        `The <registry_nodiff> element is only used on Windows; ignored${at(84, '<syscheck><diff><registry_nodiff>')}`,
        `The <prefilter_cmd> element is not supported by wazuh-bpf-agent (it never runs commands before hashing); ignored${at(87, '<syscheck><prefilter_cmd>')}`,
        `The <allow_remote_prefilter_cmd> element has no effect in wazuh-bpf-agent (prefilter_cmd is not supported); ignored${at(88, '<syscheck><allow_remote_prefilter_cmd>')}`,
        `The <windows_registry> element is only used on Windows; ignored${at(90, '<syscheck><windows_registry>')}`,
        `The <registry_ignore> element is only used on Windows; ignored${at(91, '<syscheck><registry_ignore>')}`,
        `The <registry_ignore_value> element is only used on Windows; ignored${at(92, '<syscheck><registry_ignore_value>')}`,
        `The <registry_limit> element is only used on Windows; ignored${at(93, '<syscheck><registry_limit>')}`,
        `The <windows_audit_interval> element is only used on Windows; ignored${at(97, '<syscheck><windows_audit_interval>')}`,
      ]);
    });
  });

  describe('<directories>', () => {
    it('reads comma-separated lists, trims each path and drops one trailing slash', () => {
      const { directories } = syscheckOf('<directories> /etc ,/usr/bin/,, / ,/var/log//</directories>');
      expect(directories.map((d) => d.path)).to.deep.equal(['/', '/etc', '/usr/bin', '/var/log/']);
    });

    it('keeps a comma escaped with a backslash inside a path', () => {
      expect(syscheckOf('<directories>/srv/a\\,b,/srv/c</directories>').directories.map((d) => d.path))
        .to.deep.equal(['/srv/a,b', '/srv/c']);
    });

    it('accumulates several elements and blocks; a path given again takes the later attributes', () => {
      const config = parseAgentConfig([
        '<ossec_config><client><server><address>10.0.0.1</address></server></client>',
        '<syscheck><directories realtime="yes" check_all="no">/etc,/var</directories></syscheck>',
        '</ossec_config>',
        '<ossec_config><syscheck><directories report_changes="yes">/etc</directories></syscheck></ossec_config>',
      ].join('\n'), FILE);
      expect(config.syscheck.directories).to.deep.equal([
        dir('/etc', 4, { reportChanges: true }),
        dir('/var', 2, { realtime: true, checks: NO_CHECKS }),
      ]);
    });

    it('flags glob patterns as wildcards, to be expanded at scan time', () => {
      const { directories } = syscheckOf('<directories>/home/*/.ssh,/srv/app?,/data/[ab]</directories>');
      expect(directories.map((d) => [d.path, d.wildcard])).to.deep.equal([
        ['/data/[ab]', true], ['/home/*/.ssh', true], ['/srv/app?', true],
      ]);
    });

    it('expands an environment variable holding one or more paths', () => {
      const { config, warnings } = readWithEnv(
        '<syscheck><directories>$WATCH, /etc,$UNSET_VAR</directories><ignore>$SKIP</ignore></syscheck>',
        { WATCH: '/srv/a: /srv/b/', SKIP: '/srv/a/tmp' });
      expect(config.directories.map((d) => d.path)).to.deep.equal(['/etc', '/srv/a', '/srv/b']);
      expect(config.ignore).to.deep.equal([{ type: 'path', value: '/srv/a/tmp' }]);
      expect(warnings).to.deep.equal([
        `Could not expand the environment variable 'UNSET_VAR' (not set); '$UNSET_VAR' skipped. File ${FILE}, line 1, option <syscheck><directories>.`,
      ]);
    });

    it('refuses a relative path, also one coming from an environment variable', () => {
      expect(() => readWithEnv('<syscheck><directories>$WATCH</directories></syscheck>', { WATCH: '/srv:data' }))
        .to.throw(ConfigError, /^Directory path must be absolute: 'data' \(from \$WATCH\)\. .*line 1, option <syscheck><directories>\.$/);
    });

    it('takes 64 paths from one element and warns about the rest, as Wazuh', () => {
      const paths = Array.from({ length: 66 }, (_, i) => `/d${String(i).padStart(2, '0')}`);
      const config = parse(`<directories>${paths.join(',')}</directories>`);
      expect(config.syscheck.directories.map((d) => d.path)).to.deep.equal(paths.slice(0, 64));
      expect(config.warnings).to.deep.equal([
        'Maximum number of directories to be monitored in the same tag reached (64); excess discarded: '
        + `'/d64,/d65'. File ${FILE}, line 6, option <syscheck><directories>.`,
      ]);
    });

    it('strips spaces, "!" and ":" from tags, as Wazuh before sending them', () => {
      expect(syscheckOf('<directories tags="pci dss, !app:1">/etc</directories>').directories[0]!.tags).to.equal('pcidss,app1');
      expect(syscheckOf('<directories tags=" ">/etc</directories>').directories[0]).to.not.have.property('tags');
    });

    it('reads recursion_level 0-320 and diff_size_limit in KB or with a unit', () => {
      const { directories } = syscheckOf(
        '<directories recursion_level="0" diff_size_limit="500">/a</directories>',
        '<directories recursion_level="320" diff_size_limit="1gb">/b</directories>',
        '<directories diff_size_limit="0KB">/c</directories>',
      );
      expect(directories.map((d) => [d.recursionLevel, d.diffSizeLimitKb])).to.deep.equal([[0, 500], [320, 1048576], [256, 1]]);
    });

    it('a directory without diff_size_limit takes <diff><file_size><limit>, wherever it is written', () => {
      const { directories } = syscheckOf('<directories>/a</directories>', '<diff><file_size><limit>1MB</limit></file_size></diff>');
      expect(directories[0]!.diffSizeLimitKb).to.equal(1024);
    });

    describe('check_* attributes apply in the order written', () => {
      const cases: { attributes: string; checks: FileChecks }[] = [
        { attributes: '', checks: ALL_CHECKS },
        { attributes: 'check_all="yes"', checks: ALL_CHECKS },
        { attributes: 'check_all="no"', checks: NO_CHECKS },
        { attributes: 'check_all="no" check_size="yes"', checks: { ...NO_CHECKS, size: true } },
        { attributes: 'check_size="yes" check_all="no"', checks: NO_CHECKS },
        { attributes: 'check_size="no" check_all="yes"', checks: ALL_CHECKS },
        { attributes: 'check_all="yes" check_size="no"', checks: { ...ALL_CHECKS, size: false } },
        { attributes: 'check_sum="no"', checks: { ...ALL_CHECKS, md5: false, sha1: false, sha256: false } },
        { attributes: 'check_all="no" check_sum="yes"', checks: { ...NO_CHECKS, md5: true, sha1: true, sha256: true } },
        { attributes: 'check_all="no" check_sum="yes" check_sha1sum="no"', checks: { ...NO_CHECKS, md5: true, sha256: true } },
        { attributes: 'check_sha1sum="no" check_sum="yes"', checks: ALL_CHECKS },
        { attributes: 'check_md5sum="no" check_sha1sum="no" check_sha256sum="no" check_owner="no" check_group="no" '
          + 'check_perm="no" check_mtime="no" check_inode="no" check_size="no"', checks: NO_CHECKS },
      ];
      for (const { attributes, checks } of cases) {
        it(attributes || '(none)', () => {
          expect(checksOf(attributes)).to.deep.equal(checks);
        });
      }
    });

    it('who-data prevails over real time; realtime alone is real time', () => {
      const mode = (attributes: string) => {
        const d = syscheckOf(`<directories ${attributes}>/etc</directories>`).directories[0]!;
        return { realtime: d.realtime, whodata: d.whodata };
      };
      expect(mode('realtime="yes"')).to.deep.equal({ realtime: true, whodata: false });
      expect(mode('realtime="yes" whodata="yes"')).to.deep.equal({ realtime: false, whodata: true });
      expect(mode('whodata="yes" realtime="yes"')).to.deep.equal({ realtime: false, whodata: true });
      expect(mode('realtime="yes" whodata="no"')).to.deep.equal({ realtime: true, whodata: false });
    });

    it('attribute and variable names that are Object.prototype members are plain unknown names', () => {
      expect(parseError('<directories constructor="yes">/etc</directories>').reason).to.equal("Unknown attribute 'constructor' for directory option");
      const { config, warnings } = readWithEnv('<syscheck><directories>$__proto__,$constructor,/etc</directories></syscheck>', process.env);
      expect(config.directories.map((d) => d.path)).to.deep.equal(['/etc']);
      expect(warnings).to.have.length(2);
    });

    it('names the line of a bad attribute in a multi-line element', () => {
      const error = parseError('<directories check_all="yes"', '   report_changes="yes"', '   check_sum="maybe">/etc</directories>');
      expect([error.reason, error.line, error.option]).to.deep.equal([
        "Invalid value for attribute 'check_sum' of <directories>: 'maybe' (must be yes or no)", 8, 'syscheck.directories',
      ]);
    });
  });

  describe('sregex (OSMatch) semantics', () => {
    const cases: [pattern: string, text: string, matches: boolean][] = [
      ['.log$', '/var/log/syslog.log', true],
      ['.log$', '/var/log/syslog.log.1', false],
      ['.log$', '/var/xlog', false], // '.' is a literal dot
      ['.log$', '/var/x.LOG', true], // case-insensitive
      ['^/etc/', '/etc/passwd', true],
      ['^/etc/', '/usr/etc/passwd', false],
      ['/etc/', '/usr/etc/passwd', true], // no anchor: anywhere
      ['^/etc/passwd$', '/etc/passwd', true],
      ['^/etc/passwd$', '/etc/passwd-', false],
      ['^/ETC/PASSWD$', '/etc/passwd', true],
      ['.swp$|.log$', '/a/b.swp', true],
      ['.swp$|.log$', '/a/b.tmp', false],
      ['!.log$', '/a/b.tmp', true],
      ['!.log$', '/a/b.log', false],
      ['a*b', '/x/a*b', true], // '*' is literal
      ['a*b', '/x/aab', false],
      ['a.b', '/x/aXb', false], // '.' is literal
      ['mid^dle', '/x/mid^dle', true], // '^' only anchors at the start of an alternative
      ['^$', '', true],
      ['^$', '/', false],
      ['', '/anything', true],
      ['x|', '/anything', true], // an empty alternative matches everything
      ['$', '/anything', true],
      ['^', '/anything', true],
      ['É', '/é', false], // only ASCII letters fold
    ];
    for (const [pattern, text, matches] of cases) {
      it(`${JSON.stringify(pattern)} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(text)}`, () => {
        expect(sregexMatches(pattern, text)).to.equal(matches);
      });
    }
  });

  describe('<ignore> and <nodiff>', () => {
    it('reads plain paths and type="sregex" patterns, dropping repeated plain paths', () => {
      const config = syscheckOf(
        '<directories>/etc</directories>',
        '<ignore>/etc/mtab</ignore>',
        '<ignore>/etc/mtab/</ignore>',
        '<ignore type="sregex">^/etc/ssl/|.bak$</ignore>',
        '<nodiff>/etc/shadow</nodiff>',
        '<nodiff type="sregex">.key$</nodiff>',
      );
      expect(config.ignore).to.deep.equal([{ type: 'path', value: '/etc/mtab' }, { type: 'sregex', value: '^/etc/ssl/|.bak$' }]);
      expect(config.nodiff).to.deep.equal([{ type: 'path', value: '/etc/shadow' }, { type: 'sregex', value: '.key$' }]);
    });

    it('a plain ignore is a case-insensitive prefix of the path (fim_check_ignore)', () => {
      const ignore: PathMatcher[] = [{ type: 'path', value: '/etc/mtab' }];
      expect(pathMatches(ignore, '/etc/mtab')).to.equal(true);
      expect(pathMatches(ignore, '/etc/mtab/sub/file')).to.equal(true);
      expect(pathMatches(ignore, '/ETC/MTAB')).to.equal(true);
      expect(pathMatches(ignore, '/etc/mtab2')).to.equal(true); // a string prefix, as in Wazuh
      expect(pathMatches(ignore, '/etc/mta')).to.equal(false);
      expect(pathMatches(ignore, '/usr/etc/mtab')).to.equal(false);
    });

    it('a plain nodiff must equal the path (is_file_nodiff)', () => {
      const nodiff: PathMatcher[] = [{ type: 'path', value: '/etc/shadow' }, { type: 'sregex', value: '.key$' }];
      expect(pathMatches(nodiff, '/etc/shadow', { list: 'nodiff' })).to.equal(true);
      expect(pathMatches(nodiff, '/etc/shadow-', { list: 'nodiff' })).to.equal(false);
      expect(pathMatches(nodiff, '/ETC/SHADOW', { list: 'nodiff' })).to.equal(false);
      expect(pathMatches(nodiff, '/etc/ssl/server.KEY', { list: 'nodiff' })).to.equal(true);
    });

    it('a negated ignore regex matching a directory does not ignore it, so the walk goes on', () => {
      const ignore: PathMatcher[] = [{ type: 'sregex', value: '!.conf$' }];
      expect(pathMatches(ignore, '/etc/app.conf')).to.equal(false);
      expect(pathMatches(ignore, '/etc/app.txt')).to.equal(true);
      expect(pathMatches(ignore, '/etc/app.d', { directory: true })).to.equal(false);
      expect(pathMatches(ignore, '/etc/app.d')).to.equal(true);
    });

    it('warns about a plain entry that is not absolute (it would never match)', () => {
      const config = parse('<directories>/etc</directories>', '<ignore>*.log</ignore>');
      expect(config.syscheck.ignore).to.deep.equal([{ type: 'path', value: '*.log' }]);
      expect(config.warnings).to.deep.equal([
        `'*.log' is not an absolute path and matches no file (use type="sregex" for a pattern). File ${FILE}, line 7, option <syscheck><ignore>.`,
      ]);
    });

    it('refuses an attribute other than type="sregex"', () => {
      const error = parseError('<directories>/etc</directories>', '<nodiff arch="both">/etc/x</nodiff>');
      expect([error.reason, error.line, error.option]).to.deep.equal(["Invalid attribute 'arch' for 'nodiff' option", 7, 'syscheck.nodiff']);
    });
  });

  describe('<whodata>', () => {
    it('the audit provider is not supported: a warning, and eBPF', () => {
      const config = parse('<directories whodata="yes">/etc</directories>', '<whodata>', '  <provider>audit</provider>', '</whodata>');
      expect(config.syscheck.whodata).to.deep.equal({ provider: 'ebpf', queueSize: 16384 });
      expect(config.warnings).to.deep.equal([
        `audit provider not supported by wazuh-bpf-agent; using ebpf. File ${FILE}, line 8, option <syscheck><whodata><provider>.`,
      ]);
    });

    it('warns once per audit-only option, however often it appears', () => {
      const config = parse('<directories>/etc</directories>', '<restart_audit>yes</restart_audit>',
        '<whodata><restart_audit>no</restart_audit></whodata>', '<restart_audit>no</restart_audit>');
      expect(config.warnings).to.have.length(1);
      expect(config.warnings[0]).to.match(/^The <restart_audit> element only applies to the Linux Audit .*line 7, option <syscheck><restart_audit>\.$/);
    });

    it('reads queue_size 10-1048576 (the eBPF event queue too)', () => {
      expect(syscheckOf('<directories>/etc</directories>', '<whodata><queue_size>10</queue_size></whodata>').whodata.queueSize).to.equal(10);
      const error = parseError('<directories>/etc</directories>', '<whodata><queue_size>9</queue_size></whodata>');
      expect([error.line, error.option]).to.deep.equal([7, 'syscheck.whodata.queue_size']);
    });
  });

  describe('values', () => {
    it('scan_time: 24-hour or am/pm, normalized to HH:MM', () => {
      const times: [string, string | undefined][] = [
        ['21:00', '21:00'], ['9', '09:00'], ['9:05', '09:05'], ['10pm', '22:00'], ['10:30 PM', '22:30'], ['12am', '00:00'],
        ['12pm', '12:00'], ['12:15 am', '00:15'], ['00:00', '00:00'], ['23:59', '23:59'],
        ['24:00', undefined], ['13pm', undefined], ['9:5', undefined], ['10:60', undefined], ['!10:00', undefined],
        ['10:00-12:00', undefined], ['noon', undefined], ['', undefined],
      ];
      for (const [text, expected] of times) expect(parseScanTime(text), text).to.equal(expected);
    });

    it('scan_day: names, abbreviations, weekdays and weekends, as tm_wday numbers', () => {
      const days: [string, number[] | undefined][] = [
        ['monday', [1]], ['Mon', [1]], ['sunday,saturday', [0, 6]], ['tue wed, thu', [2, 3, 4]], ['weekdays', [1, 2, 3, 4, 5]],
        ['weekends', [0, 6]], ['FRIDAY', [5]], ['monday, monday', [1]],
        ['someday', undefined], ['mondays', undefined], ['!monday', undefined], ['mo', undefined], ['', undefined],
      ];
      for (const [text, expected] of days) expect(parseScanDay(text), text).to.deep.equal(expected);
    });

    it('sizes: KB by default, KB/MB/GB/TB in either case, at least 1 KB, at most INT_MAX KB; bytes refused', () => {
      const sizes: [string, number | undefined][] = [
        ['50', 50], ['50KB', 50], ['50kb', 50], ['50MB', 51200], ['1GB', 1048576], ['1tb', 1073741824], ['3TB', 2147483647],
        ['0', 1], ['0MB', 1], ['50B', undefined], ['50 MB', undefined], ['5XB', undefined], ['MB', undefined], ['-1', undefined],
        ['1.5MB', undefined],
      ];
      for (const [text, expected] of sizes) expect(parseDataUnitKb(text), text).to.equal(expected);
    });

    it('raises disk_quota to file_size when smaller (parse_diff)', () => {
      const { diff } = syscheckOf('<directories>/etc</directories>',
        '<diff><disk_quota><limit>1MB</limit></disk_quota><file_size><limit>5MB</limit></file_size></diff>');
      expect(diff).to.deep.equal({ diskQuota: { enabled: true, limitKb: 5120 }, fileSize: { enabled: true, limitKb: 5120 } });
      const off = syscheckOf('<directories>/etc</directories>',
        '<diff><disk_quota><limit>1MB</limit></disk_quota><file_size><enabled>no</enabled><limit>5MB</limit></file_size></diff>');
      expect(off.diff.diskQuota.limitKb).to.equal(1024);
    });

    it('a disabled file_limit means no limit (entries 0); huge entries are capped at INT_MAX', () => {
      expect(syscheckOf('<directories>/etc</directories>', '<file_limit><enabled>no</enabled></file_limit>').fileLimit)
        .to.deep.equal({ enabled: false, entries: 0 });
      expect(syscheckOf('<directories>/etc</directories>', '<file_limit><entries>99999999999</entries></file_limit>').fileLimit)
        .to.deep.equal({ enabled: true, entries: 2147483647 });
    });

    it('raises synchronization max_interval to interval, with a warning', () => {
      const config = parse('<directories>/etc</directories>',
        '<synchronization><interval>2h</interval><max_interval>1h</max_interval></synchronization>');
      expect(config.syscheck.synchronization).to.include({ interval: 7200, maxInterval: 7200 });
      expect(config.warnings).to.deep.equal([
        `'max_interval' cannot be less than 'interval'. New 'max_interval' value: '7200'. File ${FILE}, line 7, option <syscheck><synchronization><max_interval>.`,
      ]);
    });

    const errors: { name: string; lines: string[]; line: number; option: string; reason: RegExp }[] = [
      { name: 'negative frequency', lines: ['<frequency>-1</frequency>'], line: 6, option: 'syscheck.frequency', reason: /'-1' \(must be a number of seconds/ },
      { name: 'bad scan_on_start', lines: ['<scan_on_start>1</scan_on_start>'], line: 6, option: 'syscheck.scan_on_start', reason: /'1' \(must be yes or no\)/ },
      { name: 'bad skip_nfs', lines: ['<skip_nfs>Yes</skip_nfs>'], line: 6, option: 'syscheck.skip_nfs', reason: /'Yes' \(must be yes or no\)/ },
      { name: 'database other than disk/memory', lines: ['<database>sqlite</database>'], line: 6, option: 'syscheck.database', reason: /must be disk or memory/ },
      { name: 'max_eps above 1000000', lines: ['<max_eps>1000001</max_eps>'], line: 6, option: 'syscheck.max_eps', reason: /must be 0-1000000/ },
      { name: 'sync queue_size below 2', lines: ['<synchronization>', '<queue_size>1</queue_size>', '</synchronization>'], line: 7, option: 'syscheck.synchronization.queue_size', reason: /must be 2-1000000/ },
      { name: 'sync interval 0', lines: ['<synchronization><interval>0</interval></synchronization>'], line: 6, option: 'syscheck.synchronization.interval', reason: /1-4294967295 seconds/ },
      { name: 'thread_pool 0', lines: ['<synchronization><thread_pool>0</thread_pool></synchronization>'], line: 6, option: 'syscheck.synchronization.thread_pool', reason: /must be 1-/ },
      { name: 'recursion_level not a number', lines: ['<directories recursion_level="-1">/etc</directories>'], line: 6, option: 'syscheck.directories', reason: /'recursion_level' .*'-1' \(must be 0-320\)/ },
      { name: 'diff_size_limit in bytes', lines: ['<directories diff_size_limit="10B">/etc</directories>'], line: 6, option: 'syscheck.directories', reason: /'diff_size_limit' .*'10B'/ },
      { name: 'a directories list without any path', lines: ['<directories> , </directories>'], line: 6, option: 'syscheck.directories', reason: /No path in <directories>/ },
      { name: 'an unknown whodata option', lines: ['<whodata><provder>ebpf</provder></whodata>'], line: 6, option: 'syscheck.whodata.provder', reason: /Invalid element/ },
      { name: 'an unknown diff option', lines: ['<diff><file_size><limt>1</limt></file_size></diff>'], line: 6, option: 'syscheck.diff.file_size.limt', reason: /Invalid element/ },
      { name: 'a value where a block is expected', lines: ['<synchronization>yes</synchronization>'], line: 6, option: 'syscheck.synchronization', reason: /takes child elements, not a value/ },
      { name: 'a block where a value is expected', lines: ['<frequency><value>1</value></frequency>'], line: 6, option: 'syscheck.frequency', reason: /takes a value, not child elements/ },
      { name: 'an empty ignore', lines: ['<ignore/>'], line: 6, option: 'syscheck.ignore', reason: /Empty value for element 'ignore'/ },
      { name: 'an overlong sregex', lines: [`<ignore type="sregex">${'x'.repeat(20481)}</ignore>`], line: 6, option: 'syscheck.ignore', reason: /longer than 20480 characters/ },
    ];
    for (const { name, lines, line, option, reason } of errors) {
      it(`refuses ${name}`, () => {
        const error = parseError(...lines);
        expect([error.line, error.option]).to.deep.equal([line, option]);
        expect(error.reason).to.match(reason);
        expect(error.message).to.not.match(/[\r\n]/);
      });
    }
  });

  it('mutations of the <syscheck> section throw nothing but ConfigError', function () {
    this.timeout(20000);
    const text = fs.readFileSync(path.join(GOOD, 'syscheck-every-option.conf'), 'utf8');
    const start = text.indexOf('<syscheck>');
    const span = text.indexOf('</syscheck>') - start;
    const pieces = ['<', '>', '/', '"', '=', '\n', 'x', '0', '-', ',', '$', '!', '|', '</directories>', '<whodata>', ' type="sregex"'];
    parseMutations(text, { start, span, pieces, seed: 11 });
  });
});
