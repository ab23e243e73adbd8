// Reader for <syscheck> (file integrity monitoring) with Wazuh 4.14.7's Linux-agent defaults and
// validation (config/syscheck-config.c: initialize_syscheck_configuration, Read_Syscheck, read_attr,
// parse_synchronization, parse_diff, read_data_unit), and the matching rules syscheckd applies to
// <ignore>, <nodiff> and `restrict` (syscheckd/src/create_db.c fim_check_ignore/fim_check_restrict,
// syscheckd/src/fim_diff_changes.c is_file_nodiff, os_regex/os_match_*.c).
//
// Decides as wazuh-syscheckd 4.14.7 decides, rule by rule, with its messages (wazuh-messages.ts):
// where Wazuh warns and goes on, the same warning and the same consequence (the default kept, a
// <directories> line's paths dropped, the rest of <diff> not read); where Read_Syscheck gives up
// (OS_INVALID), (1202) and (1207) and FIM disabled while the agent runs on. Nothing here refuses
// the file: that is only for what stops wazuh-agentd (load.ts, client.ts). Options that only
// make sense on Windows or with the Linux Audit provider are accepted with an INFO remark.
import fs from 'node:fs';
import { quoteValue } from './errors.js';
import type { DirectoryConfig, FileChecks, PathMatcher, SyscheckConfig } from './types.js';
import {
  INT_MAX, atoi, isStrNum, note, parseWazuhTime, strtolInRange, warn, type OptionNode, type ReadContext,
} from './values.js';
import * as msg from './wazuh-messages.js';
import type { XmlElement } from './xml.js';

/** syscheck.default_max_depth (etc/internal_options.conf:311): default recursion_level. */
const DEFAULT_RECURSION_LEVEL = 256;
/** MAX_DEPTH_ALLOWED (config/syscheck-config.h:141). */
const MAX_RECURSION_LEVEL = 320;
/** MAX_DIR_SIZE (config/syscheck-config.h:79): paths read from one <directories> element. */
const MAX_PATHS_PER_ELEMENT = 64;
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

/**
 * Where Read_Syscheck returns OS_INVALID (syscheck-config.c:1622-2255): the whole <syscheck> is
 * invalid and syscheckd runs with FIM disabled (syscheckd/src/main.c:134-136).
 */
class SyscheckInvalid extends Error {}

/** Logs Wazuh's line for the element, then gives up on the whole <syscheck>. */
function invalidSyscheck(ctx: ReadContext, node: OptionNode, message: string, level: 'WARNING' | 'ERROR' = 'WARNING'): never {
  warn(ctx, node, message, level);
  throw new SyscheckInvalid(message);
}

/** `strcmp(content, "yes")`, `"no"`, else (1235) and the whole <syscheck> invalid. */
function yesNoOrInvalid(ctx: ReadContext, node: OptionNode): boolean {
  const text = node.el.text;
  if (text === 'yes') return true;
  if (text === 'no') return false;
  invalidSyscheck(ctx, node, msg.invalidValue(node.el.name, text));
}

/**
 * A size in KB as read_data_unit (config/syscheck-config.c:1299-1366) reads it: a plain number is
 * in KB; a number followed by a letter and B/b is converted (M, G, T; any other letter is KB, as
 * in Wazuh: "5XB" is 5 KB); bytes ("100B") and anything else are refused (undefined). The value
 * is a C int: an overflowing multiplication wraps, and is set to INT_MAX only where it wrapped
 * negative, as Wazuh does. The caller raises it to 1 KB.
 */
