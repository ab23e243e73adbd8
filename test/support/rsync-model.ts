// Integrity synchronization over a list held in memory: the manager's side (wazuh_db/wdb_integrity.c
// wdb_calculate_stmt_checksum: SHA-1 over its rows' checksums between begin and end, by path) for
// the test manager, and the agent's side as this agent computed it before issue 16 (the whole
// baseline read into memory, shared_modules/rsync's rules applied to the list), kept as the oracle
// the SQLite-driven src/fim/sync.ts is checked against. A test model, not product code.
import { createHash } from 'node:crypto';
import { comparePaths } from '../../src/fim/checksum.js';
import {
  type SyncEntry, type SyncRequest, integrityCheckGlobal, integrityCheckLeft, integrityCheckRight, integrityClear, stateMessage,
} from '../../src/fim/sync-messages.js';

/** Entries with begin <= path <= end (SQL BETWEEN, BINARY collation), sorted by path. */
export function entriesInRange<T extends { path: string }>(entries: readonly T[], begin: string, end: string): T[] {
  return entries
    .filter((e) => comparePaths(e.path, begin) >= 0 && comparePaths(e.path, end) <= 0)
    .sort((a, b) => comparePaths(a.path, b.path));
}

/** sha1(checksum_1 + checksum_2 + ...) over the entries sorted by path (byte order). */
export function integrityChecksum(entries: readonly { path: string; checksum: string }[]): string {
  const hash = createHash('sha1');
  for (const e of [...entries].sort((x, y) => comparePaths(x.path, y.path))) hash.update(e.checksum, 'utf8');
  return hash.digest('hex');
}

const checksummed = (entries: readonly SyncEntry[]) => entries.map((e) => ({ path: e.path, checksum: e.state.checksum }));

/** What the agent sends when a sync starts (rsyncImplementation.cpp startRSync). `id` = time(NULL). */
export function integritySyncStart(entries: readonly SyncEntry[], id: number): string {
  if (entries.length === 0) return integrityClear(id);
  const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path));
  return integrityCheckGlobal({
    begin: sorted[0]!.path,
    end: sorted[sorted.length - 1]!.path,
    checksum: integrityChecksum(checksummed(sorted)),
    id,
  });
}

/**
 * The agent's answer to a manager request (rsyncImplementation.cpp sendChecksumFail / sendAllData),
 * given every entry of its file table: the 5:fim_file: messages in sending order (possibly none).
 */
export function answerSyncRequest(req: SyncRequest, entries: readonly SyncEntry[]): string[] {
  const rows = entriesInRange(entries, req.begin, req.end);
  if (req.command === 'no_data') return rows.map(stateMessage);
  if (req.command !== 'checksum_fail') return [];
  if (rows.length === 1 && req.begin === req.end) return [stateMessage(rows[0]!)];
  if (rows.length < 2) return []; // rsync throws UNEXPECTED_SIZE: nothing is sent
  const middle = Math.floor(rows.length / 2);
  const left = rows.slice(0, middle);
  const right = rows.slice(middle);
  return [
    integrityCheckLeft({
      begin: req.begin, end: left[left.length - 1]!.path, tail: right[0]!.path,
      checksum: integrityChecksum(checksummed(left)), id: req.id,
    }),
    integrityCheckRight({
      begin: right[0]!.path, end: req.end, checksum: integrityChecksum(checksummed(right)), id: req.id,
    }),
  ];
}
