// Pure builders of the FIM messages a Wazuh 4.14.7 Linux agent (wazuh-syscheckd) sends, and of the
// integrity synchronization it runs with the manager (GitHub issue #5, wire format part).
//
// Every fact below comes from the Wazuh v4.14.7 source; paths are relative to its root.
//
// Two JSON writers produce the agent's messages, and it shows on the wire:
//  * cJSON (src/syscheckd/src/create_db.c) keeps insertion order and prints numbers with cJSON's
//    printer: `cJSON_AddNumberToObject(data, "version", 2.0)` comes out as `"version":2`.
//  * nlohmann::json (src/syscheckd/src/db/src/file.cpp DB::createJsonEvent; the rsync/dbsync
//    messages) stores objects in a std::map, so dump() writes keys sorted (byte order), and
//    createJsonEvent writes `jsonEvent["data"]["version"] = "2.0"`, a string.
// Which writer builds an event depends on the code path, i.e. on the event's mode:
//  * realtime/whodata added & modified: fim_file() without a dbsync transaction -> fim_db_file_update()
//    -> DB::createJsonEvent (nlohmann, sorted, version "2.0"); fim_db_file_update() dumps it, turns a
//    numeric inode into a string, cJSON_Parse()s it and fim_event_callback() (create_db.c) appends
//    content_changes, audit and tags with cJSON (so those come last, after "version"), then
//    send_syscheck_msg() prints it with cJSON_PrintUnformatted (run_check.c).
//  * realtime/whodata deleted: fim_process_missing_entry -> process_delete_event -> fim_json_event()
//    (create_db.c, cJSON, insertion order, version 2) with the entry read back from the DB.
//  * scheduled added/modified/deleted: the scan's dbsync transaction -> transaction_callback()
//    (create_db.c, cJSON, insertion order, version 2).
// The capture (test/fixtures/capture-agent-4.14.7.json) shows the first two: realtime added and
// modified are sorted with "version":"2.0", realtime deleted is in insertion order with "version":2.
//
// Messages travel as `<queue>:<location>:<payload>` (headers/mq_op.h): FIM events and scan info
// on SYSCHECK_MQ '8' with location "syscheck" (run_check.c send_syscheck_msg / fim_send_scan_info),
// synchronization on DBSYNC_MQ '5' with the component as location (run_check.c fim_send_sync_state).

import { attributesChecksum, comparePaths } from './checksum.js';

export { attributesChecksum, attributesChecksumInput, comparePaths } from './checksum.js';
export type { ChecksumFields, ChecksummedEntry } from './checksum.js';

export const SYSCHECK_PREFIX = '8:syscheck:';
export const FIM_FILE_COMPONENT = 'fim_file';
export const DBSYNC_FIM_FILE_PREFIX = `5:${FIM_FILE_COMPONENT}:`;

// ---------------------------------------------------------------------------------------------
// Attributes

export type FimMode = 'scheduled' | 'realtime' | 'whodata';

/** The check_* options of a monitored directory (src/config/syscheck-config.h CHECK_*). */
export interface FimChecks {
  size: boolean;
  perm: boolean;
  owner: boolean;
  group: boolean;
  mtime: boolean;
  inode: boolean;
  md5: boolean;
  sha1: boolean;
  sha256: boolean;
}

/** Every check on: Wazuh's default for <directories> (syscheck-config.c read_attr: fim_set_check_all). */
export const DEFAULT_CHECKS: Readonly<FimChecks> = Object.freeze({
  size: true, perm: true, owner: true, group: true, mtime: true, inode: true, md5: true, sha1: true, sha256: true,
});

/** Hashes Wazuh reports for empty, too large (>= file_max_size) and non-regular files (create_db.c fim_get_data). */
export const EMPTY_FILE_HASHES = Object.freeze({
  md5: 'd41d8cd98f00b204e9800998ecf8427e',
  sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
});

/**
 * The `attributes` object of an event as it appears on the wire (Linux). Which keys are present
 * depends on the check_* options: see eventAttributes().
 */
