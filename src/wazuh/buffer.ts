// The client buffer (<client_buffer>): a bounded queue between event producers and the manager
// connection, drained at `events_per_second`, with Wazuh's warning / full / flooded / normal
// states (client-agent/buffer.c; thresholds from internal_options.conf: agent.warn_level=90,
// agent.normal_level=70, agent.tolerance=15 s). Each state change is logged and also sent to the
// manager as `1:wazuh-agent:wazuh: Agent buffer: '<state>'.` (rules 202-205).
//
// One difference from Wazuh, on purpose: while the manager is unreachable, events stay queued
// (Wazuh's dispatcher sends them into a dead socket). A full queue still drops new events,
// counted and reported, exactly where Wazuh does.
import type { ClientBufferConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { BufferState, bufferStateMessage } from './messages.js';
import { sleep } from '../timers.js';

/** Where the buffer delivers: the session. */
export interface BufferSink {
  /** True when a message handed to `send` now would go on the wire. */
  readonly online: boolean;
  /** Sends one message; false when it was not taken (offline). */
  send(message: string): boolean;
  /** Resolves when the sink can take messages again (connected and socket drained). */
  writable(): Promise<void>;
}

export interface BufferLevels {
  warnLevel: number;
  normalLevel: number;
  toleranceSec: number;
}

export const WAZUH_BUFFER_LEVELS: BufferLevels = { warnLevel: 90, normalLevel: 70, toleranceSec: 15 };

type State = 'normal' | 'warning' | 'full' | 'flood';

export interface BufferStats {
  queued: number;
  sent: number;
  dropped: number;
  state: State;
}

export class ClientBuffer {
  private readonly queue: string[] = [];
  private head = 0;
  /** State messages go out before queued events, like Wazuh's dispatcher sends them first. */
  private readonly notices: string[] = [];
  private state: State = 'normal';
  private fullSince = 0;
  private sent = 0;
  private dropped = 0;
  private running = false;
  private wake: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly cfg: ClientBufferConfig,
    private readonly sink: BufferSink,
    private readonly log: Logger,
    private readonly levels: BufferLevels = WAZUH_BUFFER_LEVELS,
    private readonly now: () => number = Date.now,
  ) {}

  get stats(): BufferStats {
    return { queued: this.length, sent: this.sent, dropped: this.dropped, state: this.state };
  }

  private get length(): number {
    return this.queue.length - this.head;
  }

  /** Queues one event; false when the buffer is full and the event was dropped. */
  push(message: string): boolean {
    this.raiseState();
    if (this.length >= this.cfg.queueSize) {
      this.dropped++;
      this.log.debug('Unable to store new packet: Buffer is full.');
      return false;
    }
    this.queue.push(message);
    this.wake?.();
    return true;
  }

  /** Starts the dispatcher; it runs until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.dispatch();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Resolves when every queued message has been handed to the sink (for shutdown and tests). */
  async flushed(timeoutMs: number): Promise<boolean> {
    const until = this.now() + timeoutMs;
    while (this.length > 0 || this.notices.length > 0) {
      if (this.now() > until) return false;
      await sleep(10);
    }
    return true;
  }

  private async dispatch(): Promise<void> {
    const paced = !this.cfg.disabled;
    const intervalMs = 1000 / this.cfg.eventsPerSecond;
    let next = this.now();
    while (!this.stopped) {
      if (this.length === 0 && this.notices.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
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
      if (paced) {
        // One message per 1/eps seconds, as Wazuh's dispatch_buffer(). A timer per message
        // would cost more than the message, so wait only when ahead of schedule by a few ms;
        // the 50 ms of slack absorbs late timers without allowing bursts after idle periods.
        const now = this.now();
        if (next - now >= 4) await sleep(next - now);
        next = Math.max(next, this.now() - 50) + intervalMs;
      }
      this.lowerState();
      if (!this.sink.send(this.queue[this.head]!)) continue;
      this.queue[this.head++] = '';
      this.sent++;
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (!paced && this.sent % 256 === 0) await this.sink.writable();
    }
  }

  private fill(): number {
    return this.length / this.cfg.queueSize;
  }

  /** buffer_append(): states can only rise while producing. */
  private raiseState(): void {
    if (this.cfg.disabled) return;
    const isFull = this.length >= this.cfg.queueSize;
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
      full: ['full', 'Agent buffer is full: Events may be lost.'],
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
