// The durable spool between event producers (FIM engine, local queue) and the manager session.
// An event is accepted when its record is written to the current segment file (it survives a
// crash of the agent from then on) and is sent only once fsynced (group commit: one fsync covers
// every record written while the previous one ran). It leaves the spool when the manager has
// it: the 4.x protocol has no per-event acknowledgement, so "has it" means that remoted answered a
// keepalive sent on the same connection after the event (see ClientBuffer). That is at-least-once:
// events sent but not yet confirmed when a connection or the agent dies are sent again.
//
// Layout: <dir>/<first sequence, 20 digits>.seg files of records (record.ts) and <dir>/acked, the
// highest confirmed sequence. Bounded by maxBytes: when full, the oldest segment goes, its
// unconfirmed records are counted as dropped and reported through the 'overflow' event.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { ensurePrivateDir, privateFileMode } from '../security.js';
import { FimEventFields, MAX_RECORD, SpoolEntry, decodeRecordAt, encodeRecord } from './record.js';

export interface SpoolOptions {
  dir: string;
  /** Total size of the segment files. */
  maxBytes: number;
  /** Size at which a segment is closed and a new one started (default: maxBytes / 8, at most 8 MiB). */
  segmentBytes?: number;
  /** Shortest time between two fsyncs: bounds the fsync rate under a burst. */
  minSyncIntervalMs?: number;
  log: Logger;
  now?: () => number;
}

export interface SpoolEvents {
  /** Records older than anything unsent were dropped to stay within maxBytes (count). */
  overflow: [number];
  /** More records became durable, hence sendable. */
  readable: [];
}

export interface SpoolStats {
  /** Durable or not, not handed out yet. */
  unsent: number;
  /** Handed out (sent), not confirmed by the manager yet. */
  unconfirmed: number;
  /** Dropped because the spool was full, since the agent started. */
  dropped: number;
  bytes: number;
}

/** An event could not be written (disk full, I/O error); nothing of it was kept. */
export class SpoolWriteError extends Error {}

interface Segment {
  first: number;
  /** Last sequence written to it; first - 1 while empty. */
  last: number;
  file: string;
  bytes: number;
}

const SEGMENT_SUFFIX = '.seg';
const READ_CHUNK = 256 * 1024;

export class Spool extends EventEmitter<SpoolEvents> {
  private readonly segments: Segment[] = [];
  private fd = -1;
  private nextSeq = 1;
  private acked = 0;
  private taken = 0;
  /** Highest sequence fsynced, and the active segment's durable size. */
  private synced = 0;
  private activeSyncedBytes = 0;
  private totalBytes = 0;
  private dropped = 0;
  private syncRunning = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private lastSyncAt = 0;
  private durableWaiters: { seq: number; resolve: () => void }[] = [];
  /** Where take() reads next: segment (by first sequence) and byte offset. */
  private cursor = { first: 0, offset: 0 };
  private readAhead: SpoolEntry[] = [];
  private readerFd: { first: number; fd: number } | undefined;
  private readonly segmentBytes: number;
  private readonly now: () => number;
  private closed = false;

  private constructor(private readonly o: SpoolOptions) {
    super();
    this.segmentBytes = Math.max(64 * 1024, o.segmentBytes ?? Math.min(8 << 20, Math.floor(o.maxBytes / 8)));
    this.now = o.now ?? Date.now;
  }

  /** Opens (creating or recovering) the spool in `dir`. */
  static open(o: SpoolOptions): Spool {
    const s = new Spool(o);
    s.recover();
    return s;
  }

  get stats(): SpoolStats {
    return { unsent: this.nextSeq - 1 - this.taken, unconfirmed: this.taken - this.acked, dropped: this.dropped, bytes: this.totalBytes };
  }

  /** Sequence of the last record handed out by take(). */
  get lastTaken(): number {
    return this.taken;
  }

  /** Writes one message; from now on it survives a crash of the agent. Returns its sequence. */
  append(message: string, fim?: FimEventFields): number {
    if (this.closed) throw new Error('spool is closed');
    const sequence = this.nextSeq;
    const frame = encodeRecord({ sequence, message, fim, acceptedMs: this.now() });
    if (frame.length > MAX_RECORD) throw new RangeError(`event of ${frame.length} bytes is larger than a spool record (${MAX_RECORD})`);
    let active = this.active();
    if (active.bytes > 0 && active.bytes + frame.length > this.segmentBytes) active = this.roll();
    while (this.totalBytes + frame.length > this.o.maxBytes && this.segments.length > 1) this.dropOldest();
    try {
      // a short write is how a filling disk starts: the next one says why
      for (let done = 0; done < frame.length; ) done += fs.writeSync(this.fd, frame, done);
    } catch (e) {
      // Disk full or failing: the event is not accepted (the caller keeps its baseline as it was,
      // so the next scan finds the change again), and a partial record must not stay behind.
      fs.ftruncateSync(this.fd, active.bytes);
      throw new SpoolWriteError(`Spool: cannot store an event in '${active.file}': ${(e as Error).message}`);
    }
    this.nextSeq++;
    active.last = sequence;
    active.bytes += frame.length;
    this.totalBytes += frame.length;
    this.scheduleSync();
    return sequence;
  }