export interface FileAttributes {
  type: 'file';
  size?: number;
  /** "rw-r--r--" (shared/read-agents.c agent_file_perm). */
  perm?: string;
  uid?: string;
  gid?: string;
  user_name?: string;
  group_name?: string;
  /** Decimal st_ino, a string since 4.14 (create_db.c fim_attributes_json, file.cpp fim_db_file_update). */
  inode?: string;
  mtime?: number;
  hash_md5?: string;
  hash_sha1?: string;
  hash_sha256?: string;
  checksum: string;
}

/**
 * What the agent knows about a file: its row in the agent's file_entry table (db/src/fimDB.hpp,
 * db/src/dbFileItem.hpp). Fields whose check is off hold Wazuh's empty values: size/mtime 0,
 * strings "" (a hash that is not checked is "", see fim_get_data). An unknown user/group name is "".
 */
export interface FileState {
  size: number;
  perm: string;
  uid: string;
  gid: string;
  user_name: string;
  group_name: string;
  /** Decimal st_ino; always the real inode, whatever check_inode says. */
  inode: string;
  mtime: number;
  hash_md5: string;
  hash_sha1: string;
  hash_sha256: string;
  /** attributesChecksum() of the above. */
  checksum: string;
}

const S_ISUID = 0o4000, S_ISGID = 0o2000, S_ISVTX = 0o1000;

/**
 * st_mode -> "rwxr-xr-x" exactly as shared/read-agents.c agent_file_perm(): nine characters, no
 * file-type letter; setuid/setgid/sticky print a lowercase 's'/'s'/'t' in the execute slot whether or
 * not the execute bit is set (no 'S'/'T' as ls would show).
 */
export function modeToPerm(mode: number): string {
  const bit = (mask: number, c: string) => ((mode & mask) !== 0 ? c : '-');
  return bit(0o400, 'r') + bit(0o200, 'w') + ((mode & S_ISUID) !== 0 ? 's' : bit(0o100, 'x')) +
    bit(0o040, 'r') + bit(0o020, 'w') + ((mode & S_ISGID) !== 0 ? 's' : bit(0o010, 'x')) +
    bit(0o004, 'r') + bit(0o002, 'w') + ((mode & S_ISVTX) !== 0 ? 't' : bit(0o001, 'x'));
}

export interface StatLike {
  mode: number;
  size: number | bigint;
  uid: number | bigint;
  gid: number | bigint;
  ino: number | bigint;
  /** st_mtime in whole seconds (time_t, the fraction is dropped). */
  mtime: number | bigint;
}

export interface FileStateInput {
  stat: StatLike;
  /** getpwuid() name; null/undefined when unknown (then "" and no user_name attribute). */
  userName?: string | null;
  groupName?: string | null;
  /**
   * Content hashes. Omit for what Wazuh does not hash (empty files, files >= file_max_size,
   * non-regular files): it then reports EMPTY_FILE_HASHES.
   */
  hashes?: { md5: string; sha1: string; sha256: string };
  checks?: FimChecks;
}

/** Builds the DB row of a file the way create_db.c fim_get_data() fills fim_file_data (Linux). */
export function buildFileState(input: FileStateInput): FileState {
  const c = input.checks ?? DEFAULT_CHECKS;
  const { stat } = input;
  const hashes = input.hashes ?? EMPTY_FILE_HASHES;
  const state: Omit<FileState, 'checksum'> = {
    size: c.size ? Number(stat.size) : 0,
    perm: c.perm ? modeToPerm(stat.mode) : '',
    uid: c.owner ? BigInt(stat.uid).toString() : '',
    gid: c.group ? BigInt(stat.gid).toString() : '',
    user_name: c.owner ? (input.userName ?? '') : '',
    group_name: c.group ? (input.groupName ?? '') : '',
    inode: BigInt(stat.ino).toString(),
    mtime: c.mtime ? Number(stat.mtime) : 0,
    hash_md5: c.md5 ? hashes.md5 : '',
    hash_sha1: c.sha1 ? hashes.sha1 : '',
    hash_sha256: c.sha256 ? hashes.sha256 : '',
  };
  return { ...state, checksum: attributesChecksum(state) };
}

