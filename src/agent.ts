// The running agent: key (enrolling when needed), secure session with the manager, client
// buffer, and the local queue socket. The CLI's `run` is a thin shell around this.
import fs from 'node:fs';
import os from 'node:os';
import type { AgentConfig } from './config/types.js';
import { DiskSpace } from './disk-space.js';
import { LocalQueue } from './local-queue.js';
import type { Logger } from './log.js';
import { AgentPaths, agentPaths } from './paths.js';
import { ClientBuffer } from './wazuh/buffer.js';
import { Spool } from './spool/spool.js';
import type { FimEventFields } from './spool/record.js';
import { SecureChannel } from './wazuh/channel.js';
import { SenderCounter } from './wazuh/counters.js';
import { EnrollmentError, agentNameFromHostname, enroll, readEnrollmentPassword } from './wazuh/enroll.js';
import { AgentKey, readClientKeys, writeAgentKey } from './wazuh/keys.js';
import type { HostInfo } from './wazuh/messages.js';
import { Session } from './wazuh/session.js';
import { SharedFiles } from './wazuh/shared-files.js';
import { TransportFactory, secureTransportFactory } from './wazuh/transport.js';
import { Stoppable, within } from './timers.js';
import { Capture } from './capture/capture.js';
import { Baseline } from './fim/db.js';
import { DiffStore } from './fim/diff.js';
import { FimEngine } from './fim/engine.js';
import { HashPool } from './fim/hash.js';
import { nextScanDelayMs } from './fim/schedule.js';
import { WhoResolver } from './fim/who.js';
import type { CaptureEvent } from './capture/event.js';

export interface AgentOptions {
  config: AgentConfig;
  home: string;
  log: Logger;
  reportedVersion: string;
  host: HostInfo;
  /** Tests replace the wire; default: Wazuh 4.x remoted over TCP/UDP. */
  transportFactory?: (channel: SecureChannel) => TransportFactory;
  /** Handshake answer timeout (Wazuh's agent.recv_timeout, 60 s). */
  handshakeTimeoutMs?: number;
  /** vfs_unlink dentry argument override (otherwise from BTF). */
  unlinkDentryArg?: 2 | 3;
  /** Size limit of the durable spool (default DEFAULT_SPOOL_BYTES). */
  spoolMaxBytes?: number;
  /** Kernel ring buffer size (default: the loader's); tests shrink it to force drops. */
  ringBytes?: number;
}

export const DEFAULT_SPOOL_BYTES = 256 << 20;
/** Drops are read once a second; the rescan waits for a quiet moment after the last report. */
const RESCAN_AFTER_DROPS_MS = 1_500;

/**
 * How long a stop waits for others (FIM work and threads, the capture, the manager's confirmations
 * and goodbye) before it closes the spool and the baseline regardless: the CLI must end within 5 s.
 */
const STOP_WAIT_MS = 3_000;
/** Of that, what the manager's confirmations may take at most, and what is kept for the goodbye after them. */
const STOP_CONFIRM_MS = 2_000;
const STOP_GOODBYE_MS = 500;

/** Wazuh's enrollment retry: 5 s more after each failed round, at most 60 s (start_agent.c). */
const ENROLL_RETRY_STEP_MS = 5_000;
const ENROLL_RETRY_MAX_MS = 60_000;

export class NoKeyError extends Error {
  constructor(file: string) {
    super(`(4109): Unable to start without auth keys. Exiting. No valid key in '${file}' and <enrollment> is disabled.`);
  }
}

