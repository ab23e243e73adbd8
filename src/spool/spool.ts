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
//
// A full or failing disk (with `disk`): records that cannot be written are kept in memory, after
// everything on disk and in sequence order, at most `memoryEvents` of them (more are refused and
// counted). They are sent from memory like any other record, and written to the segment once the
// disk takes writes again (DiskSpace asks); those the manager confirmed meanwhile never are.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { type DiskSpace, isDiskError } from '../disk-space.js';
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
  /** Where a full disk is handled; without it a record that cannot be written is refused at once. */
  disk?: DiskSpace;
  /** Records kept in memory while the disk is full (the agent passes <client_buffer><queue_size>). */
  memoryEvents?: number;
}

export interface SpoolEvents {
  /** Records older than anything unsent were dropped to stay within maxBytes (count). */
  overflow: [number];
  /** More records became durable (or were kept in memory), hence sendable. */
  readable: [];
  /** The disk is full and so is the memory queue: an event was refused (total this episode). */
  refused: [number];
}

export interface SpoolStats {
  /** Durable or not, not handed out yet. */
  unsent: number;
  /** Handed out (sent), not confirmed by the manager yet. */
  unconfirmed: number;
  /** Dropped because the spool was full, since the agent started. */
  dropped: number;
  bytes: number;
  /** Kept in memory because the disk could not take them. */
  held: number;
  /** Refused because the disk was full and the memory queue too, since the agent started. */
  refused: number;
}

/** An event was not accepted (disk full and no room left in memory, or an I/O error); nothing of it was kept. */
export class SpoolWriteError extends Error {}

