// The FIM engine: keeps the baseline, runs scans, turns real-time capture events into Wazuh FIM
// events, and answers the manager's integrity synchronization. Messages leave through `send`
// (the client buffer); the engine never touches sockets.
import fs from 'node:fs';
import type { CaptureEvent } from '../bpf/event.js';
import type { DirectoryConfig, SyscheckConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Baseline, BaselineEntry } from './db.js';
import {
  FileState, FimChecks, FimMode, WhoData, answerSyncRequest, buildFileState, checkSyncId, fileAddedMessage,
  fileDeletedMessage, fileModifiedMessage, integritySyncStart, parseSyncRequest, scanEndMessage, scanStartMessage,
} from './format.js';
import { DbState, checkDbState } from './db-state.js';
import { DiffStore } from './diff.js';
import { HashAlgorithm, HashError, HashPool } from './hash.js';
import { pathMatches } from '../config/syscheck.js';
import { WalkedFile, configFor, expandDirectories, isMonitoredFile, printablePath, walkDirectory } from './scan.js';
import type { WhoResolver } from './who.js';
import type { FimEventFields } from '../spool/record.js';
import { FimOrigin, fimEventFields } from './event-record.js';

export interface FimEngineOptions {
  syscheck: SyscheckConfig;
  baseline: Baseline;
  hashes: HashPool;
  who: WhoResolver;
  /**
   * Hands one message (`8:syscheck:...` / `5:fim_file:...`) to the spool, with the event's
   * structured form for FIM events. Synchronous: once it returns, the event survives a crash, so
   * the baseline may move on.
   */
  send: (message: string, fim?: FimEventFields) => void;
  log: Logger;
  /** Stored copies for report_changes. */
  diffs?: DiffStore;
  /** Seconds since the epoch. */
  now?: () => number;
}

export interface ScanSummary {
  files: number;
  added: number;
  modified: number;
  deleted: number;
}

const SCAN_META = 'scan';
/** Files whose hashing a scan starts before comparing the first of them with the baseline. */
const SCAN_AHEAD = 64;

export class FimEngine {
  private scanning: Promise<ScanSummary> | undefined;
  private syncId = 0;
  private readonly now: () => number;
  /** max_eps pacing: events sent in the current second. */
  private window = { second: 0, sent: 0 };
  private fullWarned = false;
  private dbState: DbState = 'empty';
  /** The configured directories, wildcards expanded: at start and at each scan, as Wazuh does. */
  private dirs: DirectoryConfig[];

  constructor(private readonly o: FimEngineOptions) {
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.dirs = expandDirectories(o.syscheck.directories);
  }

  /** The monitored directories as of the last expansion (wildcards resolved). */
  get directories(): readonly DirectoryConfig[] {
    return this.dirs;
  }

