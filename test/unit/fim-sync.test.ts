// The integrity synchronization driven by the baseline's queries (src/fim/sync.ts): Wazuh's rules
// on a small table, then the same answers, message for message, as the in-memory implementation
// it replaced (test/support/rsync-model.ts) on thousands of random entries read across pages,
// with writes held in memory on a full disk; cancellation, stop and <synchronization><max_eps>.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DiskSpace } from '../../src/disk-space.js';
import { Baseline } from '../../src/fim/db.js';
import { type FileState, buildFileState } from '../../src/fim/state.js';
import {
  type SyncEntry, type SyncRequest, integrityCheckGlobal, integrityCheckLeft, integrityCheckRight, stateMessage,
} from '../../src/fim/sync-messages.js';
import { parseFimMessage } from '../../src/fim/wire.js';
import { IntegritySync } from '../../src/fim/sync.js';
import { MemoryLogger } from '../../src/log.js';
import { loadCapture } from '../support/fixtures.js';
import { tempDir } from '../support/manager.js';
import { answerSyncRequest, integritySyncStart } from '../support/rsync-model.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const SYNC_ID = 1795561587;

/** A deterministic generator (mulberry32): the same entries and ranges at every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function entry(p: string, n: number): SyncEntry {
  const state = buildFileState({
    stat: { mode: 0o100644, size: n, uid: 0, gid: 0, ino: 1000 + n, mtime: 1795561000 + n }, userName: 'root', groupName: 'root',
  });
  return { path: p, state, lastEvent: 1795561500 + n };
}

/**
 * Paths whose byte order differs from JavaScript's string order (U+FFFF sorts before U+1D11E in
 * UTF-8, after it in UTF-16), with quotes and spaces (rsync quotes them in its SQL).
 */
function randomPath(next: () => number, length = 3): string {
  const pieces = ['a', 'b', 'z', '/', ' ', "'", '\u00e9', '\uffff', '\u{1d11e}', 'dir/', 'x.log'];
  let p = '/t/';
  for (let i = 0; i < length + Math.floor(next() * 6); i++) p += pieces[Math.floor(next() * pieces.length)];
  return p;
}

/** The sync over `db`: what it sends, in order, with the time of each. */
function syncOver(db: Baseline, o: { maxEps?: number; now?: () => number; send?: (m: string, signal: AbortSignal) => Promise<void> } = {}) {
  const sent: { message: string; at: number }[] = [];
  const log = new MemoryLogger();
  const sync = new IntegritySync({
    baseline: db, maxEps: o.maxEps ?? 0, queueSize: 16384, log, now: o.now ?? (() => SYNC_ID),
    send: o.send ?? (async (message) => void sent.push({ message, at: Date.now() })),
  });
  const messages = () => sent.map((s) => s.message);
  let started = false;
  const start = async (): Promise<string[]> => {
    const before = sent.length;
    started = true;
    sync.start();
    await sync.idle();
    return messages().slice(before);
  };
  /** What the sync sends for `req` (in the sync SYNC_ID, started first if need be), once it has nothing left to do. */
  const answer = async (req: Omit<SyncRequest, 'component' | 'id'>): Promise<string[]> => {
    if (!started) await start();
    const before = sent.length;
    sync.request({ component: 'fim_file', id: SYNC_ID, ...req });
    await sync.idle();
    return messages().slice(before);
  };
  return { sync, sent, messages, answer, start, log };
}

/** Every answer of the sync over `db` equal to the in-memory model's over `entries`, for these ranges. */
async function expectModelAnswers(db: Baseline, entries: readonly SyncEntry[], ranges: readonly [string, string][]): Promise<number> {
  const { start, answer } = syncOver(db);
  expect(await start()).to.deep.equal([integritySyncStart(entries, SYNC_ID)]);
  let compared = 0;
  for (const [i, [begin, end]] of ranges.entries()) {
    for (const command of i % 4 === 0 ? ['checksum_fail', 'no_data'] : ['checksum_fail']) {
      const want = answerSyncRequest({ component: 'fim_file', command, begin, end, id: SYNC_ID }, entries);
      expect(await answer({ command, begin, end }), `${command} '${begin}' to '${end}'`).to.deep.equal(want);
      compared += want.length;
    }
  }
  return compared;
}

