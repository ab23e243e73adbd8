// The client buffer (<client_buffer>) on top of the durable spool: events wait in the spool and
// are drained at `events_per_second`; Wazuh's warning / full / flooded / normal states are kept
// (client-agent/buffer.c; thresholds from internal_options.conf: agent.warn_level=90,
// agent.normal_level=70, agent.tolerance=15 s), counted against `queue_size` events waiting. Each
// state change is logged and sent to the manager as `1:wazuh-agent:wazuh: Agent buffer: '<state>'.`
// (rules 202-205). The agent's disk running full is told the same way (diskStateMessage).
//
// Where Wazuh drops, this buffer does not: a full queue_size only means more events wait on disk.
// Events leave the spool once the manager has them. Wazuh 4.x has no per-event acknowledgement, but
// remoted answers every keepalive on the connection it arrived on, in order: a keepalive written
// after event N and answered means remoted read event N. So the buffer notes the last event sent
// before each keepalive and confirms up to it when the matching answer comes; it asks for an
// answer (an extra keepalive) when it has sent a window of events or has nothing more to send. A
// lost connection puts the unconfirmed events back in line: delivery is at-least-once.
//
// Integrity sync messages take another lane: a few in memory (SYNC_LANE), sent only when no event
// waits, never spooled. A sync can always be run again, so it must neither take the spool's room
// (whose size limit drops the oldest events) nor hold events back: Wazuh's agent sends both
// through one queue, where a sync's thousands of states delay every alert behind them. Its
// producer (fim/sync.ts) waits for room, so an event waits for at most the one sync message
// being sent when it came.
import type { ClientBufferConfig } from '../config/types.js';
import type { DiskSpace } from '../disk-space.js';
import type { Logger } from '../log.js';
import type { Spool } from '../spool/spool.js';
import type { FimEventFields } from '../spool/record.js';
import { BufferState, bufferStateMessage, diskStateMessage, spoolOverflowMessage } from './messages.js';
import { sleep } from '../timers.js';

/** What the session tells the buffer about delivery. */
export type DeliverySignal = 'keepalive' | 'ack' | 'lost';

/** Where the buffer delivers: the session. */
export interface BufferSink {
  /** True when a message handed to `send` now would go on the wire. */
  readonly online: boolean;
  /** Sends one message; false when it was not taken (offline). */
  send(message: string): boolean;
  /** Resolves when the sink can take messages again (connected and socket drained). */
  writable(): Promise<void>;
  /**
   * Asks the manager to confirm what it has read so far. `urgent`: now, unless a request is
   * already unanswered; otherwise at most once a second (a trickle of events must not double the
   * traffic with keepalives).
   */
  requestAck(urgent: boolean): void;
  /** `keepalive` when one was written, `ack` for each answer to one, `lost` when the connection ends. */
  onDelivery(listener: (signal: DeliverySignal) => void): void;
}

export interface BufferLevels {
  warnLevel: number;
  normalLevel: number;
  toleranceSec: number;
}

export const WAZUH_BUFFER_LEVELS: BufferLevels = { warnLevel: 90, normalLevel: 70, toleranceSec: 15 };

/** Events sent and not yet confirmed before the buffer waits for the manager's answer. */
export const CONFIRM_WINDOW = 1000;
/**
 * The buffer asks after this many events: what a lost connection makes it send twice stays
 * around this size, for one extra keepalive per CONFIRM_EVERY events (and never two unanswered).
 */
export const CONFIRM_EVERY = 100;
/** Integrity sync messages waiting in memory, at most; their producer waits for room. */
export const SYNC_LANE = 4;

type State = 'normal' | 'warning' | 'full' | 'flood';

export interface BufferStats {
  /** Waiting in the spool, not sent yet. */
  queued: number;
  /** Sent, not confirmed by the manager yet. */
  unconfirmed: number;
  sent: number;
  /** Dropped by the spool's size limit. */
  dropped: number;
  state: State;
  /** Integrity sync messages waiting in their lane (at most SYNC_LANE). */
  syncWaiting: number;
}

export interface ClientBufferOptions {
  config: ClientBufferConfig;
  spool: Spool;
  sink: BufferSink;
  log: Logger;
  levels?: BufferLevels;
  now?: () => number;
  /** The agent's disk: its episodes are told to the manager. */
  disk?: DiskSpace;
}

