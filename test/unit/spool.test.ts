import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DiskSpace } from '../../src/disk-space.js';
import { MemoryLogger } from '../../src/log.js';
import { Spool, SpoolOptions, SpoolWriteError } from '../../src/spool/spool.js';
import { FimOperation, crc32, decodeRecordAt, encodeRecord } from '../../src/spool/record.js';
import { tempDir } from '../support/manager.js';
import { fillFilesystem } from '../support/disk.js';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));
function newDir(): string {
  const t = tempDir('spool');
  cleanups.push(t.cleanup);
  return t.dir;
}

function open(dir: string, extra: Partial<SpoolOptions> = {}) {
  const log = new MemoryLogger();
  return { spool: Spool.open({ dir, maxBytes: 64 << 20, log, ...extra }), log };
}

function takeAll(s: Spool): string[] {
  const out: string[] = [];
  for (let e = s.take(); e; e = s.take()) out.push(e.message);
  return out;
}

const segments = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();

describe('spool records', () => {
  it('CRC-32 is zlib/IEEE (check value of "123456789")', () => {
    expect(crc32(Buffer.from('123456789'))).to.equal(0xcbf43926);
  });

  it('round-trips a record with its FIM event, and rejects a flipped byte by checksum', () => {
    const frame = encodeRecord({
      sequence: 7, message: '8:syscheck:{}', acceptedMs: 1_700_000_000_000,
      fim: { operation: FimOperation.DELETED, path: '/etc/x\nnewline', attributes: { size: 12, hashSha1: 'ab' } },
    });
    const r = decodeRecordAt(frame, 0, true);
    if (r.kind !== 'record') throw new Error(`not decoded: ${JSON.stringify(r)}`);
    const head = decodeRecordAt(frame, 0);
    expect(head.kind === 'record' && head.entry).to.deep.equal({ sequence: 7, message: '8:syscheck:{}', acceptedMs: 1_700_000_000_000 });
    expect(r.size).to.equal(frame.length);
    expect(r.entry).to.include({ sequence: 7, message: '8:syscheck:{}', acceptedMs: 1_700_000_000_000 });
    expect(r.entry.fim).to.deep.include({ operation: FimOperation.DELETED, path: '/etc/x\nnewline' });
    expect(Number(r.entry.fim!.attributes!.size)).to.equal(12);
    frame[frame.length - 1]! ^= 0x40;
    expect(decodeRecordAt(frame, 0)).to.deep.equal({ kind: 'corrupt', why: 'checksum mismatch' });
    expect(decodeRecordAt(frame.subarray(0, 10), 0)).to.deep.equal({ kind: 'incomplete' });
  });
});

