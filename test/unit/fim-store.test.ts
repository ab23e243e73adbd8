import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DiskSpace } from '../../src/disk-space.js';
import { MemoryLogger } from '../../src/log.js';
import { Baseline, BaselineEntry } from '../../src/fim/db.js';
import { buildFileState } from '../../src/fim/state.js';
import { HashError, HashPool, TOO_LARGE } from '../../src/fim/hash.js';
import { MonitoredRoot, OpenFile } from '../../src/fim/access.js';
import { DIFF_MESSAGES, DiffStore } from '../../src/fim/diff.js';
import { tempDir } from '../support/manager.js';
import { fillFilesystem } from '../support/disk.js';
import { allEntries } from '../support/baseline.js';

const entry = (p: string, size = 1): BaselineEntry => ({
  path: p,
  state: buildFileState({ stat: { size, mode: 0o100644, uid: 0, gid: 0, ino: 42, mtime: 1795561597 }, userName: 'root', groupName: 'root' }),
  lastEvent: 1795561597,
});

/** Opens `file` for reading as the engine does (its directory as the monitored root). */
function openFile(file: string): OpenFile {
  const entry = MonitoredRoot.with(path.dirname(file), false, (r) => r.open(file));
  if (entry.kind !== 'file') throw new Error(`${file} is a ${entry.kind}`);
  return entry.file;
}

describe('fim: hash pool', () => {
  it('hashes open files like md5sum/sha1sum/sha256sum, off the main thread', async () => {
    const { dir, cleanup } = tempDir('wba-hash');
    const pool = new HashPool({ scanThreads: 2 });
    try {
      const files = [0, 1, 1000, 3 << 20].map((size, i) => {
        const f = path.join(dir, `f${i}`);
        fs.writeFileSync(f, Buffer.alloc(size, i + 65));
        return f;
      });
      const open = files.map(openFile);
      const got = await Promise.all(open.map((f, i) => pool.hash(f.fd, f.path, ['md5', 'sha1', 'sha256'], { lane: i % 2 ? 'realtime' : 'scan' })));
      for (const [i, f] of files.entries()) {
        for (const [algo, tool] of [['md5', 'md5sum'], ['sha1', 'sha1sum'], ['sha256', 'sha256sum']] as const) {
          expect(got[i]![algo], `${algo} ${f}`).to.equal(execFileSync(tool, [f], { encoding: 'utf8' }).split(' ')[0]);
        }
        expect(got[i]!.size).to.equal(fs.statSync(f).size);
      }
      // the same fd again: workers pread from offset 0
      const onlySha1 = await pool.hash(open[2]!.fd, files[2]!, ['sha1']);
      expect(onlySha1).to.deep.equal({ size: 1000, sha1: got[2]!.sha1 });
      for (const f of open) f.close();
      let err: unknown;
      await pool.hash(open[2]!.fd, files[2]!, ['md5']).catch((e) => (err = e));
      expect(err).to.be.instanceOf(HashError);
      expect((err as HashError).code).to.equal('EBADF');
    } finally {
      await pool.close();
      cleanup();
    }
  });

  it('stops at the byte limit (file_max_size), and abandons a job past its deadline or at close', async () => {
    const { dir, cleanup } = tempDir('wba-hash-limits');
    const pool = new HashPool({ scanThreads: 1 });
    const big = path.join(dir, 'big');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 64 * 2 ** 30); // sparse: reading it all would take minutes
    const file = openFile(big);
    try {
      let err: unknown = await pool.hash(file.fd, big, ['sha256'], { maxBytes: 4 << 20 }).catch((e) => e);
      expect((err as HashError).code).to.equal(TOO_LARGE);
      expect((err as HashError).message).to.equal(`'${big}' filesize is larger than the maximum allowed (4 MB). File skipped.`);
      let started = Date.now();
      err = await pool.hash(file.fd, big, ['sha256'], { lane: 'realtime', deadlineMs: 200 }).catch((e) => e);
      expect((err as HashError).cancelled, String(err)).to.equal(true);
      // the deadline is checked between 1 MiB chunks: it ends in well under the minutes a full read takes
      expect(Date.now() - started).to.be.below(20_000);
      const running = pool.hash(file.fd, big, ['sha256']).catch((e) => e);
      await new Promise((r) => setTimeout(r, 100));
      started = Date.now();
      await pool.close();
      expect(((await running) as HashError).cancelled).to.equal(true);
      expect(Date.now() - started).to.be.below(20_000);
      err = await pool.hash(file.fd, big, ['md5']).catch((e) => e);
      expect((err as HashError).cancelled).to.equal(true);
    } finally {
      file.close();
      await pool.close();
      cleanup();
    }
  });
});