/** Ranges over `paths`: between stored paths, around them, a single path, reversed, unknown bounds. */
function randomRanges(paths: readonly string[], next: () => number, n: number): [string, string][] {
  const sorted = [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const pick = () => sorted[Math.floor(next() * sorted.length)]!;
  const ranges: [string, string][] = [[sorted[0]!, sorted[sorted.length - 1]!], ['', '\u{10ffff}']];
  for (let i = 0; ranges.length < n; i++) {
    const [a, b] = [pick(), pick()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))) as [string, string];
    switch (i % 5) {
      case 0: ranges.push([a, b]); break;
      case 1: ranges.push([a, a]); break;
      case 2: ranges.push([randomPath(next), randomPath(next)].sort() as [string, string]); break;
      case 3: ranges.push([`${a}!`, b]); break;
      default: ranges.push([b, a]); break; // reversed: empty unless equal
    }
  }
  return ranges;
}

describe('fim: integrity sync over the baseline', function () {
  this.timeout(60_000);

  describe("Wazuh's rules on five entries", () => {
    const entries = ['/etc/e', '/etc/a', '/etc/d', '/etc/b', '/etc/c'].map((p, i) => entry(p, i));
    const byPath = (p: string) => entries.find((e) => e.path === p)!;
    const checksumOf = (ps: string[]) => sha1(ps.map((p) => byPath(p).state.checksum).join(''));
    let db: Baseline;
    beforeEach(() => {
      db = new Baseline(':memory:');
      db.transaction(() => entries.forEach((e) => db.put(e)));
    });
    afterEach(() => db.close());

    it('starts with the global checksum of every entry, or integrity_clear when there is none', async () => {
      expect(await syncOver(db).start()).to.deep.equal([integrityCheckGlobal({
        begin: '/etc/a', end: '/etc/e', id: SYNC_ID, checksum: checksumOf(['/etc/a', '/etc/b', '/etc/c', '/etc/d', '/etc/e']),
      })]);
      const empty = new Baseline(':memory:');
      expect(await syncOver(empty, { now: () => 17 }).start())
        .to.deep.equal(['5:fim_file:{"component":"fim_file","data":{"id":17},"type":"integrity_clear"}']);
      empty.close();
    });

    it('checksum_fail over 5 entries: split at floor(5/2) into left (with tail) and right', async () => {
      expect(await syncOver(db).answer({ command: 'checksum_fail', begin: '/etc/a', end: '/etc/e' })).to.deep.equal([
        integrityCheckLeft({ begin: '/etc/a', end: '/etc/b', tail: '/etc/c', checksum: checksumOf(['/etc/a', '/etc/b']), id: SYNC_ID }),
        integrityCheckRight({ begin: '/etc/c', end: '/etc/e', checksum: checksumOf(['/etc/c', '/etc/d', '/etc/e']), id: SYNC_ID }),
      ]);
    });

    it('checksum_fail on one entry sends its state; no_data sends every state in range, in path order', async () => {
      const { answer } = syncOver(db);
      expect(await answer({ command: 'checksum_fail', begin: '/etc/c', end: '/etc/c' })).to.deep.equal([stateMessage(byPath('/etc/c'))]);
      // one entry but begin != end: rsync throws (UNEXPECTED_SIZE), nothing goes out
      expect(await answer({ command: 'checksum_fail', begin: '/etc/c', end: '/etc/cz' })).to.deep.equal([]);
      expect(await answer({ command: 'no_data', begin: '/etc/b', end: '/etc/d' }))
        .to.deep.equal(['/etc/b', '/etc/c', '/etc/d'].map((p) => stateMessage(byPath(p))));
    });

    it('answers only requests whose id is not newer than the sync in progress, and adopts older ones', async () => {
      const { sync, start, messages } = syncOver(db);
      await start();
      const before = messages().length;
      sync.request({ component: 'fim_file', command: 'no_data', begin: '/etc/a', end: '/etc/a', id: SYNC_ID + 1 });
      sync.request({ component: 'fim_file', command: 'no_data', begin: '/etc/b', end: '/etc/b', id: SYNC_ID - 1 });
      sync.request({ component: 'fim_file', command: 'no_data', begin: '/etc/c', end: '/etc/c', id: SYNC_ID });
      await sync.idle();
      expect(messages().slice(before)).to.deep.equal([stateMessage(byPath('/etc/b'))]);
    });

    it('rebuilds the captured integrity_check_global of a one-file baseline', async () => {
      const frame = loadCapture().frames.find((f) => f.direction === 'agent_to_manager' && f.message.startsWith('5:fim_file:'))!.message;
      const d = (parseFimMessage(frame)!.payload as { data: { begin: string; end: string; checksum: string; id: number } }).data;
      // existing.txt's attributes are not in the capture: a row whose checksum is 'x' stands for it
      const one = new Baseline(':memory:');
      one.put({ path: d.begin, state: { checksum: 'x' } as FileState, lastEvent: 0 });
      expect(await syncOver(one, { now: () => d.id }).start()).to.deep.equal([integrityCheckGlobal({ ...d, checksum: sha1('x') })]);
      one.close();
    });
  });

  it('answers as the in-memory implementation did, on 2,500 random entries read across pages', async () => {
    const next = random(16);
    const entries = new Map<string, SyncEntry>();
    while (entries.size < 2500) {
      const p = randomPath(next);
      entries.set(p, entry(p, entries.size));
    }
    const db = new Baseline(':memory:');
    db.transaction(() => entries.forEach((e) => db.put(e)));
    const compared = await expectModelAnswers(db, [...entries.values()], randomRanges([...entries.keys()], next, 120));
    expect(compared, 'messages compared').to.be.above(10_000);
    db.close();
  });

  it('sees the writes a full disk holds in memory, in their place in byte order', async function () {
    if (process.geteuid?.() !== 0) this.skip(); // mounts a tiny tmpfs
    const { dir, cleanup } = tempDir('wba-sync-full');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]);
    const disk = new DiskSpace({ log: new MemoryLogger(), retryMs: 60_000 });
    try {
      const next = random(1600);
      const model = new Map<string, SyncEntry>();
      while (model.size < 2000) {
        const p = randomPath(next);
        model.set(p, entry(p, model.size));
      }
      const db = new Baseline(path.join(dir, 'fim.db'), disk);
      db.transaction(() => model.forEach((e) => db.put(e)));
      try {
        for (const filler = path.join(dir, 'filler'); ;) fs.appendFileSync(filler, Buffer.alloc(4096));
      } catch {
        // full
      }
      const stored = [...model.keys()];
      // enough writes that SQLite needs new pages: new paths among the stored ones, changes, deletions
      const written = [
        ...Array.from({ length: 1500 }, (_, i) => entry(`${randomPath(next)}${'n'.repeat(150)}`, 5000 + i)),
        ...stored.slice(0, 100).map((p, i) => entry(p, 9000 + i)),
      ];
      const deleted = stored.slice(100, 200);
      db.transaction(() => {
        written.forEach((e) => db.put(e));
        deleted.forEach((p) => db.delete(p));
      });
      written.forEach((e) => model.set(e.path, e));
      deleted.forEach((p) => model.delete(p));
      expect(disk.full, 'the disk refused a write').to.equal(true);
      expect(db.count()).to.equal(model.size);
      const compared = await expectModelAnswers(db, [...model.values()], randomRanges([...model.keys(), ...deleted], next, 60));
      expect(compared, 'messages compared').to.be.above(5_000);
      db.close();
    } finally {
      disk.stop();
      execFileSync('umount', ['--lazy', dir]);
      cleanup();
    }
  });

  describe('pacing and cancellation', () => {
    const entries = Array.from({ length: 2500 }, (_, i) => entry(`/c/${String(i).padStart(5, '0')}`, i));
    let db: Baseline;
    before(() => {
      db = new Baseline(':memory:');
      db.transaction(() => entries.forEach((e) => db.put(e)));
    });
    after(() => db.close());

    /** A sync lane the test opens: messages wait until release() lets `n` more through. */
    function gatedLane() {
      let open = 0;
      let opened: (() => void) | undefined;
      const taken: string[] = [];
      const send = async (message: string, signal: AbortSignal) => {
        while (open === 0) {
          signal.throwIfAborted();
          await new Promise<void>((resolve) => {
            opened = resolve;
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
        signal.throwIfAborted();
        open--;
        taken.push(message);
      };
      const release = (n: number) => {
        open += n;
        opened?.();
      };
      return { send, release, taken };
    }
    const typeOf = (m: string) => (parseFimMessage(m)!.payload as { type: string }).type;

    it('a new sync cancels the states still to be sent; stop() cancels what is left', async () => {
      const lane = gatedLane();
      let now = SYNC_ID;
      const { sync } = syncOver(db, { send: lane.send, now: () => now });
      sync.start();
      lane.release(1);
      while (lane.taken.length < 1) await nextTurn();
      sync.request({ component: 'fim_file', command: 'no_data', begin: entries[0]!.path, end: entries[2499]!.path, id: SYNC_ID });
      lane.release(300);
      while (lane.taken.length < 301) await nextTurn();
      now += 300;
      sync.start();
      lane.release(10_000);
      await sync.idle();
      expect(lane.taken.map(typeOf)).to.deep.equal(['integrity_check_global', ...Array<string>(300).fill('state'), 'integrity_check_global']);
      expect(lane.taken[301]).to.include(`"id":${SYNC_ID + 300}`);

      const stopped = gatedLane();
      const second = syncOver(db, { send: stopped.send });
      second.sync.start();
      second.sync.request({ component: 'fim_file', command: 'no_data', begin: entries[0]!.path, end: entries[2499]!.path, id: SYNC_ID });
      stopped.release(50);
      while (stopped.taken.length < 50) await nextTurn();
      second.sync.stop();
      await second.sync.idle();
      second.sync.start();
      await second.sync.idle();
      expect(stopped.taken).to.have.length(50);
      expect(second.log.records.filter((r) => r.level === 'error')).to.deep.equal([]);
    });

    it('start() resolves true once its message was taken, false when cancelled by the next start or by stop(); stateSent hears of each state', async () => {
      const lane = gatedLane();
      let states = 0;
      const sync = new IntegritySync({
        baseline: db, maxEps: 0, queueSize: 16384, log: new MemoryLogger(), now: () => SYNC_ID, send: lane.send, stateSent: () => states++,
      });
      // the first is still reading its 2,500 checksums, a page at a time, when the second cancels it
      const first = sync.start();
      const second = sync.start();
      lane.release(1);
      expect([await first, await second]).to.deep.equal([false, true]);
      sync.request({ component: 'fim_file', command: 'no_data', begin: entries[0]!.path, end: entries[9]!.path, id: SYNC_ID });
      lane.release(10);
      await sync.idle();
      expect(states, 'states told').to.equal(10);
      const third = sync.start();
      sync.stop();
      expect([await third, await sync.start()]).to.deep.equal([false, false]);
      expect(lane.taken.map(typeOf)).to.deep.equal(['integrity_check_global', ...Array<string>(10).fill('state')]);
    });

    it('sends at most <synchronization><max_eps> messages a second', async () => {
      const { answer, sent } = syncOver(db, { maxEps: 20 });
      const states = await answer({ command: 'no_data', begin: entries[0]!.path, end: entries[49]!.path });
      expect(states).to.deep.equal(entries.slice(0, 50).map(stateMessage));
      const perSecond = new Map<number, number>();
      // the global check and the states: every sync message counts (run_check.c fim_send_sync_state)
      for (const { at } of sent) perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
      expect(Math.max(...perSecond.values()), 'messages in one second').to.be.at.most(20);
      expect(perSecond.size, 'seconds the 51 messages took').to.be.at.least(3);
    });

    it('lets the event loop run between pages of a range', async () => {
      const { sync, messages } = syncOver(db);
      // runs once per turn of the event loop, as long as the sync works
      let turns = 0;
      let counting = true;
      const count = () => {
        if (!counting) return;
        turns++;
        setImmediate(count);
      };
      setImmediate(count);
      sync.start();
      await sync.idle();
      counting = false;
      expect(messages().map(typeOf)).to.deep.equal(['integrity_check_global']);
      expect(turns, 'turns of the event loop while 2,500 entries were checksummed, 1,000 at a time').to.be.at.least(2);
    });
  });
});
