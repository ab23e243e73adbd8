// The inotify fallback feeding the FIM engine on real files (no BPF, no root needed): what it
// delivers must make the engine report what a real-time source would — the files of a directory
// moved in, attribute changes, the files below a directory moved out — and a monitored root that
// is missing at start, or deleted and created again, must be watched again within about a second.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { CaptureEvent } from '../../src/capture/event.js';
import { InotifySource } from '../../src/capture/inotify.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { Baseline } from '../../src/fim/db.js';
import { FimEngine } from '../../src/fim/engine.js';
import { HashPool } from '../../src/fim/hash.js';
import { WhoResolver } from '../../src/fim/who.js';
import { MemoryLogger } from '../../src/log.js';
import { alertFor } from '../support/analysis.js';
import { tempDir } from '../support/manager.js';

const agent = { id: '001', name: 'inotify-test' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

describe('inotify fallback', function () {
  this.timeout(60_000);
  let tmp: { dir: string; cleanup: () => void };
  let tree: string;
  let outside: string;
  let hashes: HashPool;
  let db: Baseline;
  let engine: FimEngine;
  let source: InotifySource | undefined;
  const sent: string[] = [];
  const events: CaptureEvent[] = [];
  /** "event path" of the engine's alerts so far, e.g. "added /tree/pkg/one.txt". */
  const alerts = () =>
    sent.map((m) => alertFor(agent, m)?.syscheck as { event: string; path: string } | undefined)
      .filter((s) => s !== undefined)
      .map((s) => `${s.event} ${s.path.slice(tmp.dir.length)}`);
  const sawEvent = (op: string, p: string) => events.some((e) => e.op === op && e.path === p);

  before(async () => {
    tmp = tempDir('wba-inotify');
    tree = path.join(tmp.dir, 'tree');
    outside = path.join(tmp.dir, 'outside');
    fs.mkdirSync(tree);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(tree, 'a.txt'), 'a\n');
    hashes = new HashPool({ scanThreads: 1 });
    db = new Baseline(':memory:');
    const cfg = parseAgentConfig(
      `<ossec_config><client><server><address>127.0.0.1</address></server></client>
       <syscheck><frequency>43200</frequency><directories realtime="yes">${tree}</directories></syscheck></ossec_config>`,
      path.join(tmp.dir, 'ossec.conf'),
    );
    engine = new FimEngine({ syscheck: cfg.syscheck, baseline: db, hashes, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log: new MemoryLogger() });
    await engine.scan();
    source = new InotifySource([tree], (evs) => {
      events.push(...evs);
      void engine.onCapture(evs);
    });
    await source.start();
    sent.length = 0;
  });

  after(async () => {
    source?.stop();
    engine.stop();
    await hashes.close();
    db.close();
    tmp.cleanup();
  });

  it('a directory moved in: the files in it and in its subdirectory are reported added, and it is watched', async () => {
    fs.mkdirSync(path.join(outside, 'pkg', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'pkg', 'one.txt'), '1\n');
    fs.writeFileSync(path.join(outside, 'pkg', 'sub', 'two.txt'), '2\n');
    fs.renameSync(path.join(outside, 'pkg'), path.join(tree, 'pkg'));
    await until('the moved-in files reported added', () =>
      alerts().includes('added /tree/pkg/one.txt') && alerts().includes('added /tree/pkg/sub/two.txt'));
    expect(sawEvent('create', path.join(tree, 'pkg'))).to.equal(true);
    fs.writeFileSync(path.join(tree, 'pkg', 'sub', 'three.txt'), '3\n');
    await until('a file created in the moved-in subdirectory reported', () => alerts().includes('added /tree/pkg/sub/three.txt'));
  });

  it('chmod of a file and of a directory: each delivered as a modification, the file reported modified', async () => {
    fs.chmodSync(path.join(tree, 'a.txt'), 0o600);
    fs.chmodSync(path.join(tree, 'pkg'), 0o700);
    await until('the permission change reported', () => alerts().includes('modified /tree/a.txt'));
    await until('the directory chmod delivered', () => sawEvent('modify', path.join(tree, 'pkg')));
  });

  it('a directory moved out: everything below it reported deleted, and nothing more under the old name', async () => {
    fs.renameSync(path.join(tree, 'pkg'), path.join(outside, 'gone'));
    await until('the moved-out files reported deleted', () =>
      ['one.txt', 'sub/two.txt', 'sub/three.txt'].every((f) => alerts().includes(`deleted /tree/pkg/${f}`)));
    expect(sawEvent('delete', path.join(tree, 'pkg'))).to.equal(true);
    const before = events.length;
    fs.writeFileSync(path.join(outside, 'gone', 'sub', 'four.txt'), '4\n');
    await sleep(300);
    expect(events.slice(before).map((e) => e.path)).to.deep.equal([]);
  });

  it('the monitored directory deleted and created again: its new files reported within about a second', async () => {
    fs.rmSync(tree, { recursive: true });
    await until('the deleted root delivered', () => sawEvent('delete', tree), 1500);
    fs.mkdirSync(tree);
    fs.writeFileSync(path.join(tree, 'b.txt'), 'b\n'); // before any watch can be on the new directory
    await until('the file in the re-created root reported added', () => alerts().includes('added /tree/b.txt'), 1500);
    fs.writeFileSync(path.join(tree, 'c.txt'), 'c\n');
    await until('a later file in the re-created root delivered', () => sawEvent('create', path.join(tree, 'c.txt')), 1500);
  });

  it('a monitored directory missing at start: watched within about a second once it exists', async () => {
    const late = path.join(tmp.dir, 'late');
    const seen: CaptureEvent[] = [];
    const lateSource = new InotifySource([late], (evs) => seen.push(...evs));
    await lateSource.start();
    try {
      await sleep(100);
      fs.mkdirSync(late);
      await until('the new root delivered', () => seen.some((e) => e.op === 'create' && e.path === late), 1500);
      fs.writeFileSync(path.join(late, 'x.txt'), 'x\n');
      await until('a file in it delivered', () => seen.some((e) => e.op === 'create' && e.path === path.join(late, 'x.txt')));
    } finally {
      lateSource.stop();
    }
  });
});