/**
 * The FileState behind a wire `attributes` object (absent fields take their empty values). Pass
 * `inode` when check_inode is off: the real inode is part of the checksum but not of the attributes.
 */
export function fileStateFromAttributes(a: FileAttributes, inode?: string): FileState {
  const state: Omit<FileState, 'checksum'> = {
    size: a.size ?? 0,
    perm: a.perm ?? '',
    uid: a.uid ?? '',
    gid: a.gid ?? '',
    user_name: a.user_name ?? '',
    group_name: a.group_name ?? '',
    inode: a.inode ?? inode ?? '0',
    mtime: a.mtime ?? 0,
    hash_md5: a.hash_md5 ?? '',
    hash_sha1: a.hash_sha1 ?? '',
    hash_sha256: a.hash_sha256 ?? '',
  };
  return { ...state, checksum: a.checksum ?? attributesChecksum(state) };
}

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/** cJSON's `valueint`: the double saturated to int (cJSON_CreateNumber). */
function cjsonValueInt(d: number): number {
  if (d >= INT_MAX) return INT_MAX;
  if (d <= INT_MIN) return INT_MIN;
  return Math.trunc(d);
}

/**
 * The attributes object in Wazuh's insertion order (create_db.c fim_attributes_json; the same keys and
 * conditions as file.cpp createJsonEvent and create_db.c dbsync_attributes_json):
 * type, size [check_size], perm [check_perm], uid [check_owner, non-empty], gid [check_group, non-empty],
 * user_name [non-empty], group_name [non-empty], inode [check_inode], mtime [check_mtime],
 * hash_md5/hash_sha1/hash_sha256 [check_md5sum/sha1sum/sha256sum], checksum [non-empty].
 * `valueInt` reproduces dbsync_attributes_json, which copies size and mtime through cJSON's valueint
 * (saturated at 2147483647): scheduled deletions of files of 2 GiB or more report size 2147483647.
 */
export function eventAttributes(s: FileState, checks: FimChecks = DEFAULT_CHECKS, valueInt = false): FileAttributes {
  const a: Record<string, string | number> = { type: 'file' };
  if (checks.size) a['size'] = valueInt ? cjsonValueInt(s.size) : s.size;
  if (checks.perm) a['perm'] = s.perm;
  if (checks.owner && s.uid !== '') a['uid'] = s.uid;
  if (checks.group && s.gid !== '') a['gid'] = s.gid;
  if (s.user_name !== '') a['user_name'] = s.user_name;
  if (s.group_name !== '') a['group_name'] = s.group_name;
  if (checks.inode) a['inode'] = s.inode;
  if (checks.mtime) a['mtime'] = valueInt ? cjsonValueInt(s.mtime) : s.mtime;
  if (checks.md5) a['hash_md5'] = s.hash_md5;
  if (checks.sha1) a['hash_sha1'] = s.hash_sha1;
  if (checks.sha256) a['hash_sha256'] = s.hash_sha256;
  if (s.checksum !== '') a['checksum'] = s.checksum;
  return a as unknown as FileAttributes;
}

/** Names of changed attributes, in the order Wazuh lists them. */
export type ChangedAttribute =
  'size' | 'permission' | 'uid' | 'gid' | 'user_name' | 'group_name' | 'inode' | 'mtime' | 'md5' | 'sha1' | 'sha256';