/** While the disk is full the memory queue holds this many records unless told otherwise. */
export const DEFAULT_MEMORY_EVENTS = 10_000;

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
  /** Records the disk could not take, in sequence order, all after `lastOnDisk`. */
  private held: { entry: SpoolEntry; frame: Buffer }[] = [];
  /** Last sequence written to a segment file. */
  private lastOnDisk = 0;
  /** The confirmation mark could not be written: the next flush writes it. */
  private ackedUnwritten = false;
  private refused = 0;
  /** For the end of a full-disk episode: kept in memory, delivered from there, refused. */
  private episode = { held: 0, delivered: 0, refused: 0 };

  private constructor(private readonly o: SpoolOptions) {
    super();
    this.segmentBytes = Math.max(64 * 1024, o.segmentBytes ?? Math.min(8 << 20, Math.floor(o.maxBytes / 8)));
    this.now = o.now ?? Date.now;
  }

  /** Opens (creating or recovering) the spool in `dir`. */
  static open(o: SpoolOptions): Spool {
    const s = new Spool(o);
    s.recover();
    o.disk?.register({ name: 'the spool', flush: () => s.closed || s.flush(), account: () => s.account() });
    return s;
  }

  get stats(): SpoolStats {
    return {
      unsent: this.nextSeq - 1 - this.taken, unconfirmed: this.taken - this.acked, dropped: this.dropped, bytes: this.totalBytes,
      held: this.held.length, refused: this.refused,
    };
  }

  /** Sequence of the last record handed out by take(). */
  get lastTaken(): number {
    return this.taken;
  }

  /**
   * Writes one message; from now on it survives a crash of the agent (or, while the disk is full,
   * it is kept in memory). Returns its sequence; throws SpoolWriteError when it was not accepted.
   */
  append(message: string, fim?: FimEventFields): number {
    if (this.closed) throw new Error('spool is closed');
    const sequence = this.nextSeq;
    const entry: SpoolEntry = { sequence, message, fim, acceptedMs: this.now() };
    const frame = encodeRecord(entry);
    if (frame.length > MAX_RECORD) throw new RangeError(`event of ${frame.length} bytes is larger than a spool record (${MAX_RECORD})`);
    if (this.held.length === 0) {
      try {
        this.write(frame, sequence);
        this.nextSeq++;
        this.scheduleSync();
        return sequence;
      } catch (e) {
        if (!this.o.disk?.writeFailed(`the spool ('${this.active().file}')`, e)) {
          throw new SpoolWriteError(`Spool: cannot store an event in '${this.active().file}': ${(e as Error).message}`);
        }
      }
    }
    // The disk is full: in memory, after everything on disk (order is kept until the disk takes them all).
    if (this.held.length >= (this.o.memoryEvents ?? DEFAULT_MEMORY_EVENTS)) {
      this.refused++;
      this.episode.refused++;
      this.emit('refused', this.episode.refused);
      throw new SpoolWriteError(`Spool: the disk is full and ${this.held.length} events already wait in memory; event refused.`);
    }
    this.held.push({ entry, frame });
    this.episode.held++;
    this.nextSeq++;
    this.emit('readable');
    return sequence;
  }

  /** Appends one frame to the active segment (rolling first when it is full); throws what the disk says. */
  private write(frame: Buffer, sequence: number): void {
    let active = this.active();
    if (active.bytes > 0 && active.bytes + frame.length > this.segmentBytes) active = this.roll();
    while (this.totalBytes + frame.length > this.o.maxBytes && this.segments.length > 1) this.dropOldest();
    try {
      // a short write is how a filling disk starts: the next one says why
      for (let done = 0; done < frame.length; ) done += fs.writeSync(this.fd, frame, done);
    } catch (e) {
      // a partial record must not stay behind
      fs.ftruncateSync(this.fd, active.bytes);
      throw e;
    }
    active.last = sequence;
    active.bytes += frame.length;
    this.totalBytes += frame.length;
    this.lastOnDisk = sequence;
  }

  /**
   * DiskSpace asks: writes the confirmation mark and the records kept in memory (those the manager
   * has not confirmed meanwhile). True once nothing is held.
   */
  private flush(): boolean {
    if (this.ackedUnwritten && !this.writeAcked()) return false;
    this.dropDelivered();
    while (this.held.length) {
      const { entry, frame } = this.held[0]!;
      try {
        this.write(frame, entry.sequence);
      } catch (e) {
        if (isDiskError(e)) return false;
        throw e;
      }
      this.held.shift();
    }
    this.scheduleSync();
    return true;
  }

  /** The spool's part of the line that ends a full-disk episode. */
  private account(): string | undefined {
    const { held, delivered, refused } = this.episode;
    this.episode = { held: 0, delivered: 0, refused: 0 };
    if (!held && !refused) return undefined;
    return `the spool kept ${held} events in memory (${delivered} delivered from there, ${held - delivered} written to disk now) and refused ${refused}`;
  }

  /** Forgets records kept in memory that the manager confirmed. */
  private dropDelivered(): void {
    let n = 0;
    while (n < this.held.length && this.held[n]!.entry.sequence <= this.acked) n++;
    if (n === 0) return;
    this.held.splice(0, n);
    this.episode.delivered += n;
  }

  /** Resolves once everything appended so far is fsynced. */
  durable(): Promise<void> {
    // records kept in memory never are: only what reached a segment file counts
    const seq = this.lastOnDisk;
    if (this.synced >= seq) return Promise.resolve();
    return new Promise((resolve) => this.durableWaiters.push({ seq, resolve }));
  }

  /** The next durable record not handed out yet, without taking it. */
  peek(): SpoolEntry | undefined {
    if (this.readAhead.length === 0) this.fill();
    if (this.readAhead.length) return this.readAhead[0];
    // records kept in memory come after everything on disk, once all of that is durable (and read)
    return this.synced >= this.lastOnDisk ? this.heldAfter(this.taken) : undefined;
  }

  /** Hands out the next durable (or kept) record; it stays in the spool until confirmed. */
  take(): SpoolEntry | undefined {
    const e = this.peek();
    if (e) {
      if (this.readAhead[0] === e) this.readAhead.shift();
      this.taken = e.sequence;
    }
    return e;
  }

  /** The first record kept in memory with a sequence above `seq` (binary search: they are in order). */
  private heldAfter(seq: number): SpoolEntry | undefined {
    let lo = 0;
    let hi = this.held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.held[mid]!.entry.sequence <= seq) lo = mid + 1;
      else hi = mid;
    }
    return this.held[lo]?.entry;
  }

  /** The manager has every record up to `sequence`. */
  confirm(sequence: number): void {
    const upTo = Math.min(sequence, this.taken);
    if (upTo <= this.acked) return;
    this.acked = upTo;
    this.dropDelivered();
    // unwritten (disk full), the mark is older after a crash: events are sent again, never lost
    if (!this.ackedUnwritten) this.writeAcked();
    while (this.segments.length > 1 && this.segments[0]!.last <= this.acked) this.removeSegment(this.segments[0]!);
  }

  /** Writes the confirmation mark; false (and DiskSpace told) when the disk cannot take it. */
  private writeAcked(): boolean {
    const file = path.join(this.o.dir, 'acked');
    try {
      fs.writeFileSync(`${file}.tmp`, `${this.acked}\n`, { mode: privateFileMode });
      fs.renameSync(`${file}.tmp`, file);
      this.ackedUnwritten = false;
      return true;
    } catch (e) {
      if (!this.o.disk?.writeFailed(`the spool's confirmation mark ('${file}')`, e)) throw e;
      this.ackedUnwritten = true;
      return false;
    }
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
    if (!this.flush()) this.o.log.error(`Spool: the disk is still full; ${this.held.length} events kept in memory are lost with this stop.`);
    try {
      fs.fsyncSync(this.fd);
    } catch (e) {
      this.o.log.error(`Spool: fsync failed at close: ${(e as Error).message}`);
    }
    fs.closeSync(this.fd);
    this.closeReader();
    this.markSynced(this.lastOnDisk, this.active().bytes);
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
    this.lastOnDisk = last;
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

  /** Closes the active segment (fsynced) and starts the next one; on failure nothing changed. */
  private roll(): Segment {
    fs.fsyncSync(this.fd);
    const previous = this.fd;
    const next = this.openSegment(this.lastOnDisk + 1);
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    fs.closeSync(previous);
    this.markSynced(this.lastOnDisk, 0);
    return next;
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
    const seq = this.lastOnDisk;
    const segment = this.active();
    const bytes = segment.bytes;
    this.syncRunning = true;
    this.lastSyncAt = this.now();
    fs.fsync(this.fd, (err) => {
      this.syncRunning = false;
      if (err) {
        if (!this.o.disk?.writeFailed(`the spool ('${segment.file}')`, err)) this.o.log.error(`Spool: fsync failed: ${err.message}. Retrying.`);
      }
      // A roll() in between synced and closed that segment itself; its byte count must not be
      // taken for the next one's (which may even have been given the same fd number).
      else if (segment === this.active()) this.markSynced(seq, bytes);
      if (this.synced < this.lastOnDisk) this.scheduleSync();
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