describe('spool', () => {
  it('hands out only fsynced records, in order, and keeps them until confirmed', async () => {
    const dir = newDir();
    const { spool } = open(dir);
    for (let i = 1; i <= 5; i++) expect(spool.append(`1:t:${i}`)).to.equal(i);
    expect(spool.peek(), 'nothing is sendable before its fsync').to.equal(undefined);
    await spool.durable();
    expect(takeAll(spool)).to.deep.equal(['1:t:1', '1:t:2', '1:t:3', '1:t:4', '1:t:5']);
    expect(spool.stats).to.include({ unsent: 0, unconfirmed: 5 });
    spool.confirm(3);
    expect(spool.stats).to.include({ unsent: 0, unconfirmed: 2 });
    expect(fs.readFileSync(path.join(dir, 'acked'), 'utf8')).to.equal('3\n');
    expect(spool.rewind(), 'a lost connection takes back the unconfirmed').to.equal(2);
    expect(takeAll(spool)).to.deep.equal(['1:t:4', '1:t:5']);
    await spool.close();
  });

  it('never confirms beyond what was handed out', async () => {
    const { spool } = open(newDir());
    spool.append('1:t:a');
    spool.append('1:t:b');
    await spool.durable();
    spool.take();
    spool.confirm(2);
    expect(spool.stats).to.include({ unsent: 1, unconfirmed: 0 });
    expect(spool.take()?.message).to.equal('1:t:b');
    await spool.close();
  });

  it('after a crash, reopens with every unconfirmed record and keeps sequences increasing', async () => {
    const dir = newDir();
    const first = open(dir).spool;
    for (let i = 1; i <= 10; i++) first.append(`1:t:${i}`);
    await first.durable();
    for (let i = 0; i < 6; i++) first.take();
    first.confirm(4);
    // no close(): the process died here
    const { spool, log } = open(dir);
    expect(log.has('info', /^Spool: 6 events not confirmed by the manager before the agent stopped; they will be sent again\.$/)).to.equal(true);
    await spool.durable();
    expect(takeAll(spool)).to.deep.equal(['1:t:5', '1:t:6', '1:t:7', '1:t:8', '1:t:9', '1:t:10']);
    expect(spool.append('1:t:11')).to.equal(11);
    await spool.close();
  });

  it('cuts a torn last record (crash mid-write) and a corrupt one, with a warning, keeping the good ones', async () => {
    const dir = newDir();
    const first = open(dir).spool;
    for (let i = 1; i <= 4; i++) first.append(`1:t:${i}`);
    await first.close();
    const seg = path.join(dir, segments(dir)[0]!);
    const full = fs.readFileSync(seg);
    const recordSize = full.length / 4;
    fs.writeFileSync(seg, full.subarray(0, full.length - 3));
    let { spool, log } = open(dir);
    expect(log.has('warn', /^Spool: discarding \d+ bytes at offset \d+ of '.*\.seg': incomplete record \(the agent stopped while writing it\)\.$/)).to.equal(true);
    expect(takeAll(spool)).to.deep.equal(['1:t:1', '1:t:2', '1:t:3']);
    await spool.close();

    const again = fs.readFileSync(seg);
    again[recordSize + 12]! ^= 0xff; // inside the second record's body
    fs.writeFileSync(seg, again);
    ({ spool, log } = open(dir));
    expect(log.has('warn', /^Spool: discarding \d+ bytes at offset \d+ of '.*': checksum mismatch\.$/)).to.equal(true);
    expect(takeAll(spool)).to.deep.equal(['1:t:1']);
    await spool.close();
  });

  it('a segment closed while its group fsync was in flight does not lend its size to the next one', async () => {
    const { spool, log } = open(newDir(), { segmentBytes: 64 * 1024 });
    const body = 'x'.repeat(1000);
    let n = 0;
    while (spool.stats.bytes < 60 * 1024) spool.append(`1:t:${++n}:${body}`);
    await new Promise((r) => setTimeout(r, 1)); // the group fsync has started, not finished
    for (let i = 0; i < 5; i++) spool.append(`1:t:${++n}:${body}`); // the segment rolls over
    await spool.durable();
    await new Promise((r) => setTimeout(r, 50));
    const got = takeAll(spool).map((m) => Number(m.split(':')[2]));
    expect(got).to.deep.equal(Array.from({ length: n }, (_, i) => i + 1));
    expect(log.records.filter((r) => r.level === 'error')).to.deep.equal([]);
    await spool.close();
  });

  it('on a full disk, refuses the event with a clear error and keeps every record before it intact', async function () {
    if (process.geteuid?.() !== 0) this.skip(); // mounts a tiny tmpfs
    const dir = newDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
    const { spool } = open(path.join(dir, 'spool'), { segmentBytes: 1 << 20 });
    try {
      const body = 'y'.repeat(3000);
      let stored = 0;
      let error: Error | undefined;
      for (let i = 1; i <= 200 && !error; i++) {
        try {
          spool.append(`1:t:${i}:${body}`);
          stored = i;
        } catch (e) {
          error = e as Error;
        }
      }
      expect(error, String(error)).to.be.instanceOf(SpoolWriteError);
      expect(error!.message).to.match(/^Spool: cannot store an event in '.*\.seg': .*(ENOSPC|no space)/i);
      await spool.durable();
      expect(takeAll(spool).map((m) => Number(m.split(':')[2]))).to.deep.equal(Array.from({ length: stored }, (_, i) => i + 1));
    } finally {
      await spool.close();
      execFileSync('umount', ['--lazy', dir]);
    }
  });

  describe('on a full disk, with DiskSpace', () => {
    let mount: string;
    let disk: DiskSpace;
    let log: MemoryLogger;
    beforeEach(function () {
      if (process.geteuid?.() !== 0) this.skip(); // mounts a tiny tmpfs
      mount = newDir();
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount]);
      log = new MemoryLogger();
      disk = new DiskSpace({ log, retryMs: 60_000 });
    });
    afterEach(() => {
      disk?.stop();
      if (mount) execFileSync('umount', ['--lazy', mount]);
    });
    const fill = () => fillFilesystem(mount);
    const seqs = (msgs: string[]) => msgs.map((m) => Number(m.split(':')[2]));

    it('keeps what the disk refuses in memory, hands it out in order, writes the unconfirmed part once space returns', async () => {
      const dir = path.join(mount, 'spool');
      const spool = Spool.open({ dir, maxBytes: 64 << 20, log, disk, memoryEvents: 1000 });
      const filler = fill();
      const body = 'z'.repeat(500);
      for (let i = 1; i <= 300; i++) spool.append(`1:t:${i}:${body}`);
      expect(disk.full).to.equal(true);
      expect(spool.stats.held).to.be.greaterThan(0);
      await spool.durable();
      const firstHalf = [];
      for (let i = 0; i < 150; i++) firstHalf.push(spool.take()!.message);
      expect(seqs(firstHalf)).to.deep.equal(Array.from({ length: 150 }, (_, i) => i + 1));
      spool.confirm(150); // the mark cannot be written either: no throw
      expect(disk.retry(), 'still full').to.equal(false);
      fs.rmSync(filler);
      expect(disk.retry(), 'space is back').to.equal(true);
      expect(spool.stats.held).to.equal(0);
      await spool.durable();
      expect(seqs(takeAll(spool))).to.deep.equal(Array.from({ length: 150 }, (_, i) => 151 + i));
      await spool.close();
      const errors = log.records.filter((r) => r.level === 'error');
      expect(errors.map((r) => r.msg)).to.have.length(1);
      expect(errors[0]!.msg).to.match(/^Disk full or failing: cannot write the spool .*ENOSPC/);
      expect(log.records.some((r) => /^Disk space available again after \d+ s: the spool kept \d+ events in memory/.test(r.msg))).to.equal(true);
      // what the manager had not confirmed is on disk now: a restart sends it
      const reopened = Spool.open({ dir, maxBytes: 64 << 20, log: new MemoryLogger() });
      await reopened.durable();
      expect(seqs(takeAll(reopened))).to.deep.equal(Array.from({ length: 150 }, (_, i) => 151 + i));
      await reopened.close();
    });

    it('refuses (and counts) what does not fit in memory either, and never loses an accepted record', async () => {
      const spool = Spool.open({ dir: path.join(mount, 'spool'), maxBytes: 64 << 20, log, disk, memoryEvents: 50 });
      const refusals: number[] = [];
      spool.on('refused', (n) => refusals.push(n));
      fill();
      const accepted: number[] = [];
      for (let i = 1; i <= 200; i++) {
        try {
          accepted.push(spool.append(`1:t:${i}`));
        } catch (e) {
          expect(e).to.be.instanceOf(SpoolWriteError);
        }
      }
      expect(spool.stats.held).to.equal(50);
      expect(spool.stats.refused).to.equal(200 - accepted.length);
      expect(refusals.at(-1)).to.equal(200 - accepted.length);
      await spool.durable();
      const got = [];
      for (let e = spool.take(); e; e = spool.take()) got.push(e.sequence);
      expect(got).to.deep.equal(accepted);
      await spool.close();
    });
  });

  it('stays within maxBytes by dropping the oldest segments, counting what was lost', async () => {
    const dir = newDir();
    const { spool } = open(dir, { maxBytes: 256 * 1024, segmentBytes: 64 * 1024 });
    const lost: number[] = [];
    spool.on('overflow', (n) => lost.push(n));
    const body = 'x'.repeat(1000);
    for (let i = 1; i <= 1000; i++) spool.append(`1:t:${i}:${body}`);
    await spool.durable();
    const sizes = segments(dir).map((n) => fs.statSync(path.join(dir, n)).size);
    expect(sizes.reduce((a, b) => a + b, 0)).to.be.at.most(256 * 1024);
    const kept = takeAll(spool).map((m) => Number(m.split(':')[2]));
    const dropped = lost.reduce((a, b) => a + b, 0);
    expect(dropped).to.be.greaterThan(0);
    expect(spool.stats.dropped).to.equal(dropped);
    expect(kept.length + dropped, 'every record is either kept or counted as dropped').to.equal(1000);
    expect(kept).to.deep.equal(Array.from({ length: kept.length }, (_, i) => 1000 - kept.length + 1 + i), 'the newest are kept, in order');
    await spool.close();
  });

  it('deletes segment files once everything in them is confirmed', async () => {
    const dir = newDir();
    const { spool } = open(dir, { segmentBytes: 64 * 1024 });
    for (let i = 1; i <= 300; i++) spool.append(`1:t:${i}:${'y'.repeat(1000)}`);
    await spool.durable();
    expect(segments(dir).length).to.be.greaterThan(2);
    takeAll(spool);
    spool.confirm(300);
    expect(segments(dir)).to.have.length(1);
    await spool.close();
    const { spool: reopened } = open(dir);
    expect(reopened.stats).to.include({ unsent: 0, unconfirmed: 0 });
    expect(reopened.append('1:t:next')).to.equal(301);
    await reopened.close();
  });

  it('creates its directory 0700 and its files 0600', async () => {
    const dir = path.join(newDir(), 'spool');
    const { spool } = open(dir);
    spool.append('1:t:x');
    await spool.durable();
    spool.take();
    spool.confirm(1);
    expect(fs.statSync(dir).mode & 0o777).to.equal(0o700);
    for (const n of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, n)).mode & 0o777, n).to.equal(0o600);
    await spool.close();
  });
});
