// The life of the agent's connection to wazuh-remoted: handshake (`agent startup` answered by
// `agent ack`), the one-time "Agent started" line, keepalives every notify_time, liveness
// (time-reconnect), manager pushes and requests, reconnection and failover across <server>s,
// and the `agent shutdown` goodbye. Mirrors client-agent/start_agent.c, notify.c, receiver.c.
import { EventEmitter } from 'node:events';
import { quoteValue } from '../config/errors.js';
import type { ClientConfig, Label, ServerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { BufferSink, DeliverySignal } from './buffer.js';
import type { AgentKey } from './keys.js';
import {
  HostInfo, agentStartedMessage, classifyManagerMessage, keepaliveMessage, requestErrorMessage, shutdownMessage,
  startupMessage, unameLine,
} from './messages.js';
import type { SharedFiles } from './shared-files.js';
import { Stoppable, sleep } from '../timers.js';
import { Transport, TransportFactory, describeServer } from './transport.js';

/** Shortest time between two keepalives sent only to learn what the manager has read. */
const ACK_REQUEST_INTERVAL_MS = 1000;

export interface SessionOptions {
  client: ClientConfig;
  agent: AgentKey;
  labels: Label[];
  /** The Wazuh version the agent claims (managers refuse agents newer than themselves). */
  reportedVersion: string;
  host: HostInfo;
  shared: SharedFiles;
  transportFactory: TransportFactory;
  log: Logger;
  /** How long to wait for the manager's answer to `agent startup` (Wazuh: agent.recv_timeout, 60 s). */
  handshakeTimeoutMs?: number;
  connectTimeoutMs?: number;
  now?: () => number;
}

export interface SessionEvents {
  connected: [string];
  disconnected: [string];
  stopping: [];
  /** A FIM synchronization message from the manager (component, payload). */
  'fim-sync': [string, string];
}

export class Session extends EventEmitter<SessionEvents> implements BufferSink {
  private transport: Transport | undefined;
  private readonly lifetime = new Stoppable();
  private startedSent = false;
  private lastHeard = 0;
  private connectedAt = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private loopDone: Promise<void> | undefined;
  private unknownDataLogged = false;
  private readonly now: () => number;
  /** The server in use or being tried, as an index into client.servers. */
  private serverIndex = 0;
  private readonly deliveryListeners: ((signal: DeliverySignal) => void)[] = [];
  private lastKeepaliveAt = 0;
  /** Keepalives written on this connection and not answered yet. */
  private unanswered = 0;
  private ackRequestTimer: NodeJS.Timeout | undefined;
  /** The live connection is being closed by the agent itself (time-reconnect, a reconnect order). */
  private closingByAgent = false;
  /**
   * Wazuh's lock (os_setwait): set when the connection was lost or the server went silent, and
   * released, with "Server responded. Releasing lock.", once a server answers again.
   */
  private locked = false;

  constructor(private readonly opts: SessionOptions) {
    super();
    this.now = opts.now ?? Date.now;
  }

  get online(): boolean {
    return this.transport !== undefined;
  }

  /** The server currently connected, e.g. "[127.0.0.1]:1514/tcp". */
  get server(): string | undefined {
    return this.transport?.description;
  }

  start(): void {
    this.loopDone ??= this.connectionLoop();
  }

  send(message: string): boolean {
    const t = this.transport;
    if (!t) return false;
    t.send(message);
    return true;
  }

  onDelivery(listener: (signal: DeliverySignal) => void): void {
    this.deliveryListeners.push(listener);
  }

  /** A keepalive doubles as a delivery question: remoted answers each one (see buffer.ts). */
  requestAck(urgent: boolean): void {
    if (!this.transport) return;
    if (urgent) {
      if (!this.awaitingAnswer()) this.sendKeepalive();
      return;
    }
    if (this.ackRequestTimer) return;
    const wait = this.lastKeepaliveAt + ACK_REQUEST_INTERVAL_MS - this.now();
    if (wait <= 0 && !this.awaitingAnswer()) {
      this.sendKeepalive();
      return;
    }
    this.ackRequestTimer = setTimeout(() => {
      this.ackRequestTimer = undefined;
      if (!this.awaitingAnswer()) this.sendKeepalive();
    }, Math.max(wait, 50));
  }

  /** An answer is due; after a while it is presumed lost (UDP) and a new question may go. */
  private awaitingAnswer(): boolean {
    return this.unanswered > 0 && this.now() - this.lastKeepaliveAt < ACK_REQUEST_INTERVAL_MS;
  }

  private signal(s: DeliverySignal): void {
    for (const l of this.deliveryListeners) l(s);
  }

  async writable(): Promise<void> {
    while (!this.lifetime.stopped) {
      const t = this.transport;
      if (t) return t.drained();
      await new Promise<void>((resolve) => {
        const done = () => {
          this.off('connected', done);
          this.off('stopping', done);
          resolve();
        };
        this.on('connected', done);
        this.on('stopping', done);
      });
    }
  }

  /** Says goodbye to the manager (when connected) and stops reconnecting. */
  async stop(): Promise<void> {
    this.lifetime.stop();
    clearTimeout(this.ackRequestTimer);
    this.emit('stopping');
    const t = this.transport;
    if (t) {
      t.send(shutdownMessage());
      await Promise.race([t.drained(), sleep(2000)]);
      t.close();
    }
    await this.loopDone;
  }

  private async connectionLoop(): Promise<void> {
    const servers = this.opts.client.servers;
    let failedRounds = 0;
    while (!this.lifetime.stopped) {
      const server = servers[this.serverIndex]!;
      let live: { closed: Promise<string> } | undefined;
      for (let attempt = 1; attempt <= server.maxRetries && !this.lifetime.stopped; attempt++) {
        live = await this.handshake(server);
        if (live) break;
        if (attempt < server.maxRetries) await this.lifetime.sleep(server.retryInterval * 1000);
      }
      if (live) {
        failedRounds = 0;
        const reason = await live.closed;
        if (!this.lifetime.stopped && !this.closingByAgent) {
          // receiver.c: the cause, then LOST_ERROR
          this.opts.log.warn(`Connection to ${describeServer(server)} ended: ${reason}.`);
          this.opts.log.error('(1137): Lost connection with manager. Setting lock.');
          this.locked = true;
        }
        this.closingByAgent = false;
        continue; // Wazuh's start_agent() tries the same server first
      }
      if (this.lifetime.stopped) break;
      this.opts.log.warn(
        `(4101): Waiting for server reply (not started). Tried: '${server.address}'. ` +
          `Ensure that the manager version is '${this.opts.reportedVersion}' or higher.`,
      );
      if (this.serverIndex + 1 < servers.length) {
        this.serverIndex++;
        this.opts.log.info(`Trying next server ip in the line: '${servers[this.serverIndex]!.address}'.`);
        await this.lifetime.sleep(server.retryInterval * 1000);
      } else {
        this.serverIndex = 0;
        failedRounds++;
        this.opts.log.warn('Unable to connect to any server.');
        // Back off after each full round of failures, up to time-reconnect (60 s by default).
        const cap = Math.max(server.retryInterval, this.opts.client.timeReconnect) * 1000;
        await this.lifetime.sleep(Math.min(server.retryInterval * 1000 * 2 ** (failedRounds - 1), cap));
      }
    }
  }

  /** Connects and waits for `agent ack`; on success, `closed` resolves with the reason it ends. */
  private async handshake(server: ServerConfig): Promise<{ closed: Promise<string> } | undefined> {
    const log = this.opts.log;
    const t = this.opts.transportFactory(server);
    log.info(`Trying to connect to server (${t.description}).`);
    try {
      await t.connect(this.opts.connectTimeoutMs ?? 10_000);
    } catch (e) {
      log.error(`(1216): Unable to connect to '${t.description}': '${(e as Error).message}'.`);
      return undefined;
    }
    const answer = await new Promise<{ ok: boolean; why?: string }>((resolve) => {
      const timer = setTimeout(() => finish({ ok: false, why: 'no answer to the startup message' }), this.opts.handshakeTimeoutMs ?? 60_000);
      const onMessage = (m: Buffer) => {
        const c = classifyManagerMessage(m);
        if (c.kind === 'ack') finish({ ok: true });
        else if (c.kind === 'error') {
          log.warn(`Couldn't connect to server '${server.address}': ${quoteValue(c.message)}`);
          finish({ ok: false, why: c.message });
        }
      };
      const onRejected = (e: Error) => log.warn(`(1214): Problem receiving message from '${server.address}': ${e.message}`);
      const onClose = (why: string) => finish({ ok: false, why });
      const finish = (r: { ok: boolean; why?: string }) => {
        clearTimeout(timer);
        t.off('message', onMessage);
        t.off('rejected', onRejected);
        t.off('close', onClose);
        unregister();
        resolve(r);
      };
      const unregister = this.lifetime.onStop(() => finish({ ok: false, why: 'stopping' }));
      t.on('message', onMessage);
      t.on('rejected', onRejected);
      t.on('close', onClose);
      t.send(startupMessage(this.opts.reportedVersion));
    });
    if (!answer.ok || this.lifetime.stopped) {
      if (!this.lifetime.stopped) log.debug(`Handshake with ${t.description} failed: ${answer.why}`);
      t.close();
      return undefined;
    }
    return { closed: this.attach(t) };
  }

  /** Makes `t` the live connection; resolves with the reason when it closes. */
  private attach(t: Transport): Promise<string> {
    const log = this.opts.log;
    this.transport = t;
    this.unanswered = 0;
    this.lastHeard = this.connectedAt = this.now();
    log.info(`(4102): Connected to the server (${t.description}).`);
    if (this.locked) {
      this.locked = false;
      log.info('Server responded. Releasing lock.');
    }
    if (!this.startedSent) {
      this.startedSent = true;
      t.send(agentStartedMessage(this.opts.agent.name, this.opts.agent.ip));
    }
    this.sendKeepalive();
    const notifyMs = Math.max(1, this.opts.client.notifyTime) * 1000;
    this.keepaliveTimer = setInterval(() => this.tick(), notifyMs);
    t.on('message', (m) => this.onManagerMessage(m));
    t.on('rejected', (e) => log.warn(`(1214): Problem receiving message from '${t.description}': ${e.message}`));
    const closed = new Promise<string>((resolve) => {
      t.once('close', (reason) => {
        clearInterval(this.keepaliveTimer);
        clearTimeout(this.ackRequestTimer);
        this.ackRequestTimer = undefined;
        this.transport = undefined;
        this.signal('lost');
        this.emit('disconnected', reason);
        resolve(reason);
      });
    });
    this.emit('connected', t.description);
    return closed;
  }

  private tick(): void {
    const t = this.transport;
    if (!t) return;
    const c = this.opts.client;
    if (this.now() - this.lastHeard > c.timeReconnect * 1000) {
      this.opts.log.warn('Server unavailable. Setting lock.');
      this.locked = true;
      this.reconnect();
      return;
    }
    if (c.forceReconnectInterval > 0 && this.now() - this.connectedAt >= c.forceReconnectInterval * 1000) {
      this.opts.log.info('Wazuh Agent will be reconnected because of force reconnect interval');
      this.reconnect();
      return;
    }
    this.sendKeepalive();
  }

  /** Closes the live connection on the agent's own decision; the connection loop connects again. */
  private reconnect(): void {
    const t = this.transport;
    if (!t) return;
    this.closingByAgent = true;
    t.close();
  }

  private sendKeepalive(): void {
    const t = this.transport;
    if (!t) return;
    const o = this.opts;
    const msg = keepaliveMessage({
      uname: unameLine(o.host, o.reportedVersion),
      agentConfMd5: o.shared.agentConfMd5(),
      labels: o.labels,
      mergedMd5: o.shared.mergedMd5(),
      agentIp: t.localAddress(),
    });
    this.opts.log.debug('Sending keep alive.');
    t.send(msg);
    this.lastKeepaliveAt = this.now();
    this.unanswered++;
    this.signal('keepalive');
  }

  private onManagerMessage(raw: Buffer): void {
    const m = classifyManagerMessage(raw);
    const log = this.opts.log;
    if (m.kind !== 'data' || this.opts.shared.receiving) this.lastHeard = this.now();
    switch (m.kind) {
      case 'ack':
        this.unanswered = Math.max(0, this.unanswered - 1);
        this.signal('ack');
        return;
      case 'request-ack':
        return;
      case 'file-open':
        this.opts.shared.begin(m.md5, m.name);
        return;
      case 'data':
        if (this.opts.shared.receiving) this.opts.shared.append(m.bytes);
        else if (!this.unknownDataLogged) {
          this.unknownDataLogged = true;
          log.warn('Unknown message received. No action defined.');
        }
        return;
      case 'file-close':
        this.opts.shared.end();
        return;
      case 'force-reconnect':
        log.info('Wazuh Agent will be reconnected because a reconnect message was received');
        this.reconnect();
        return;
      case 'request':
        if (m.target === '') {
          log.error('Request format is incorrect [target].'); // request.c req_push, which answers nothing
          return;
        }
        // Wazuh answers requests for components it cannot reach with "err <reason>".
        log.debug(`Request ${quoteValue(m.counter)} for ${quoteValue(m.target)} refused: the component is not available in wazuh-bpf-agent.`);
        this.transport?.send(requestErrorMessage(m.counter, `Component '${m.target}' is not available in wazuh-bpf-agent`));
        return;
      case 'fim-sync':
        this.emit('fim-sync', m.component, m.payload);
        return;
      // Text from the manager is quoted: escaped control characters cannot forge log lines.
      case 'error':
        log.warn(`Error message from the manager: ${quoteValue(m.message)}`);
        return;
      case 'control':
        log.warn(`Unknown message received from server: ${quoteValue(`#!-${m.text}`)}.`);
        return;
    }
  }
}
