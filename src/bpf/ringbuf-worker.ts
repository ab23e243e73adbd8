// The ring-buffer consumer thread of RingBufferReader (ringbuf.ts). It maps the ring as libbpf's
// ringbuf.c and cilium/ebpf's ringbuf do, and walks it in JS: no per-record call into C.
//
// Layout of a ring-buffer map's mmap (kernel/bpf/ringbuf.c):
//   offset 0:         consumer page, RW: u64 consumer_pos (ours to advance)
//   offset page:      producer page, RO: u64 producer_pos (the kernel's)
//   offset 2 × page:  data, max_entries bytes mapped twice in a row, so a record that wraps
//                     around the end is still contiguous in the mapping.

import koffi from 'koffi';
import { parentPort, workerData } from 'node:worker_threads';
import {
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  CONTROL_ACKED,
  CONTROL_STOP,
  COUNTER_POLLS,
  COUNTER_WAKEUPS,
  recordSpan,
  type RingWorkerData,
  type RingWorkerMessage,
} from './ringbuf.js';

const PROT_READ = 0x1;
const PROT_WRITE = 0x2;
const MAP_SHARED = 0x01;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;
const EPOLL_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 0x001;
const EPOLLET = 1 << 31;
const EINTR = 4;

const libc = koffi.load('libc.so.6');
const c = {
  getpagesize: libc.func('int getpagesize()'),
  mmap: libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
  munmap: libc.func('int munmap(void *addr, size_t length)'),
  close: libc.func('int close(int fd)'),
  epoll_create1: libc.func('int epoll_create1(int flags)'),
  epoll_ctl: libc.func('int epoll_ctl(int epfd, int op, int fd, void *event)'),
  epoll_wait: libc.func('int epoll_wait(int epfd, void *events, int maxevents, int timeout)'),
  strerror: libc.func('const char *strerror(int errnum)'),
};

function fail(op: string, errno = koffi.errno()): never {
  throw new Error(`ring buffer: ${op}: ${c.strerror(errno)} (errno ${errno})`);
}

interface Drained {
  buffer: ArrayBuffer;
  records: number;
  bytes: number;
}

class RingMapping {
  /** Undo actions for what the constructor acquired, run in reverse by close(). */
  private readonly releases: (() => void)[] = [];
  private readonly epollFd: number;
  private readonly events = Buffer.alloc(16); // one struct epoll_event; its content is not used
  /** consumer_pos and producer_pos: 8-byte Atomics, for ordering and so no store can tear. */
  private readonly consumerPos: BigInt64Array;
  private readonly producerPos: BigInt64Array;
  private readonly data: Uint8Array;
  private readonly headers: Int32Array;
  private readonly mask: bigint;
  private consumed: bigint;

