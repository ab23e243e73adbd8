// The FIM baseline: what each monitored file looked like when last seen, kept in SQLite (WAL,
// synchronous=NORMAL: a crash loses at most the last transaction, never the file) so a restart
// neither re-reports nor forgets files. The same role as Wazuh's queue/fim/db/fim.db.
//
// While the disk is full (with `disk`), writes are kept in memory (at most HELD_MAX paths, the
// last write of each) and reads see them; they go to the file in one transaction once the disk
// takes writes again (DiskSpace asks).
//
// The integrity synchronization reads ranges of it in byte order of path (Wazuh's "WHERE path
// BETWEEN '?' and '?' ORDER BY path", syscheckd/src/db/src/fimDBSpecialization.h) through a
// RangeCursor, a page at a time: the baseline is never read whole into memory.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { type DiskSpace, isDiskError } from '../disk-space.js';
import { type ChecksummedEntry, comparePaths } from './checksum.js';
import type { FileState } from './state.js';

/** Paths whose latest write waits in memory while the disk is full, at most. */
export const HELD_MAX = 100_000;

/** The disk is full and HELD_MAX writes already wait in memory: this one was not kept. */
export class BaselineHeldFullError extends Error {}

export interface BaselineEntry {
  path: string;
  state: FileState;
  /** When the last event for this file was sent (Wazuh reports it again on deletion). */
  lastEvent: number;
}

interface Row {
  path: string;
  state: string;
  checksum: string;
  last_event: number;
  scan: number;
}

/** Paths from `begin` to `end`, both included, in byte order (SQL BETWEEN, BINARY collation). */
export interface PathRange {
  begin: string;
  end: string;
}

/** What a cursor reads: the path and checksum alone (range checksums), or whole entries. */
type CursorColumns = 'checksums' | 'entries';

