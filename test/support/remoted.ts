// An in-process wazuh-remoted for integration tests: TCP and UDP on 127.0.0.1, decrypts with
// the same rules as the real one (header, AES, checksum, per-agent counters that must grow
// across connections and restarts), answers startup and keepalives with `#!-agent ack `, can push
// a merged.mg, and records every message. A test peer, not product code.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import {
  CodecError, Counters, TcpDeframer, checkCounters, deriveKey, encodeManagerPayload, frameTcp, nextCounters, open,
  parseAgentPayload,
} from '../../src/wazuh/codec.js';
import type { AgentKey } from '../../src/wazuh/keys.js';
import { TestAlert, alertFor } from './analysis.js';
import { DBSYNC_FIM_FILE_PREFIX, syncRequestMessage } from '../../src/fim/sync-messages.js';
import { entriesInRange, integrityChecksum } from './rsync-model.js';

export interface ReceivedMessage {
  agentId: string;
  protocol: 'tcp' | 'udp';
  counters: Counters;
  text: string;
  at: number;
}

export interface Rejection {
  protocol: 'tcp' | 'udp';
  failure: string;
  reason: string;
}

export interface TestRemotedOptions {
  /** The manager's current client.keys (read on every message, like remoted's key reload). */
  keys: () => AgentKey[];
  /** Fixed ports let a test stop and restart "the same" manager; 0 picks free ones. */
  tcpPort?: number;
  udpPort?: number;
  /** A merged.mg to push when a keepalive reports another md5. */
  mergedMg?: Buffer;
  /** Answer keepalives (turn off to simulate a manager that went silent). */
  ackKeepalives?: boolean;
  /**
   * Run the analysisd and wazuh-db steps (alerts, FIM inventory) on each message; default on.
   * Benchmarks turn them off so that the manager keeps up with the agent under test.
   */
  analyze?: boolean;
  /**
   * Answer every integrity check with no_data, whatever the inventory holds: a manager that keeps
   * losing the agent's rows, so every sync makes the agent send the state of every file again.
   */
  answerNoData?: boolean;
}

/** State that survives stop()/start(), as queue/rids does for the real manager. */
interface DurableState {
  lastCounters: Map<string, Counters>;
  sendCounter: Counters;
}

