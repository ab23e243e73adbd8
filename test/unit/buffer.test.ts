import { expect } from 'chai';
import { MemoryLogger } from '../../src/log.js';
import { BufferSink, ClientBuffer } from '../../src/wazuh/buffer.js';

class FakeSink implements BufferSink {
  online = true;
  readonly sent: { msg: string; at: number }[] = [];
  private waiters: (() => void)[] = [];
  send(msg: string): boolean {
    if (!this.online) return false;
    this.sent.push({ msg, at: Date.now() });
    return true;
  }
  writable(): Promise<void> {
    return this.online ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
  goOnline(): void {
    this.online = true;
    for (const w of this.waiters.splice(0)) w();
  }
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('client buffer', () => {
  it('paces delivery at events_per_second', async () => {
    const sink = new FakeSink();
    const buf = new ClientBuffer({ disabled: false, queueSize: 5000, eventsPerSecond: 100 }, sink, new MemoryLogger());
    for (let i = 0; i < 50; i++) buf.push(`1:t:${i}`);
    const t0 = Date.now();
    buf.start();
    await until(() => sink.sent.length === 50);
    buf.stop();
    // 50 events at 100/s take about 0.5 s; the first goes at once.
    expect(Date.now() - t0).to.be.at.least(400);
    expect(sink.sent.map((s) => s.msg)).to.deep.equal(Array.from({ length: 50 }, (_, i) => `1:t:${i}`));
  });

  it('holds events while offline and delivers them in order once online', async () => {
    const sink = new FakeSink();
    sink.online = false;
    const buf = new ClientBuffer({ disabled: true, queueSize: 100, eventsPerSecond: 500 }, sink, new MemoryLogger());
    buf.start();
    for (let i = 0; i < 20; i++) expect(buf.push(`1:t:${i}`)).to.equal(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.sent).to.have.length(0);
    sink.goOnline();
    await until(() => sink.sent.length === 20);
    buf.stop();
    expect(buf.stats).to.include({ sent: 20, dropped: 0, queued: 0 });
  });

  it('walks warning -> full -> flooded -> normal with Wazuh messages, dropping only when full', async () => {
    const sink = new FakeSink();
    sink.online = false;
    let now = 1_000_000;
    const log = new MemoryLogger();
    const buf = new ClientBuffer({ disabled: false, queueSize: 10, eventsPerSecond: 1000 }, sink, log, { warnLevel: 90, normalLevel: 70, toleranceSec: 15 }, () => now);
    for (let i = 0; i < 10; i++) expect(buf.push(`1:t:${i}`)).to.equal(true);
    expect(log.has('warn', /^Agent buffer at 90 %\.$/)).to.equal(true);
    expect(buf.push('1:t:dropped')).to.equal(false);
    expect(log.has('warn', /^Agent buffer is full: Events may be lost\.$/)).to.equal(true);
    now += 16_000;
    expect(buf.push('1:t:dropped-too')).to.equal(false);
    expect(log.has('warn', /^Agent buffer is flooded: Producing too many events\.$/)).to.equal(true);
    expect(buf.stats).to.include({ dropped: 2, queued: 10, state: 'flood' });

    buf.start();
    sink.goOnline();
    await until(() => sink.sent.length === 14);
    buf.stop();
    const msgs = sink.sent.map((s) => s.msg);
    // state notices go first, in the order they happened; normal comes once the queue drained below 70 %
    expect(msgs.slice(0, 3)).to.deep.equal([
      "1:wazuh-agent:wazuh: Agent buffer: '90%'.",
      "1:wazuh-agent:wazuh: Agent buffer: 'full'.",
      "1:wazuh-agent:wazuh: Agent buffer: 'flooded'.",
    ]);
    expect(msgs).to.include("1:wazuh-agent:wazuh: Agent buffer: 'normal'.");
    expect(msgs.filter((m) => m.startsWith('1:t:'))).to.deep.equal(Array.from({ length: 10 }, (_, i) => `1:t:${i}`));
    expect(log.has('info', /^Agent buffer is under 70 %\. Working properly again\.$/)).to.equal(true);
  });
});
