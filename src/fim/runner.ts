// The FIM runner: when the engine scans, synchronizes and rescans, and in which order real-time
// work runs. The engine (engine.ts) does the work and keeps no clock; the runner owns the timers,
// as MQTT.js keeps its KeepaliveManager apart from the client: the scan schedule (Wazuh 4.14.7's
// syscheckd run_check.c start_daemon), the integrity sync's (its FIM sync thread, syscheckd/src/
// db/src/fimDB.cpp FIMDB::runIntegrity and syncAlgorithm; the decisions are schedule.ts's), the
// rescans after the kernel lost real-time events or a full disk refused them, and its own stop.
// It also builds what the engine works with: the baseline, the report_changes copies, the hashing
// threads, the real-time capture.
import { Capture } from '../capture/capture.js';
import type { CaptureEvent } from '../capture/event.js';
import type { SyscheckConfig } from '../config/types.js';
import type { DiskSpace } from '../disk-space.js';
import type { Logger } from '../log.js';
import type { AgentPaths } from '../paths.js';
import type { Spool } from '../spool/spool.js';
import { Timer } from '../timers.js';
import { Baseline } from './db.js';
import { DiffStore } from './diff.js';
import { FimEngine, type FimEngineOptions } from './engine.js';
import { HashPool } from './hash.js';
import { type SyncProgress, nextScanDelayMs, nextSyncCheck, syncProgressAtStart } from './schedule.js';
import { reachesRsync } from './sync-messages.js';
import { WhoResolver } from './who.js';

export interface FimRunnerOptions {
  syscheck: SyscheckConfig;
  paths: Pick<AgentPaths, 'fimDb' | 'diffDir' | 'captureSelfTestDir'>;
  disk: DiskSpace;
  /** Events it refuses on a full disk are looked for again by a rescan once the disk recovers. */
  spool: Spool;
  log: Logger;
  send: FimEngineOptions['send'];
  sendSync: FimEngineOptions['sendSync'];
  /** vfs_unlink dentry argument override (otherwise from BTF). */
  unlinkDentryArg?: 2 | 3;
  /** Kernel ring buffer size (default: the loader's); tests shrink it to force drops. */
  ringBytes?: number;
}

/** What a stop leaves to wait for, each to be bounded by the caller. */
export interface FimStopped {
  /** Real-time work in flight, abandoned where it stands. */
  workEnded: Promise<void>;
  /** The hashing threads and the capture's detach (seconds in the kernel: loader.ts). */
  threadsEnded: Promise<unknown>;
}

/** Drops are read once a second; the rescan waits for a quiet moment after the last report. */
const RESCAN_AFTER_DROPS_MS = 1_500;

/** Seconds since the epoch: Wazuh's time(NULL), the sync schedule's clock. */
const epochSeconds = () => Math.floor(Date.now() / 1000);

export class FimRunner {
  readonly engine: FimEngine;
  private readonly baseline: Baseline;
  private readonly hashes: HashPool;
  /** The real-time directories (realtime or whodata): the capture's, and what the rescans cover. */
  private readonly live: string[];
  private captureStarted: Promise<Capture | undefined> = Promise.resolve(undefined);
  private readonly scanTimer = new Timer();
  private readonly syncTimer = new Timer();
  private readonly rescanTimer = new Timer();
  /** Real-time work runs one piece after the other, in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  private lostEvents = 0;
  /** Events refused during the current full-disk episode: their changes are looked for again after it. */
  private refusedDuringEpisode = false;
  /** What the sync schedule knows between its checks. */
  private syncProgress: SyncProgress;
  private stopped = false;

  constructor(private readonly o: FimRunnerOptions) {
    const { syscheck: s, paths, disk, log } = o;
    this.baseline = new Baseline(s.database === 'memory' ? ':memory:' : paths.fimDb, disk);
    const diffs = new DiffStore({ dir: paths.diffDir, quotaKb: s.diff.diskQuota.enabled ? s.diff.diskQuota.limitKb : undefined, log, disk });
    this.hashes = new HashPool({ niceness: s.processPriority });
    this.engine = new FimEngine({
      syscheck: s, baseline: this.baseline, hashes: this.hashes, who: new WhoResolver(), send: o.send, sendSync: o.sendSync, log, diffs,
      syncStateSent: () => (this.syncProgress = { ...this.syncProgress, lastMessageAt: epochSeconds() }),
    });
    this.syncProgress = syncProgressAtStart(s.synchronization);
    this.live = this.engine.directories.filter((d) => d.realtime || d.whodata).map((d) => d.path);
    o.spool.on('refused', this.onRefused);
    disk.on('recovered', this.onDiskRecovered);
  }

  /** Starts the real-time capture, then the scans and the synchronization. */
  async start(): Promise<void> {
    const { syscheck: s, paths, log } = this.o;
    if (this.live.length) {
      const starting = Capture.start({
        dirs: this.live, selfTestDir: paths.captureSelfTestDir, log, unlinkDentryArg: this.o.unlinkDentryArg, ringBytes: this.o.ringBytes,
      });
      this.captureStarted = starting;
      const capture = await starting;
      if (this.stopped) return; // stop() detaches it
      capture.on('events', (events: CaptureEvent[]) => this.inOrder(() => this.engine.onCapture(events), 'FIM real-time event'));
      capture.on('drops', (n: number) => this.onKernelDrops(n));
    }
    if (this.stopped) return;
    // As start_daemon: the first scan, then the sync module, then the scan schedule. Without
    // scan_on_start (Wazuh 4.14.7 reads it, then scans at start regardless) the baseline kept
    // from the last run is synced at once.
    const scheduled = () => {
      this.startSyncModule();
      this.scheduleScan();
    };
    if (s.scanOnStart) void this.runScan().then(scheduled);
    else scheduled();
  }

