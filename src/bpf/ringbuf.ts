// Reads a BPF_MAP_TYPE_RINGBUF without blocking the event loop and without one C→JS crossing per
// record (capture-facts.md: ~4 µs each, enough to fall behind under load). A worker thread
// (ringbuf-worker.ts) maps the ring, sleeps in epoll_wait with a short timeout, and after every
// wake or timeout copies everything committed into one batch (several past maxBatchBytes) that it
// transfers here. BPF programs may submit with BPF_RB_NO_WAKEUP: the timeout picks those up.
//
// A batch keeps the ring's own framing, so the worker copies a span in one go: each record is an
// 8-byte header (u32 length with the busy/discard bits, u32 page offset) then its sample, padded to
// 8 bytes (sample starts stay 8-aligned for DataView reads). Discarded records are skipped here.

import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { BPF_MAP_TYPE_RINGBUF, openLibbpf } from './libbpf.js';

export const BPF_RINGBUF_BUSY_BIT = 1 << 31;
export const BPF_RINGBUF_DISCARD_BIT = 1 << 30;
export const BPF_RINGBUF_HDR_SZ = 8;

/** Header length field to the record's full size in the ring (header + sample, 8-byte aligned). */
export function recordSpan(header: number): number {
  const len = header & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
  return (len + BPF_RINGBUF_HDR_SZ + 7) & ~7;
}

/** Int32 slots of the control SharedArrayBuffer. */
export const CONTROL_STOP = 0;
/** Batches the main thread has finished with (wraps; the worker compares differences). */
export const CONTROL_ACKED = 1;
/** BigInt64 slots after those, written by the worker. */
export const COUNTER_POLLS = 0;
export const COUNTER_WAKEUPS = 1;
export const CONTROL_BYTES = 8 + 2 * 8;

export interface RingWorkerData {
  mapFd: number;
  maxEntries: number;
  pollTimeoutMs: number;
  maxBatchBytes: number;
  maxInFlightBatches: number;
  control: SharedArrayBuffer;
}

export type RingWorkerMessage =
  | { type: 'ready' }
  | { type: 'batch'; buffer: ArrayBuffer; records: number; bytes: number }
  | { type: 'stopped' };

/** Records one drain found, in ring order. */
export class RecordBatch {
  constructor(
    /** Records in ring framing (see the top of this file). */
    readonly buffer: Buffer,
    /** Samples, discarded ones excluded. */
    readonly records: number,
    /** Sample bytes, headers and padding excluded. */
    readonly bytes: number,
  ) {}

  /** Calls `fn` with each sample: a view into the batch, valid as long as the batch is. */
  forEach(fn: (sample: Buffer) => void): void {
    const buf = this.buffer;
    for (let off = 0; off < buf.length; ) {
      const header = buf.readInt32LE(off);
      if ((header & BPF_RINGBUF_DISCARD_BIT) === 0) {
        const start = off + BPF_RINGBUF_HDR_SZ;
        fn(buf.subarray(start, start + header)); // no flag set: the header is the length
      }
      off += recordSpan(header);
    }
  }
}

export interface RingBufferReaderOptions {
  /** epoll_wait timeout: the longest a record submitted without wakeup waits. Default 5 ms. */
  pollTimeoutMs?: number;
  /**
   * A drain that finds more than this splits it into batches of about this size (one record may
   * exceed it), so one 'batch' handler call stays short. Default 1 MiB.
   */
  maxBatchBytes?: number;
  /**
   * Batches posted and not yet handled by 'batch' listeners before the worker stops reading; the
   * kernel ring holds what arrives meanwhile (and the BPF side counts what it cannot). Default 8.
   */
  maxInFlightBatches?: number;
}

export interface RingBufferStats {
  /** Delivered to 'batch' listeners. */
  records: number;
  bytes: number;
  batches: number;
  /** epoll_wait calls, and those that returned because the kernel woke us. */
  polls: number;
  wakeups: number;
}

interface ReaderEvents {
  batch: [RecordBatch];
  error: [Error];
}

/**
 * One consumer for one ring-buffer map fd. The map must stay open until stop() resolves. Listeners
 * of 'batch' run synchronously; when they return, the batch counts as handled (backpressure).
 */
export class RingBufferReader extends EventEmitter<ReaderEvents> {
  private readonly control = new SharedArrayBuffer(CONTROL_BYTES);
  private readonly flags = new Int32Array(this.control, 0, 2);
  private readonly counters = new BigInt64Array(this.control, 8, 2);
  private readonly delivered = { records: 0, bytes: 0, batches: 0 };
  private worker: Worker | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly mapFd: number,
    private readonly options: RingBufferReaderOptions = {},
  ) {
    super();
  }

  /** Resolves once the worker has mapped the ring and is polling. */
  start(): Promise<void> {
    if (this.worker) throw new Error('RingBufferReader already started');
    const info = openLibbpf().bpf_obj_get_info_by_fd(this.mapFd);
    if (info.type !== BPF_MAP_TYPE_RINGBUF) {
      throw new Error(`map fd ${this.mapFd} (${info.name}) is of type ${info.type}, not BPF_MAP_TYPE_RINGBUF`);
    }
    const workerData: RingWorkerData = {
      mapFd: this.mapFd,
      maxEntries: info.maxEntries,
      pollTimeoutMs: this.options.pollTimeoutMs ?? 5,
      maxBatchBytes: this.options.maxBatchBytes ?? 1 << 20,
      maxInFlightBatches: this.options.maxInFlightBatches ?? 8,
      control: this.control,
    };
    const worker = new Worker(new URL('./ringbuf-worker.js', import.meta.url), { workerData });
    this.worker = worker;

    let isReady = false;
    let finished!: () => void;
    const drained = new Promise<void>((resolve) => (finished = resolve));
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.stopped = Promise.all([drained, exited]).then(() => undefined);
    const started = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: RingWorkerMessage) => {
        if (message.type === 'batch') this.deliver(message);
        else if (message.type === 'ready') {
          isReady = true;
          resolve();
        } else finished();
      });
      worker.on('error', (err) => {
        finished(); // nothing more will come
        if (isReady) this.emit('error', err);
        else reject(err);
      });
    });
    return started;
  }

  /** Stops polling; what was committed by then is still delivered before this resolves. */
  async stop(): Promise<void> {
    if (!this.worker) return;
    Atomics.store(this.flags, CONTROL_STOP, 1); // seen after the worker's current epoll_wait
    await this.stopped;
  }

  get stats(): RingBufferStats {
    return {
      ...this.delivered,
      polls: Number(Atomics.load(this.counters, COUNTER_POLLS)),
      wakeups: Number(Atomics.load(this.counters, COUNTER_WAKEUPS)),
    };
  }

  private deliver(message: { buffer: ArrayBuffer; records: number; bytes: number }): void {
    const batch = new RecordBatch(Buffer.from(message.buffer), message.records, message.bytes);
    this.delivered.records += batch.records;
    this.delivered.bytes += batch.bytes;
    this.delivered.batches++;
    try {
      this.emit('batch', batch);
    } finally {
      Atomics.add(this.flags, CONTROL_ACKED, 1);
      Atomics.notify(this.flags, CONTROL_ACKED);
    }
  }
}