  constructor(mapFd: number, maxEntries: number) {
    try {
      const pageSize = c.getpagesize();
      const consumerPage = this.mmap(pageSize, PROT_READ | PROT_WRITE, mapFd, 0, 'the consumer page');
      const producerArea = this.mmap(pageSize + 2 * maxEntries, PROT_READ, mapFd, pageSize, 'the producer page and data');
      this.consumerPos = new BigInt64Array(koffi.view(consumerPage, 8));
      this.producerPos = new BigInt64Array(koffi.view(producerArea, 8));
      const data = koffi.view(producerArea + BigInt(pageSize), 2 * maxEntries);
      this.data = new Uint8Array(data);
      this.headers = new Int32Array(data);
      this.mask = BigInt(maxEntries - 1);
      this.consumed = Atomics.load(this.consumerPos, 0);

      const epollFd = c.epoll_create1(EPOLL_CLOEXEC);
      if (epollFd < 0) fail('epoll_create1');
      this.releases.push(() => c.close(epollFd));
      const event = Buffer.alloc(16);
      // Edge-triggered: epoll_wait returns on the kernel's wakeups only. Level-triggered, it would
      // also return at once whenever any record is pending, so records submitted with
      // BPF_RB_NO_WAKEUP would keep the reader spinning on small batches under load.
      event.writeUInt32LE((EPOLLIN | EPOLLET) >>> 0, 0);
      if (c.epoll_ctl(epollFd, EPOLL_CTL_ADD, mapFd, event) < 0) fail('epoll_ctl');
      this.epollFd = epollFd;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** How far producers have reserved (committed or not). */
  get producerPosition(): bigint {
    return Atomics.load(this.producerPos, 0); // acquire, pairing with the kernel's smp_store_release
  }

  get consumerPosition(): bigint {
    return this.consumed;
  }

  /** Waits for a wakeup or the timeout; true if woken (EINTR counts as a timeout). */
  wait(timeoutMs: number): boolean {
    const n = c.epoll_wait(this.epollFd, this.events, 1, timeoutMs);
    if (n < 0 && koffi.errno() !== EINTR) fail('epoll_wait');
    return n > 0;
  }

  /** Copies out the committed records (up to about `maxBytes`) in one span, then releases them. */
  drain(maxBytes: number): Drained | null {
    const available = Number(this.producerPosition - this.consumed);
    const start = Number(this.consumed & this.mask);
    let end = start;
    let records = 0;
    let bytes = 0;
    while (end - start < available && end - start < maxBytes) {
      // Acquire again: the kernel clears the busy bit with a release once the sample is written.
      const header = Atomics.load(this.headers, end >>> 2);
      if (header & BPF_RINGBUF_BUSY_BIT) break; // reserved, not yet committed: later records wait
      if ((header & BPF_RINGBUF_DISCARD_BIT) === 0) {
        records++;
        bytes += header;
      }
      end += recordSpan(header);
    }
    if (end === start) return null;
    const buffer = this.data.slice(start, end).buffer;
    this.consumed += BigInt(end - start);
    // Publishing the new consumer_pos hands the span back to producers, so it must not become
    // visible before the copy above has read it: Atomics.store is sequentially consistent, which
    // includes a release (x86-64 keeps loads before later stores anyway; arm64 gets stlr). It is
    // also one 8-byte store: the kernel reads consumer_pos whole, and a torn value would let
    // producers overwrite unread records. We are the only writer of this page.
    Atomics.store(this.consumerPos, 0, this.consumed);
    return { buffer, records, bytes };
  }

  close(): void {
    for (const release of this.releases.splice(0).reverse()) release();
  }

  private mmap(length: number, prot: number, fd: number, offset: number, what: string): bigint {
    const addr: bigint = c.mmap(null, length, prot, MAP_SHARED, fd, offset);
    if (addr === MAP_FAILED) fail(`mmap of ${what}`);
    this.releases.push(() => c.munmap(addr, length));
    return addr;
  }
}

function run(port: NonNullable<typeof parentPort>, config: RingWorkerData): void {
  const flags = new Int32Array(config.control, 0, 2);
  const counters = new BigInt64Array(config.control, 8, 2);
  const ring = new RingMapping(config.mapFd, config.maxEntries);
  const post = (message: RingWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  let posted = 0;

  /** Backpressure: while too many batches are unhandled, leave records in the kernel ring. */
  const waitForRoom = () => {
    for (;;) {
      const acked = Atomics.load(flags, CONTROL_ACKED);
      if (((posted - acked) | 0) < config.maxInFlightBatches) return;
      Atomics.wait(flags, CONTROL_ACKED, acked, config.pollTimeoutMs);
    }
  };
  const stopping = () => Atomics.load(flags, CONTROL_STOP) !== 0;
  /**
   * Drains what producers had reserved when called, one batch (and post) at a time. Not more:
   * chasing a fast producer would post tiny batches back to back and take a CPU from the event
   * loop; what arrives meanwhile waits for the next wakeup or timeout.
   */
  const drainAvailable = () => {
    const until = ring.producerPosition;
    while (ring.consumerPosition < until) {
      waitForRoom();
      const batch = ring.drain(config.maxBatchBytes);
      if (!batch) return; // the next record is still being written
      post({ type: 'batch', ...batch }, [batch.buffer]);
      posted = (posted + 1) | 0;
    }
  };

  try {
    post({ type: 'ready' });
    while (!stopping()) {
      const woken = ring.wait(config.pollTimeoutMs);
      Atomics.add(counters, COUNTER_POLLS, 1n);
      if (woken) Atomics.add(counters, COUNTER_WAKEUPS, 1n);
      drainAvailable(); // after a timeout too: records submitted with BPF_RB_NO_WAKEUP wake no one
    }
    drainAvailable(); // what was committed when stop() came
  } finally {
    ring.close();
  }
  post({ type: 'stopped' });
}

if (parentPort) run(parentPort, workerData as RingWorkerData);
