// RingBufferReader against the kernel: test/bpf/ringbuf_test.bpf.c writes one 48-byte record per
// unlinkat(2) a child process makes with a magic flag. Needs root and tracefs.
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LibbpfError, openLibbpf, type BpfLink, type BpfObject } from '../../src/bpf/libbpf.js';
import { RingBufferReader, type RecordBatch } from '../../src/bpf/ringbuf.js';

const OBJECT = fileURLToPath(new URL('../bpf/ringbuf_test.bpf.o', import.meta.url));
const UNLINKAT_MAGIC_FLAG = 0x5eb1;
const RECORD_SIZE = 48;
const libbpf = openLibbpf();

/** The test program loaded for one producer process; `close` detaches and frees everything. */
interface Producer {
  ringFd: number;
  drops(): number;
  close(): void;
}

function loadProducer(targetTgid: number, opts: { wakeupBytes: number; ringBytes?: number }): Producer {
  const obj: BpfObject = libbpf.bpf_object__open_file(OBJECT);
  let link: BpfLink | undefined;
  try {
    const cfg = Buffer.alloc(16);
    cfg.writeUInt32LE(targetTgid, 0);
    cfg.writeBigUInt64LE(BigInt(opts.wakeupBytes), 8);
    libbpf.writeInitialValue(libbpf.bpf_object__find_map_by_name(obj, '.rodata')!, 0, cfg);
    const rb = libbpf.bpf_object__find_map_by_name(obj, 'rb')!;
    if (opts.ringBytes) libbpf.bpf_map__set_max_entries(rb, opts.ringBytes);
    libbpf.bpf_object__load(obj);
    link = libbpf.bpf_program__attach(libbpf.bpf_object__find_program_by_name(obj, 'on_unlinkat')!);
    const dropsFd = libbpf.bpf_map__fd(libbpf.bpf_object__find_map_by_name(obj, 'drops')!);
    const attached = link;
    return {
      ringFd: libbpf.bpf_map__fd(rb),
      drops: () => sumPerCpu(dropsFd),
      close() {
        libbpf.bpf_link__destroy(attached);
        libbpf.bpf_object__close(obj);
      },
    };
  } catch (err) {
    if (link) libbpf.bpf_link__destroy(link);
    libbpf.bpf_object__close(obj);
    throw err;
  }
}

function sumPerCpu(fd: number): number {
  const cpus = libbpf.libbpf_num_possible_cpus();
  const values = Buffer.alloc(8 * cpus);
  expect(libbpf.bpf_map_lookup_elem(fd, Buffer.alloc(4), values)).to.equal(true);
  let sum = 0;
  for (let cpu = 0; cpu < cpus; cpu++) sum += Number(values.readBigUInt64LE(8 * cpu));
  return sum;
}

/** A node process that, told a count on stdin, makes that many magic unlinkat calls and exits. */
function spawnUnlinker(): ChildProcess & { produce(count: number): Promise<void> } {
  const script = `
    const { default: koffi } = await import(${JSON.stringify(import.meta.resolve('koffi'))});
    const unlinkat = koffi.load('libc.so.6').func('int unlinkat(int dirfd, const char *path, int flags)');
    process.stdin.once('data', (line) => {
      for (let i = Number(line); i > 0; i--) unlinkat(-100, '', ${UNLINKAT_MAGIC_FLAG});
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'inherit', 'inherit'] });
  return Object.assign(child, {
    async produce(count: number) {
      const exited = once(child, 'exit');
      child.stdin!.write(`${count}\n`);
      const [code] = await exited;
      expect(code, 'unlinker exit code').to.equal(0);
    },
  });
}

/**
 * Decodes records into per-CPU sequence lists. Plain checks, no chai, per record: the decoding runs
 * on the main thread at the reader's pace, and a slow consumer makes the ring overflow.
 */
class Collector {
  readonly perCpu = new Map<number, number[]>();
  received = 0;
  malformed: string | undefined;

  constructor(private readonly tgid: number) {}

  readonly onBatch = (batch: RecordBatch) => {
    batch.forEach((record) => {
      if (record.length !== RECORD_SIZE || record.readUInt32LE(4) !== 0 || record.readUInt32LE(12) !== this.tgid) {
        this.malformed ??= record.toString('hex');
      }
      const cpu = record.readUInt32LE(8);
      let seqs = this.perCpu.get(cpu);
      if (!seqs) this.perCpu.set(cpu, (seqs = []));
      seqs.push(record.readUInt32LE(0));
    });
    this.received += batch.records;
  };

  /** Resolves once every produced record is either received or counted as dropped. */
  async settled(producer: Producer, produced: number): Promise<void> {
    while (this.received + producer.drops() < produced) await sleep(5);
  }

  /** Every CPU's sequence numbers are 0, 1, 2, … with no gap, duplicate or reordering. */
  expectComplete(total: number): void {
    expect(this.malformed, 'malformed record').to.equal(undefined);
    let sum = 0;
    for (const [cpu, seqs] of this.perCpu) {
      const firstWrong = seqs.findIndex((seq, i) => seq !== i);
      expect(firstWrong, `cpu ${cpu}: first out-of-sequence record`).to.equal(-1);
      sum += seqs.length;
    }
    expect(sum).to.equal(total);
  }
}

function ensureTracefs(): void {
  const events = '/sys/kernel/tracing/events';
  if (fs.existsSync(events) && fs.readdirSync(events).length > 0) return;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`tracefs is not mounted on /sys/kernel/tracing and mounting it failed: ${(err as Error).message}`);
  }
  console.log('    (mounted tracefs on /sys/kernel/tracing)');
}

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en')} records/s`;
}