describe('fim: baseline database', () => {
  it('keeps entries across reopen, 0600, and finds what a scan did not see', () => {
    const { dir, cleanup } = tempDir('wba-db');
    try {
      const file = path.join(dir, 'db', 'fim.db');
      let db = new Baseline(file);
      db.transaction(() => {
        db.put(entry('/w/a'), 1);
        db.put(entry('/w/sub/b', 7), 1);
        db.put(entry('/wx/c'), 1);
      });
      db.close();
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
      db = new Baseline(file);
      expect(db.count()).to.equal(3);
      expect(db.get('/w/sub/b')).to.deep.equal(entry('/w/sub/b', 7));
      expect(db.get('/w/sub/b')!.state.checksum).to.match(/^[0-9a-f]{40}$/);
      db.touch('/w/a', 2);
      // /w/sub/b was not seen by scan 2; /wx/c is not under /w
      expect(db.unseen('/w', 2).map((e) => e.path)).to.deep.equal(['/w/sub/b']);
      db.delete('/w/sub/b');
      expect(db.get('/w/sub/b')).to.equal(undefined);
      expect(allEntries(db).map((e) => e.path)).to.deep.equal(['/w/a', '/wx/c']);
      db.setMeta('last_scan', '123');
      expect(db.getMeta('last_scan')).to.equal('123');
      db.close();
    } finally {
      cleanup();
    }
  });
  it('on a full disk keeps its writes in memory, reads them back, and stores them once space returns', function () {
    if (process.geteuid?.() !== 0) this.skip(); // mounts a tiny tmpfs
    const { dir, cleanup } = tempDir('wba-db-full');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]);
    const log = new MemoryLogger();
    const disk = new DiskSpace({ log, retryMs: 60_000 });
    try {
      const file = path.join(dir, 'fim.db');
      const db = new Baseline(file, disk);
      db.transaction(() => {
        for (const p of ['/w/a', '/w/b', '/w/c', '/x/d']) db.put(entry(p), 1);
      });
      const filler = fillFilesystem(dir);
      // enough writes that SQLite needs new pages, whatever its cache held
      const many = Array.from({ length: 3000 }, (_, i) => `/w/new/${String(i).padStart(5, '0')}-${'n'.repeat(200)}`);
      db.transaction(() => {
        for (const p of many) db.put(entry(p, 5), 2);
      });
      expect(disk.full, 'the disk refused a write').to.equal(true);
      db.touch('/w/a', 2);
      db.delete('/w/b');
      db.put(entry('/w/\u00e9', 3), 2);
      db.setMeta('scan', '2');
      const check = (b: Baseline) => {
        expect(b.get('/w/b')).to.equal(undefined);
        expect(b.get('/w/\u00e9')).to.deep.equal(entry('/w/\u00e9', 3));
        expect(b.count()).to.equal(3 + 1 + many.length);
        expect(b.unseen('/w', 2).map((e) => e.path)).to.deep.equal(['/w/c']);
        expect(b.below('/w/new').length).to.equal(many.length);
        const all = allEntries(b).map((e) => e.path);
        expect(all).to.deep.equal([...all].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
        expect(all).to.include.members(['/w/a', '/w/c', '/x/d', '/w/\u00e9']);
        expect(b.getMeta('scan')).to.equal('2');
      };
      check(db);
      expect(disk.retry(), 'still full').to.equal(false);
      fs.rmSync(filler);
      expect(disk.retry(), 'space is back').to.equal(true);
      check(db);
      db.close();
      const reopened = new Baseline(file);
      check(reopened);
      reopened.close();
      expect(log.records.filter((r) => r.level === 'error').map((r) => r.msg)).to.have.length(1);
      expect(log.records.some((r) => /the FIM database kept \d+ changes in memory/.test(r.msg))).to.equal(true);
    } finally {
      disk.stop();
      execFileSync('umount', ['--lazy', dir]);
      cleanup();
    }
  });
});

