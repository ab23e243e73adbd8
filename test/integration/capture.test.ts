// Real capture on this machine's kernel (no kprobes, fentry refused: the chain must end up in
// tracepoint mode): a child process creates, modifies, renames and deletes files in a monitored
// directory and on a second tmpfs mounted inside it; every event must arrive with its absolute
// path and the child's who-data; an unrelated directory must produce nothing.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CaptureEvent } from '../../src/capture/event.js';
import { Capture } from '../../src/capture/capture.js';
import { MemoryLogger } from '../../src/log.js';
import { tempDir } from '../support/manager.js';

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('capture tests load BPF programs and mount tmpfs: run them as root');
}

/** Runs `script` in a separate node process with cwd `cwd`; resolves with its pid. */
function runChild(script: string, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`child exited with ${code}`))));
  });
}

describe('capture on this kernel', function () {
  this.timeout(60_000);
  let tmp: { dir: string; cleanup: () => void };
  let watched: string;
  let mnt: string;
  let unrelated: string;
  let capture: Capture | undefined;
  const log = new MemoryLogger();

  before(() => {
    requireRoot();
    tmp = tempDir('wba-capture');
    watched = path.join(tmp.dir, 'watched');
    mnt = path.join(watched, 'mnt');
    unrelated = path.join(tmp.dir, 'unrelated');
    for (const d of [watched, mnt, unrelated]) fs.mkdirSync(d, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'wba-test', mnt]);
  });

  after(async () => {
    await capture?.stop();
    try {
      execFileSync('umount', [mnt]);
    } finally {
      tmp.cleanup();
    }
  });

  it('falls through kprobe and fentry to tracepoints, saying why, and passes the self-test', async () => {
    capture = await Capture.start({ dirs: [watched], selfTestDir: path.join(tmp.dir, 'selftest'), log, modes: ['kprobe', 'fentry', 'tracepoint'] });
    expect(capture.attempts.map((a) => a.mode)).to.deep.equal(['kprobe', 'fentry', 'tracepoint']);
    expect(capture.attempts.slice(0, 2).every((a) => !a.ok && a.reason.length > 0)).to.equal(true);
    expect(capture.mode).to.equal('tracepoint');
    expect(capture.unlinkArg?.index).to.equal(3); // Linux 6.18: vfs_unlink(struct mnt_idmap *, ...)
    expect(capture.unlinkArg?.source).to.equal('btf');
    expect(log.has('info', /Real-time capture mode: tracepoint \(self-test passed/)).to.equal(true);
  });

  it('reports every operation with its absolute path and the actor, across the mount, and nothing unrelated', async () => {
    const events: CaptureEvent[] = [];
    capture!.on('events', (batch) => events.push(...batch));
    const script = `
      const fs = require('fs');
      for (const dir of [${JSON.stringify(watched)}, ${JSON.stringify(mnt)}, ${JSON.stringify(unrelated)}]) {
        fs.writeFileSync(dir + '/created.txt', 'one');
        fs.appendFileSync(dir + '/created.txt', 'two');
        fs.renameSync(dir + '/created.txt', dir + '/renamed.txt');
        fs.unlinkSync(dir + '/renamed.txt');
      }
      fs.writeFileSync('relative.txt', 'x');
      fs.unlinkSync('relative.txt');
    `;
    const pid = await runChild(script, watched);
    const expected: [string, string, string?][] = [];
    for (const dir of [watched, mnt]) {
      expected.push(['create', `${dir}/created.txt`], ['modify', `${dir}/created.txt`], ['rename', `${dir}/created.txt`, `${dir}/renamed.txt`], ['delete', `${dir}/renamed.txt`]);
    }
    expected.push(['create', `${watched}/relative.txt`], ['delete', `${watched}/relative.txt`]);
    const key = (op: string, p?: string, n?: string) => `${op} ${p}${n ? ` -> ${n}` : ''}`;
    const deadline = Date.now() + 10_000;
    const mine = () => events.filter((e) => e.who?.pid === pid);
    while (Date.now() < deadline && !expected.every(([op, p, n]) => mine().some((e) => key(e.op, e.path, e.newPath) === key(op, p, n)))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const got = mine().map((e) => key(e.op, e.path, e.newPath));
    for (const [op, p, n] of expected) expect(got, got.join('\n')).to.include(key(op, p, n));
    expect(events.filter((e) => [e.path, e.newPath].some((p) => p?.startsWith(unrelated)))).to.deep.equal([]);
    for (const e of mine()) {
      expect(e.source).to.equal('tracepoint');
      expect(e.who).to.include({ pid, ppid: process.pid, uid: 0, euid: 0, gid: 0, comm: 'node', cwd: watched });
      expect(e.who!.parentComm).to.equal(fs.readFileSync('/proc/self/comm', 'utf8').trim().slice(0, 15));
      expect(e.who!.parentCwd).to.equal(process.cwd());
    }
    const created = mine().find((e) => e.op === 'create' && e.path === `${mnt}/created.txt`)!;
    const st = fs.statSync(mnt, { bigint: true }); // the file is gone; its filesystem is not
    expect(created.inode > 0n).to.equal(true);
    expect(created.device).to.equal(Number((((st.dev >> 8n) & 0xfffn) << 20n) | (st.dev & 0xffn)));
  });

  it('anchors a monitored directory created after start, created again, and a filesystem mounted inside it later', async () => {
    const late = path.join(tmp.dir, 'late');
    const lateMnt = path.join(late, 'mnt');
    const c = await Capture.start({ dirs: [late], selfTestDir: path.join(tmp.dir, 'selftest-late'), log, modes: ['tracepoint'] });
    const events: CaptureEvent[] = [];
    c.on('events', (b) => events.push(...b));
    /** Creates and deletes a file in `dir` from a child, and waits (within the bound the README states, 1 s, plus slack) for both events. */
    const roundTrip = async (dir: string) => {
      // the refresh runs every 500 ms: 1 s after the directory appears it is anchored
      await new Promise((r) => setTimeout(r, 1_000));
      const pid = await runChild(`require('fs').writeFileSync(${JSON.stringify(`${dir}/f`)}, 'x'); require('fs').unlinkSync(${JSON.stringify(`${dir}/f`)});`, tmp.dir);
      const want = [`create ${dir}/f`, `delete ${dir}/f`];
      const deadline = Date.now() + 5_000;
      const got = () => events.filter((e) => e.who?.pid === pid).map((e) => `${e.op} ${e.path}`);
      while (Date.now() < deadline && !want.every((w) => got().includes(w))) await new Promise((r) => setTimeout(r, 20));
      expect(got(), dir).to.include.members(want);
    };
    try {
      fs.mkdirSync(late);
      await roundTrip(late);
      fs.rmSync(late, { recursive: true });
      fs.mkdirSync(late); // a new inode at the same path
      await roundTrip(late);
      fs.mkdirSync(lateMnt);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'wba-late', lateMnt]);
      try {
        await roundTrip(lateMnt);
      } finally {
        execFileSync('umount', [lateMnt]);
      }
    } finally {
      await c.stop();
    }
  });

  it('falls back to inotify without who-data when no BPF mode is allowed', async () => {
    const inotify = await Capture.start({ dirs: [watched], selfTestDir: path.join(tmp.dir, 'selftest-inotify'), log, modes: ['inotify'] });
    try {
      expect(inotify.mode).to.equal('inotify');
      const events: CaptureEvent[] = [];
      inotify.on('events', (b) => events.push(...b));
      const until = async (op: string) => {
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline && !events.some((e) => e.op === op)) await new Promise((r) => setTimeout(r, 20));
      };
      // inotify classifies by looking at the file afterwards: give it the time a real edit takes
      fs.writeFileSync(path.join(mnt, 'via-inotify.txt'), 'x');
      await until('create');
      fs.unlinkSync(path.join(mnt, 'via-inotify.txt'));
      await until('delete');
      expect(events.map((e) => [e.op, e.path])).to.deep.include.members([['create', `${mnt}/via-inotify.txt`], ['delete', `${mnt}/via-inotify.txt`]]);
      expect(events.every((e) => e.who === undefined && e.source === 'inotify')).to.equal(true);
    } finally {
      await inotify.stop();
    }
  });
});