export class Baseline {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], Row>;
  private readonly putStmt: Database.Statement<Row>;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly touchStmt: Database.Statement<[number, string]>;
  private readonly hasStmt: Database.Statement<[string], { n: number }>;
  private readonly setMetaStmt: Database.Statement<[string, string]>;
  private readonly deleteMetaStmt: Database.Statement<[string]>;
  /** A cursor's page queries, by columns, lower bound (after a page: strictly) and upper bound. */
  private readonly pageStmts = new Map<string, Database.Statement<{ from: string; end?: string; limit: number }, Row>>();
  /** One transaction runner for every call: building one per call costs as much as a small write. */
  private readonly inTransaction: (fn: () => unknown) => unknown;
  /** Writes the disk could not take: path → the row to store, or null to delete it. */
  private readonly held = new Map<string, Row | null>();
  /** The same for meta: key → value, or null to delete it. */
  private readonly heldMeta = new Map<string, string | null>();
  private episode = { held: 0, refused: 0 };

  /** `file` ':memory:' keeps the baseline in memory (`<database>memory</database>`). */
  constructor(file: string, private readonly disk?: DiskSpace) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    this.db = new Database(file);
    if (file !== ':memory:') fs.chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // BINARY collation: the byte order Wazuh's sync ranges use
    this.db.exec(`CREATE TABLE IF NOT EXISTS file_entry (path TEXT PRIMARY KEY, state TEXT NOT NULL,
      checksum TEXT NOT NULL, last_event INTEGER NOT NULL, scan INTEGER NOT NULL DEFAULT 0)`);
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.getStmt = this.db.prepare('SELECT * FROM file_entry WHERE path = ?');
    this.putStmt = this.db.prepare(`INSERT INTO file_entry VALUES (@path, @state, @checksum, @last_event, @scan)
      ON CONFLICT(path) DO UPDATE SET state=@state, checksum=@checksum, last_event=@last_event, scan=@scan`);
    this.deleteStmt = this.db.prepare('DELETE FROM file_entry WHERE path = ?');
    this.touchStmt = this.db.prepare('UPDATE file_entry SET scan = ? WHERE path = ?');
    this.hasStmt = this.db.prepare('SELECT count(*) AS n FROM file_entry WHERE path = ?');
    this.setMetaStmt = this.db.prepare('INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.deleteMetaStmt = this.db.prepare('DELETE FROM meta WHERE key = ?');
    this.inTransaction = this.db.transaction((fn: () => unknown) => fn());
    disk?.register({ name: 'the FIM database', flush: () => this.flush(), account: () => this.account() });
  }

  get(p: string): BaselineEntry | undefined {
    const r = this.row(p);
    return r && fromRow(r);
  }

  /** Stores an entry; `scan` marks it as seen by that scan (deletion detection). */
  put(e: BaselineEntry, scan = 0): void {
    const row: Row = { path: e.path, state: JSON.stringify(e.state), checksum: e.state.checksum, last_event: e.lastEvent, scan };
    this.write(e.path, () => this.putStmt.run(row), () => row);
  }

  /** Marks an unchanged entry as seen by `scan`. */
  touch(p: string, scan: number): void {
    this.write(p, () => this.touchStmt.run(scan, p), () => {
      const r = this.row(p);
      return r && { ...r, scan };
    });
  }

  delete(p: string): void {
    this.write(p, () => this.deleteStmt.run(p), () => null);
  }

  private row(p: string): Row | undefined {
    const held = this.held.get(p);
    return held === undefined ? this.getStmt.get(p) : (held ?? undefined);
  }

  /**
   * Runs `write` on the file, or keeps `heldRow()` (null: deleted; undefined: nothing to keep) in
   * memory when the disk is full. Inside a transaction a disk error goes up to transaction(), which rolls
   * back and runs the transaction again against memory.
   */
  private write(p: string, write: () => void, heldRow: () => Row | null | undefined): void {
    if (!this.holding()) {
      try {
        write();
        return;
      } catch (e) {
        if (this.db.inTransaction || !this.disk?.writeFailed('the FIM database', e)) throw e;
      }
    }
    const row = heldRow();
    if (row === undefined) return;
    if (!this.held.has(p) && this.held.size >= HELD_MAX) {
      this.episode.refused++;
      throw new BaselineHeldFullError(`FIM database: the disk is full and ${HELD_MAX} changes already wait in memory; '${p}' was not stored.`);
    }
    this.held.set(p, row);
    this.episode.held++;
  }

  private holding(): boolean {
    return this.held.size > 0 || this.heldMeta.size > 0;
  }

  /** DiskSpace asks: writes what waits in memory in one transaction; true once nothing does. */
  private flush(): boolean {
    if (!this.holding()) return true;
    try {
      this.inTransaction(() => {
        for (const [p, row] of this.held) {
          if (row) this.putStmt.run(row);
          else this.deleteStmt.run(p);
        }
        for (const [key, value] of this.heldMeta) {
          if (value === null) this.deleteMetaStmt.run(key);
          else this.setMetaStmt.run(key, value);
        }
      });
    } catch (e) {
      if (isDiskError(e)) return false;
      throw e;
    }
    this.held.clear();
    this.heldMeta.clear();
    return true;
  }

  private account(): string | undefined {
    const { held, refused } = this.episode;
    this.episode = { held: 0, refused: 0 };
    if (!held && !refused) return undefined;
    return `the FIM database kept ${held} changes in memory${refused ? ` and could not keep ${refused} (the next scan finds them again)` : ''}`;
  }

  /** Held rows at or below `prefix` (or equal to `exact`), for merging into a query's result. */
  private heldUnder(prefix: string, exact?: string): { rows: Row[]; paths: Set<string> } {
    const rows: Row[] = [];
    const paths = new Set<string>();
    for (const [p, row] of this.held) {
      if (p !== exact && !p.startsWith(prefix)) continue;
      paths.add(p);
      if (row) rows.push(row);
    }
    return { rows, paths };
  }

  /** Entries at or below `dir` that scan `scan` did not see: deleted since the last scan. */
  unseen(dir: string, scan: number): BaselineEntry[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    const held = this.heldUnder(prefix, dir);
    return this.db
      .prepare<{ dir: string; prefix: string; scan: number }, Row>(
        'SELECT * FROM file_entry WHERE (path = @dir OR substr(path, 1, length(@prefix)) = @prefix) AND scan <> @scan',
      )
      .all({ dir, prefix, scan })
      .filter((r) => !held.paths.has(r.path))
      .concat(held.rows.filter((r) => r.scan !== scan))
      .map(fromRow);
  }

  /** Entries strictly below the directory `dir`, in path order (an index range, not a scan). */
  below(dir: string): BaselineEntry[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    // every path starting with "dir/" sorts between "dir/" and "dir0" ('0' follows '/')
    const rows = this.db
      .prepare<{ prefix: string; end: string }, Row>('SELECT * FROM file_entry WHERE path >= @prefix AND path < @end ORDER BY path')
      .all({ prefix, end: `${prefix.slice(0, -1)}0` });
    return this.withHeld(rows, this.heldUnder(prefix)).map(fromRow);
  }

  /** Entries in `range` (all of them without one), counting what waits in memory. */
  count(range?: PathRange): number {
    let n = range
      ? this.db.prepare<PathRange, { n: number }>('SELECT count(*) AS n FROM file_entry WHERE path BETWEEN @begin AND @end').get(range)!.n
      : this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM file_entry').get()!.n;
    for (const [p, row] of this.held) {
      if (range && !inRange(p, range)) continue;
      const stored = this.hasStmt.get(p)!.n > 0;
      if (row && !stored) n++;
      else if (!row && stored) n--;
    }
    return n;
  }

  /** The paths and checksums in `range` (the whole baseline without one), in byte order of path. */
  checksums(range?: PathRange): RangeCursor<ChecksummedEntry> {
    return new RangeCursor(this.cursorSource('checksums', range), (r) => ({ path: r.path, checksum: r.checksum }));
  }

  /** The entries in `range` (the whole baseline without one), in byte order of path. */
  entries(range?: PathRange): RangeCursor<BaselineEntry> {
    return new RangeCursor(this.cursorSource('entries', range), fromRow);
  }

  private cursorSource(columns: CursorColumns, range: PathRange | undefined): CursorSource {
    const held = [...this.held.keys()].filter((p) => !range || inRange(p, range)).sort(comparePaths);
    return {
      page: (after, limit) => this.pageStmt(columns, after !== undefined, range !== undefined)
        .iterate({ from: after ?? range?.begin ?? '', end: range?.end, limit }),
      held,
      heldRow: (p) => this.held.get(p),
    };
  }

  private pageStmt(columns: CursorColumns, strict: boolean, bounded: boolean): Database.Statement<{ from: string; end?: string; limit: number }, Row> {
    const key = `${columns} ${strict} ${bounded}`;
    let stmt = this.pageStmts.get(key);
    if (!stmt) {
      const selected = columns === 'checksums' ? 'path, checksum' : '*';
      stmt = this.db.prepare(`SELECT ${selected} FROM file_entry WHERE path ${strict ? '>' : '>='} @from` +
        `${bounded ? ' AND path <= @end' : ''} ORDER BY path LIMIT @limit`);
      this.pageStmts.set(key, stmt);
    }
    return stmt;
  }

  /** `rows` (in path order) with what waits in memory in their place, still in byte order of path. */
  private withHeld(rows: Row[], held: { rows: Row[]; paths: Set<string> }): Row[] {
    if (!held.paths.size) return rows;
    return rows.filter((r) => !held.paths.has(r.path)).concat(held.rows).sort((a, b) => comparePaths(a.path, b.path));
  }

  /**
   * Runs `fn` in one transaction: many puts cost one commit. On a full disk it is rolled back and
   * run again with its writes kept in memory, so `fn` must do nothing but baseline writes and reads.
   */
  transaction<T>(fn: () => T): T {
    if (this.holding()) return fn();
    try {
      return this.inTransaction(fn) as T;
    } catch (e) {
      if (!this.disk?.writeFailed('the FIM database', e)) throw e;
      return fn();
    }
  }

  getMeta(key: string): string | undefined {
    if (this.heldMeta.has(key)) return this.heldMeta.get(key) ?? undefined;
    return this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }

  /** Prepared once: the first scan writes its progress with every row (engine.ts). */
  setMeta(key: string, value: string): void {
    this.writeMeta(key, value);
  }

  deleteMeta(key: string): void {
    this.writeMeta(key, null);
  }

  private writeMeta(key: string, value: string | null): void {
    if (!this.holding()) {
      try {
        if (value === null) this.deleteMetaStmt.run(key);
        else this.setMetaStmt.run(key, value);
        return;
      } catch (e) {
        if (this.db.inTransaction || !this.disk?.writeFailed('the FIM database', e)) throw e;
      }
    }
    this.heldMeta.set(key, value);
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row): BaselineEntry {
  return { path: r.path, state: JSON.parse(r.state) as FileState, lastEvent: r.last_event };
}