/**
 * old_attributes and changed_attributes of a modification, as file.cpp createJsonEvent (realtime/whodata)
 * and create_db.c fim_calculate_dbsync_difference (scheduled) compute them from the dbsync "old" row
 * (the columns whose value changed). Both walk the same fields in the same order:
 * size, permission, uid, gid, user_name, group_name, inode, mtime, md5, sha1, sha256.
 * Note the order differs from the legacy create_db.c fim_json_compare_attrs (uid, user_name, gid, ...,
 * mtime before inode), which 4.14.7 no longer uses for file events.
 * A field is listed only where it is reported (same conditions as eventAttributes(), evaluated on the
 * NEW state): e.g. a user_name that became "" is neither in old_attributes nor in changed_attributes.
 * old_attributes holds the old value of changed fields and the new value of unchanged ones; its
 * checksum is the old one. `valueInt`: the scheduled path copies changed size/mtime through cJSON's
 * valueint (saturated at 2147483647).
 */
export function compareStates(
  old: FileState, cur: FileState, checks: FimChecks = DEFAULT_CHECKS, valueInt = false,
): { oldAttributes: FileAttributes; changed: ChangedAttribute[] } {
  const o: Record<string, string | number> = { type: 'file' };
  const changed: ChangedAttribute[] = [];
  const num = (n: number) => (valueInt ? cjsonValueInt(n) : n);
  const field = (
    reported: boolean, key: keyof FileState, name: ChangedAttribute | undefined, numeric = false,
  ): void => {
    if (!reported) return;
    if (old[key] !== cur[key]) {
      o[key] = numeric ? num(old[key] as number) : old[key];
      if (name) changed.push(name);
    } else {
      o[key] = cur[key];
    }
  };
  field(checks.size, 'size', 'size', true);
  field(checks.perm, 'perm', 'permission');
  field(checks.owner && cur.uid !== '', 'uid', 'uid');
  field(checks.group && cur.gid !== '', 'gid', 'gid');
  field(cur.user_name !== '', 'user_name', 'user_name');
  field(cur.group_name !== '', 'group_name', 'group_name');
  field(checks.inode, 'inode', 'inode');
  field(checks.mtime, 'mtime', 'mtime', true);
  field(checks.md5, 'hash_md5', 'md5');
  field(checks.sha1, 'hash_sha1', 'sha1');
  field(checks.sha256, 'hash_sha256', 'sha256');
  field(cur.checksum !== '', 'checksum', undefined);
  return { oldAttributes: o as unknown as FileAttributes, changed };
}

// ---------------------------------------------------------------------------------------------
// Who-data

/**
 * The `audit` object of whodata events (create_db.c fim_audit_json). Absent strings are left out
 * (the eBPF provider, syscheckd/src/ebpf/src/ebpf_whodata.cpp, never fills audit_uid, audit_name,
 * effective_uid, effective_name; the auditd provider does). process_id and ppid are always written.
 * With Wazuh's own eBPF provider, process_name/parent_name are the kernel task names (comm, at most 15
 * characters, ebpf_whodata.cpp: w_evt->process_name = event->comm), user_id/group_id the task's
 * uid/gid; with auditd they are the executable paths from the audit records.
 */
export interface AuditData {
  user_id?: string;
  user_name?: string;
  group_id?: string;
  group_name?: string;
  process_name?: string;
  process_id: number;
  ppid: number;
  parent_name?: string;
  cwd?: string;
  parent_cwd?: string;
  audit_uid?: string;
  audit_name?: string;
  effective_uid?: string;
  effective_name?: string;
}

/** fim_audit_json's key order (Linux): note process_id comes before cwd and ppid comes last. */
export function auditJson(w: AuditData): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  const str = (k: keyof AuditData) => { const v = w[k]; if (v !== undefined && v !== null) out[k] = v; };
  str('user_id');
  str('user_name');
  str('process_name');
  out['process_id'] = w.process_id;
  str('cwd');
  str('group_id');
  str('group_name');
  str('audit_uid');
  str('audit_name');
  str('effective_uid');
  str('effective_name');
  str('parent_name');
  str('parent_cwd');
  out['ppid'] = w.ppid;
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON printing

type Json = string | number | boolean | null | Json[] | { [k: string]: Json | undefined };

