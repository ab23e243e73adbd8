// The FIM baseline: what each monitored file looked like when last seen, kept in SQLite (WAL,
// synchronous=NORMAL: a crash loses at most the last transaction, never the file) so a restart
// neither re-reports nor forgets files. The same role as Wazuh's queue/fim/db/fim.db.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export interface FileEntry {
  path: string;
  size: number;
  /** st_mode, type bits included. */
  mode: number;
  uid: number;
  gid: number;
  userName: string;
  groupName: string;
  inode: string;
  device: number;
  mtime: number;
  md5?: string;
  sha1?: string;
  sha256?: string;
  /** Wazuh's attributes checksum (what the manager's inventory compares). */
  checksum: string;
}

interface Row {
  path: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  user_name: string;
  group_name: string;
  inode: string;
  device: number;
  mtime: number;
  md5: string | null;
  sha1: string | null;
  sha256: string | null;
  checksum: string;
  scan: number;
}

export class Baseline {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], Row>;
  private readonly putStmt: Database.Statement<Row>;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly touchStmt: Database.Statement<[number, string]>;

  /** `file` ':memory:' keeps the baseline in memory (`<database>memory</database>`). */
  constructor(file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    this.db = new Database(file);
    if (file !== ':memory:') fs.chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS file_entry (
      path TEXT PRIMARY KEY, size INTEGER NOT NULL, mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,
      user_name TEXT NOT NULL, group_name TEXT NOT NULL, inode TEXT NOT NULL, device INTEGER NOT NULL, mtime INTEGER NOT NULL,
      md5 TEXT, sha1 TEXT, sha256 TEXT, checksum TEXT NOT NULL, scan INTEGER NOT NULL DEFAULT 0)`);
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.getStmt = this.db.prepare('SELECT * FROM file_entry WHERE path = ?');
    this.putStmt = this.db.prepare(`INSERT INTO file_entry VALUES (@path, @size, @mode, @uid, @gid, @user_name, @group_name, @inode,
      @device, @mtime, @md5, @sha1, @sha256, @checksum, @scan)
      ON CONFLICT(path) DO UPDATE SET size=@size, mode=@mode, uid=@uid, gid=@gid, user_name=@user_name, group_name=@group_name,
      inode=@inode, device=@device, mtime=@mtime, md5=@md5, sha1=@sha1, sha256=@sha256, checksum=@checksum, scan=@scan`);
    this.deleteStmt = this.db.prepare('DELETE FROM file_entry WHERE path = ?');
    this.touchStmt = this.db.prepare('UPDATE file_entry SET scan = ? WHERE path = ?');
  }

  get(p: string): FileEntry | undefined {
    const r = this.getStmt.get(p);
    return r && fromRow(r);
  }

  /** Stores an entry; `scan` marks it as seen by that scan (deletion detection). */
  put(e: FileEntry, scan = 0): void {
    this.putStmt.run(toRow(e, scan));
  }

  /** Marks an unchanged entry as seen by `scan`. */
  touch(p: string, scan: number): void {
    this.touchStmt.run(scan, p);
  }

  delete(p: string): void {
    this.deleteStmt.run(p);
  }

  /** Entries below `dir` that scan `scan` did not see: deleted since the last scan. */
  unseen(dir: string, scan: number): FileEntry[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    return this.db
      .prepare<{ dir: string; prefix: string; scan: number }, Row>(
        'SELECT * FROM file_entry WHERE (path = @dir OR substr(path, 1, length(@prefix)) = @prefix) AND scan <> @scan',
      )
      .all({ dir, prefix, scan })
      .map(fromRow);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM file_entry').get() as { n: number }).n;
  }

  /** All entries in path order (the order the integrity sync checksums ranges in). */
  *entries(): Generator<FileEntry> {
    for (const r of this.db.prepare<[], Row>('SELECT * FROM file_entry ORDER BY path').iterate()) yield fromRow(r);
  }

  /** Runs `fn` in one transaction: many puts cost one commit. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key))?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  close(): void {
    this.db.close();
  }
}

function toRow(e: FileEntry, scan: number): Row {
  return {
    path: e.path, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid, user_name: e.userName, group_name: e.groupName,
    inode: e.inode, device: e.device, mtime: e.mtime, md5: e.md5 ?? null, sha1: e.sha1 ?? null, sha256: e.sha256 ?? null,
    checksum: e.checksum, scan,
  };
}

function fromRow(r: Row): FileEntry {
  const e: FileEntry = {
    path: r.path, size: r.size, mode: r.mode, uid: r.uid, gid: r.gid, userName: r.user_name, groupName: r.group_name,
    inode: r.inode, device: r.device, mtime: r.mtime, checksum: r.checksum,
  };
  if (r.md5 !== null) e.md5 = r.md5;
  if (r.sha1 !== null) e.sha1 = r.sha1;
  if (r.sha256 !== null) e.sha256 = r.sha256;
  return e;
}