describe('fim: resources', () => {
  it('process_priority nices the hashing threads only', async () => {
    const pool = new HashPool({ scanThreads: 1, realtimeThreads: 1, niceness: 10 });
    const file = openFile('/etc/hostname');
    try {
      await pool.hash(file.fd, file.path, ['md5']);
      // field 19 of /proc/<pid>/task/<tid>/stat is the nice value
      const nices = fs.readdirSync('/proc/self/task').map((tid) => {
        const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
      expect(nices).to.include(10);
      expect(Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[16])).to.equal(0);
    } finally {
      file.close();
      await pool.close();
    }
  });

  it('disk_quota stops storing report_changes copies', () => {
    const { dir, cleanup } = tempDir('wba-quota');
    try {
      const big = path.join(dir, 'big.bin');
      fs.writeFileSync(big, crypto.randomBytes(300_000)); // incompressible
      const store = new DiffStore({ dir: path.join(dir, 'diff'), quotaKb: 100 });
      const opts = { nodiff: false, ownerOnly: false, maxBytes: 1 << 20 };
      const open = openFile(big);
      expect(store.contentChanges(big, open, opts)).to.equal(DIFF_MESSAGES.diskQuota);
      open.close();
      const small = path.join(dir, 'small.txt');
      fs.writeFileSync(small, 'a\n');
      const smallOpen = openFile(small);
      expect(store.contentChanges(small, smallOpen, opts)).to.equal(DIFF_MESSAGES.noPrevious);
      smallOpen.close();
    } finally {
      cleanup();
    }
  });

  it('disk_quota counts every stored copy, file_size drops the copy of a file grown past it (fim_diff_check_limits)', () => {
    const { dir, cleanup } = tempDir('wba-quota2');
    try {
      const diffDir = path.join(dir, 'diff');
      const opts = { nodiff: false, ownerOnly: false, maxBytes: 1 << 20 };
      const files = Array.from({ length: 10 }, (_, i) => path.join(dir, `f${i}.txt`));
      files.forEach((f, i) => fs.writeFileSync(f, `${i}\n`.repeat(100)));
      const copy = (store: DiffStore, f: string, o = opts) => {
        const open = openFile(f);
        try {
          return store.contentChanges(f, open, o);
        } finally {
          open.close();
        }
      };
      const first = new DiffStore({ dir: diffDir });
      for (const f of files.slice(0, 5)) expect(copy(first, f)).to.equal(DIFF_MESSAGES.noPrevious);
      // each copy takes at least a block on disk: a quota of 8 KB is used up by the five kept from before
      const restarted = new DiffStore({ dir: diffDir, quotaKb: 8 });
      expect(copy(restarted, files[5]!)).to.equal(DIFF_MESSAGES.diskQuota);
      // a file over file_size loses its copy, which frees its room
      fs.appendFileSync(files[0]!, 'x'.repeat(5000));
      expect(copy(first, files[0]!, { ...opts, maxBytes: 1000 })).to.equal(DIFF_MESSAGES.fileSize);
      expect(fs.readdirSync(path.join(diffDir, 'file'))).to.have.length(4);
    } finally {
      cleanup();
    }
  });

  it('on a full disk gives every copy up first, and says so instead of a diff until space returns', () => {
    const { dir, cleanup } = tempDir('wba-diff-full');
    const log = new MemoryLogger();
    const disk = new DiskSpace({ log, retryMs: 60_000 });
    try {
      const diffDir = path.join(dir, 'diff');
      const store = new DiffStore({ dir: diffDir, disk });
      const f = path.join(dir, 'a.txt');
      fs.writeFileSync(f, 'one\n');
      const change = () => {
        const open = openFile(f);
        try {
          return store.contentChanges(f, open, { nodiff: false, ownerOnly: false, maxBytes: 1 << 20 });
        } finally {
          open.close();
        }
      };
      expect(change()).to.equal(DIFF_MESSAGES.noPrevious);
      disk.writeFailed('the spool', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
      expect(fs.existsSync(path.join(diffDir, 'file')), 'copies given up').to.equal(false);
      fs.writeFileSync(f, 'two\n');
      expect(change()).to.equal(DIFF_MESSAGES.diskFull);
      expect(disk.retry()).to.equal(true);
      expect(log.records.at(-1)!.msg).to.match(/^Disk space available again after \d+ s: report_changes gave up its 1 stored copies \(\d+ KiB;/);
      expect(change()).to.equal(DIFF_MESSAGES.noPrevious);
    } finally {
      disk.stop();
      cleanup();
    }
  });
});
