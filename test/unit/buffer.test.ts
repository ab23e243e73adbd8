import { expect } from 'chai';
import { MemoryLogger } from '../../src/log.js';
import { Spool } from '../../src/spool/spool.js';
import { BufferLevels, BufferSink, CONFIRM_WINDOW, ClientBuffer, DeliverySignal, SYNC_LANE } from '../../src/wazuh/buffer.js';
import type { ClientBufferConfig } from '../../src/config/types.js';
import { tempDir } from '../support/manager.js';
import { alertFor } from '../support/analysis.js';

/** The session as the buffer sees it; `answers` decides whether the "manager" answers keepalives. */
class FakeSink implements BufferSink {
  online = true;
  answers = true;
  readonly sent: { msg: string; at: number }[] = [];
  keepalives = 0;
  /** Keepalives written while `answers` was false. */
  private pending = 0;
  private waiters: (() => void)[] = [];
  private listener: (s: DeliverySignal) => void = () => undefined;
  send(msg: string): boolean {
    if (!this.online) return false;
    this.sent.push({ msg, at: Date.now() });
    return true;
  }
  writable(): Promise<void> {
    return this.online ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
  requestAck(): void {
    this.keepalives++;
    this.listener('keepalive');
    if (this.answers) setTimeout(() => this.online && this.listener('ack'), 1);
    else this.pending++;
  }
  /** The manager answers (up to `n` of) the keepalives it had left unanswered, in order. */
  answerPending(n = Infinity): void {
    for (; this.pending > 0 && n > 0; this.pending--, n--) this.listener('ack');
  }
  onDelivery(l: (s: DeliverySignal) => void): void {
    this.listener = l;
  }
  goOnline(): void {
    this.online = true;
    for (const w of this.waiters.splice(0)) w();
  }
  lose(): void {
    this.online = false;
    this.listener('lost');
  }
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

function setup(config: ClientBufferConfig, opts: { levels?: BufferLevels; now?: () => number; spoolBytes?: number } = {}) {
  const t = tempDir('buffer');
  cleanups.push(t.cleanup);
  const log = new MemoryLogger();
  const spool = Spool.open({ dir: t.dir, maxBytes: opts.spoolBytes ?? 64 << 20, segmentBytes: 64 * 1024, log });
  const sink = new FakeSink();
  const buf = new ClientBuffer({ config, spool, sink, log, ...opts });
  cleanups.push(() => {
    buf.stop();
    void spool.close();
  });
  return { buf, sink, spool, log };
}

const events = (sink: FakeSink) => sink.sent.map((s) => s.msg).filter((m) => m.startsWith('1:t:'));
const syncs = (sink: FakeSink) => sink.sent.map((s) => s.msg).filter((m) => m.startsWith('5:s:'));

describe('client buffer', () => {
  it('paces delivery at events_per_second', async () => {
    const { buf, sink } = setup({ disabled: false, queueSize: 5000, eventsPerSecond: 100 });
    for (let i = 0; i < 50; i++) buf.push(`1:t:${i}`);
    const t0 = Date.now();
    buf.start();
    await until(() => events(sink).length === 50);
    // 50 events at 100/s take about 0.5 s; the first goes at once.
    expect(Date.now() - t0).to.be.at.least(400);
    expect(events(sink)).to.deep.equal(Array.from({ length: 50 }, (_, i) => `1:t:${i}`));
  });

  it('holds events while offline and delivers them in order once online, then has them confirmed', async () => {
    const { buf, sink, spool } = setup({ disabled: true, queueSize: 100, eventsPerSecond: 500 });
    sink.online = false;
    buf.start();
    for (let i = 0; i < 20; i++) buf.push(`1:t:${i}`);
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.sent).to.have.length(0);
    sink.goOnline();
    await until(() => spool.stats.unconfirmed === 0 && events(sink).length === 20);
    expect(events(sink)).to.deep.equal(Array.from({ length: 20 }, (_, i) => `1:t:${i}`));
    expect(buf.stats).to.include({ sent: 20, dropped: 0, queued: 0, unconfirmed: 0 });
    expect(sink.keepalives, 'asked the manager once it had sent everything').to.be.at.least(1);
  });

  it('sends again what the manager did not confirm when the connection is lost', async () => {
    const { buf, sink, spool, log } = setup({ disabled: true, queueSize: 100, eventsPerSecond: 500 });
    sink.answers = false;
    buf.start();
    for (let i = 0; i < 5; i++) buf.push(`1:t:${i}`);
    await until(() => events(sink).length === 5);
    expect(spool.stats.unconfirmed).to.equal(5);
    sink.lose();
    expect(log.has('info', /^5 events sent but not confirmed by the manager will be sent again\.$/)).to.equal(true);
    sink.answers = true;
    sink.goOnline();
    await until(() => spool.stats.unconfirmed === 0 && spool.stats.unsent === 0);
    expect(events(sink)).to.deep.equal([...Array.from({ length: 5 }, (_, i) => `1:t:${i}`), ...Array.from({ length: 5 }, (_, i) => `1:t:${i}`)]);
  });

  it('confirms only up to the last event sent before the answered keepalive', async () => {
    const { buf, sink, spool } = setup({ disabled: true, queueSize: 100, eventsPerSecond: 500 });
    sink.answers = false;
    buf.start();
    for (let i = 0; i < 3; i++) buf.push(`1:t:${i}`);
    await until(() => events(sink).length === 3);
    const asked = sink.keepalives;
    for (let i = 3; i < 6; i++) buf.push(`1:t:${i}`);
    await until(() => events(sink).length === 6);
    expect(asked, 'the buffer asked once it had sent the first three').to.equal(1);
    sink.answerPending(1);
    expect(spool.stats.unconfirmed, 'events 4-6 went after that keepalive').to.equal(3);
  });

  it(`stops after ${CONFIRM_WINDOW} unconfirmed events until the manager answers`, async () => {
    const { buf, sink, spool } = setup({ disabled: true, queueSize: 5000, eventsPerSecond: 500 });
    sink.answers = false;
    buf.start();
    for (let i = 0; i < CONFIRM_WINDOW + 200; i++) buf.push(`1:t:${i}`);
    await until(() => events(sink).length === CONFIRM_WINDOW);
    await new Promise((r) => setTimeout(r, 100));
    expect(events(sink)).to.have.length(CONFIRM_WINDOW);
    sink.answers = true;
    sink.answerPending();
    await until(() => events(sink).length === CONFIRM_WINDOW + 200 && spool.stats.unconfirmed === 0);
  });

  it('walks warning -> full -> flooded -> normal with Wazuh messages, and drops nothing when full', async () => {
    let now = 1_000_000;
    const { buf, sink, log } = setup(
      { disabled: false, queueSize: 10, eventsPerSecond: 1000 }, { levels: { warnLevel: 90, normalLevel: 70, toleranceSec: 15 }, now: () => now },
    );
    sink.online = false;
    for (let i = 0; i < 9; i++) buf.push(`1:t:${i}`);
    expect(log.has('warn', /^Agent buffer at 90 %\.$/)).to.equal(true);
    buf.push('1:t:9');
    expect(log.has('warn', /^Agent buffer is full: events wait in the spool until the manager takes them\.$/)).to.equal(true);
    now += 16_000;
    buf.push('1:t:10');
    expect(log.has('warn', /^Agent buffer is flooded: Producing too many events\.$/)).to.equal(true);
    expect(buf.stats).to.include({ dropped: 0, queued: 11, state: 'flood' });

    buf.start();
    sink.goOnline();
    await until(() => events(sink).length === 11);
    const msgs = sink.sent.map((s) => s.msg);
    // state notices go first, in the order they happened; normal comes once the queue drained below 70 %
    expect(msgs.slice(0, 3)).to.deep.equal([
      "1:wazuh-agent:wazuh: Agent buffer: '90%'.",
      "1:wazuh-agent:wazuh: Agent buffer: 'full'.",
      "1:wazuh-agent:wazuh: Agent buffer: 'flooded'.",
    ]);
    expect(msgs).to.include("1:wazuh-agent:wazuh: Agent buffer: 'normal'.");
    expect(events(sink)).to.deep.equal(Array.from({ length: 11 }, (_, i) => `1:t:${i}`));
    expect(log.has('info', /^Agent buffer is under 70 %\. Working properly again\.$/)).to.equal(true);
  });

  it('sync lane: every event first, at most one sync message sent after an event came, none spooled', async () => {
    const { buf, sink, spool } = setup({ disabled: false, queueSize: 5000, eventsPerSecond: 400 });
    sink.online = false;
    for (let i = 0; i < 10; i++) buf.push(`1:t:${i}`);
    for (let i = 0; i < SYNC_LANE; i++) await buf.pushSync(`5:s:${i}`);
    await spool.durable();
    buf.start();
    sink.goOnline();
    let laneMost = 0;
    /** Where each event was pushed: how many messages had been sent then. */
    const pushedAt = new Map<string, number>();
    for (let i = SYNC_LANE; i < 200; i++) {
      await buf.pushSync(`5:s:${i}`);
      laneMost = Math.max(laneMost, buf.stats.syncWaiting);
      if (i % 20 === 0) {
        const event = `1:t:${10 + i / 20}`;
        pushedAt.set(event, sink.sent.length);
        buf.push(event);
      }
    }
    await until(() => syncs(sink).length === 200 && events(sink).length === 10 + pushedAt.size);
    const order = sink.sent.map((s) => s.msg);
    expect(order.slice(0, 10), 'the events waiting went before the sync messages waiting').to.deep.equal(events(sink).slice(0, 10));
    for (const [event, at] of pushedAt) {
      const before = order.slice(at, order.indexOf(event)).filter((m) => m.startsWith('5:s:'));
      expect(before.length, `sync messages sent between ${event} and its sending`).to.be.at.most(1);
    }
    expect(syncs(sink)).to.deep.equal(Array.from({ length: 200 }, (_, i) => `5:s:${i}`));
    expect(laneMost).to.be.at.most(SYNC_LANE);
    expect(spool.lastTaken, 'the spool numbered the events alone').to.equal(10 + pushedAt.size);
  });

  it('sync lane: the producer waits for room; an aborted wait gives up, stop() drops the lane', async () => {
    const { buf, sink } = setup({ disabled: true, queueSize: 100, eventsPerSecond: 500 });
    sink.online = false;
    buf.start();
    for (let i = 0; i < SYNC_LANE; i++) await buf.pushSync(`5:s:${i}`);
    let queued = false;
    const waiting = buf.pushSync(`5:s:${SYNC_LANE}`).then(() => (queued = true));
    const cancel = new AbortController();
    const cancelled = buf.pushSync('5:s:cancelled', cancel.signal).then(() => 'queued', (e: Error) => e.name);
    await new Promise((r) => setTimeout(r, 50));
    expect(queued, 'no room while the manager is away').to.equal(false);
    cancel.abort();
    expect(await cancelled).to.equal('AbortError');
    sink.goOnline();
    await waiting;
    await until(() => syncs(sink).length === SYNC_LANE + 1);
    expect(syncs(sink)).to.deep.equal(Array.from({ length: SYNC_LANE + 1 }, (_, i) => `5:s:${i}`));

    sink.online = false;
    for (let i = 0; i < SYNC_LANE; i++) await buf.pushSync(`5:s:later-${i}`);
    const blocked = buf.pushSync('5:s:after-stop');
    buf.stop();
    await blocked;
    expect(buf.stats.syncWaiting).to.equal(0);
  });

  it('when the spool is full, drops the oldest, logs the count and tells the manager (rule 203)', async () => {
    const { buf, sink, log } = setup({ disabled: true, queueSize: 5000, eventsPerSecond: 500 }, { spoolBytes: 256 * 1024 });
    sink.online = false;
    for (let i = 0; i < 1000; i++) buf.push(`1:t:${i}:${'z'.repeat(1000)}`);
    const dropped = buf.stats.dropped;
    expect(dropped).to.be.greaterThan(0);
    expect(log.has('warn', new RegExp(`^Agent spool is full: dropped the \\d+ oldest events \\(${dropped} since start\\)\\.$`))).to.equal(true);
    buf.start();
    sink.goOnline();
    await until(() => events(sink).length === 1000 - dropped);
    const notices = sink.sent.map((s) => s.msg).filter((m) => m.startsWith('1:wazuh-bpf-agent:'));
    expect(notices.length).to.be.greaterThan(0);
    const counts = notices.map((m) => Number(/Spool limit reached: (\d+) oldest events dropped\.$/.exec(m)?.[1]));
    expect(counts.reduce((a, b) => a + b, 0)).to.equal(dropped);
    const alert = alertFor({ id: '001', name: 'a' }, notices[0]!, { firstConnection: false });
    expect(alert?.rule.id).to.equal('203');
  });
});