describe('ring buffer reader (eBPF, root)', function () {
  this.timeout(60_000);
  let producer: Producer | undefined;
  let child: ReturnType<typeof spawnUnlinker> | undefined;
  let reader: RingBufferReader | undefined;

  before(() => {
    if (process.getuid?.() !== 0) {
      throw new Error('the ring-buffer tests load eBPF programs and must run as root (CI does)');
    }
    ensureTracefs();
  });
  afterEach(async () => {
    await reader?.stop();
    producer?.close();
    child?.kill();
    reader = producer = child = undefined;
  });

  it('delivers records submitted without wakeup, through the poll timeout', async () => {
    child = spawnUnlinker();
    producer = loadProducer(child.pid!, { wakeupBytes: 256 * 1024 });
    const collector = new Collector(child.pid!);
    reader = new RingBufferReader(producer.ringFd, { pollTimeoutMs: 5 });
    reader.on('batch', collector.onBatch);
    await reader.start();

    await child.produce(100);
    await collector.settled(producer, 100);
    await reader.stop();

    expect(producer.drops()).to.equal(0);
    collector.expectComplete(100);
    const stats = reader.stats;
    expect(stats).to.include({ records: 100, bytes: 100 * RECORD_SIZE });
    expect(stats.wakeups, 'the kernel never woke the reader: 5.6 KB < 256 KiB').to.equal(0);
    expect(stats.polls).to.be.greaterThan(0);
  });

  it('delivers 100000 records exactly once, in order per CPU, without drops or blocking the event loop', async () => {
    const total = 100_000;
    child = spawnUnlinker();
    producer = loadProducer(child.pid!, { wakeupBytes: 64 * 1024 });
    const collector = new Collector(child.pid!);
    reader = new RingBufferReader(producer.ringFd);
    reader.on('batch', collector.onBatch);
    await reader.start();

    // The event loop must keep turning while records pour in: count timer ticks during the burst.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const t0 = performance.now();
    try {
      await child.produce(total);
      await collector.settled(producer, total);
    } finally {
      clearInterval(ticker);
      delay.disable();
    }
    const ms = performance.now() - t0;
    await reader.stop();

    expect(producer.drops()).to.equal(0);
    collector.expectComplete(total);
    expect(reader.stats.records).to.equal(total);
    expect(ticks, 'timer ticks during the burst').to.be.greaterThan(0);
    const { batches, polls, wakeups } = reader.stats;
    console.log(
      `    live: ${rate(total, ms)} (producer-bound) in ${batches} batches, ${polls} polls, ${wakeups} wakeups; ` +
        `${ticks} timer ticks, event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms`,
    );
  });

  it('drains a full ring fast: throughput of the reader alone', async () => {
    const total = 500_000; // 28 MB of records in a 32 MiB ring
    child = spawnUnlinker();
    producer = loadProducer(child.pid!, { wakeupBytes: 64 * 1024, ringBytes: 32 << 20 });
    await child.produce(total);
    expect(producer.drops()).to.equal(0);

    const collector = new Collector(child.pid!);
    reader = new RingBufferReader(producer.ringFd);
    let lastBatchAt = 0;
    reader.on('batch', collector.onBatch);
    reader.on('batch', () => (lastBatchAt = performance.now()));
    const t0 = performance.now();
    await reader.start();
    const t1 = performance.now();
    await collector.settled(producer, total);
    await reader.stop();

    collector.expectComplete(total);
    const ms = lastBatchAt - t1;
    console.log(
      `    drain: ${rate(total, ms)} delivered and decoded on the main thread ` +
        `(${total} × 56-byte records in ${ms.toFixed(0)} ms after start(), which took ${(t1 - t0).toFixed(0)} ms; ` +
        `${reader.stats.batches} batches)`,
    );
  });

  it('with a 4 KiB ring and no consumer, counts drops so that received + dropped = produced', async () => {
    const total = 1000;
    child = spawnUnlinker();
    producer = loadProducer(child.pid!, { wakeupBytes: 0, ringBytes: 4096 });
    await child.produce(total);
    const dropped = producer.drops();

    const collector = new Collector(child.pid!);
    reader = new RingBufferReader(producer.ringFd);
    reader.on('batch', collector.onBatch);
    await reader.start();
    await collector.settled(producer, total);
    await reader.stop();

    expect(collector.malformed, 'malformed record').to.equal(undefined);
    expect(dropped).to.be.greaterThan(0);
    expect(collector.received).to.be.greaterThan(0);
    expect(collector.received + dropped).to.equal(total);
    for (const [cpu, seqs] of collector.perCpu) {
      expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!), `cpu ${cpu} in order`).to.equal(true);
    }
  });

  it('reports the verifier log when a load fails, however long', () => {
    const obj = libbpf.bpf_object__open_file(OBJECT);
    const messages: string[] = [];
    libbpf.setLogger((_level, text) => messages.push(text));
    try {
      libbpf.bpf_program__set_autoload(libbpf.bpf_object__find_program_by_name(obj, 'rejected_by_verifier')!, true);
      expect(() => libbpf.bpf_object__load(obj))
        .to.throw(LibbpfError)
        .that.satisfies((err: LibbpfError) => {
          expect(err.op).to.equal('bpf_object__load');
          expect(err.log.join('\n')).to.match(/invalid mem access 'map_value_or_null'/);
          expect(err.message).to.match(/map_value_or_null/);
          return true;
        });
    } finally {
      libbpf.setLogger(null);
      libbpf.bpf_object__close(obj);
    }
    // libbpf prints the whole verifier log as one message; longer than the usual format buffer.
    const verifierLog = messages.find((text) => text.includes('-- BEGIN PROG LOAD LOG --'))!;
    expect(verifierLog.length).to.be.greaterThan(64 * 1024);
    expect(verifierLog).to.match(/invalid mem access 'map_value_or_null'\n.*\n-- END PROG LOAD LOG --$/);
  });

  it('reads and writes maps by fd', () => {
    const obj = libbpf.bpf_object__open_file(OBJECT);
    try {
      libbpf.bpf_object__load(obj);
      const fd = libbpf.bpf_map__fd(libbpf.bpf_object__find_map_by_name(obj, 'next_seq')!);
      const cpus = libbpf.libbpf_num_possible_cpus();
      const key = Buffer.alloc(4);
      const values = Buffer.alloc(8 * cpus);
      for (let cpu = 0; cpu < cpus; cpu++) values.writeBigUInt64LE(BigInt(1000 + cpu), 8 * cpu);
      libbpf.bpf_map_update_elem(fd, key, values);
      const read = Buffer.alloc(8 * cpus);
      expect(libbpf.bpf_map_lookup_elem(fd, key, read)).to.equal(true);
      expect(read).to.deep.equal(values);

      const next = Buffer.alloc(4, 0xff);
      expect(libbpf.bpf_map_get_next_key(fd, null, next)).to.equal(true);
      expect(next.readUInt32LE(0)).to.equal(0);
      expect(libbpf.bpf_map_get_next_key(fd, next, next)).to.equal(false);
      expect(libbpf.bpf_map_lookup_elem(fd, Buffer.from([1, 0, 0, 0]), read)).to.equal(false);
      expect(() => libbpf.bpf_map_delete_elem(fd, key)).to.throw(LibbpfError, /^bpf_map_delete_elem: .*\(EINVAL\)/);
    } finally {
      libbpf.bpf_object__close(obj);
    }
  });

  it('refuses a map fd that is not a ring buffer, and .rodata writes after load', () => {
    const obj = libbpf.bpf_object__open_file(OBJECT);
    try {
      libbpf.bpf_object__load(obj);
      const rodata = libbpf.bpf_object__find_map_by_name(obj, '.rodata')!;
      expect(() => libbpf.writeInitialValue(rodata, 0, Buffer.alloc(4))).to.throw(LibbpfError, /already loaded/);
      const drops = libbpf.bpf_map__fd(libbpf.bpf_object__find_map_by_name(obj, 'drops')!);
      expect(() => new RingBufferReader(drops).start()).to.throw(/not BPF_MAP_TYPE_RINGBUF/);
    } finally {
      libbpf.bpf_object__close(obj);
    }
  });
});