export class Agent {
  readonly paths: AgentPaths;
  private session: Session | undefined;
  private buffer: ClientBuffer | undefined;
  private spool: Spool | undefined;
  private queue: LocalQueue | undefined;
  private disk: DiskSpace | undefined;
  /** Events refused during the current full-disk episode: their changes are looked for again after it. */
  private refusedDuringEpisode = false;
  private readonly lifetime = new Stoppable();
  private fim:
    | {
        engine: FimEngine; baseline: Baseline; hashes: HashPool; capture?: Capture; timer?: NodeJS.Timeout; syncTimer?: NodeJS.Timeout;
        rescanTimer?: NodeJS.Timeout;
      }
    | undefined;
  /** Real-time events are handled one batch after the other, in arrival order. */
  private fimQueue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: AgentOptions) {
    this.paths = agentPaths(opts.home);
  }

  /** The key in client.keys (its first valid entry), after logging each malformed line of the file. */
  readKey(): AgentKey | undefined {
    const { entries, problems } = readClientKeys(this.paths.clientKeys);
    for (const p of problems) this.opts.log.error(p.message);
    return entries[0];
  }

  /** The key in client.keys, enrolling first when there is none and enrollment is enabled. */
  async ensureKey(): Promise<AgentKey> {
    const existing = this.readKey();
    if (existing) return existing;
    const enrollment = this.opts.config.client.enrollment;
    if (!enrollment.enabled) throw new NoKeyError(this.paths.clientKeys);
    const log = this.opts.log;
    const targets = [enrollment.managerAddress, ...this.opts.config.client.servers.map((s) => s.address)]
      .filter((a): a is string => a !== undefined)
      .filter((a, i, all) => all.indexOf(a) === i);
    let delay = 0;
    while (!this.lifetime.stopped) {
      for (const address of targets) {
        try {
          const key = await this.enrollWith(address);
          writeAgentKey(this.paths.clientKeys, key);
          log.info(`Valid key received and written to ${this.paths.clientKeys}.`);
          if (enrollment.delayAfterEnrollment > 0) {
            log.info(`Waiting ${enrollment.delayAfterEnrollment} seconds before server connection`);
            await this.lifetime.sleep(enrollment.delayAfterEnrollment * 1000);
          }
          return key;
        } catch (e) {
          if (!(e instanceof EnrollmentError)) throw e;
          log.error(`Enrollment with '${address}' failed: ${e.message}`);
          if (e.failure === 'config') throw e;
        }
      }
      delay = Math.min(delay + ENROLL_RETRY_STEP_MS, ENROLL_RETRY_MAX_MS);
      log.info(`Sleeping ${delay / 1000} seconds before trying to enroll again`);
      await this.lifetime.sleep(delay);
    }
    throw new EnrollmentError('connection', 'stopped before enrollment succeeded');
  }

  /** One enrollment request to `address` with the configured options. */
  async enrollWith(address: string): Promise<AgentKey> {
    const e = this.opts.config.client.enrollment;
    const log = this.opts.log;
    return enroll(
      {
        managerAddress: address,
        port: e.port,
        agentName: e.agentName ?? agentNameFromHostname(os.hostname()),
        version: this.opts.reportedVersion,
        groups: e.groups,
        agentAddress: e.agentAddress,
        useSourceIp: e.useSourceIp,
        password: readEnrollmentPassword(e.authorizationPassPath, log),
        serverCaPath: e.serverCaPath,
        agentCertificatePath: e.agentCertificatePath,
        agentKeyPath: e.agentKeyPath,
        sslCipher: e.sslCipher,
        timeoutMs: 30_000,
      },
      log,
    );
  }

  /** Connects to the manager and starts accepting events. */
  async start(): Promise<void> {
    const { config, log } = this.opts;
    const key = await this.ensureKey();
    if (this.lifetime.stopped) return;
    log.info(`Using AES as encryption method.`);
    const memoryEvents = config.clientBuffer.queueSize;
    this.disk = new DiskSpace({
      log, meanwhile: `events wait in memory (at most ${memoryEvents}, <client_buffer><queue_size>) until space returns, report_changes copies are given up`,
    });
    const channel = new SecureChannel(key, SenderCounter.open(this.paths.ridsDir, this.disk), { verifyManagerCounters: config.client.verifyManagerCounters });
    this.session = new Session({
      client: config.client,
      agent: key,
      labels: config.labels,
      reportedVersion: this.opts.reportedVersion,
      host: this.opts.host,
      shared: new SharedFiles(this.paths.sharedDir, log),
      transportFactory: (this.opts.transportFactory ?? secureTransportFactory)(channel),
      log,
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
    });
    this.spool = Spool.open({ dir: this.paths.spoolDir, maxBytes: this.opts.spoolMaxBytes ?? DEFAULT_SPOOL_BYTES, log, disk: this.disk, memoryEvents });
    this.spool.on('refused', () => (this.refusedDuringEpisode = true));
    this.buffer = new ClientBuffer({ config: config.clientBuffer, spool: this.spool, sink: this.session, log, disk: this.disk });
    this.queue = new LocalQueue(this.paths.queueSocket, (m) => this.submit(m), log);
    await this.queue.start();
    this.buffer.start();
    this.session.start();
    if (!config.syscheck.disabled) await this.startFim();
  }

  /** The FIM engine, its real-time capture and its schedule. */
  private async startFim(): Promise<void> {
    const { config, log } = this.opts;
    const s = config.syscheck;
    const disk = this.disk!;
    const baseline = new Baseline(s.database === 'memory' ? ':memory:' : this.paths.fimDb, disk);
    const diffs = new DiffStore({ dir: this.paths.diffDir, quotaKb: s.diff.diskQuota.enabled ? s.diff.diskQuota.limitKb : undefined, log, disk });
    const hashes = new HashPool({ niceness: s.processPriority });
    const engine = new FimEngine({
      syscheck: s, baseline, hashes, who: new WhoResolver(), send: (m, fim) => this.submit(m, fim), sendSync: (m, signal) => this.buffer!.pushSync(m, signal),
      log, diffs,
    });
    this.fim = { engine, baseline, hashes };
    this.session!.on('fim-sync', (component, payload) => engine.onSyncRequest(component, payload));
    const live = engine.directories.filter((d) => d.realtime || d.whodata).map((d) => d.path);
    if (live.length) {
      const capture = await Capture.start({
        dirs: live, selfTestDir: this.paths.captureSelfTestDir, log, unlinkDentryArg: this.opts.unlinkDentryArg, ringBytes: this.opts.ringBytes,
      });
      capture.on('events', (events: CaptureEvent[]) => this.inFimOrder(() => engine.onCapture(events), 'FIM real-time event'));
      capture.on('drops', (n: number) => this.onKernelDrops(n, live));
      this.fim.capture = capture;
    }
    // Changes whose events were refused while the disk was full are found again by a rescan.
    disk.on('recovered', () => {
      if (!this.refusedDuringEpisode || !live.length) return;
      this.refusedDuringEpisode = false;
      log.warn(`Rescanning ${live.length} real-time directories to report the changes of the events refused while the disk was full.`);
      this.inFimOrder(() => engine.rescan(live), 'FIM rescan');
    });
    const schedule = () => {
      if (this.lifetime.stopped) return;
      this.fim!.timer = setTimeout(() => void this.runScan().then(schedule), nextScanDelayMs(s, new Date()));
    };
    if (s.scanOnStart) void this.runScan().then(schedule);
    else schedule();
    // Each scan starts a sync; between scans one runs every synchronization interval, so the
    // manager's inventory catches up after it restarts or loses rows.
    if (s.synchronization.enabled) this.fim.syncTimer = setInterval(() => engine.startSync(), s.synchronization.interval * 1000);
  }

  private lostEvents = 0;

  /**
   * The kernel ring buffer was full and `n` events never reached the agent. Any of them could be
   * a deletion, so once the burst is over the real-time directories are rescanned: what changed is
   * then reported in scheduled mode (who-data for those events is gone with them).
   */
  private onKernelDrops(n: number, dirs: readonly string[]): void {
    const fim = this.fim!;
    this.lostEvents += n;
    this.opts.log.warn(`Real-time events lost: the kernel ring buffer was full (${n} events dropped, ${this.lostEvents} since start).`);
    clearTimeout(fim.rescanTimer);
    fim.rescanTimer = setTimeout(() => {
      this.opts.log.warn(`Rescanning ${dirs.length} real-time directories to report the changes of the lost events.`);
      this.inFimOrder(() => fim.engine.rescan(dirs), 'FIM rescan');
    }, RESCAN_AFTER_DROPS_MS);
  }

  /** Real-time work runs one piece after the other, in arrival order. */
  private inFimOrder(work: () => Promise<unknown>, what: string): void {
    this.fimQueue = this.fimQueue.then(work).then(
      () => undefined,
      (e) => this.opts.log.error(`${what} failed: ${(e as Error).message}`),
    );
  }

  private async runScan(): Promise<void> {
    try {
      await this.fim?.engine.scan();
    } catch (e) {
      this.opts.log.error(`File integrity monitoring scan failed: ${(e as Error).message}`);
    }
  }

  /** The FIM engine, when <syscheck> is enabled (tests drive scans through it). */
  get fimEngine(): FimEngine | undefined {
    return this.fim?.engine;
  }

  /** Stores one `<queue>:<location>:<message>` event in the spool; false before start(). */
  submit(message: string, fim?: FimEventFields): boolean {
    if (!this.buffer) return false;
    this.buffer.push(message, fim);
    return true;
  }

  get connectedServer(): string | undefined {
    return this.session?.server;
  }

  get sessionEvents(): Session | undefined {
    return this.session;
  }

  /**
   * Flushes what it can, says goodbye to the manager, closes the spool and the baseline: within
   * STOP_WAIT_MS and a few writes, whatever the others do. FIM work in flight (a scan, hashes,
   * real-time checks) is abandoned, not waited for: what it had not stored yet is found again by
   * the next start's scan; events the manager had not confirmed stay spooled for the next start.
   * Hashing threads are cancelled, not waited for past the deadline: one in a read of a filesystem
   * that stopped answering never returns (the CLI's exit ends it).
   */
  async stop(): Promise<void> {
    const deadline = Date.now() + STOP_WAIT_MS;
    const bounded = <T>(work: Promise<T> | undefined) => within(work, deadline - Date.now());
    this.lifetime.stop();
    await bounded(this.queue?.stop());
    let threadsEnded: Promise<unknown> | undefined;
    if (this.fim) {
      clearTimeout(this.fim.timer);
      clearInterval(this.fim.syncTimer);
      clearTimeout(this.fim.rescanTimer);
      this.fim.engine.stop();
      // side by side with the rest: the capture's detach takes seconds in the kernel (loader.ts)
      threadsEnded = Promise.all([this.fim.hashes.close(), this.fim.capture?.stop()]);
      await bounded(this.fimQueue);
      await bounded(this.fim.engine.idle());
    }
    // Wait for the manager to confirm what was sent, leaving time for the goodbye; the rest stays spooled for next time.
    const confirmMs = Math.min(STOP_CONFIRM_MS, deadline - STOP_GOODBYE_MS - Date.now());
    if (this.buffer && this.session?.online && confirmMs > 0) await this.buffer.settled(confirmMs);
    this.buffer?.stop();
    await bounded(this.session?.stop());
    await this.spool?.close();
    this.disk?.retry();
    this.disk?.stop();
    this.fim?.baseline.close();
    await bounded(threadsEnded);
  }
}

/** True when `file` exists and is readable: used to pick the default config path. */
export function readable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
