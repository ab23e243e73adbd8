// Reader for <syscheck> (file integrity monitoring) with Wazuh 4.14.7's Linux-agent defaults and
// validation (config/syscheck-config.c: initialize_syscheck_configuration, Read_Syscheck, read_attr,
// parse_synchronization, parse_diff, read_data_unit), and the matching rules syscheckd applies to
// <ignore>, <nodiff> and `restrict` (syscheckd/src/create_db.c fim_check_ignore/fim_check_restrict,
// syscheckd/src/fim_diff_changes.c is_file_nodiff, os_regex/os_match_*.c).
//
// Stricter than Wazuh on purpose: where wazuh-syscheckd only logs a warning and then drops the
// setting (a <directories> element with a bad attribute value is not monitored at all, a bad
// <max_eps> keeps the default, an unknown element is skipped), this agent refuses the file with a
// ConfigError naming the line and option, so that nothing ends up silently unmonitored. Options
// that only make sense on Windows or with the Linux Audit provider are accepted with a warning.
import { ConfigError, quoteValue } from './errors.js';
import type { DirectoryConfig, FileChecks, PathMatcher, SyscheckConfig } from './types.js';
import {
  INT_MAX, fail, forEachOption, invalidValue, leafText, parseInteger, parseTimeSpan, parseYesNo, requiredText, warn,
  type OptionHandlers, type OptionNode, type ReadContext,
} from './values.js';
import type { XmlElement } from './xml.js';

/** syscheck.default_max_depth (etc/internal_options.conf:311): default recursion_level. */
const DEFAULT_RECURSION_LEVEL = 256;
/** MAX_DEPTH_ALLOWED (config/syscheck-config.h:141). */
const MAX_RECURSION_LEVEL = 320;
/** MAX_DIR_SIZE (config/syscheck-config.h:79): paths read from one <directories> element. */
const MAX_PATHS_PER_ELEMENT = 64;
/** OS_PATTERN_MAXSIZE (os_regex/os_regex.h:26): longest pattern OSMatch_Compile accepts. */
const SREGEX_MAX_LENGTH = 20480;
/** Upper bound of the synchronization intervals (stored as uint32_t by Wazuh). */
const UINT32_MAX = 4294967295;

const TIME_SPAN_HINT = 'must be a number of seconds, optionally followed by s, m, h, d or w';

/** initialize_syscheck_configuration (config/syscheck-config.c:62-141) for a Linux agent. */
const MIB = 1024 * 1024;
/** internal_options.conf's stock syscheck.file_max_size, in MB. */
export const DEFAULT_FILE_MAX_SIZE_MB = 1024;

export function defaultSyscheckConfig(): SyscheckConfig {
  return {
    // Wazuh starts at SK_CONF_UNPARSED: without any <syscheck> block FIM is disabled
    // (syscheckd/src/config.c:60-65); readSyscheck sets false when there is one.
    disabled: true,
    frequency: 43200,
    scanOnStart: true,
    directories: [],
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
    // Wazuh's default provider is audit; this agent only has eBPF. queue_size: syscheck-config.c:121.
    whodata: { provider: 'ebpf', queueSize: 16384 },
    database: 'disk',
    diff: { diskQuota: { enabled: true, limitKb: 1024 * 1024 }, fileSize: { enabled: true, limitKb: 50 * 1024 } },
    fileMaxSize: DEFAULT_FILE_MAX_SIZE_MB * MIB,
  };
}

// ---------------------------------------------------------------------------------------------
// Wazuh simple regexes (sregex, OSMatch) and the <ignore>/<nodiff> matching rules
// ---------------------------------------------------------------------------------------------

/** Lower-cases A-Z only, like Wazuh's charmap and strcasecmp in the C locale. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** One '|'-separated alternative of a compiled OSMatch (OSMatch_Compile, os_match_compile.c:117-168). */
function matchAlternative(alternative: string, text: string): boolean {
  if (alternative === '') return true; // _os_strmatch
  const anchoredStart = alternative.startsWith('^');
  const anchoredEnd = alternative.endsWith('$');
  if (anchoredStart && anchoredEnd && alternative.length > 1) return text === alternative.slice(1, -1); // _os_strcmp
  if (anchoredEnd) return text.endsWith(alternative.slice(0, -1)); // _os_strcmp_last
  if (anchoredStart) return text.startsWith(alternative.slice(1)); // _os_strncmp
  return text.includes(alternative); // _OS_Match
}