export class ClientBuffer {
  /** State messages go out before queued events, like Wazuh's dispatcher sends them first. */
  private readonly notices: string[] = [];
  /** Integrity sync messages, sent when no event waits. */
  private readonly syncLane: string[] = [];
  /** Producers waiting for room in the sync lane. */
  private syncRoom: (() => void)[] = [];
  /** When the next message may go (events_per_second). */
  private nextSlot = 0;
  /** Messages of both lanes written since start: unpaced, the socket is let drain every 256. */
  private written = 0;
  /** For each keepalive written and not answered yet: the last event sent before it. */
  private marks: number[] = [];
  private state: State = 'normal';
  private fullSince = 0;
  private sent = 0;
  private running = false;
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly cfg: ClientBufferConfig;
  private readonly spool: Spool;
  private readonly sink: BufferSink;
  private readonly log: Logger;
  private readonly levels: BufferLevels;
  private readonly now: () => number;

  constructor(o: ClientBufferOptions) {
    this.cfg = o.config;
    this.spool = o.spool;
    this.sink = o.sink;
    this.log = o.log;
    this.levels = o.levels ?? WAZUH_BUFFER_LEVELS;
    this.now = o.now ?? Date.now;
    this.spool.on('readable', () => this.wake?.());
    this.spool.on('overflow', (n) => {
      this.log.warn(`Agent spool is full: dropped the ${n} oldest events (${this.spool.stats.dropped} since start).`);
      this.notices.push(spoolOverflowMessage(n));
      this.wake?.();
    });
    o.disk?.on('full', (reason) => this.notice(diskStateMessage('full', reason)));
    // the first refusal of an episode; the count comes with the closing log line
    this.spool.on('refused', (n) => n === 1 && this.notice(diskStateMessage('flooded')));
    o.disk?.on('recovered', () => this.notice(diskStateMessage('normal')));
    this.sink.onDelivery((signal) => this.onDelivery(signal));
  }

  get stats(): BufferStats {
    const s = this.spool.stats;
    return { queued: s.unsent, unconfirmed: s.unconfirmed, sent: this.sent, dropped: s.dropped, state: this.state, syncWaiting: this.syncLane.length };
  }

  /** Stores one event in the spool (from then on it survives an agent crash); returns its sequence. */
  push(message: string, fim?: FimEventFields): number {
    const seq = this.spool.append(message, fim);
    this.raiseState();
    return seq;
  }

  /**
   * Queues one integrity sync message in memory, behind every event: resolves once it is queued,
   * waiting while SYNC_LANE others do; rejects with an AbortError when `signal` aborts first.
   * After stop() it is dropped.
   */
  async pushSync(message: string, signal?: AbortSignal): Promise<void> {
    while (this.syncLane.length >= SYNC_LANE && !this.stopped) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.syncRoom.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
    signal?.throwIfAborted();
    if (this.stopped) return;
    this.syncLane.push(message);
    this.wake?.();
  }

  /** Starts the dispatcher; it runs until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.dispatch();
  }

  stop(): void {
    this.stopped = true;
    this.syncLane.length = 0;
    this.roomForSync();
    this.wake?.();
  }

  /** Wakes the producers waiting for room in the sync lane (each looks again). */
  private roomForSync(): void {
    const waiting = this.syncRoom;
    this.syncRoom = [];
    for (const wake of waiting) wake();
  }

  /** A sync message may go: one waits, and no event or notice does (not even one being made durable). */
  private syncSendable(): boolean {
    return this.syncLane.length > 0 && this.notices.length === 0 && this.spool.stats.unsent === 0;
  }

