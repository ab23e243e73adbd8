// Pure builders and parsers of the integrity synchronization's messages (5:fim_file: and the
// manager's requests), as a Wazuh 4.14.7 Linux agent exchanges them with the manager (GitHub issue
// #5, wire format part); sync.ts runs the exchange over the baseline, runner.ts decides when.
//
// Every fact below comes from the Wazuh v4.14.7 source; paths are relative to its root.
//
// Agent side: shared_modules/rsync (rsyncImplementation.cpp, messageChecksum.h, messageRowData.h) with
// the configuration of syscheckd/src/db/src/fimDBSpecialization.h, wrapped by db/src/db.cpp
// (callbackSyncFileWrapper) and sent by run_check.c fim_send_sync_state on DBSYNC_MQ with location
// "fim_file". All these messages are nlohmann dumps: keys sorted, integers printed exactly.
//
// 1. Once its first scan ended, then on the schedule of db/src/fimDB.cpp (schedule.ts nextSyncCheck),
//    the agent starts a sync (startRSync): id =
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

import type { FileState } from './state.js';
import { type Json, cjsonNumber, nlohmannNumber, printJson, sortKeys } from './wire.js';

export const FIM_FILE_COMPONENT = 'fim_file';
export const DBSYNC_FIM_FILE_PREFIX = `5:${FIM_FILE_COMPONENT}:`;

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

/** True for a component whose requests syscom.c hands to rsync (fim_sync_push_msg), decodable or not. */
export function reachesRsync(component: string): boolean {
  return FIM_SYNC_COMPONENTS.has(component);
}

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
  if (sp < 0 || !reachesRsync(raw.slice(0, sp))) return undefined;
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