  /** Resolves once everything appended so far is fsynced. */
  durable(): Promise<void> {
    const seq = this.nextSeq - 1;
    if (this.synced >= seq) return Promise.resolve();
    return new Promise((resolve) => this.durableWaiters.push({ seq, resolve }));
  }

  /** The next durable record not handed out yet, without taking it. */
  peek(): SpoolEntry | undefined {
    if (this.readAhead.length === 0) this.fill();
    return this.readAhead[0];
  }

  /** Hands out the next durable record; it stays in the spool until confirmed. */
  take(): SpoolEntry | undefined {
    const e = this.peek();
    if (e) {
      this.readAhead.shift();
      this.taken = e.sequence;
    }
    return e;
  }

  /** The manager has every record up to `sequence`. */
  confirm(sequence: number): void {
    const upTo = Math.min(sequence, this.taken);
    if (upTo <= this.acked) return;
    this.acked = upTo;
    const file = path.join(this.o.dir, 'acked');
    fs.writeFileSync(`${file}.tmp`, `${upTo}\n`, { mode: privateFileMode });
    fs.renameSync(`${file}.tmp`, file);
    while (this.segments.length > 1 && this.segments[0]!.last <= this.acked) this.removeSegment(this.segments[0]!);
  }

  /** Takes back every record handed out but not confirmed (the connection died); returns how many. */
  rewind(): number {
    const n = this.taken - this.acked;
    this.taken = this.acked;
    this.readAhead = [];
    this.cursor = { first: this.segments[0]!.first, offset: 0 };
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.syncTimer);
    while (this.syncRunning) await new Promise((r) => setTimeout(r, 5));
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.closeReader();
    this.markSynced(this.nextSeq - 1, this.active().bytes);
  }

  private active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private recover(): void {
    const { dir, log } = this.o;
    ensurePrivateDir(dir);
    const ackedFile = path.join(dir, 'acked');
    if (fs.existsSync(ackedFile)) {
      const v = Number(fs.readFileSync(ackedFile, 'utf8').trim());
      if (Number.isSafeInteger(v) && v >= 0) this.acked = v;
      else log.warn(`Spool: ignoring unreadable '${ackedFile}'; every spooled event will be sent again.`);
    }
    let last = this.acked;
    const names = fs.readdirSync(dir).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
    for (const name of names) {
      const seg = this.recoverSegment(path.join(dir, name));
      if (!seg) continue;
      last = Math.max(last, seg.last);
      if (seg.last <= this.acked) this.removeSegment(seg);
      else {
        this.segments.push(seg);
        this.totalBytes += seg.bytes;
      }
    }
    this.nextSeq = last + 1;
    this.taken = this.acked;
    this.synced = last;
    this.openSegment(this.nextSeq);
    this.cursor = { first: this.segments[0]!.first, offset: 0 };
    const pending = this.nextSeq - 1 - this.acked;
    if (pending > 0) log.info(`Spool: ${pending} events not confirmed by the manager before the agent stopped; they will be sent again.`);
  }

  /** Reads one segment file, cutting it at the first torn or corrupt record. */
  private recoverSegment(file: string): Segment | undefined {
    const buf = fs.readFileSync(file);
    let offset = 0;
    let first = 0;
    let last = 0;
    while (offset < buf.length) {
      const r = decodeRecordAt(buf, offset);
      if (r.kind !== 'record') {
        const why = r.kind === 'incomplete' ? 'incomplete record (the agent stopped while writing it)' : r.why;
        this.o.log.warn(`Spool: discarding ${buf.length - offset} bytes at offset ${offset} of '${file}': ${why}.`);
        fs.truncateSync(file, offset);
        break;
      }
      first ||= r.entry.sequence;
      last = r.entry.sequence;
      offset += r.size;
    }
    if (!first) {
      fs.rmSync(file, { force: true });
      return undefined;
    }
    const fd = fs.openSync(file, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    return { first, last, file, bytes: offset };
  }

  private openSegment(first: number): Segment {
    const file = path.join(this.o.dir, `${String(first).padStart(20, '0')}${SEGMENT_SUFFIX}`);
    this.fd = fs.openSync(file, 'a+', privateFileMode);
    const seg: Segment = { first, last: first - 1, file, bytes: 0 };
    this.segments.push(seg);
    this.activeSyncedBytes = 0;
    return seg;
  }

  /** Closes the active segment (fsynced) and starts the next one. */
  private roll(): Segment {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.markSynced(this.nextSeq - 1, 0);
    return this.openSegment(this.nextSeq);
  }

  private dropOldest(): void {
    const seg = this.segments[0]!;
    const lost = seg.last - Math.max(seg.first - 1, this.taken);
    this.removeSegment(seg);
    this.acked = Math.max(this.acked, seg.last);
    this.taken = Math.max(this.taken, seg.last);
    this.readAhead = this.readAhead.filter((e) => e.sequence > seg.last);
    if (this.cursor.first === seg.first) this.cursor = { first: this.segments[0]!.first, offset: 0 };
    if (lost > 0) {
      this.dropped += lost;
      this.emit('overflow', lost);
    }
  }

  private removeSegment(seg: Segment): void {
    if (this.readerFd?.first === seg.first) this.closeReader();
    const i = this.segments.indexOf(seg);
    if (i >= 0) {
      this.segments.splice(i, 1);
      this.totalBytes -= seg.bytes;
    }
    fs.rmSync(seg.file, { force: true });
  }

  private scheduleSync(): void {
    if (this.syncRunning || this.syncTimer) return;
    const wait = Math.max(0, this.lastSyncAt + (this.o.minSyncIntervalMs ?? 10) - this.now());
    this.syncTimer = setTimeout(() => this.sync(), wait);
  }

  /** Group commit: one fsync for everything written before it started. */
  private sync(): void {
    this.syncTimer = undefined;
    if (this.closed) return;
    const seq = this.nextSeq - 1;
    const segment = this.active();
    const bytes = segment.bytes;
    this.syncRunning = true;
    this.lastSyncAt = this.now();
    fs.fsync(this.fd, (err) => {
      this.syncRunning = false;
      if (err) this.o.log.error(`Spool: fsync failed: ${err.message}. Retrying.`);
      // A roll() in between synced and closed that segment itself; its byte count must not be
      // taken for the next one's (which may even have been given the same fd number).
      else if (segment === this.active()) this.markSynced(seq, bytes);
      if (this.synced < this.nextSeq - 1) this.scheduleSync();
    });
  }

  private markSynced(seq: number, activeBytes: number): void {
    if (seq <= this.synced && activeBytes <= this.activeSyncedBytes) return;
    this.synced = Math.max(this.synced, seq);
    this.activeSyncedBytes = Math.max(this.activeSyncedBytes, activeBytes);
    const ready = this.durableWaiters.filter((w) => w.seq <= this.synced);
    this.durableWaiters = this.durableWaiters.filter((w) => w.seq > this.synced);
    for (const w of ready) w.resolve();
    this.emit('readable');
  }

  /** Reads the next durable records after the cursor into readAhead. */
  private fill(): void {
    while (this.readAhead.length === 0) {
      const i = this.segments.findIndex((s) => s.first === this.cursor.first);
      if (i < 0) {
        // The segment went away (confirmed or dropped): continue with the oldest left.
        this.cursor = { first: this.segments[0]!.first, offset: 0 };
        continue;
      }
      const seg = this.segments[i]!;
      const isActive = i === this.segments.length - 1;
      const limit = isActive ? this.activeSyncedBytes : seg.bytes;
      if (this.cursor.offset >= limit) {
        if (isActive) return;
        this.cursor = { first: this.segments[i + 1]!.first, offset: 0 };
        continue;
      }
      const chunk = this.read(seg, this.cursor.offset, limit);
      let at = 0;
      let corrupt = false;
      while (at < chunk.length) {
        const r = decodeRecordAt(chunk, at);
        if (r.kind !== 'record') {
          corrupt = r.kind === 'corrupt';
          break;
        }
        at += r.size;
        if (r.entry.sequence > this.taken) this.readAhead.push(r.entry);
      }
      if (at === 0 && !corrupt) return; // durable bytes end inside a record: never, by construction
      if (at === 0) {
        // Recovery cut every bad record, so this is a disk error after start: skip the rest.
        this.o.log.error(`Spool: unreadable record at offset ${this.cursor.offset} of '${seg.file}'; skipping the rest of the segment.`);
        this.cursor.offset = limit;
        continue;
      }
      this.cursor.offset += at;
    }
  }

  private read(seg: Segment, offset: number, limit: number): Buffer {
    if (this.readerFd?.first !== seg.first) {
      this.closeReader();
      this.readerFd = { first: seg.first, fd: fs.openSync(seg.file, 'r') };
    }
    const fd = this.readerFd.fd;
    const head = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, offset);
    const want = Math.min(limit - offset, Math.max(READ_CHUNK, 8 + head.readUInt32LE(0)));
    const buf = Buffer.allocUnsafe(want);
    const got = fs.readSync(fd, buf, 0, want, offset);
    return buf.subarray(0, got);
  }

  private closeReader(): void {
    if (this.readerFd) fs.closeSync(this.readerFd.fd);
    this.readerFd = undefined;
  }
}