export class TestRemoted {
  readonly messages: ReceivedMessage[] = [];
  readonly rejections: Rejection[] = [];
  /** What the real manager's analysisd would have raised for the messages (test/support/analysis.ts). */
  readonly alerts: TestAlert[] = [];
  /**
   * The manager's FIM inventory per agent (path -> attributes checksum), kept the way wazuh-db
   * keeps it: events add/replace/remove rows, `state` messages replace rows, integrity_clear empties.
   */
  readonly inventory = new Map<string, Map<string, string>>();
  /** Answer keepalives: false is a manager that reads events and never confirms them (a test may switch it). */
  ackKeepalives: boolean;
  /** Agent names seen starting, for rule 501 (first time) vs 503. */
  private readonly startedNames = new Set<string>();
  tcpPort = 0;
  udpPort = 0;
  private tcp: net.Server | undefined;
  private udp: dgram.Socket | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly agentSockets = new Map<string, (payload: Buffer, raw?: boolean) => void>();
  private readonly state: DurableState = { lastCounters: new Map(), sendCounter: { global: 0, local: 0 } };
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: TestRemotedOptions) {
    this.tcpPort = opts.tcpPort ?? 0;
    this.udpPort = opts.udpPort ?? 0;
    this.ackKeepalives = opts.ackKeepalives !== false;
  }

  async start(): Promise<void> {
    const tcp = net.createServer((s) => this.onTcpConnection(s));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.tcpPort, '127.0.0.1', () => resolve());
    });
    this.tcp = tcp;
    this.tcpPort = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.udpPort, '127.0.0.1', () => resolve());
    });
    udp.on('message', (payload, rinfo) => {
      this.onPayload(payload, 'udp', (reply) => udp.send(reply, rinfo.port, rinfo.address));
    });
    this.udp = udp;
    this.udpPort = udp.address().port;
  }

  /** Closes listeners and every agent connection (what a manager restart looks like to agents). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.agentSockets.clear();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
    this.udp?.close();
    this.tcp = undefined;
    this.udp = undefined;
  }

  /** Messages from one agent whose text matches. */
  received(pattern: RegExp | string, agentId?: string): ReceivedMessage[] {
    return this.messages.filter(
      (m) => (agentId === undefined || m.agentId === agentId) && (typeof pattern === 'string' ? m.text === pattern : pattern.test(m.text)),
    );
  }

  /** Waits until `predicate` holds (checked after every message), or fails after `timeoutMs`. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a message to a connected agent, encrypted with its key and the manager's counters. */
  sendToAgent(agentId: string, text: string | Buffer): void {
    const key = this.keyOf(agentId);
    const send = this.agentSockets.get(agentId);
    if (!key || !send) throw new Error(`agent ${agentId} is not connected`);
    this.state.sendCounter = nextCounters(this.state.sendCounter);
    const message = typeof text === 'string' ? Buffer.from(text) : text;
    send(encodeManagerPayload({ ...this.state.sendCounter, random: crypto.randomInt(65536), message }, deriveKey(key.key)));
  }

  /** Writes raw bytes to an agent's TCP connection (hostile-input tests). */
  sendRawToAgent(agentId: string, bytes: Buffer): void {
    const send = this.agentSockets.get(agentId);
    if (!send) throw new Error(`agent ${agentId} is not connected`);
    send(bytes, true);
  }

  private keyOf(agentId: string): AgentKey | undefined {
    return this.opts.keys().find((k) => k.id === agentId);
  }

  private onTcpConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    const deframer = new TcpDeframer();
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      let frames: Buffer[];
      try {
        frames = deframer.push(chunk);
      } catch (e) {
        this.reject('tcp', e as CodecError);
        socket.destroy();
        return;
      }
      for (const f of frames) {
        this.onPayload(f, 'tcp', (reply, raw) => socket.write(raw ? reply : frameTcp(reply)));
      }
    });
  }

  private onPayload(payload: Buffer, protocol: 'tcp' | 'udp', reply: (payload: Buffer, raw?: boolean) => void): void {
    let agentId: string;
    let counters: Counters;
    let text: string;
    try {
      const parsed = parseAgentPayload(payload);
      if (!parsed.agentId) throw new CodecError('header', 'agent id missing and source-IP lookup is not supported here');
      agentId = parsed.agentId;
      const key = this.keyOf(agentId);
      if (!key) throw new CodecError('header', `agent key not found for id ${agentId}`);
      const opened = open(parsed.encrypted, deriveKey(key.key));
      checkCounters(opened, this.state.lastCounters.get(agentId));
      this.state.lastCounters.set(agentId, { global: opened.global, local: opened.local });
      counters = { global: opened.global, local: opened.local };
      text = opened.message.toString('utf8');
    } catch (e) {
      if (e instanceof CodecError) return this.reject(protocol, e);
      throw e;
    }
    this.agentSockets.set(agentId, reply);
    if (text.startsWith('#!-') && !text.startsWith('#!-agent ') && !text.startsWith('#!-req ') && !isValidKeepalive(text)) {
      this.rejections.push({ protocol, failure: 'keepalive', reason: 'Error validating control message' });
      this.notify();
      return;
    }
    this.messages.push({ agentId, protocol, counters, text, at: Date.now() });
    if (this.opts.analyze !== false) {
      this.analyze(agentId, text);
      this.syncInventory(agentId, text);
    } else if (this.opts.answerNoData && text.startsWith(DBSYNC_FIM_FILE_PREFIX) && text.includes('"type":"integrity_check_')) {
      // no inventory to keep: only the answer, for benchmarks that need the sync's worst case
      const m = JSON.parse(text.slice(DBSYNC_FIM_FILE_PREFIX.length)) as { type: string; data: { begin: string; end: string; id: number } };
      const d = m.data;
      if (m.type.startsWith('integrity_check_')) {
        this.sendToAgent(agentId, syncRequestMessage({ component: 'fim_file', command: 'no_data', begin: d.begin, end: d.end, id: d.id }));
      }
    }
    if (text.startsWith('#!-agent startup ') || (text.startsWith('#!-') && isValidKeepalive(text) && this.ackKeepalives)) {
      this.sendToAgent(agentId, '#!-agent ack ');
    }
    if (isValidKeepalive(text) && this.opts.mergedMg) this.pushMergedIfStale(agentId, text);
    this.notify();
  }

  private analyze(agentId: string, text: string): void {
    const name = this.keyOf(agentId)?.name ?? agentId;
    const alert = alertFor({ id: agentId, name }, text, { firstConnection: !this.startedNames.has(name) });
    if (!alert) return;
    if (alert.rule.id === '501' || alert.rule.id === '503') this.startedNames.add(name);
    this.alerts.push(alert);
  }

  /** wazuh-db's side of FIM: keep the inventory, and answer integrity checks that do not match. */
  private syncInventory(agentId: string, text: string): void {
    const inv = this.inventory.get(agentId) ?? new Map<string, string>();
    this.inventory.set(agentId, inv);
    const json = (prefix: string) => {
      try {
        return JSON.parse(text.slice(prefix.length)) as { type?: string; data?: Record<string, unknown> };
      } catch {
        return undefined;
      }
    };
    if (text.startsWith('8:syscheck:')) {
      const m = json('8:syscheck:');
      const d = m?.data as { path?: string; type?: string; attributes?: { checksum?: string } } | undefined;
      if (m?.type !== 'event' || !d?.path) return;
      if (d.type === 'deleted') inv.delete(d.path);
      else if (d.attributes?.checksum) inv.set(d.path, d.attributes.checksum);
      return;
    }
    if (!text.startsWith('5:fim_file:')) return;
    const m = json('5:fim_file:');
    const d = (m?.data ?? {}) as { begin?: string; end?: string; tail?: string; checksum?: string; id?: number; index?: string; attributes?: { checksum?: string } };
    if (m?.type === 'state' && d.index && d.attributes?.checksum) inv.set(d.index, d.attributes.checksum);
    else if (m?.type === 'integrity_clear') inv.clear();
    else if (m?.type?.startsWith('integrity_check_') && d.begin !== undefined && d.end !== undefined && d.id !== undefined) {
      const inRange = (p: string, lo: string, hi: string) => entriesInRange([{ path: p }], lo, hi).length === 1;
      // rows the agent's ranges say cannot exist: outside the whole table, or in the gap before `tail`
      for (const path of [...inv.keys()]) {
        if (m.type === 'integrity_check_global' && !inRange(path, d.begin, d.end)) inv.delete(path);
        if (m.type === 'integrity_check_left' && d.tail !== undefined && path > d.end && path < d.tail) inv.delete(path);
      }
      const rows = entriesInRange([...inv].map(([path, checksum]) => ({ path, checksum })), d.begin, d.end);
      if (!this.opts.answerNoData && rows.length && integrityChecksum(rows) === d.checksum) return;
      const command = rows.length && !this.opts.answerNoData ? 'checksum_fail' : 'no_data';
      this.sendToAgent(agentId, syncRequestMessage({ component: 'fim_file', command, begin: d.begin, end: d.end, id: d.id }));
    }
  }

  private pushMergedIfStale(agentId: string, keepalive: string): void {
    const data = this.opts.mergedMg!;
    const md5 = crypto.createHash('md5').update(data).digest('hex');
    if (keepalive.includes(`${md5} merged.mg\n`)) return;
    this.sendToAgent(agentId, `#!-up file ${md5} merged.mg\n`);
    for (let i = 0; i < data.length; i += 900) this.sendToAgent(agentId, data.subarray(i, i + 900));
    this.sendToAgent(agentId, '#!-close file ');
  }

  private reject(protocol: 'tcp' | 'udp', e: CodecError): void {
    this.rejections.push({ protocol, failure: e.failure, reason: e.message });
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Sends an agent the payload `craft` builds from the manager's next counters and the agent's
   * AES key (hostile-input tests: wrong keys, broken padding, replays); returns that payload.
   */
  sendCraftedToAgent(agentId: string, craft: (next: Counters, aesKey: Buffer) => Buffer): Buffer {
    const key = this.keyOf(agentId);
    const send = this.agentSockets.get(agentId);
    if (!key || !send) throw new Error(`agent ${agentId} is not connected`);
    this.state.sendCounter = nextCounters(this.state.sendCounter);
    const payload = craft(this.state.sendCounter, deriveKey(key.key));
    send(payload);
    return payload;
  }
}

/** remoted's check: a keepalive has the uname line, then "<md5|x> merged.mg" ending in '\n'. */
export function isValidKeepalive(text: string): boolean {
  if (!text.startsWith('#!-') || text.startsWith('#!-agent ') || text.startsWith('#!-req ')) return false;
  return /\n(?:[0-9a-f]{32}|x) merged\.mg\n/.test(text);
}