/** "%1.<p>g" as C's printf does it (used by cJSON for non-int numbers). */
function formatG(d: number, p: number): string {
  if (d === 0) return '0';
  const [mant, e] = d.toExponential(p - 1).split('e') as [string, string];
  const x = Number(e);
  const strip = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (x < -4 || x >= p) {
    const ax = Math.abs(x);
    return `${strip(mant)}e${x < 0 ? '-' : '+'}${ax < 10 ? `0${ax}` : ax}`;
  }
  return strip(d.toFixed(p - 1 - x));
}

/**
 * cJSON's print_number: "%d" of valueint when the double equals it, else "%1.15g", or "%1.17g" when
 * 15 digits do not round-trip. Only differs from JSON.stringify for huge sizes (>= 1e15, e.g. "1e+15").
 */
export function cjsonNumber(d: number): string {
  if (!Number.isFinite(d)) return 'null';
  if (d === cjsonValueInt(d)) return String(cjsonValueInt(d));
  const s15 = formatG(d, 15);
  return Number(s15) === d ? s15 : formatG(d, 17);
}

function nlohmannNumber(d: number): string {
  return Number.isInteger(d) ? BigInt(d).toString() : JSON.stringify(d);
}

// String escaping: cJSON (print_string_ptr) and nlohmann (dump, ensure_ascii=false) both escape
// '"', '\\', \b \f \n \r \t and other bytes < 0x20 as \u00xx (lowercase), and write everything
// else as is: the same as JSON.stringify for well-formed strings.
function printJson(v: Json, num: (n: number) => string): string {
  return plainIntegers(v) ? JSON.stringify(v) : printJsonWith(v, num);
}

/**
 * True when every number in `v` is an integer below 1e15: both libraries then print it as
 * JSON.stringify does (cJSON's %1.15g switches to exponents from 1e15), and the whole value can
 * go through JSON.stringify, several times faster than printJsonWith.
 */
function plainIntegers(v: Json): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e15;
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) return v.every(plainIntegers);
  for (const k in v) if (!plainIntegers(v[k] as Json)) return false;
  return true;
}

