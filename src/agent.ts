// The running agent: key (enrolling when needed), secure session with the manager, client
// buffer, the local queue socket, and FIM (fim/runner.ts). The CLI's `run` is a thin shell around this.
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
import type { FimEngine } from './fim/engine.js';
import { FimRunner } from './fim/runner.js';

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
  private readonly lifetime = new Stoppable();
  private fim: FimRunner | undefined;

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
    this.buffer = new ClientBuffer({ config: config.clientBuffer, spool: this.spool, sink: this.session, log, disk: this.disk });
    this.queue = new LocalQueue(this.paths.queueSocket, (m) => this.submit(m), log);
    await this.queue.start();
    this.buffer.start();
    this.session.start();
    if (!config.syscheck.disabled) await this.startFim();
  }

  /** FIM: the runner builds the engine and its capture, and keeps their schedule. */
  private async startFim(): Promise<void> {
    const { config, log } = this.opts;
    const fim = new FimRunner({
      syscheck: config.syscheck, paths: this.paths, disk: this.disk!, spool: this.spool!, log,
      send: (m, fields) => this.submit(m, fields), sendSync: (m, signal) => this.buffer!.pushSync(m, signal),
      unlinkDentryArg: this.opts.unlinkDentryArg, ringBytes: this.opts.ringBytes,
    });
    this.fim = fim;
    this.session!.on('fim-sync', (component, payload) => fim.onSyncRequest(component, payload));
    await fim.start();
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
    // the FIM threads end side by side with the rest: the capture's detach takes seconds in the kernel (loader.ts)
    const fim = this.fim?.stop();
    await bounded(fim?.workEnded);
    // Wait for the manager to confirm what was sent, leaving time for the goodbye; the rest stays spooled for next time.
    const confirmMs = Math.min(STOP_CONFIRM_MS, deadline - STOP_GOODBYE_MS - Date.now());
    if (this.buffer && this.session?.online && confirmMs > 0) await this.buffer.settled(confirmMs);
    this.buffer?.stop();
    await bounded(this.session?.stop());
    await this.spool?.close();
    this.disk?.retry();
    this.disk?.stop();
    this.fim?.closeBaseline();
    await bounded(fim?.threadsEnded);
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