export function parseDataUnitKb(text: string): number | undefined {
  const last = text.at(-1);
  if (last === undefined) return undefined;
  if (last === 'B' || last === 'b') {
    const unit = text.at(-2);
    if (unit !== undefined && /[A-Za-z]/.test(unit)) {
      const digits = text.slice(0, -2);
      if (!isStrNum(digits)) return undefined;
      const read = atoi(digits);
      const factor = { m: 1024, g: 1024 * 1024, t: 1024 * 1024 * 1024 }[unit.toLowerCase()] ?? 1;
      const converted = Number(BigInt.asIntN(32, BigInt(read) * BigInt(factor)));
      return converted < 0 && read > 0 ? INT_MAX : converted;
    }
    if (unit !== undefined && /[0-9]/.test(unit)) return undefined; // a limit cannot be set in bytes
    return 0;
  }
  if (/[0-9]/.test(last)) return isStrNum(text) ? atoi(text) : undefined;
  return undefined;
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
 * __gethour (shared/validate_op.c:671-765): one "hh[:mm][ am|pm]" at the start of `str`. Returns
 * "HH:MM" and what follows it, or undefined. `errors` receives the (1240) lines Wazuh logs on the
 * way, each naming the rest of the text where it stopped (a value not starting with a digit is
 * logged, then read as hour 0, as Wazuh does).
 */
function getHour(str: string, errors: string[]): { hour: string; rest: string } | undefined {
  if (!/^[0-9]/.test(str)) errors.push(msg.invalidTime(str));
  let hour = atoi(str);
  if (hour < 0 || hour >= 24) {
    errors.push(msg.invalidTime(str));
    return undefined;
  }
  const digits = /^[0-9]*/.exec(str)![0].length;
  let rest = str.slice(digits);
  if (digits > 2) {
    errors.push(msg.invalidTime(rest));
    return undefined;
  }
  let minute = 0;
  if (rest.startsWith(':')) {
    rest = rest.slice(1);
    const isDigit = (i: number) => /[0-9]/.test(rest.charAt(i));
    if ((!isDigit(0) || !isDigit(1)) && isDigit(2)) {
      errors.push(msg.invalidTime(rest));
      return undefined;
    }
    minute = atoi(rest);
    rest = rest.slice(2);
  }
  rest = rest.replace(/^ +/, '');
  const pad = (n: number) => String(n).padStart(2, '0');
  const meridiem = rest.charAt(0).toLowerCase();
  if (meridiem !== 'a' && meridiem !== 'p') return { hour: `${pad(hour)}:${pad(minute)}`, rest };
  rest = rest.slice(1);
  if (rest.charAt(0).toLowerCase() === 'm') {
    if (hour === 12) hour = 0;
    if (meridiem === 'p') hour += 12;
    if (hour < 24) return { hour: `${pad(hour)}:${pad(minute)}`, rest: rest.slice(1) };
  }
  errors.push(msg.invalidTime(rest));
  return undefined;
}

/**
 * OS_IsValidUniqueTime (shared/validate_op.c:859-871): Wazuh checks "<t>-<t>" as a time range
 * (OS_IsValidTime, validate_op.c:767-835). Returns "HH:MM" or undefined, and the (1240) lines
 * Wazuh logs on the way. Minutes are not checked, as in Wazuh: "10:75" is accepted as it is.
 */
export function parseScanTime(text: string): { time: string | undefined; errors: string[] } {
  const errors: string[] = [];
  if (text.startsWith('!')) return { time: undefined, errors };
  const range = `${text}-${text}`.slice(0, 128);
  const first = getHour(range.replace(/^ +/, ''), errors);
  if (!first) return { time: undefined, errors };
  let rest = first.rest.replace(/^ +/, '');
  if (!rest.startsWith('-')) return { time: undefined, errors };
  const second = getHour(rest.slice(1).replace(/^ +/, ''), errors);
  if (!second) return { time: undefined, errors };
  rest = second.rest.replace(/^ +/, '');
  return { time: rest === '' ? first.hour : undefined, errors };
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

/**
 * get_paths_from_env_variable (config/syscheck-config.c:2504-2557) on Linux: an entry starting with
 * '$' is the name of an environment variable holding one or more ':'-separated paths. An unset
 * variable is (6718), logged as an error; Wazuh then takes the bare name as a path relative to its
 * home, which means nothing here: that entry is skipped (an INFO says so).
 */
function expandEnvironment(ctx: ReadContext, node: OptionNode, entry: string, env: NodeJS.ProcessEnv): string[] {
  if (!entry.startsWith('$')) return [entry];
  const name = entry.slice(1);
  const value = Object.hasOwn(env, name) && typeof env[name] === 'string' ? env[name] : undefined;
  if (value === undefined) {
    warn(ctx, node, msg.cannotExpandVariable(name), 'ERROR');
    note(ctx, node, `${quoteValue(entry)} skipped: Wazuh would take '${name}' as a path relative to its home`);
    return [];
  }
  const paths = value.split(':').map((p) => p.trim());
  return paths.length === 1 && paths[0] === '' ? [name] : paths;
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
 * The attributes of one <directories> element (read_attr, config/syscheck-config.c:752-1202), in
 * the order written: every check starts on, check_all="no" turns them all off and a later
 * check_size="yes" turns one back on. Undefined when an attribute's value is invalid: Wazuh then
 * warns (6924, or 1235 for recursion_level) and monitors none of the element's paths
 * (`goto out_free`), while the rest of <syscheck> stands. An unknown attribute is (6701) and skipped.
 */
function readDirectoryAttributes(ctx: ReadContext, node: OptionNode, state: ReaderState): DirectoryOptions | undefined {
  const options: DirectoryOptions = {
    realtime: false, whodata: false, reportChanges: false, followSymbolicLink: false,
    checks: { md5: true, sha1: true, sha256: true, size: true, owner: true, group: true, perm: true, mtime: true, inode: true },
    recursionLevel: DEFAULT_RECURSION_LEVEL,
  };
  const paths = node.el.text;
  for (const [attr, value] of Object.entries(node.el.attrs)) {
    const at: OptionNode = { el: { ...node.el, line: node.el.attrLines[attr] ?? node.el.line }, path: node.path };
    const skipped = (): undefined => { warn(ctx, at, msg.invalidOptionSkip(value, attr, paths)); return undefined; };
    const yesNo = (): boolean | undefined => (value === 'yes' ? true : value === 'no' ? false : undefined);
    const checks = Object.hasOwn(CHECK_ATTRIBUTES, attr) ? CHECK_ATTRIBUTES[attr] : undefined;
    if (checks) {
      const on = yesNo();
      if (on === undefined) return skipped();
      for (const check of checks) options.checks[check] = on;
      continue;
    }
    switch (attr) {
      case 'realtime':
      case 'whodata':
      case 'report_changes':
      case 'follow_symbolic_link': {
        const on = yesNo();
        if (on === undefined) return skipped();
        if (attr === 'realtime') options.realtime = on;
        else if (attr === 'whodata') options.whodata = on;
        else if (attr === 'report_changes') options.reportChanges = on;
        else options.followSymbolicLink = on;
        break;
      }
      case 'restrict':
        // Kept as written; Wazuh compiles it with OSMatch_Compile, which refuses only a pattern over
        // OS_PATTERN_MAXSIZE, longer than os_xml reads an attribute anyway.
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
        // syscheck-config.c:989-1002: digits only, else (1235) and the paths dropped; atoi's int.
        if (!isStrNum(value)) {
          warn(ctx, at, msg.invalidValue(attr, value));
          return undefined;
        }
        const level = atoi(value);
        if (level < 0) {
          warn(ctx, at, msg.recursionLevelNegative(level, DEFAULT_RECURSION_LEVEL));
          options.recursionLevel = DEFAULT_RECURSION_LEVEL;
        } else if (level > MAX_RECURSION_LEVEL) {
          // Wazuh's message says it sets the limit (320); its code sets the default (256).
          warn(ctx, at, msg.recursionLevelOverLimit(level, MAX_RECURSION_LEVEL));
          options.recursionLevel = DEFAULT_RECURSION_LEVEL;
        } else {
          options.recursionLevel = level;
        }
        break;
      }
      case 'diff_size_limit': {
        const kb = parseDataUnitKb(value);
        if (kb === undefined) return skipped();
        options.diffSizeLimitKb = Math.max(kb, 1); // 1 KB is the minimum (syscheck-config.c:1032-1034)
        break;
      }
      case 'check_attrs':
        // Wazuh reads it on Windows only, and logs at debug level elsewhere (syscheck-config.c:941-943).
        state.noteOnce(at, 'check_attrs', 'The check_attrs attribute is only used on Windows; ignored');
        break;
      default:
        warn(ctx, at, msg.unknownDirectoryAttribute(attr));
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
  const attributes = readDirectoryAttributes(ctx, node, state);
  if (!attributes) return;
  const { diffSizeLimitKb, ...options } = attributes;
  const pieces = splitPaths(node.el.text);
  pieces.slice(MAX_PATHS_PER_ELEMENT).forEach((excess) => warn(ctx, node, msg.maxDirectoriesReached(MAX_PATHS_PER_ELEMENT, excess)));
  for (const piece of pieces.slice(0, MAX_PATHS_PER_ELEMENT)) {
    // Wazuh trims white space (w_strtrim) and skips what is left empty: "<directories/>", "/etc,,/usr".
    const entry = piece.trim();
    if (entry === '') continue;
    for (const expanded of expandEnvironment(ctx, node, entry, state.env)) {
      if (expanded === '') continue;
      if (!expanded.startsWith('/')) {
        // Wazuh takes it relative to its home directory (/var/ossec), silently.
        note(ctx, node, `${quoteValue(expanded)} is not an absolute path: Wazuh reads it relative to its home; not monitored here`);
        continue;
      }
      const path = formatPath(expanded);
      const config = { path, wildcard: /[*?[]/.test(path), ...options, checks: { ...options.checks }, line: node.el.line };
      state.directories.set(path, { config, diffSizeLimitKb });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// <ignore>, <nodiff>
// ---------------------------------------------------------------------------------------------

/**
 * Whether the entry is a type="sregex" pattern. Wazuh looks at the first attribute only: another
 * name or value there is (6679), which makes the whole <syscheck> invalid when `invalidates`
 * (<ignore>, <nodiff> in <syscheck>: syscheck-config.c:1952-1963, 2021-2032), or is returned as undefined
 * (<diff><nodiff>: parse_diff warns and stops reading <diff>, syscheck-config.c:1437-1441).
 */
function sregexAttribute(ctx: ReadContext, node: OptionNode, invalidates: boolean): boolean | undefined {
  const first = Object.entries(node.el.attrs)[0];
  if (first === undefined) return false;
  if (first[0] === 'type' && first[1] === 'sregex') return true;
  const message = msg.invalidAttribute(first[0], node.el.name);
  if (invalidates) invalidSyscheck(ctx, node, message);
  warn(ctx, node, message);
  return undefined;
}

function addMatcher(list: PathMatcher[], matcher: PathMatcher): void {
  // Wazuh drops a plain entry already in the list (os_IsStrOnArray), not a repeated regex.
  if (matcher.type === 'path' && list.some((m) => m.type === 'path' && m.value === matcher.value)) return;
  list.push(matcher);
}

/**
 * <ignore> or <nodiff> in <syscheck>: a pattern is kept as written (an empty one matches every
 * path, as OSMatch's empty pattern does); a plain entry is trimmed, may name an environment
 * variable and loses a trailing '/' (process_option, syscheck-config.c:2591-2635), an empty one
 * adds nothing.
 */
function readMatcher(ctx: ReadContext, node: OptionNode, list: PathMatcher[], state: ReaderState): void {
  const text = node.el.text;
  if (sregexAttribute(ctx, node, true)) {
    addMatcher(list, { type: 'sregex', value: text });
    return;
  }
  const entry = text.trim();
  if (entry === '') return;
  for (const expanded of expandEnvironment(ctx, node, entry, state.env)) {
    if (expanded === '') continue;
    const path = formatPath(expanded);
    if (!path.startsWith('/')) {
      note(ctx, node, `${quoteValue(path)} is not an absolute path and matches no file (use type="sregex" for a pattern)`);
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
  readonly pathExists: (path: string) => boolean;
  /** One INFO per key for the whole file. */
  noteOnce(node: OptionNode, key: string, remark: string): void;
}

function windowsOnly(ctx: ReadContext, node: OptionNode): void {
  note(ctx, node, `The <${node.el.name}> element is only used on Windows; ignored`);
}

function auditOnly(node: OptionNode, state: ReaderState): void {
  state.noteOnce(node, node.el.name, `The <${node.el.name}> element only applies to the Linux Audit who-data provider, `
    + 'which wazuh-bpf-agent does not use (who-data comes from eBPF); ignored');
}

/** The child elements of a block; Wazuh skips a block without any (`continue`). */
function children(node: OptionNode): OptionNode[] {
  return node.el.children.map((el) => ({ el, path: [...node.path, el.name] }));
}

/**
 * <file_limit> and <registry_limit> (Read_Syscheck, syscheck-config.c:1783-1863): a bad `enabled`
 * or `entries` makes <syscheck> invalid; other children are skipped silently. registry_limit is
 * read (and so checked) on Linux too, then not used.
 */
function readEntryLimit(ctx: ReadContext, node: OptionNode, apply: (limit: { enabled: boolean; entries: number }) => void, current: { enabled: boolean; entries: number }): void {
  const limit = { ...current };
  const elements = children(node);
  if (elements.length === 0) return;
  for (const n of elements) {
    if (n.el.name === 'enabled') limit.enabled = yesNoOrInvalid(ctx, n);
    else if (n.el.name === 'entries') {
      if (!isStrNum(n.el.text)) invalidSyscheck(ctx, n, msg.invalidValue('entries', n.el.text));
      const entries = atoi(n.el.text);
      limit.entries = entries < 0 ? INT_MAX : entries; // MAX_FILE_LIMIT (syscheck-config.h) where atoi overflowed
    }
  }
  if (!limit.enabled) limit.entries = 0;
  apply(limit);
}

/**
 * <synchronization> (parse_synchronization, syscheck-config.c:1204-1297): a bad value is (1235)
 * and the default (or the value before) stays; an unknown element is (1230) and skipped.
 */
function readSynchronization(ctx: ReadContext, node: OptionNode, config: SyscheckConfig): void {
  const sync = config.synchronization;
  let last: OptionNode = node;
  for (const n of children(node)) {
    const text = n.el.text;
    const bad = () => { warn(ctx, n, msg.invalidValue(n.el.name, text)); };
    switch (n.el.name) {
      case 'enabled':
        if (text === 'yes' || text === 'no') sync.enabled = text === 'yes';
        else bad();
        break;
      case 'interval': {
        const seconds = parseWazuhTime(text);
        if (seconds === undefined || seconds <= 0) bad();
        else { sync.interval = seconds; last = n; }
        break;
      }
      case 'max_interval':
      case 'response_timeout': {
        const seconds = parseWazuhTime(text);
        if (seconds === undefined) bad();
        // Stored as uint32_t by Wazuh.
        else if (n.el.name === 'max_interval') { sync.maxInterval = seconds % 2 ** 32; last = n; }
        else sync.responseTimeout = seconds % 2 ** 32;
        break;
      }
      case 'queue_size': {
        const value = strtolInRange(text, 2, 1000000);
        if (value === undefined) bad();
        else sync.queueSize = value;
        break;
      }
      case 'max_eps': {
        const value = strtolInRange(text, 0, 1000000);
        if (value === undefined) bad();
        else sync.maxEps = value;
        break;
      }
      case 'thread_pool': {
        const value = isStrNum(text) ? atoi(text) : 0;
        if (value < 1) bad();
        else sync.threadPool = value;
        break;
      }
      case 'registry_enabled':
        windowsOnly(ctx, n); // read on Windows only (syscheck-config.c:1265-1275)
        break;
      default:
        warn(ctx, n, msg.invalidElement(n.el.name));
    }
  }
  if (sync.maxInterval < sync.interval) {
    sync.maxInterval = sync.interval;
    warn(ctx, last, msg.maxIntervalBelowInterval(sync.interval));
  }
}

/**
 * <whodata> (Read_Syscheck, syscheck-config.c:2083-2160): a bad value, or an unknown element
 * ((1231), as Wazuh words it), makes <syscheck> invalid. Wazuh logs a bad queue_size as an error.
 */
function readWhodata(ctx: ReadContext, node: OptionNode, state: ReaderState): void {
  for (const n of children(node)) {
    const text = n.el.text;
    switch (n.el.name) {
      case 'provider':
        if (text !== 'ebpf' && text !== 'audit') invalidSyscheck(ctx, n, msg.invalidValue('provider', text));
        if (text === 'audit') note(ctx, n, 'audit provider not supported by wazuh-bpf-agent; using ebpf');
        break;
      case 'queue_size': {
        // Also the size of the eBPF event queue (fimebpf_initialize, syscheckd/src/syscheck.c:324).
        const size = strtolInRange(text, 10, 1024 * 1024);
        if (size === undefined) invalidSyscheck(ctx, n, msg.invalidValue('queue_size', text), 'ERROR');
        state.config.whodata.queueSize = size;
        break;
      }
      case 'audit_key': auditOnly(n, state); break;
      case 'startup_healthcheck':
      case 'restart_audit':
        yesNoOrInvalid(ctx, n);
        auditOnly(n, state);
        break;
      default:
        invalidSyscheck(ctx, n, msg.invalidNullElement());
    }
  }
}

/**
 * <diff> (parse_diff, syscheck-config.c:1368-1620). A bad value is (1235) and ends the reading of
 * <diff> there (`return`): what came before stays, the rest of <diff> is not read, and neither is
 * the disk_quota >= file_size adjustment at its end. A bad limit has already been stored as -1 KB
 * when Wazuh returns (syscheck-config.c:1547-1552, 1590-1595): no diff fits in it. Unknown
 * elements are skipped silently.
 */
function readDiff(ctx: ReadContext, node: OptionNode, state: ReaderState): void {
  const { diff } = state.config;
  const stopped = (n: OptionNode, value: string) => { warn(ctx, n, msg.invalidValue(n.el.name, value)); };
  for (const n of children(node)) {
    if (n.el.name === 'nodiff') {
      const sregex = sregexAttribute(ctx, n, false);
      if (sregex === undefined) return;
      if (sregex) addMatcher(state.config.nodiff, { type: 'sregex', value: n.el.text });
      // Kept as written, not trimmed nor expanded (syscheck-config.c:1470-1486).
      else addMatcher(state.config.nodiff, { type: 'path', value: n.el.text });
    } else if (n.el.name === 'disk_quota' || n.el.name === 'file_size') {
      const target = n.el.name === 'disk_quota' ? diff.diskQuota : diff.fileSize;
      for (const c of children(n)) {
        const text = c.el.text;
        if (c.el.name === 'enabled') {
          if (text !== 'yes' && text !== 'no') return stopped(c, text);
          target.enabled = text === 'yes';
        } else if (c.el.name === 'limit') {
          const kb = parseDataUnitKb(text);
          if (kb === undefined) {
            target.limitKb = -1;
            return stopped(c, text);
          }
          target.limitKb = Math.max(kb, 1); // 1 KB is the minimum
        }
      }
    } else if (n.el.name === 'registry_nodiff') {
      windowsOnly(ctx, n);
    }
  }
  // The diff folder must have room for the largest file diffed (parse_diff, end).
  if (diff.fileSize.enabled && diff.diskQuota.limitKb < diff.fileSize.limitKb) diff.diskQuota.limitKb = diff.fileSize.limitKb;
}

/**
 * The top-level options of one <syscheck> block, rule by rule as Read_Syscheck
 * (syscheck-config.c:1622-2255) on a Linux agent: a bad frequency, scan_time, scan_day,
 * file_limit, scan_on_start, disabled, skip_*, restart_audit, whodata option, process_priority,
 * allow_remote_prefilter_cmd, max_files_per_second, an ignore/nodiff attribute other than
 * type="sregex" or a prefilter_cmd whose program does not exist makes the whole <syscheck>
 * invalid; a bad max_eps keeps the default; an unknown <database> value is ignored; an unknown
 * element is (1230) and skipped.
 */
function readBlock(ctx: ReadContext, block: OptionNode, state: ReaderState): void {
  const { config } = state;
  for (const n of children(block)) {
    const text = n.el.text;
    const name = n.el.name;
    switch (name) {
      case 'directories': readDirectories(ctx, n, state); break;
      case 'database':
        if (text === 'disk' || text === 'memory') config.database = text;
        break;
      case 'frequency':
        if (!isStrNum(text)) invalidSyscheck(ctx, n, msg.invalidValue(name, text));
        config.frequency = atoi(text);
        break;
      case 'scan_time': {
        const { time, errors } = parseScanTime(text);
        for (const e of errors) warn(ctx, n, e, 'ERROR');
        if (time === undefined) invalidSyscheck(ctx, n, msg.invalidValue(name, text));
        config.scanTime = time;
        break;
      }
      case 'scan_day': {
        const days = parseScanDay(text);
        if (days === undefined) {
          warn(ctx, n, msg.invalidDay(text));
          invalidSyscheck(ctx, n, msg.invalidValue(name, text));
        }
        config.scanDay = days;
        break;
      }
      case 'file_limit': readEntryLimit(ctx, n, (limit) => { config.fileLimit = limit; }, config.fileLimit); break;
      case 'registry_limit':
        readEntryLimit(ctx, n, () => undefined, { enabled: true, entries: 0 });
        if (n.el.children.length > 0) windowsOnly(ctx, n);
        break;
      case 'scan_on_start': config.scanOnStart = yesNoOrInvalid(ctx, n); break;
      case 'disabled': config.disabled = yesNoOrInvalid(ctx, n); break;
      case 'skip_nfs': config.skipNfs = yesNoOrInvalid(ctx, n); break;
      case 'skip_dev': config.skipDev = yesNoOrInvalid(ctx, n); break;
      case 'skip_sys': config.skipSys = yesNoOrInvalid(ctx, n); break;
      case 'skip_proc': config.skipProc = yesNoOrInvalid(ctx, n); break;
      case 'ignore': readMatcher(ctx, n, config.ignore, state); break;
      case 'nodiff': readMatcher(ctx, n, config.nodiff, state); break;
      // Accepted and not read by Wazuh either (syscheck-config.c:2037-2040, 2068-2069).
      case 'auto_ignore':
      case 'alert_new_files':
      case 'remove_old_diff':
        note(ctx, n, `The <${name}> element is deprecated and has no effect; ignored`);
        break;
      case 'prefilter_cmd': {
        // syscheck-config.c:2041-2066: the program (up to the first space) must exist.
        const program = text.split(' ')[0]!;
        if (text !== '' && !state.pathExists(program)) invalidSyscheck(ctx, n, msg.invalidValue(name, text));
        if (text !== '') note(ctx, n, 'The <prefilter_cmd> element is not supported by wazuh-bpf-agent (it never runs commands before hashing); ignored');
        break;
      }
      case 'restart_audit':
        yesNoOrInvalid(ctx, n);
        auditOnly(n, state);
        break;
      case 'whodata': readWhodata(ctx, n, state); break;
      case 'process_priority': {
        const priority = strtolInRange(text, -20, 19);
        if (priority === undefined) invalidSyscheck(ctx, n, msg.invalidValue(name, text));
        config.processPriority = priority;
        break;
      }
      case 'synchronization': readSynchronization(ctx, n, config); break;
      case 'diff': readDiff(ctx, n, state); break;
      case 'max_eps': {
        const eps = strtolInRange(text, 0, 1000000);
        if (eps === undefined) warn(ctx, n, msg.invalidValue(name, text));
        else config.maxEps = eps;
        break;
      }
      case 'allow_remote_prefilter_cmd':
        yesNoOrInvalid(ctx, n);
        note(ctx, n, 'The <allow_remote_prefilter_cmd> element has no effect in wazuh-bpf-agent (prefilter_cmd is not supported); ignored');
        break;
      case 'max_files_per_second':
        if (!isStrNum(text)) invalidSyscheck(ctx, n, msg.invalidValue(name, text));
        config.maxFilesPerSecond = atoi(text);
        break;
      case 'windows_registry':
      case 'windows_audit_interval':
        windowsOnly(ctx, n);
        break;
      default:
        // Wazuh takes every element whose name starts with "registry_ignore" (strncmp) as a registry ignore.
        if (name.startsWith('registry_ignore')) windowsOnly(ctx, n);
        else warn(ctx, n, msg.invalidElement(name));
    }
  }
}

/** What readSyscheck needs from the machine: kept out so that reading stays a pure function of its inputs. */
export interface SyscheckHost {
  /** For `$VARIABLE` entries of <directories>, <ignore> and <nodiff>. */
  env: NodeJS.ProcessEnv;
  /** Whether stat(2) succeeds on the path: prefilter_cmd's program must exist (w_stat). */
  pathExists: (path: string) => boolean;
}

export const REAL_HOST: SyscheckHost = {
  env: process.env,
  pathExists: (p) => {
    try {
      fs.statSync(p);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * All <syscheck> blocks, in file order, read into one configuration as Wazuh does: later values
 * override earlier ones, <directories>, <ignore> and <nodiff> accumulate. When Read_Syscheck would
 * return OS_INVALID, the result is Wazuh's: (1202) and (1207) logged, FIM disabled, the agent
 * otherwise running (syscheckd/src/main.c:134-136).
 */
export function readSyscheck(blocks: readonly XmlElement[], ctx: ReadContext, host: SyscheckHost = REAL_HOST): SyscheckConfig {
  const config = defaultSyscheckConfig();
  if (blocks.length === 0) return config;
  config.disabled = false;

  const noted = new Set<string>();
  const state: ReaderState = {
    config, directories: new Map(), env: host.env, pathExists: host.pathExists,
    noteOnce(node, key, remark) {
      if (noted.has(key)) return;
      noted.add(key);
      note(ctx, node, remark);
    },
  };
  const syscheckNode = { el: blocks[0]!, path: ['syscheck'] };
  try {
    for (const el of blocks) readBlock(ctx, { el, path: ['syscheck'] }, state);
  } catch (e) {
    if (!(e instanceof SyscheckInvalid)) throw e;
    warn(ctx, syscheckNode, msg.configurationError(ctx.file));
    warn(ctx, syscheckNode, msg.syscheckCorrupted(ctx.file));
    return defaultSyscheckConfig(); // disabled: FIM does not run
  }

  // Wazuh's list is sorted by strcmp (fim_insert_directory); a directory without diff_size_limit
  // takes <diff><file_size><limit> (syscheckd/src/config.c:48-52).
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  config.directories = [...state.directories.values()]
    .sort((a, b) => byteOrder(a.config.path, b.config.path))
    .map(({ config: { line, ...dir }, diffSizeLimitKb }) => ({
      ...dir, diffSizeLimitKb: diffSizeLimitKb ?? config.diff.fileSize.limitKb, line,
    }));

  if (config.directories.length === 0 && !config.disabled) {
    // syscheckd/src/main.c:137-146: nothing to monitor, FIM disabled, said at INFO level.
    note(ctx, syscheckNode, msg.noDirectoryProvided());
  }
  return config;
}