function printJsonWith(v: Json, num: (n: number) => string): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return num(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map((x) => printJsonWith(x, num)).join(',')}]`;
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(`${JSON.stringify(k)}:${printJsonWith(x, num)}`);
  return `{${parts.join(',')}}`;
}

/** nlohmann::json objects are std::map: keys in byte order, at every level. */
function sortKeys(v: Json): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sortKeys);
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(v).sort(comparePaths)) { const x = v[k]; if (x !== undefined) out[k] = sortKeys(x); }
  return out;
}

const asJson = (x: unknown): Json => x as Json;

// ---------------------------------------------------------------------------------------------
// 8:syscheck: messages

/** `8:syscheck:{"type":"scan_start","data":{"timestamp":N}}` (create_db.c fim_scan_info_json, run_check.c fim_send_scan_info). */
export function scanStartMessage(timestamp: number): string {
  return SYSCHECK_PREFIX + printJson({ type: 'scan_start', data: { timestamp } }, cjsonNumber);
}

export function scanEndMessage(timestamp: number): string {
  return SYSCHECK_PREFIX + printJson({ type: 'scan_end', data: { timestamp } }, cjsonNumber);
}

export interface FimEventOptions {
  /** Decides the code path, hence key order and the type of "version" (see the header). */
  mode: FimMode;
  /**
   * The check_* options. For realtime/whodata deletions Wazuh uses the options stored with the DB entry
   * (fim_json_event reads data->options); everywhere else the directory's current options.
   */
  checks?: FimChecks;
  /** <directories tags="...">, sent verbatim as a string. */
  tags?: string;
  /** report_changes diff text (fim_diff_changes.c); only modified events carry it. */
  contentChanges?: string;
  /** Who-data; written only in whodata mode (only fim_whodata_event sets evt_data->w_evt). */
  audit?: AuditData;
}

type EventType = 'added' | 'modified' | 'deleted';

function eventData(
  type: EventType, path: string, timestamp: number, attributes: FileAttributes, opts: FimEventOptions,
  modification?: { oldAttributes: FileAttributes; changed: ChangedAttribute[] },
): string {
  const audit = opts.mode === 'whodata' && opts.audit ? auditJson(opts.audit) : undefined;
  const contentChanges = type === 'modified' ? opts.contentChanges : undefined;
  let data: { [k: string]: Json | undefined };
  if (opts.mode !== 'scheduled' && type !== 'deleted') {
    // file.cpp DB::createJsonEvent (nlohmann -> sorted keys, version "2.0"), then
    // create_db.c fim_event_callback appends content_changes, audit, tags (cJSON, in this order).
    data = sortKeys(asJson({
      path, version: '2.0', mode: opts.mode, type, attributes, timestamp,
      ...(modification ? { old_attributes: modification.oldAttributes, changed_attributes: modification.changed } : {}),
    })) as { [k: string]: Json };
    data['content_changes'] = contentChanges;
    data['audit'] = asJson(audit);
    data['tags'] = opts.tags;
    return SYSCHECK_PREFIX + printJson({ data, type: 'event' }, cjsonNumber);
  }
  data = { path, version: 2, mode: opts.mode, type, timestamp, attributes: asJson(attributes) };
  if (opts.mode === 'scheduled') {
    // create_db.c transaction_callback: ..., attributes, old_attributes, changed_attributes, content_changes, tags.
    if (modification) {
      data['old_attributes'] = asJson(modification.oldAttributes);
      data['changed_attributes'] = modification.changed;
    }
    data['content_changes'] = contentChanges;
  } else {
    // create_db.c fim_json_event (deletions only here): ..., attributes, audit, content_changes, tags.
    data['audit'] = asJson(audit);
  }
  data['tags'] = opts.tags;
  return SYSCHECK_PREFIX + printJson({ type: 'event', data }, cjsonNumber);
}

/**
 * A file added. `timestamp` is the event time, which Wazuh stores as the entry's last_event
 * (fim_get_data: data->last_event = time(NULL)).
 */
export function fileAddedMessage(path: string, state: FileState, timestamp: number, opts: FimEventOptions): string {
  return eventData('added', path, timestamp, eventAttributes(state, opts.checks ?? DEFAULT_CHECKS), opts);
}

/**
 * A file modified, or null when Wazuh sends nothing: no reported attribute changed (fim_event_callback /
 * transaction_callback drop events whose changed_attributes is empty, e.g. when only the inode changed
 * with check_inode off, which still changes the checksum and the DB row).
 */
export function fileModifiedMessage(
  path: string, old: FileState, current: FileState, timestamp: number, opts: FimEventOptions,
): string | null {
  const checks = opts.checks ?? DEFAULT_CHECKS;
  const modification = compareStates(old, current, checks, opts.mode === 'scheduled');
  if (modification.changed.length === 0) return null;
  return eventData('modified', path, timestamp, eventAttributes(current, checks), opts, modification);
}

/**
 * A file deleted. `lastEvent` is the timestamp stored with the DB entry (time of its last added/modified
 * event), NOT the time of the deletion: fim_json_event writes data->last_event of the entry read from the
 * DB, transaction_callback the row's last_event. The capture shows it: the deletion carries the
 * modification's timestamp.
 */
export function fileDeletedMessage(path: string, state: FileState, lastEvent: number, opts: FimEventOptions): string {
  const attributes = eventAttributes(state, opts.checks ?? DEFAULT_CHECKS, opts.mode === 'scheduled');
  return eventData('deleted', path, lastEvent, attributes, opts);
}

// ---------------------------------------------------------------------------------------------
// Integrity synchronization (5:fim_file:)
//
// Agent side: shared_modules/rsync (rsyncImplementation.cpp, messageChecksum.h, messageRowData.h) with
// the configuration of syscheckd/src/db/src/fimDBSpecialization.h, wrapped by db/src/db.cpp
// (callbackSyncFileWrapper) and sent by run_check.c fim_send_sync_state on DBSYNC_MQ with location
// "fim_file". All these messages are nlohmann dumps: keys sorted, integers printed exactly.
//
// 1. Every sync interval (and once after the first scan) the agent starts a sync (startRSync): id =
//    time(NULL); if its table is empty it sends integrity_clear {id}, otherwise integrity_check_global
//    {begin: first path, end: last path, checksum: the range checksum of all entries (checksum.ts), id}.
//    (fimDBSpecialization.h asks the first path with "path DESC" and the last with "path ASC", both with
//    count_opt 1, but rsync's getRowData drops count_opt and keeps the last row it is given: begin is the
//    smallest path, end the largest.)
// 2. The manager (analysisd/decoders/dbsync.c + wazuh_db/wdb_integrity.c) compares with its own
//    sha1 over its rows between begin and end and, unless it matches, answers through remoted
//    (remoted/ar-forward.c, NO_AR_MSG) with a control message
//        #!-fim_file dbsync checksum_fail {"begin":"...","end":"...","id":N}
//        #!-fim_file dbsync no_data {"begin":"...","end":"...","id":N}
//    (the agent's data object with "tail" and "checksum" removed, printed by cJSON in the order
//    received). A match gets no answer.
// 3. client-agent/receiver.c hands "fim_file ..." to syscheckd (syscom.c -> fim_sync_push_msg), FIMDB::
//    pushMessage removes the first "dbsync ", rsync decodes "<component> <command> <json>"
//    (messageDecoderJSON.h) and checks the id (synchronizationController.hpp), then
//      checksum_fail: count the entries in [begin, end]; one entry and begin == end -> send its state;
//                     more than one -> split at middle = floor(n/2): integrity_check_left {begin, end =
//                     path[middle-1], tail = path[middle], checksum of the first half, id} and
//                     integrity_check_right {begin = path[middle], end, checksum of the rest, id};
//                     otherwise nothing.
//      no_data:       send the state of every entry in [begin, end], in path order.
// 4. The manager saves each state (wazuh-db "save2") and repeats 2 for left/right ranges.
// The builders below are pure; sync.ts runs the exchange over the baseline.

export interface IntegrityRange {
  begin: string;
  end: string;
  checksum: string;
  id: number;
}

function dbsyncMessage(type: string, data: Json): string {
  return DBSYNC_FIM_FILE_PREFIX + printJson(sortKeys({ component: FIM_FILE_COMPONENT, data, type }), nlohmannNumber);
}

export function integrityCheckGlobal(r: IntegrityRange): string {
  return dbsyncMessage('integrity_check_global', { begin: r.begin, end: r.end, checksum: r.checksum, id: r.id });
}

export function integrityCheckLeft(r: IntegrityRange & { tail: string }): string {
  return dbsyncMessage('integrity_check_left', { begin: r.begin, end: r.end, tail: r.tail, checksum: r.checksum, id: r.id });
}

export function integrityCheckRight(r: IntegrityRange): string {
  return dbsyncMessage('integrity_check_right', { begin: r.begin, end: r.end, checksum: r.checksum, id: r.id });
}

export function integrityClear(id: number): string {
  return dbsyncMessage('integrity_clear', { id });
}

/** An entry of the agent's file table, as the synchronization needs it. */
export interface SyncEntry {
  path: string;
  state: FileState;
  /** The row's last_event (time of the entry's last event). */
  lastEvent: number;
}

/**
 * The `state` message for one entry (messageRowData.h + db.cpp callbackSyncFileWrapper):
 * {"component":"fim_file","data":{"attributes":{...},"index":<path>,"timestamp":<last_event>},"type":"state"}
 * where attributes is the whole DB row (select "*": every non-NULL column) minus dev, last_event, mode,
 * options, path and scanned, plus type "file", with inode turned into a string. So it holds every field,
 * empty ones included ("" / 0), and the Windows-only "attributes" column, "" on Linux. No "version".
 */
export function stateMessage(e: SyncEntry): string {
  const s = e.state;
  const attributes = {
    attributes: '',
    checksum: s.checksum,
    gid: s.gid,
    group_name: s.group_name,
    hash_md5: s.hash_md5,
    hash_sha1: s.hash_sha1,
    hash_sha256: s.hash_sha256,
    inode: s.inode,
    mtime: s.mtime,
    perm: s.perm,
    size: s.size,
    type: 'file',
    uid: s.uid,
    user_name: s.user_name,
  };
  return dbsyncMessage('state', { attributes, index: e.path, timestamp: e.lastEvent });
}

export type SyncCommand = 'checksum_fail' | 'no_data';

/** A manager -> agent synchronization request, decoded. */
export interface SyncRequest {
  /** "fim_file" (or fim_registry_key / fim_registry_value on Windows). */
  component: string;
  /** The manager only sends checksum_fail and no_data; anything else is kept as is (rsync ignores it). */
  command: SyncCommand | string;
  begin: string;
  end: string;
  id: number;
}

const FIM_SYNC_COMPONENTS = new Set(['fim_file', 'fim_registry', 'fim_registry_key', 'fim_registry_value']);

/**
 * Parses a manager request, with or without the "#!-" control prefix:
 * `#!-fim_file dbsync checksum_fail {"begin":"/a","end":"/z","id":1795561587}`.
 * Follows the agent: client-agent/receiver.c + syscheckd/src/syscom.c (only fim_* components reach
 * rsync; "syscheck ..." is a syscheckd command, not a sync request), FIMDB::pushMessage (removes the
 * first "dbsync "), rsync syncDecoder.h/messageDecoderJSON.h ("<component> <command> <json>", begin/end
 * strings or unsigned numbers, id read as int32). Returns undefined for anything rsync would reject.
 */