function inRange(p: string, range: PathRange): boolean {
  return comparePaths(p, range.begin) >= 0 && comparePaths(p, range.end) <= 0;
}

/** What a RangeCursor reads from: the stored rows a page at a time, and the writes held in memory. */
interface CursorSource {
  /** Stored rows after `after` (from the range's start without it), in path order, `limit` at most. */
  page(after: string | undefined, limit: number): Iterable<Row>;
  /** The held paths in the range when the cursor was made, in byte order. */
  held: readonly string[];
  /** A path's held write now: its row, null (deleted), or undefined (no longer held: it is stored). */
  heldRow(p: string): Row | null | undefined;
}

/**
 * Reads a range of the baseline in byte order of path, `limit` rows at a time. Between two calls
 * no statement is open (better-sqlite3 refuses writes while a query runs), so the baseline may
 * change meanwhile: each page sees it as it is then. Writes held in memory (a full disk) take the
 * place of the stored rows they replace; those held after the cursor was made are not seen (the
 * next synchronization sees them).
 */
export class RangeCursor<T> {
  private after: string | undefined;
  /** The next of `source.held` to merge in. */
  private heldIndex = 0;
  private ended = false;

  constructor(private readonly source: CursorSource, private readonly map: (r: Row) => T) {}

  /** True once next() has returned the last rows of the range. */
  get done(): boolean {
    return this.ended;
  }

  /** The next rows, `limit` stored ones at most (plus held ones among them); [] once done. */
  next(limit: number): T[] {
    if (this.ended) return [];
    const out: T[] = [];
    const { held, heldRow } = this.source;
    const mergeHeldUpTo = (p: string | undefined) => {
      for (; this.heldIndex < held.length && (p === undefined || comparePaths(held[this.heldIndex]!, p) <= 0); this.heldIndex++) {
        const row = heldRow(held[this.heldIndex]!);
        if (row) out.push(this.map(row));
      }
    };
    let read = 0;
    for (const row of this.source.page(this.after, limit)) {
      read++;
      this.after = row.path;
      if (held.length) mergeHeldUpTo(row.path);
      if (heldRow(row.path) === undefined) out.push(this.map(row));
    }
    if (read < limit) {
      mergeHeldUpTo(undefined);
      this.ended = true;
    }
    return out;
  }
}
