// What the agent knows about a file and how two states differ: the row of Wazuh 4.14.7's agent
// file_entry table (syscheckd/src/db/src/dbFileItem.hpp) as create_db.c fim_get_data fills it,
// its attributes checksum (checksum.ts), and the changed attributes a modification lists (file.cpp
// createJsonEvent, create_db.c fim_calculate_dbsync_difference). Pure; wire.ts prints events from
// these states, sync-messages.ts the integrity synchronization's.
//
// Every fact below comes from the Wazuh v4.14.7 source.

import { attributesChecksum } from './checksum.js';

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

/**
 * cJSON's `valueint`: the double saturated to int (cJSON_CreateNumber). The scheduled path copies
 * size and mtime through it (compareStates here, wire.ts eventAttributes); cJSON prints with it.
 */
export function cjsonValueInt(d: number): number {
  if (d >= INT_MAX) return INT_MAX;
  if (d <= INT_MIN) return INT_MIN;
  return Math.trunc(d);
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
 * A field is listed only where it is reported (same conditions as wire.ts eventAttributes(), evaluated on the
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

