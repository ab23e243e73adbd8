import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigWarning } from '../../src/config/errors.js';
import { loadAgentConfig, parseAgentConfig } from '../../src/config/load.js';
import {
  REAL_HOST, defaultSyscheckConfig, parseDataUnitKb, parseScanDay, parseScanTime, pathMatches, readSyscheck, sregexMatches,
} from '../../src/config/syscheck.js';
import type { AgentConfig, DirectoryConfig, FileChecks, PathMatcher, SyscheckConfig } from '../../src/config/types.js';
import { parseXml } from '../../src/config/xml.js';
import { FIXTURES } from '../support/fixtures.js';
import { parseMutations } from '../support/config-corpus.js';

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


/** readSyscheck on <syscheck> blocks given as XML, with a chosen environment. */
function readWithEnv(xml: string, env: NodeJS.ProcessEnv): { config: SyscheckConfig; warnings: string[] } {
  const ctx = { file: FILE, warnings: [] as ConfigWarning[] };
  const config = readSyscheck(parseXml(xml), ctx, { env, pathExists: REAL_HOST.pathExists });
  return { config, warnings: ctx.warnings.map((w) => w.text) };
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
      expect(config.warnings.map((w) => w.text)).to.deep.equal([]);
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
      expect(config.warnings.map((w) => w.text)).to.deep.equal([]);
    });

    it('an enabled <syscheck> without directories says (6678), at INFO as syscheckd/src/main.c:140', () => {
      const config = parse('<frequency>60</frequency>');
      expect(config.syscheck).to.include({ disabled: false, frequency: 60 });
      expect(config.warnings.map((w) => w.text)).to.deep.equal([
        `(6678): No directory provided for syscheck to monitor. File ${FILE}, line 5, option <syscheck>.`,
      ]);
      expect(parse('<disabled>yes</disabled>').warnings).to.deep.equal([]);
    });
  });

  describe("Wazuh 4.14.7's default agent ossec.conf", () => {
    it('reads its <syscheck> section', () => {
      const file = path.join(GOOD, 'wazuh-default-agent.conf');
      const { syscheck, warnings } = loadAgentConfig(file);
      expect(warnings.filter((w) => w.text.includes('syscheck'))).to.deep.equal([]);
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

    it('says once about each option it accepts but does not use (INFO: no Wazuh warning)', () => {
      const { warnings } = loadAgentConfig(file);
      expect(warnings.every((w) => w.level === 'INFO')).to.equal(true);
      const at = (line: number, option: string) => `. File ${file}, line ${line}, option ${option}.`;
      expect(warnings.map((w) => w.text)).to.deep.equal([
        `The check_attrs attribute is only used on Windows; ignored${at(25, '<syscheck><directories>')}`, // the attribute's line
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
        // get_paths_from_env_variable (syscheck-config.c:2530-2533) logs (6718) as an error
        `(6718): Could not expand the environment variable UNSET_VAR. File ${FILE}, line 1, option <syscheck><directories>.`,
        `'$UNSET_VAR' skipped: Wazuh would take 'UNSET_VAR' as a path relative to its home. File ${FILE}, line 1, option <syscheck><directories>.`,
      ]);
    });

    it('does not monitor a relative path (Wazuh reads it relative to /var/ossec, silently): an INFO says so', () => {
      const { config, warnings } = readWithEnv('<syscheck><directories>$WATCH</directories></syscheck>', { WATCH: '/srv:data' });
      expect(config.directories.map((d) => d.path)).to.deep.equal(['/srv']);
      expect(warnings).to.deep.equal([
        `'data' is not an absolute path: Wazuh reads it relative to its home; not monitored here. File ${FILE}, line 1, option <syscheck><directories>.`,
      ]);
    });

    it('takes 64 paths from one element and warns about the rest, as Wazuh', () => {
      const paths = Array.from({ length: 66 }, (_, i) => `/d${String(i).padStart(2, '0')}`);
      const config = parse(`<directories>${paths.join(',')}</directories>`);
      expect(config.syscheck.directories.map((d) => d.path)).to.deep.equal(paths.slice(0, 64));
      // read_attr (syscheck-config.c:1097-1101): one (6930) per path discarded
      expect(config.warnings.map((w) => w.message)).to.deep.equal(['/d64', '/d65'].map((p) =>
        `(6930): Maximum number of directories to be monitored in the same tag reached (64) Excess are discarded: '${p}'`));
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
      expect(parse('<directories constructor="yes">/etc</directories>').warnings.map((w) => w.message))
        .to.deep.equal(["(6701): Unknown attribute 'constructor' for directory option."]);
      const { config, warnings } = readWithEnv('<syscheck><directories>$__proto__,$constructor,/etc</directories></syscheck>', process.env);
      expect(config.directories.map((d) => d.path)).to.deep.equal(['/etc']);
      expect(warnings).to.have.length(4); // (6718) and the INFO for each
    });

    it('names the line of a bad attribute in a multi-line element', () => {
      const [warning] = parse('<directories check_all="yes"', '   report_changes="yes"', '   check_sum="maybe">/etc</directories>').warnings;
      expect([warning!.message, warning!.line, warning!.option]).to.deep.equal([
        "(6924): Invalid option 'maybe' for attribute 'check_sum'. The paths '/etc' will not be monitored.", 8, 'syscheck.directories',
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
      expect(config.warnings.map((w) => w.text)).to.deep.equal([
        `'*.log' is not an absolute path and matches no file (use type="sregex" for a pattern). File ${FILE}, line 7, option <syscheck><ignore>.`,
      ]);
    });

    it('an attribute other than type="sregex" makes <syscheck> invalid (syscheck-config.c:2029-2032): FIM disabled', () => {
      const config = parse('<directories>/etc</directories>', '<nodiff arch="both">/etc/x</nodiff>');
      expect(config.syscheck.disabled).to.equal(true);
      expect(config.warnings.map((w) => [w.message, w.line, w.option])).to.deep.equal([
        ["(6679): Invalid attribute 'arch' for 'nodiff' option.", 7, 'syscheck.nodiff'],
        [`(1202): Configuration error at '${FILE}'.`, 5, 'syscheck'],
        [`(1207): syscheck remote configuration in '${FILE}' is corrupted.`, 5, 'syscheck'],
      ]);
    });
  });

  describe('<whodata>', () => {
    it('the audit provider is not supported: a warning, and eBPF', () => {
      const config = parse('<directories whodata="yes">/etc</directories>', '<whodata>', '  <provider>audit</provider>', '</whodata>');
      expect(config.syscheck.whodata).to.deep.equal({ provider: 'ebpf', queueSize: 16384 });
      expect(config.warnings.map((w) => w.text)).to.deep.equal([
        `audit provider not supported by wazuh-bpf-agent; using ebpf. File ${FILE}, line 8, option <syscheck><whodata><provider>.`,
      ]);
    });

    it('warns once per audit-only option, however often it appears', () => {
      const config = parse('<directories>/etc</directories>', '<restart_audit>yes</restart_audit>',
        '<whodata><restart_audit>no</restart_audit></whodata>', '<restart_audit>no</restart_audit>');
      expect(config.warnings).to.have.length(1);
      expect(config.warnings[0]!.text).to.match(/^The <restart_audit> element only applies to the Linux Audit .*line 7, option <syscheck><restart_audit>\.$/);
    });

    it('reads queue_size 10-1048576 (the eBPF event queue too)', () => {
      expect(syscheckOf('<directories>/etc</directories>', '<whodata><queue_size>10</queue_size></whodata>').whodata.queueSize).to.equal(10);
      // syscheck-config.c:2137-2146: an error line, and <syscheck> invalid
      const config = parse('<directories>/etc</directories>', '<whodata><queue_size>9</queue_size></whodata>');
      expect(config.syscheck.disabled).to.equal(true);
      expect([config.warnings[0]!.level, config.warnings[0]!.line, config.warnings[0]!.option]).to.deep.equal(['ERROR', 7, 'syscheck.whodata.queue_size']);
    });
  });

  describe('values', () => {
    it('scan_time: 24-hour or am/pm, normalized to HH:MM, with the (1240) lines OS_IsValidTime logs (validate_op.c:671-835)', () => {
      // Each checked against wazuh-syscheckd -t: minutes are not checked ('10:60' passes); an empty
      // value is 00:00 after two (1240) errors.
      const times: [string, string | undefined, string[]][] = [
        ['21:00', '21:00', []], ['9', '09:00', []], ['9:05', '09:05', []], ['10pm', '22:00', []], ['10:30 PM', '22:30', []],
        ['12am', '00:00', []], ['12pm', '12:00', []], ['12:15 am', '00:15', []], ['23:59', '23:59', []], ['10:60', '10:60', []],
        ['24:00', undefined, ['24:00-24:00']], ['13pm', undefined, ['m-13pm']], ['9:5', undefined, ['5-9:5']], ['!10:00', undefined, []],
        ['10:00-12:00', undefined, []], ['noon', undefined, ['noon-noon']], ['', '00:00', ['-', '']],
      ];
      for (const [text, time, errors] of times) {
        expect(parseScanTime(text), text).to.deep.equal({ time, errors: errors.map((e) => `(1240): Invalid time format: '${e}'.`) });
      }
    });

    it('scan_day: names, abbreviations, weekdays and weekends, as tm_wday numbers', () => {
      const days: [string, number[] | undefined][] = [
        ['monday', [1]], ['Mon', [1]], ['sunday,saturday', [0, 6]], ['tue wed, thu', [2, 3, 4]], ['weekdays', [1, 2, 3, 4, 5]],
        ['weekends', [0, 6]], ['FRIDAY', [5]], ['monday, monday', [1]],
        ['someday', undefined], ['mondays', undefined], ['!monday', undefined], ['mo', undefined], ['', undefined],
      ];
      for (const [text, expected] of days) expect(parseScanDay(text), text).to.deep.equal(expected);
    });

    it('sizes as read_data_unit (syscheck-config.c:1299-1366): KB by default, M/G/T, any other letter KB, bytes refused', () => {
      const sizes: [string, number | undefined][] = [
        ['50', 50], ['50KB', 50], ['50kb', 50], ['50MB', 51200], ['1GB', 1048576], ['1tb', 1073741824], ['3TB', 2147483647],
        ['0', 0], ['0MB', 0], ['50B', undefined], ['50 MB', undefined], ['5XB', 5], ['MB', 0], ['-1', undefined],
        ['1.5MB', undefined], ['', undefined],
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

    it("a disabled file_limit means no limit (entries 0); huge entries are atoi's int (syscheck-config.c:1809)", () => {
      expect(syscheckOf('<directories>/etc</directories>', '<file_limit><enabled>no</enabled></file_limit>').fileLimit)
        .to.deep.equal({ enabled: false, entries: 0 });
      expect(syscheckOf('<directories>/etc</directories>', '<file_limit><entries>99999999999</entries></file_limit>').fileLimit)
        .to.deep.equal({ enabled: true, entries: 1215752191 }); // (int) 99999999999, as glibc's atoi gives it
    });

    it('raises synchronization max_interval to interval, with a warning', () => {
      const config = parse('<directories>/etc</directories>',
        '<synchronization><interval>2h</interval><max_interval>1h</max_interval></synchronization>');
      expect(config.syscheck.synchronization).to.include({ interval: 7200, maxInterval: 7200 });
      expect(config.warnings.map((w) => w.text)).to.deep.equal([
        `'max_interval' cannot be less than 'interval'. New 'max_interval' value: '7200'. File ${FILE}, line 7, option <syscheck><synchronization><max_interval>.`,
      ]);
    });

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