export function parseSyncRequest(payload: string): SyncRequest | undefined {
  let raw = payload.startsWith('#!-') ? payload.slice(3) : payload;
  const sp = raw.indexOf(' ');
  if (sp < 0 || !FIM_SYNC_COMPONENTS.has(raw.slice(0, sp))) return undefined;
  raw = raw.replace('dbsync ', '');
  const first = raw.indexOf(' ');
  if (first < 0) return undefined;
  const component = raw.slice(0, first);
  const rest = raw.slice(first + 1);
  const second = rest.indexOf(' ');
  if (second < 0) return undefined;
  const command = rest.slice(0, second);
  let json: unknown;
  try {
    json = JSON.parse(rest.slice(second + 1));
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object') return undefined;
  const { begin, end, id } = json as { begin?: unknown; end?: unknown; id?: unknown };
  const bound = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : undefined;
  const b = bound(begin), e = bound(end);
  if (b === undefined || e === undefined || typeof id !== 'number' || !Number.isFinite(id)) return undefined;
  return { component, command, begin: b, end: e, id: Math.trunc(id) | 0 };
}

/**
 * The request as the manager sends it (analysisd/decoders/dbsync.c dispatch_answer + remoted/ar-forward.c):
 * `#!-<component> dbsync <command> {"begin":...,"end":...,"id":...}`. For tests and the test manager.
 */
export function syncRequestMessage(r: SyncRequest): string {
  return `#!-${r.component} dbsync ${r.command} ${printJson({ begin: r.begin, end: r.end, id: r.id }, cjsonNumber)}`;
}

/**
 * rsync's id check (synchronizationController.hpp checkId): a request whose id is greater than the id of
 * the sync in progress is refused; a smaller one is accepted and becomes the current id.
 */
export function checkSyncId(current: number, requested: number): { accepted: boolean; current: number } {
  if (requested > current) return { accepted: false, current };
  return { accepted: true, current: requested };
}

/** Decodes one `8:syscheck:` / `5:fim_file:` message: queue, location and parsed JSON payload. */
export function parseFimMessage(message: string): { queue: string; location: string; payload: unknown } | undefined {
  const m = /^([0-9]):([^:]+):/.exec(message);
  if (!m) return undefined;
  try {
    return { queue: m[1]!, location: m[2]!, payload: JSON.parse(message.slice(m[0].length)) };
  } catch {
    return undefined;
  }
}