/**
 * Whether `text` matches the Wazuh simple regex `pattern`, as OSMatch_Compile(pattern, 0) followed
 * by OSMatch_Execute does (os_regex/os_match_compile.c, os_match_execute.c):
 * - case-insensitive for ASCII letters;
 * - a leading '!' negates the whole pattern;
 * - '|' separates alternatives; the pattern matches when one of them does;
 * - in an alternative, a leading '^' anchors it at the start, a trailing '$' at the end, both mean
 *   equality; without anchors it matches anywhere (a substring); an empty alternative always matches;
 * - every other character is literal: '.', '*', '?', '\' and '^' or '$' elsewhere have no special meaning.
 */
export function sregexMatches(pattern: string, text: string): boolean {
  const negate = pattern.startsWith('!');
  const alternatives = asciiLower(negate ? pattern.slice(1) : pattern).split('|');
  const subject = asciiLower(text);
  return alternatives.some((a) => matchAlternative(a, subject)) !== negate;
}

export interface PathMatchOptions {
  /**
   * Which list the matchers come from. `ignore` (default): a plain entry matches the path when it is
   * a case-insensitive prefix of it (so `/etc/mtab` covers `/etc/mtab/x` and also `/etc/mtab2`).
   * `nodiff`: a plain entry must equal the path (case-sensitive).
   */
  list?: 'ignore' | 'nodiff';
  /** For `ignore`: the path is a directory. A negated sregex ('!...') matching a directory does not ignore it. */
  directory?: boolean;
}

/**
 * Whether the path is covered by the <ignore> or <nodiff> entries, as syscheckd decides
 * (fim_check_ignore, syscheckd/src/create_db.c:1702-1729; is_file_nodiff, fim_diff_changes.c:812-830):
 * plain entries first, then the sregex ones in order.
 */