  /**
   * A manager synchronization request (the session's 'fim-sync'). Any request for rsync, even one
   * it cannot decode, tells the schedule that a sync is in progress and that the manager found a
   * difference, as FIMDB::pushMessage notes it before handing it on.
   */
  onSyncRequest(component: string, payload: string): void {
    if (reachesRsync(component)) this.syncProgress = { ...this.syncProgress, lastMessageAt: epochSeconds(), managerQuiet: false };
    this.engine.onSyncRequest(component, payload);
  }

  /**
   * Stops the timers, the engine (scans, real-time checks and the sync, abandoned where they
   * are), the hashing threads and the capture; returns what is left to wait for.
   */
  stop(): FimStopped {
    this.stopped = true;
    this.scanTimer.clear();
    this.syncTimer.clear();
    this.rescanTimer.clear();
    this.o.spool.off('refused', this.onRefused);
    this.o.disk.off('recovered', this.onDiskRecovered);
    this.engine.stop();
    const captureStopped = this.captureStarted.then((c) => c?.stop(), () => undefined);
    return {
      workEnded: this.queue.then(() => this.engine.idle()),
      threadsEnded: Promise.all([this.hashes.close(), captureStopped]),
    };
  }

  /** Closes the baseline (after stop(): what was not stored is found again by the next start's scan). */
  closeBaseline(): void {
    this.baseline.close();
  }

  private scheduleScan(): void {
    if (this.stopped) return;
    this.scanTimer.set(nextScanDelayMs(this.o.syscheck, new Date()), () => void this.runScan().then(() => this.scheduleScan()));
  }

  /** FIMDB::runIntegrity: the sync module starts with a sync, then checks every (current) interval. */
  private startSyncModule(): void {
    if (!this.o.syscheck.synchronization.enabled || this.stopped) return;
    this.o.log.info('FIM sync module started.');
    void this.sync().then(() => this.scheduleSyncCheck());
  }

  private scheduleSyncCheck(): void {
    if (this.stopped) return;
    this.syncTimer.set(this.syncProgress.interval * 1000, () => void this.syncCheck());
  }

  /** FIMDB::syncAlgorithm: a sync, unless the last one is still in progress (schedule.ts nextSyncCheck). */
  private async syncCheck(): Promise<void> {
    const { log } = this.o;
    const check = nextSyncCheck(this.o.syscheck.synchronization, this.syncProgress, epochSeconds());
    this.syncProgress = check.progress;
    if (check.reset) log.debug(`Previous sync was successful. Sync interval is reset to: '${check.progress.interval}s'`);
    if (check.sync) await this.sync();
    else log.debug(`Sync still in progress. Skipped next sync and increased interval to '${check.progress.interval}s'`);
    this.scheduleSyncCheck();
  }

  /** FIMDB::sync: the next check's wait starts once the sync's first message was handed on. */
  private async sync(): Promise<void> {
    this.o.log.debug('Executing FIM sync.');
    if (await this.engine.startSync()) this.o.log.debug('Finished FIM sync.');
  }

  private async runScan(): Promise<void> {
    try {
      await this.engine.scan();
    } catch (e) {
      this.o.log.error(`File integrity monitoring scan failed: ${(e as Error).message}`);
    }
  }

  /**
   * The kernel ring buffer was full and `n` events never reached the agent. Any of them could be
   * a deletion, so once the burst is over the real-time directories are rescanned: what changed is
   * then reported in scheduled mode (who-data for those events is gone with them).
   */
  private onKernelDrops(n: number): void {
    const { log } = this.o;
    this.lostEvents += n;
    log.warn(`Real-time events lost: the kernel ring buffer was full (${n} events dropped, ${this.lostEvents} since start).`);
    this.rescanTimer.set(RESCAN_AFTER_DROPS_MS, () => {
      log.warn(`Rescanning ${this.live.length} real-time directories to report the changes of the lost events.`);
      this.inOrder(() => this.engine.rescan(this.live), 'FIM rescan');
    });
  }

  private readonly onRefused = (): void => {
    this.refusedDuringEpisode = true;
  };

  /** Changes whose events were refused while the disk was full are found again by a rescan. */
  private readonly onDiskRecovered = (): void => {
    if (!this.refusedDuringEpisode || !this.live.length) return;
    this.refusedDuringEpisode = false;
    this.o.log.warn(`Rescanning ${this.live.length} real-time directories to report the changes of the events refused while the disk was full.`);
    this.inOrder(() => this.engine.rescan(this.live), 'FIM rescan');
  };

  private inOrder(work: () => Promise<unknown>, what: string): void {
    this.queue = this.queue.then(work).then(
      () => undefined,
      (e) => this.o.log.error(`${what} failed: ${(e as Error).message}`),
    );
  }
}