  /** Resolves true once every stored event was sent and confirmed, false after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    const until = this.now() + timeoutMs;
    let asked = false;
    while (this.spool.stats.unsent > 0 || this.spool.stats.unconfirmed > 0 || this.notices.length > 0) {
      if (this.now() > until) return false;
      if (!asked && this.spool.stats.unsent === 0 && this.spool.stats.unconfirmed > 0) {
        asked = true;
        this.sink.requestAck(true);
      }
      await sleep(10);
    }
    return true;
  }

  private notice(message: string): void {
    this.notices.push(message);
    this.wake?.();
  }

  private onDelivery(signal: DeliverySignal): void {
    if (signal === 'keepalive') {
      // Acks of lost keepalives (UDP) shift later answers onto older marks: confirming less, never more.
      this.marks.push(this.spool.lastTaken);
      if (this.marks.length > 4 * CONFIRM_WINDOW) this.marks.shift();
    } else if (signal === 'ack') {
      const mark = this.marks.shift();
      if (mark !== undefined) this.spool.confirm(mark);
      // Still unconfirmed with nothing left to send (answers lost on UDP, or events sent after the
      // question): ask again, at the session's unhurried pace.
      if (this.spool.stats.unsent === 0 && this.spool.stats.unconfirmed > 0) this.sink.requestAck(false);
    } else {
      this.marks = [];
      const again = this.spool.rewind();
      if (again > 0) this.log.info(`${again} events sent but not confirmed by the manager will be sent again.`);
    }
    this.wake?.();
  }

  private async idle(): Promise<void> {
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
  }

  private async dispatch(): Promise<void> {
    this.nextSlot = this.now();
    while (!this.stopped) {
      const eventWaiting = this.spool.peek() !== undefined;
      if (this.notices.length === 0 && !eventWaiting && !this.syncSendable()) {
        await this.idle();
        continue;
      }
      if (!this.sink.online) {
        await this.sink.writable();
        continue;
      }
      if (this.notices.length > 0) {
        if (this.sink.send(this.notices[0]!)) this.notices.shift();
        continue;
      }
      if (eventWaiting) {
        const unconfirmed = this.spool.stats.unconfirmed;
        if (unconfirmed >= CONFIRM_WINDOW) {
          this.sink.requestAck(true);
          await this.idle();
          continue;
        }
        if (unconfirmed > 0 && unconfirmed % CONFIRM_EVERY === 0) this.sink.requestAck(true);
      }
      await this.pace();
      this.lowerState();
      const entry = this.spool.peek();
      if (entry) {
        // an event that came while a sync message waited for this slot: round again, it goes first
        if (!eventWaiting || !this.sink.send(entry.message)) continue;
        this.spool.take();
        this.sent++;
        if (!this.spool.peek()) this.sink.requestAck(false);
      } else {
        if (!this.syncSendable() || !this.sink.send(this.syncLane[0]!)) continue;
        this.syncLane.shift();
        this.roomForSync();
      }
      if (this.cfg.disabled && ++this.written % 256 === 0) await this.sink.writable();
    }
  }

  /**
   * One message per 1/eps seconds, as Wazuh's dispatch_buffer(). A timer per message would cost
   * more than the message, so it waits only when ahead of schedule by a few ms; the 50 ms of
   * slack absorbs late timers without allowing bursts after idle periods.
   */
  private async pace(): Promise<void> {
    if (this.cfg.disabled) return;
    const now = this.now();
    if (this.nextSlot - now >= 4) await sleep(this.nextSlot - now);
    this.nextSlot = Math.max(this.nextSlot, this.now() - 50) + 1000 / this.cfg.eventsPerSecond;
  }

  private fill(): number {
    return this.spool.stats.unsent / this.cfg.queueSize;
  }

  /** buffer_append(): states can only rise while producing. */
  private raiseState(): void {
    if (this.cfg.disabled) return;
    const isFull = this.spool.stats.unsent >= this.cfg.queueSize;
    switch (this.state) {
      case 'normal':
        if (isFull) this.enter('full');
        else if (this.fill() >= this.levels.warnLevel / 100) this.enter('warning');
        break;
      case 'warning':
        if (isFull) this.enter('full');
        break;
      case 'full':
        if (this.now() - this.fullSince >= this.levels.toleranceSec * 1000) this.enter('flood');
        break;
      case 'flood':
        break;
    }
  }

  /** dispatch_buffer(): states can only fall while draining. */
  private lowerState(): void {
    if (this.cfg.disabled || this.state === 'normal') return;
    const fill = this.fill();
    if (fill <= this.levels.normalLevel / 100) this.enter('normal');
    else if (this.state !== 'warning' && fill <= this.levels.warnLevel / 100) this.state = 'warning';
  }

  private enter(state: State): void {
    this.state = state;
    const notice: Record<State, [BufferState, string]> = {
      warning: ['warning', `Agent buffer at ${this.levels.warnLevel} %.`],
      full: ['full', 'Agent buffer is full: events wait in the spool until the manager takes them.'],
      flood: ['flooded', 'Agent buffer is flooded: Producing too many events.'],
      normal: ['normal', `Agent buffer is under ${this.levels.normalLevel} %. Working properly again.`],
    };
    const [wire, text] = notice[state];
    if (state === 'full') this.fullSince = this.now();
    if (state === 'normal') this.log.info(text);
    else this.log.warn(text);
    this.notices.push(bufferStateMessage(wire, this.levels.warnLevel));
    this.wake?.();
  }
}
