// The FIM baseline: what each monitored file looked like when last seen, kept in SQLite (WAL,
// synchronous=NORMAL: a crash loses at most the last transaction, never the file) so a restart
// neither re-reports nor forgets files. The same role as Wazuh's queue/fim/db/fim.db.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { FileState } from './format.js';

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

export class Baseline {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], Row>;
  private readonly putStmt: Database.Statement<Row>;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly touchStmt: Database.Statement<[number, string]>;
  private readonly setMetaStmt: Database.Statement<[string, string]>;
  /** One transaction runner for every call: building one per call costs as much as a small write. */
  private readonly inTransaction: (fn: () => unknown) => unknown;

  /** `file` ':memory:' keeps the baseline in memory (`<database>memory</database>`). */
  constructor(file: string) {
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
    this.setMetaStmt = this.db.prepare('INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.inTransaction = this.db.transaction((fn: () => unknown) => fn());
  }

  get(p: string): BaselineEntry | undefined {
    const r = this.getStmt.get(p);
    return r && fromRow(r);
  }

  /** Stores an entry; `scan` marks it as seen by that scan (deletion detection). */
  put(e: BaselineEntry, scan = 0): void {
    this.putStmt.run({ path: e.path, state: JSON.stringify(e.state), checksum: e.state.checksum, last_event: e.lastEvent, scan });
  }

  /** Marks an unchanged entry as seen by `scan`. */
  touch(p: string, scan: number): void {
    this.touchStmt.run(scan, p);
  }

  delete(p: string): void {
    this.deleteStmt.run(p);
  }

  /** Entries at or below `dir` that scan `scan` did not see: deleted since the last scan. */
  unseen(dir: string, scan: number): BaselineEntry[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    return this.db
      .prepare<{ dir: string; prefix: string; scan: number }, Row>(
        'SELECT * FROM file_entry WHERE (path = @dir OR substr(path, 1, length(@prefix)) = @prefix) AND scan <> @scan',
      )
      .all({ dir, prefix, scan })
      .map(fromRow);
  }

  /** Entries strictly below the directory `dir`, in path order (an index range, not a scan). */
  below(dir: string): BaselineEntry[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    // every path starting with "dir/" sorts between "dir/" and "dir0" ('0' follows '/')
    return this.db
      .prepare<{ prefix: string; end: string }, Row>('SELECT * FROM file_entry WHERE path >= @prefix AND path < @end ORDER BY path')
      .all({ prefix, end: `${prefix.slice(0, -1)}0` })
      .map(fromRow);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM file_entry').get() as { n: number }).n;
  }

  /** All entries in byte order of path (the order the integrity sync checksums ranges in). */
  all(): BaselineEntry[] {
    return this.db.prepare<[], Row>('SELECT * FROM file_entry ORDER BY path').all().map(fromRow);
  }

  /** Runs `fn` in one transaction: many puts cost one commit. */
  transaction<T>(fn: () => T): T {
    return this.inTransaction(fn) as T;
  }

  getMeta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }

  /** Prepared once: the first scan writes its progress with every row (engine.ts). */
  setMeta(key: string, value: string): void {
    this.setMetaStmt.run(key, value);
  }

  deleteMeta(key: string): void {
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row): BaselineEntry {
  return { path: r.path, state: JSON.parse(r.state) as FileState, lastEvent: r.last_event };
}