  /** A scheduled scan; concurrent calls share the one running. */
  scan(): Promise<ScanSummary> {
    this.scanning ??= this.runScan().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  /**
   * Scans only the monitored directories among `paths` (after real-time events were lost), once
   * any running scan ended. Changes are reported in scheduled mode, without who-data: nothing
   * tells who made them. No scan start/end messages and no synchronization: it is not a full scan.
   */
  async rescan(paths: readonly string[]): Promise<ScanSummary> {
    while (this.scanning) await this.scanning.catch(() => undefined);
    this.scanning = this.runScan(paths).finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async runScan(only?: readonly string[]): Promise<ScanSummary> {
    const { baseline, syscheck, log } = this.o;
    const scanId = Number(baseline.getMeta(SCAN_META) ?? '0') + 1;
    // The first scan builds the baseline silently, as Wazuh's does; later ones report changes.
    const report = scanId > 1;
    const summary: ScanSummary = { files: 0, added: 0, modified: 0, deleted: 0 };
    const started = this.now();
    if (!only) {
      log.info('File integrity monitoring scan started.');
      this.o.send(scanStartMessage(started));
      this.dirs = expandDirectories(syscheck.directories);
    }
    const dirs = this.dirs;
    for (const dir of dirs) {
      if (only && !only.includes(dir.path)) continue;
      // Files are hashed SCAN_AHEAD at a time (every hashing thread busy), then compared with the
      // baseline one by one, in walk order.
      const ahead: { f: WalkedFile; state: Promise<FileState | undefined> }[] = [];
      const compare = async () => {
        const { f, state } = ahead.shift()!;
        const change = await this.check(f.path, f.stat, dir, 'scheduled', 'scan', undefined, report, scanId, state);
        if (change === 'added') summary.added++;
        else if (change === 'modified') summary.modified++;
      };
      for (const f of walkDirectory(dir, syscheck, dirs, log)) {
        if (configFor(f.path, dirs) !== dir) continue;
        summary.files++;
        const state = this.stateOf(f.path, f.stat, dir);
        state.catch(() => undefined); // awaited in compare(); this only keeps an early failure from counting as unhandled
        ahead.push({ f, state });
        if (ahead.length >= SCAN_AHEAD) await compare();
      }
      while (ahead.length) await compare();
      for (const gone of baseline.unseen(dir.path, scanId)) {
        if (configFor(gone.path, dirs) !== dir) continue;
        await this.reportDeleted(gone, dir, 'scheduled', 'scan');
        summary.deleted++;
      }
    }
    baseline.setMeta(SCAN_META, String(scanId));
    if (only) {
      log.info(`File integrity monitoring rescan of ${only.length} directories ended: ${summary.added} added, ${summary.modified} modified, ${summary.deleted} deleted.`);
      return summary;
    }
    if (syscheck.fileLimit.enabled) {
      const { state, change } = checkDbState(this.dbState, syscheck.fileLimit.entries, baseline.count());
      this.dbState = state;
      if (change) {
        log[change.level](change.log);
        this.o.send(change.message);
      }
    }
    this.o.send(scanEndMessage(this.now()));
    log.info(`File integrity monitoring scan ended: ${summary.files} files, ${summary.added} added, ${summary.modified} modified, ${summary.deleted} deleted.`);
    this.startSync();
    return summary;
  }

  /** Real-time events from the capture (or inotify). */
  async onCapture(events: CaptureEvent[]): Promise<void> {
    for (const e of events) {
      const paths = e.op === 'rename' ? [e.path, e.newPath] : [e.path];
      for (const p of paths) if (p !== undefined) await this.onPathEvent(p, e);
    }
  }

  private async onPathEvent(p: string, e: CaptureEvent): Promise<void> {
    const dir = configFor(p, this.dirs);
    if (!dir || (!dir.realtime && !dir.whodata)) return;
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
    } catch {
      st = undefined; // EACCES, ENOTDIR, ELOOP...: no longer reachable, as good as gone
    }
    if (st && !st.isFile()) return;
    const known = st ? undefined : this.o.baseline.get(p);
    if (st ? !isMonitoredFile(p, dir, this.o.syscheck) : !known) return;
    const mode: FimMode = dir.whodata && e.who ? 'whodata' : 'realtime';
    const audit = mode === 'whodata' ? this.o.who.audit(e.who!) : undefined;
    const origin = { capture: e.source, ktimeNs: e.ktimeNs };
    if (known) await this.reportDeleted(known, dir, mode, origin, audit);
    else await this.check(p, st!, dir, mode, origin, audit, true, 0);
  }

  /** Compares one existing file with the baseline; reports and stores what changed. */
  private async check(
    p: string, st: fs.BigIntStats, dir: DirectoryConfig, mode: FimMode, origin: FimOrigin, audit: WhoData | undefined, report: boolean,
    scanId: number, hashed: Promise<FileState | undefined> = this.stateOf(p, st, dir),
  ): Promise<'added' | 'modified' | 'unchanged' | 'unreadable'> {
    const { baseline } = this.o;
    const state = await hashed;
    if (!state) return 'unreadable';
    const known = baseline.get(p);
    const ts = this.now();
    const contentChanges = dir.reportChanges && (!known || known.state.checksum !== state.checksum) ? this.diff(p, dir) : undefined;
    const opts = { mode, checks: checksOf(dir), tags: dir.tags, audit, contentChanges };
    if (!known) {
      const limit = this.o.syscheck.fileLimit;
      if (limit.enabled && limit.entries > 0 && baseline.count() >= limit.entries) {
        if (!this.fullWarned) {
          this.fullWarned = true;
          this.o.log.warn(`File database is full (file_limit ${limit.entries} entries): '${printablePath(p)}' and further new files are not monitored.`);
        }
        return 'unchanged';
      }
      // The event is spooled before the baseline changes: a crash in between repeats it, never loses it.
      if (report) await this.emit(fileAddedMessage(p, state, ts, opts), fimEventFields('added', p, state, mode, origin, ts, audit));
      baseline.put({ path: p, state, lastEvent: ts }, scanId);
      return 'added';
    }
    if (known.state.checksum === state.checksum) {
      if (scanId) baseline.touch(p, scanId);
      return 'unchanged';
    }
    const msg = fileModifiedMessage(p, known.state, state, ts, opts);
    if (msg && report) await this.emit(msg, fimEventFields('modified', p, state, mode, origin, ts, audit));
    baseline.put({ path: p, state, lastEvent: msg ? ts : known.lastEvent }, scanId);
    return msg ? 'modified' : 'unchanged';
  }

  private diff(p: string, dir: DirectoryConfig): string | undefined {
    const { syscheck } = this.o;
    return this.o.diffs?.contentChanges(p, {
      sizeLimitKb: syscheck.diff.fileSize.enabled ? dir.diffSizeLimitKb : undefined,
      nodiff: pathMatches(syscheck.nodiff, p, { list: 'nodiff' }),
    });
  }

  private async reportDeleted(entry: BaselineEntry, dir: DirectoryConfig, mode: FimMode, origin: FimOrigin, audit?: WhoData): Promise<void> {
    const message = fileDeletedMessage(entry.path, entry.state, entry.lastEvent, { mode, checks: checksOf(dir), tags: dir.tags, audit });
    await this.emit(message, fimEventFields('deleted', entry.path, entry.state, mode, origin, this.now(), audit));
    this.o.baseline.delete(entry.path);
    if (dir.reportChanges) this.o.diffs?.forget(entry.path);
    this.fullWarned = false;
  }

  /** Sends one FIM event, at most `max_eps` a second (Wazuh's syscheck pacing; 0 = unlimited). */
  private async emit(message: string, fim: FimEventFields): Promise<void> {
    const max = this.o.syscheck.maxEps;
    if (max > 0) {
      const second = Math.floor(Date.now() / 1000);
      if (second !== this.window.second) this.window = { second, sent: 0 };
      if (this.window.sent >= max) {
        await new Promise((r) => setTimeout(r, (second + 1) * 1000 - Date.now()));
        this.window = { second: second + 1, sent: 0 };
      }
      this.window.sent++;
    }
    this.o.send(message, fim);
  }

  /**
   * The file's state, its attributes taken from the inode that was hashed; undefined when it
   * cannot be read (a warning) or is gone or no longer a regular file (debug only: the baseline
   * reports it as deleted, as Wazuh's does).
   */
  private async stateOf(p: string, st: fs.BigIntStats, dir: DirectoryConfig): Promise<FileState | undefined> {
    const c = checksOf(dir);
    const algorithms = (['md5', 'sha1', 'sha256'] as HashAlgorithm[]).filter((a) => c[a]);
    let hashes: { md5: string; sha1: string; sha256: string } | undefined;
    let attrs: Pick<fs.BigIntStats, 'mode' | 'size' | 'uid' | 'gid' | 'ino' | 'mtimeMs'> = st;
    if (algorithms.length && st.size > 0n) {
      try {
        const h = await this.o.hashes.hashSettled(p, algorithms);
        if (!h.stable) this.o.log.debug(`'${printablePath(p)}' kept changing while it was hashed; its last read is recorded.`);
        hashes = { md5: h.md5 ?? '', sha1: h.sha1 ?? '', sha256: h.sha256 ?? '' };
        attrs = h.stat;
      } catch (e) {
        if (!(e instanceof HashError)) throw e;
        if (e.vanished) this.o.log.debug(e.message);
        else this.o.log.warn(e.message);
        return undefined;
      }
    }
    return buildFileState({
      stat: { mode: Number(attrs.mode), size: attrs.size, uid: attrs.uid, gid: attrs.gid, ino: attrs.ino, mtime: attrs.mtimeMs / 1000n },
      userName: this.o.who.userName(Number(attrs.uid)),
      groupName: this.o.who.groupName(Number(attrs.gid)),
      hashes,
      checks: c,
    });
  }

  /** Starts an integrity synchronization round (after each scan, as Wazuh's first sync). */
  startSync(): void {
    if (!this.o.syscheck.synchronization.enabled) return;
    this.syncId = this.now();
    this.o.send(integritySyncStart(this.o.baseline.all(), this.syncId));
  }

  /** A manager synchronization request (`fim_file dbsync checksum_fail {...}`). */
  onSyncRequest(component: string, payload: string): void {
    const req = parseSyncRequest(`${component} ${payload}`);
    if (!req) {
      this.o.log.debug(`Ignoring malformed synchronization request: ${printablePath(payload.slice(0, 120))}`);
      return;
    }
    const id = checkSyncId(this.syncId, req.id);
    if (!id.accepted) return;
    this.syncId = id.current;
    for (const m of answerSyncRequest(req, this.o.baseline.all())) this.o.send(m);
  }
}

/** <directories check_*> as the wire format's check set (check_owner covers uid and user name). */
export function checksOf(d: DirectoryConfig): FimChecks {
  const c = d.checks;
  return { size: c.size, perm: c.perm, owner: c.owner, group: c.group, mtime: c.mtime, inode: c.inode, md5: c.md5, sha1: c.sha1, sha256: c.sha256 };
}
