// Pure builders of the FIM events a Wazuh 4.14.7 Linux agent (wazuh-syscheckd) sends (scan start and
// end, files added, modified and deleted, with who-data), and the two JSON writers' printing that
// both these and the integrity synchronization's messages (sync-messages.ts) follow (GitHub issue
// #5, wire format part). The file states they carry are state.ts's.
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

import { comparePaths } from './checksum.js';
import {
  type ChangedAttribute, type FileAttributes, type FileState, type FimChecks, DEFAULT_CHECKS, cjsonValueInt, compareStates,
} from './state.js';

export const SYSCHECK_PREFIX = '8:syscheck:';

export type FimMode = 'scheduled' | 'realtime' | 'whodata';

// ---------------------------------------------------------------------------------------------
// Attributes

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

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json | undefined };

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

/** nlohmann's dump of a number: integers in full, never with an exponent. */
export function nlohmannNumber(d: number): string {
  return Number.isInteger(d) ? BigInt(d).toString() : JSON.stringify(d);
}

// String escaping: cJSON (print_string_ptr) and nlohmann (dump, ensure_ascii=false) both escape
// '"', '\\', \b \f \n \r \t and other bytes < 0x20 as \u00xx (lowercase), and write everything
// else as is: the same as JSON.stringify for well-formed strings.
export function printJson(v: Json, num: (n: number) => string): string {
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
export function sortKeys(v: Json): Json {
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