export function pathMatches(matchers: readonly PathMatcher[], path: string, options: PathMatchOptions = {}): boolean {
  const list = options.list ?? 'ignore';
  const lowerPath = asciiLower(path);
  for (const m of matchers) {
    if (m.type !== 'path') continue;
    if (list === 'ignore' ? lowerPath.startsWith(asciiLower(m.value)) : path === m.value) return true;
  }
  for (const m of matchers) {
    if (m.type !== 'sregex' || !sregexMatches(m.value, path)) continue;
    return !(list === 'ignore' && options.directory === true && m.value.startsWith('!'));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/** A ConfigError about one attribute, at the attribute's line. */
function failAttr(ctx: ReadContext, node: OptionNode, attr: string, reason: string): never {
  throw new ConfigError(reason, { file: ctx.file, line: node.el.attrLines[attr] ?? node.el.line, path: node.path });
}

function invalidAttr(ctx: ReadContext, node: OptionNode, attr: string, value: string, expected: string): never {
  failAttr(ctx, node, attr, `Invalid value for attribute '${attr}' of <${node.el.name}>: ${quoteValue(value)} (${expected})`);
}

/** A block of child elements (<synchronization>, <diff>...): text in it is a mistake. */
function blockNode(ctx: ReadContext, node: OptionNode): OptionNode {
  if (node.el.text !== '') fail(ctx, node, `Element '${node.el.name}' takes child elements, not a value`);
  return node;
}

/** strtol-style integer (optional sign, nothing after it) within [min, max]. */
function parseSignedInteger(ctx: ReadContext, node: OptionNode, min: number, max: number): number {
  const text = requiredText(ctx, node);
  const value = /^[+-]?[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) invalidValue(ctx, node, text, `must be ${min}-${max}`);
  return value;
}

/** w_parse_time (shared/string_op.c:738-768) within [min, max] seconds. */
function parseSeconds(ctx: ReadContext, node: OptionNode, min: number, max: number): number {
  const text = requiredText(ctx, node);
  const seconds = parseTimeSpan(text);
  if (seconds === undefined || seconds < min || seconds > max) {
    invalidValue(ctx, node, text, `${TIME_SPAN_HINT}; ${min}-${max} seconds`);
  }
  return seconds;
}

const DATA_UNITS_KB: Record<string, number> = { k: 1, m: 1024, g: 1024 * 1024, t: 1024 * 1024 * 1024 };
const DATA_UNIT_HINT = 'must be a number of KB, or a number followed by KB, MB, GB or TB';

/**
 * A size in KB as read_data_unit (config/syscheck-config.c:1299-1366) reads it: a plain number is in
 * KB; "50MB", "1gb"... are converted; bytes ("100B") are refused. Raised to 1 KB (the minimum) and
 * capped at INT_MAX KB as Wazuh does. Undefined for anything else (Wazuh also takes an unknown
 * letter such as "5XB" as KB; we do not).
 */
export function parseDataUnitKb(text: string): number | undefined {
  const match = /^([0-9]+)(?:([kKmMgGtT])[bB])?$/.exec(text);
  if (!match) return undefined;
  const kb = Number(match[1]) * (match[2] ? DATA_UNITS_KB[match[2].toLowerCase()]! : 1);
  return Math.max(1, Math.min(kb, INT_MAX));
}

function parseDataUnit(ctx: ReadContext, node: OptionNode): number {
  const text = requiredText(ctx, node);
  const kb = parseDataUnitKb(text);
  if (kb === undefined) invalidValue(ctx, node, text, DATA_UNIT_HINT);
  return kb;
}

const DAY_NAMES: readonly (readonly [string, readonly number[]])[] = [
  ['sunday', [0]], ['sun', [0]], ['monday', [1]], ['mon', [1]], ['tuesday', [2]], ['tue', [2]],
  ['wednesday', [3]], ['wed', [3]], ['thursday', [4]], ['thu', [4]], ['friday', [5]], ['fri', [5]],
  ['saturday', [6]], ['sat', [6]], ['weekdays', [1, 2, 3, 4, 5]], ['weekends', [0, 6]],
];

/**
 * OS_IsValidDay (shared/validate_op.c:907-995): day names or abbreviations, `weekdays`, `weekends`,
 * case-insensitive, separated by commas or spaces. Returns the days as tm_wday numbers. Wazuh's
 * `!` negation never works there (the '!' is not skipped, so such a value is refused): same here.
 */
export function parseScanDay(text: string): number[] | undefined {
  let rest = text.replace(/^ +/, '');
  const days = new Set<number>();
  while (rest !== '') {
    const lower = asciiLower(rest);
    const entry = DAY_NAMES.find(([name]) => lower.startsWith(name));
    if (!entry) return undefined;
    entry[1].forEach((d) => days.add(d));
    rest = rest.slice(entry[0].length);
    const separators = /^[ ,]*/.exec(rest)![0];
    if (separators === '' && rest !== '') return undefined;
    rest = rest.slice(separators.length);
  }
  return days.size > 0 ? [...days].sort((a, b) => a - b) : undefined;
}

/**
 * OS_IsValidUniqueTime (shared/validate_op.c:859-871): one time of day, "hh[:mm]" in 24-hour format
 * or followed by am/pm (12am is midnight). Returns "HH:MM". Minutes above 59, which Wazuh lets
 * through, are refused.
 */
export function parseScanTime(text: string): string | undefined {
  const match = /^ *([0-9]{1,2})(?::([0-9]{2}))? *(?:([aApP])[mM])? *$/.exec(text);
  if (!match) return undefined;
  let hour = Number(match[1]);
  const minute = match[2] === undefined ? 0 : Number(match[2]);
  if (hour > 23 || minute > 59) return undefined;
  const meridiem = match[3]?.toLowerCase();
  if (meridiem !== undefined) {
    if (hour === 12) hour = 0;
    if (meridiem === 'p') hour += 12;
    if (hour > 23) return undefined;
  }
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/**
 * OS_StrBreak(',', text, MAX_DIR_SIZE + 1) (os_regex/os_regex_strbreak.c): splits at commas; a
 * comma preceded by a backslash is kept, without the backslash.
 */
function splitPaths(text: string): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const c of text) {
    if (c === ',' && current.endsWith('\\')) current = `${current.slice(0, -1)},`;
    else if (c === ',') {
      pieces.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  pieces.push(current);
  return pieces;
}

/** format_path (config/syscheck-config.c:669-715) on Linux: one trailing '/' removed, except from "/". */
function formatPath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

interface ExpandedPath {
  path: string;
  /** The environment variable it came from ("$NAME"), for messages. */
  from?: string;
}

/**
 * get_paths_from_env_variable (config/syscheck-config.c:2504-2557) on Linux: an entry starting with
 * '$' is the name of an environment variable holding one or more ':'-separated paths. Wazuh falls
 * back to the bare name (a path relative to /var/ossec) when the variable is unset; we warn and skip.
 */
function expandEnvironment(ctx: ReadContext, node: OptionNode, entry: string, env: NodeJS.ProcessEnv): ExpandedPath[] {
  if (!entry.startsWith('$')) return [{ path: entry }];
  const name = entry.slice(1);
  const value = Object.hasOwn(env, name) && typeof env[name] === 'string' ? env[name] : undefined;
  const paths = value === undefined ? [] : value.split(':').map((p) => p.trim()).filter((p) => p !== '');
  if (paths.length === 0) {
    warn(ctx, node, `Could not expand the environment variable ${quoteValue(name)} (${value === undefined ? 'not set' : 'empty'}); `
      + `${quoteValue(entry)} skipped`);
  }
  return paths.map((path) => ({ path, from: entry }));
}

function describePath(p: ExpandedPath): string {
  return p.from === undefined ? quoteValue(p.path) : `${quoteValue(p.path)} (from ${p.from})`;
}

// ---------------------------------------------------------------------------------------------
// <directories>
// ---------------------------------------------------------------------------------------------

const CHECK_ATTRIBUTES: Record<string, readonly (keyof FileChecks)[]> = {
  check_md5sum: ['md5'],
  check_sha1sum: ['sha1'],
  check_sha256sum: ['sha256'],
  check_sum: ['md5', 'sha1', 'sha256'],
  check_size: ['size'],
  check_owner: ['owner'],
  check_group: ['group'],
  check_perm: ['perm'],
  check_mtime: ['mtime'],
  check_inode: ['inode'],
  check_all: ['md5', 'sha1', 'sha256', 'size', 'owner', 'group', 'perm', 'mtime', 'inode'],
};

type DirectoryOptions = Omit<DirectoryConfig, 'path' | 'wildcard' | 'line' | 'diffSizeLimitKb'> & { diffSizeLimitKb?: number };

/**
 * The attributes of one <directories> element (read_attr, config/syscheck-config.c:752-1202). They
 * apply in the order written: every check starts on, check_all="no" turns them all off and a later
 * check_size="yes" turns one back on, while check_size="yes" check_all="no" leaves none.
 */
function readDirectoryAttributes(ctx: ReadContext, node: OptionNode, state: ReaderState): DirectoryOptions {
  const options: DirectoryOptions = {
    realtime: false, whodata: false, reportChanges: false, followSymbolicLink: false,
    checks: { md5: true, sha1: true, sha256: true, size: true, owner: true, group: true, perm: true, mtime: true, inode: true },
    recursionLevel: DEFAULT_RECURSION_LEVEL,
  };
  const yesNo = (attr: string, value: string): boolean => {
    if (value === 'yes') return true;
    if (value === 'no') return false;
    invalidAttr(ctx, node, attr, value, 'must be yes or no');
  };
  for (const [attr, value] of Object.entries(node.el.attrs)) {
    const checks = Object.hasOwn(CHECK_ATTRIBUTES, attr) ? CHECK_ATTRIBUTES[attr] : undefined;
    if (checks) {
      const on = yesNo(attr, value);
      for (const check of checks) options.checks[check] = on;
      continue;
    }
    switch (attr) {
      case 'realtime': options.realtime = yesNo(attr, value); break;
      case 'whodata': options.whodata = yesNo(attr, value); break;
      case 'report_changes': options.reportChanges = yesNo(attr, value); break;
      case 'follow_symbolic_link': options.followSymbolicLink = yesNo(attr, value); break;
      case 'restrict':
        if (value.length > SREGEX_MAX_LENGTH) invalidAttr(ctx, node, attr, value, `longer than ${SREGEX_MAX_LENGTH} characters`);
        options.restrict = value;
        break;
      case 'tags': {
        // read_attr removes spaces, '!' and ':' from the tags (syscheck-config.c:1067-1089).
        const tags = value.replace(/[ !:]/g, '');
        if (tags === '') delete options.tags;
        else options.tags = tags;
        break;
      }
      case 'recursion_level': {
        const level = /^[0-9]+$/.test(value) ? Number(value) : NaN;
        if (!(level <= MAX_RECURSION_LEVEL)) invalidAttr(ctx, node, attr, value, `must be 0-${MAX_RECURSION_LEVEL}`);
        options.recursionLevel = level;
        break;
      }
      case 'diff_size_limit': {
        const kb = parseDataUnitKb(value);
        if (kb === undefined) invalidAttr(ctx, node, attr, value, DATA_UNIT_HINT);
        options.diffSizeLimitKb = kb;
        break;
      }
      case 'check_attrs':
        // Wazuh reads it on Windows only (file attributes), and ignores it elsewhere.
        state.warnOnce(node, 'check_attrs', `The check_attrs attribute is only used on Windows; ignored`);
        break;
      default:
        failAttr(ctx, node, attr, `Unknown attribute '${attr}' for directory option`);
    }
  }
  // "Whodata prevails over Realtime" (syscheck-config.c:1062-1065).
  if (options.whodata) options.realtime = false;
  return options;
}

interface PendingDirectory {
  config: Omit<DirectoryConfig, 'diffSizeLimitKb'>;
  diffSizeLimitKb: number | undefined;
}

/** One <directories> element: each path is added, or replaces an entry with the same path. */
function readDirectories(ctx: ReadContext, node: OptionNode, state: ReaderState): void {
  const text = requiredText(ctx, node);
  const { diffSizeLimitKb, ...options } = readDirectoryAttributes(ctx, node, state);
  const pieces = splitPaths(text);
  if (pieces.every((p) => p.trim() === '')) fail(ctx, node, `No path in <directories>: ${quoteValue(text)}`);
  if (pieces.length > MAX_PATHS_PER_ELEMENT) {
    warn(ctx, node, `Maximum number of directories to be monitored in the same tag reached (${MAX_PATHS_PER_ELEMENT}); `
      + `excess discarded: ${quoteValue(pieces.slice(MAX_PATHS_PER_ELEMENT).join(','))}`);
  }
  for (const piece of pieces.slice(0, MAX_PATHS_PER_ELEMENT)) {
    // Wazuh trims spaces only; a newline or tab around a path is as surely a layout choice.
    const entry = piece.trim();
    if (entry === '') continue; // Wazuh skips empty entries ("/etc,,/usr", a trailing comma).
    for (const expanded of expandEnvironment(ctx, node, entry, state.env)) {
      if (!expanded.path.startsWith('/')) {
        fail(ctx, node, `Directory path must be absolute: ${describePath(expanded)}`);
      }
      const path = formatPath(expanded.path);
      const config = { path, wildcard: /[*?[]/.test(path), ...options, checks: { ...options.checks }, line: node.el.line };
      state.directories.set(path, { config, diffSizeLimitKb });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// <ignore>, <nodiff>
// ---------------------------------------------------------------------------------------------

/** `type="sregex"` or no attribute at all; any other attribute is an error (Wazuh: FIM_INVALID_ATTRIBUTE). */
function isSregex(ctx: ReadContext, node: OptionNode): boolean {
  for (const [attr, value] of Object.entries(node.el.attrs)) {
    if (attr !== 'type') failAttr(ctx, node, attr, `Invalid attribute '${attr}' for '${node.el.name}' option`);
    if (value !== 'sregex') invalidAttr(ctx, node, attr, value, 'must be sregex');
  }
  return Object.hasOwn(node.el.attrs, 'type');
}

function addMatcher(list: PathMatcher[], matcher: PathMatcher): void {
  // Wazuh drops a plain entry already in the list (os_IsStrOnArray), not a repeated regex.
  if (matcher.type === 'path' && list.some((m) => m.type === 'path' && m.value === matcher.value)) return;
  list.push(matcher);
}

/**
 * <ignore> or <nodiff>. A plain entry is trimmed, may name an environment variable and loses a
 * trailing '/' (process_option, syscheck-config.c:2591-2635); with `raw` (<diff><nodiff>,
 * parse_diff) it is kept as written. A regex is kept as written.
 */
function readMatcher(ctx: ReadContext, node: OptionNode, list: PathMatcher[], state: ReaderState, raw = false): void {
  const text = requiredText(ctx, node);
  if (isSregex(ctx, node)) {
    if (text.length > SREGEX_MAX_LENGTH) invalidValue(ctx, node, text, `longer than ${SREGEX_MAX_LENGTH} characters`);
    addMatcher(list, { type: 'sregex', value: text });
    return;
  }
  const paths = raw ? [{ path: text }] : expandEnvironment(ctx, node, text, state.env);
  for (const expanded of paths) {
    const path = raw ? expanded.path : formatPath(expanded.path);
    if (!path.startsWith('/')) {
      warn(ctx, node, `${describePath(expanded)} is not an absolute path and matches no file `
        + '(use type="sregex" for a pattern)');
    }
    addMatcher(list, { type: 'path', value: path });
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------

interface ReaderState {
  readonly config: SyscheckConfig;
  /** By path: a path configured again replaces the earlier entry (fim_insert_directory). */
  readonly directories: Map<string, PendingDirectory>;
  readonly env: NodeJS.ProcessEnv;
  /** One warning per key for the whole file. */
  warnOnce(node: OptionNode, key: string, reason: string): void;
}

function windowsOnly(ctx: ReadContext, node: OptionNode): void {
  warn(ctx, node, `The <${node.el.name}> element is only used on Windows; ignored`);
}

function deprecatedNoEffect(ctx: ReadContext, node: OptionNode): void {
  warn(ctx, node, `The <${node.el.name}> element is deprecated and has no effect; ignored`);
}

function auditOnly(node: OptionNode, state: ReaderState): void {
  state.warnOnce(node, node.el.name, `The <${node.el.name}> element only applies to the Linux Audit who-data provider, `
    + 'which wazuh-bpf-agent does not use (who-data comes from eBPF); ignored');
}

/** <file_limit> (Read_Syscheck, syscheck-config.c:1783-1822). */
function readFileLimit(ctx: ReadContext, node: OptionNode, config: SyscheckConfig): void {
  const limit = { ...config.fileLimit };
  forEachOption(ctx, blockNode(ctx, node), {
    enabled: (n) => { limit.enabled = parseYesNo(ctx, n); },
    entries: (n) => {
      const text = requiredText(ctx, n);
      if (!/^[0-9]+$/.test(text)) invalidValue(ctx, n, text, 'must be a number of files');
      limit.entries = Math.min(Number(text), INT_MAX); // Wazuh caps an overflowing value at INT_MAX.
    },
  });
  if (!limit.enabled) limit.entries = 0;
  config.fileLimit = limit;
}

/** <synchronization> (parse_synchronization, syscheck-config.c:1204-1297). */
function readSynchronization(ctx: ReadContext, node: OptionNode, config: SyscheckConfig): void {
  const sync = config.synchronization;
  let intervalNode: OptionNode = node;
  forEachOption(ctx, blockNode(ctx, node), {
    enabled: (n) => { sync.enabled = parseYesNo(ctx, n); },
    interval: (n) => { sync.interval = parseSeconds(ctx, n, 1, UINT32_MAX); intervalNode = n; },
    max_interval: (n) => { sync.maxInterval = parseSeconds(ctx, n, 0, UINT32_MAX); intervalNode = n; },
    response_timeout: (n) => { sync.responseTimeout = parseSeconds(ctx, n, 0, UINT32_MAX); },
    queue_size: (n) => { sync.queueSize = parseSignedInteger(ctx, n, 2, 1000000); },
    max_eps: (n) => { sync.maxEps = parseSignedInteger(ctx, n, 0, 1000000); },
    thread_pool: (n) => { sync.threadPool = parseInteger(ctx, n, 1, INT_MAX); },
    registry_enabled: (n) => { parseYesNo(ctx, n); windowsOnly(ctx, n); },
  });
  if (sync.maxInterval < sync.interval) {
    sync.maxInterval = sync.interval;
    warn(ctx, intervalNode, `'max_interval' cannot be less than 'interval'. New 'max_interval' value: '${sync.interval}'`);
  }
}

/** <whodata> (Read_Syscheck, syscheck-config.c:2083-2160). */
function readWhodata(ctx: ReadContext, node: OptionNode, state: ReaderState): void {
  forEachOption(ctx, blockNode(ctx, node), {
    provider: (n) => {
      const text = requiredText(ctx, n);
      if (text === 'audit') warn(ctx, n, 'audit provider not supported by wazuh-bpf-agent; using ebpf');
      else if (text !== 'ebpf') invalidValue(ctx, n, text, 'must be ebpf or audit');
    },
    // Also the size of the eBPF event queue (fimebpf_initialize, syscheckd/src/syscheck.c:324).
    queue_size: (n) => { state.config.whodata.queueSize = parseSignedInteger(ctx, n, 10, 1024 * 1024); },
    audit_key: (n) => { leafText(ctx, n); auditOnly(n, state); },
    startup_healthcheck: (n) => { parseYesNo(ctx, n); auditOnly(n, state); },
    restart_audit: (n) => { parseYesNo(ctx, n); auditOnly(n, state); },
  });
}

/** <diff> (parse_diff, syscheck-config.c:1368-1620). */
function readDiff(ctx: ReadContext, node: OptionNode, state: ReaderState): void {
  const { diff } = state.config;
  const sizeLimit = (target: { enabled: boolean; limitKb: number }): OptionHandlers => ({
    enabled: (n) => { target.enabled = parseYesNo(ctx, n); },
    limit: (n) => { target.limitKb = parseDataUnit(ctx, n); },
  });
  forEachOption(ctx, blockNode(ctx, node), {
    disk_quota: (n) => { forEachOption(ctx, blockNode(ctx, n), sizeLimit(diff.diskQuota)); },
    file_size: (n) => { forEachOption(ctx, blockNode(ctx, n), sizeLimit(diff.fileSize)); },
    nodiff: (n) => { readMatcher(ctx, n, state.config.nodiff, state, true); },
    registry_nodiff: (n) => { windowsOnly(ctx, n); },
  });
  // The diff folder must have room for the largest file diffed (parse_diff, end).
  if (diff.fileSize.enabled && diff.diskQuota.limitKb < diff.fileSize.limitKb) diff.diskQuota.limitKb = diff.fileSize.limitKb;
}

/** The top-level options of one <syscheck> block (Read_Syscheck, syscheck-config.c:1622-2255). */
function readBlock(ctx: ReadContext, block: OptionNode, state: ReaderState): void {
  const { config } = state;
  const handlers: OptionHandlers = {
    disabled: (n) => { config.disabled = parseYesNo(ctx, n); },
    frequency: (n) => {
      const text = requiredText(ctx, n);
      if (!/^[0-9]+$/.test(text) || Number(text) > INT_MAX) {
        invalidValue(ctx, n, text, `must be a number of seconds, 0-${INT_MAX}; Wazuh accepts no unit here`);
      }
      config.frequency = Number(text);
    },
    scan_time: (n) => {
      const text = requiredText(ctx, n);
      const time = parseScanTime(text);
      if (time === undefined) invalidValue(ctx, n, text, 'must be a time of day such as 21:00, 9pm or 9:30 am');
      config.scanTime = time;
    },
    scan_day: (n) => {
      const text = requiredText(ctx, n);
      const days = parseScanDay(text);
      if (days === undefined) {
        invalidValue(ctx, n, text, 'must be day names such as monday or mon, weekdays or weekends, separated by commas');
      }
      config.scanDay = days;
    },
    scan_on_start: (n) => { config.scanOnStart = parseYesNo(ctx, n); },
    directories: (n) => { readDirectories(ctx, n, state); },
    ignore: (n) => { readMatcher(ctx, n, config.ignore, state); },
    nodiff: (n) => { readMatcher(ctx, n, config.nodiff, state); },
    skip_nfs: (n) => { config.skipNfs = parseYesNo(ctx, n); },
    skip_dev: (n) => { config.skipDev = parseYesNo(ctx, n); },
    skip_sys: (n) => { config.skipSys = parseYesNo(ctx, n); },
    skip_proc: (n) => { config.skipProc = parseYesNo(ctx, n); },
    database: (n) => {
      const text = requiredText(ctx, n);
      if (text !== 'disk' && text !== 'memory') invalidValue(ctx, n, text, 'must be disk or memory');
      config.database = text;
    },
    file_limit: (n) => { readFileLimit(ctx, n, config); },
    max_eps: (n) => { config.maxEps = parseSignedInteger(ctx, n, 0, 1000000); },
    max_files_per_second: (n) => { config.maxFilesPerSecond = parseInteger(ctx, n, 0, INT_MAX); },
    process_priority: (n) => { config.processPriority = parseSignedInteger(ctx, n, -20, 19); },
    synchronization: (n) => { readSynchronization(ctx, n, config); },
    whodata: (n) => { readWhodata(ctx, n, state); },
    diff: (n) => { readDiff(ctx, n, state); },
    restart_audit: (n) => { parseYesNo(ctx, n); auditOnly(n, state); },
    prefilter_cmd: (n) => {
      leafText(ctx, n);
      warn(ctx, n, 'The <prefilter_cmd> element is not supported by wazuh-bpf-agent (it never runs commands before hashing); ignored');
    },
    allow_remote_prefilter_cmd: (n) => {
      parseYesNo(ctx, n);
      warn(ctx, n, 'The <allow_remote_prefilter_cmd> element has no effect in wazuh-bpf-agent (prefilter_cmd is not supported); ignored');
    },
    // Accepted and not read by Wazuh's agent either (syscheck-config.c:2037-2040, 2068-2069).
    alert_new_files: (n) => { deprecatedNoEffect(ctx, n); },
    auto_ignore: (n) => { deprecatedNoEffect(ctx, n); },
    remove_old_diff: (n) => { deprecatedNoEffect(ctx, n); },
    windows_registry: (n) => { windowsOnly(ctx, n); },
    windows_audit_interval: (n) => { windowsOnly(ctx, n); },
    registry_limit: (n) => { windowsOnly(ctx, n); },
  };
  for (const el of block.el.children) {
    // Wazuh takes every element whose name starts with "registry_ignore" (strncmp) as a registry ignore.
    if (el.name.startsWith('registry_ignore')) handlers[el.name] = (n) => { windowsOnly(ctx, n); };
  }
  forEachOption(ctx, block, handlers);
}

/**
 * All <syscheck> blocks, in file order, read into one configuration as Wazuh does: later values
 * override earlier ones, <directories>, <ignore> and <nodiff> accumulate. `env` serves the
 * `$VARIABLE` entries of <directories>, <ignore> and <nodiff>.
 */
export function readSyscheck(blocks: readonly XmlElement[], ctx: ReadContext, env: NodeJS.ProcessEnv = process.env): SyscheckConfig {
  const config = defaultSyscheckConfig();
  if (blocks.length === 0) return config;
  config.disabled = false;

  const warned = new Set<string>();
  const state: ReaderState = {
    config, directories: new Map(), env,
    warnOnce(node, key, reason) {
      if (warned.has(key)) return;
      warned.add(key);
      warn(ctx, node, reason);
    },
  };
  for (const el of blocks) readBlock(ctx, { el, path: ['syscheck'] }, state);

  // Wazuh's list is sorted by strcmp (fim_insert_directory); a directory without diff_size_limit
  // takes <diff><file_size><limit> (syscheckd/src/config.c:48-52).
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  config.directories = [...state.directories.values()]
    .sort((a, b) => byteOrder(a.config.path, b.config.path))
    .map(({ config: { line, ...dir }, diffSizeLimitKb }) => ({
      ...dir, diffSizeLimitKb: diffSizeLimitKb ?? config.diff.fileSize.limitKb, line,
    }));

  if (config.directories.length === 0 && !config.disabled) {
    warn(ctx, { el: blocks[0]!, path: ['syscheck'] }, 'No directory provided for syscheck to monitor');
  }
  return config;
}
