// The one-fd property of the file-access layer, shown deterministically: the access layer's test
// seam swaps the monitored path for a symlink to a secret (or for a FIFO) between resolving the
// file and each reader reading it — hashes, attributes, the report_changes copy, the diff — and
// nothing of the swapped-in target may reach any event. Races won by chance are the hostile-users
// test's business; this one wins every race on purpose. Also: links are entries, owner-only files
// are not diffed, file_max_size, and a slow real-time file that holds nothing else back.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CaptureEvent } from '../../src/capture/event.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { ReadPhase, setBeforeReadHook } from '../../src/fim/access.js';
import { Baseline } from '../../src/fim/db.js';
import { DIFF_MESSAGES, DiffStore } from '../../src/fim/diff.js';
import { FimEngine } from '../../src/fim/engine.js';
import { EMPTY_FILE_HASHES } from '../../src/fim/state.js';
import { HashPool } from '../../src/fim/hash.js';
import { WhoResolver } from '../../src/fim/who.js';
import { MemoryLogger } from '../../src/log.js';
import { tempDir } from '../support/manager.js';
import { allEntries } from '../support/baseline.js';

const SYSCHECK = '8:syscheck:';
const digests = (data: string | Buffer) => ['md5', 'sha1', 'sha256'].map((a) => crypto.createHash(a).update(data).digest('hex'));

interface Event {
  path: string;
  type: string;
  mode: string;
  content_changes?: string;
  attributes: { size: number; perm: string; inode: number | string; hash_md5: string; hash_sha1: string; hash_sha256: string };
}

function events(sent: readonly string[]): Event[] {
  return sent.filter((m) => m.startsWith(SYSCHECK)).map((m) => JSON.parse(m.slice(SYSCHECK.length)) as { type: string; data: Event })
    .filter((j) => j.type === 'event').map((j) => j.data);
}

const realtimeEvent = (p: string): CaptureEvent => ({ op: 'modify', source: 'tracepoint', path: p, inode: 0n, device: 0, ktimeNs: 1n, truncated: false });

describe('fim: every reader uses the one descriptor it opened', function () {
  this.timeout(60_000);
  let tmp: { dir: string; cleanup: () => void };
  let root: string;
  let secret: string;
  let secretText: string;
  let hashes: HashPool;
  let sent: string[];
  let log: MemoryLogger;
  let db: Baseline;

  function engine(extra = '', configure?: (s: ReturnType<typeof parseAgentConfig>['syscheck']) => void): FimEngine {
    const conf = `<ossec_config><client><server><address>127.0.0.1</address></server></client><syscheck>
      <max_eps>0</max_eps><directories realtime="yes" report_changes="yes">${root}</directories>${extra}</syscheck></ossec_config>`;
    const { syscheck } = parseAgentConfig(conf, path.join(tmp.dir, 'ossec.conf'));
    configure?.(syscheck);
    return new FimEngine({ syscheck, baseline: db, hashes, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log, diffs: new DiffStore({ dir: path.join(tmp.dir, 'diff') }) });
  }

  /** Nothing the engine sent holds the secret's text or any of its hashes. */
  function expectNoSecret(): void {
    const all = sent.join('\n');
    expect(all).to.not.include(secretText);
    for (const h of digests(fs.readFileSync(secret))) expect(all).to.not.include(h);
  }

  before(() => (hashes = new HashPool({ scanThreads: 2 })));
  after(() => hashes.close());
  beforeEach(() => {
    tmp = tempDir('wba-one-fd');
    root = path.join(tmp.dir, 'tree');
    fs.mkdirSync(root);
    const vault = path.join(tmp.dir, 'vault');
    fs.mkdirSync(vault, { mode: 0o700 });
    secret = path.join(vault, 'shadow');
    secretText = `secret-${crypto.randomBytes(8).toString('hex')}`;
    fs.writeFileSync(secret, `root:${secretText}:19000:0:99999:7:::\n`, { mode: 0o600 });
    sent = [];
    log = new MemoryLogger();
    db = new Baseline(':memory:');
  });
  afterEach(() => {
    setBeforeReadHook(undefined);
    db.close();
    tmp.cleanup();
  });

  const phases: ReadPhase[] = ['hash', 'attributes', 'copy', 'diff'];
  const swaps = {
    'a symlink to a secret': (p: string) => fs.symlinkSync(secret, p),
    'a FIFO': (p: string) => execFileSync('mkfifo', [p]),
  };
  for (const [swapName, swapIn] of Object.entries(swaps)) {
    for (const phase of phases) {
      for (const via of ['scan', 'real-time check'] as const) {
        it(`${via}: the path swapped for ${swapName} just before the ${phase} reader reads`, async () => {
          const victim = path.join(root, 'victim');
          fs.writeFileSync(victim, 'innocent line 1\n');
          const e = engine();
          await e.scan();
          fs.appendFileSync(victim, 'innocent line 2\n');
          const inode = fs.statSync(victim).ino;
          let swapped = 0;
          setBeforeReadHook((at, file) => {
            if (at !== phase || file !== victim || swapped++) return;
            fs.unlinkSync(victim);
            swapIn(victim);
          });
          sent = [];
          if (via === 'scan') await e.scan();
          else {
            await e.onCapture([realtimeEvent(victim)]);
            await e.idle();
          }
          expect(swapped, 'the seam ran').to.equal(1);
          expectNoSecret();
          const got = events(sent).filter((ev) => ev.path === victim);
          if (swapName === 'a FIFO' && via === 'real-time check' && (phase === 'hash' || phase === 'attributes')) {
            // read again, the path is a FIFO: no file for FIM, and a real-time check of it says
            // nothing (Wazuh's fim_checker skips what is neither a file nor a link); the next scan deletes it
            expect(got).to.deep.equal([]);
            return;
          }
          expect(got, JSON.stringify(got)).to.have.length(1);
          const [ev] = got as [Event];
          if (phase === 'copy' || phase === 'diff') {
            // read and checked before the swap: the event is the file as it was read, its diff from the fd's copy
            expect(String(ev.attributes.inode)).to.equal(String(inode));
            expect(ev.attributes.hash_sha256).to.equal(digests('innocent line 1\ninnocent line 2\n')[2]);
            expect(ev.content_changes).to.equal('1a2\n> innocent line 2\n');
          } else if (swapName === 'a FIFO') {
            // the path no longer names the file read, and a FIFO is no file for FIM: gone
            expect(ev.type).to.equal('deleted');
          } else {
            // the path no longer names the file read: read again, it is a link — an entry, never a door
            expect(ev).to.deep.include({ type: 'modified' });
            expect(ev.attributes).to.include({ perm: 'rwxrwxrwx', size: secret.length, hash_sha256: EMPTY_FILE_HASHES.sha256 });
            expect(ev.content_changes).to.equal(undefined);
          }
        });
      }
    }
  }

  it('links in the tree are entries (554/550/553 as Wazuh), directories swapped for links are never entered', async () => {
    const dl = path.join(root, 'dl');
    fs.mkdirSync(dl);
    fs.writeFileSync(path.join(dl, 'shadow'), 'mine\n');
    const e = engine();
    await e.scan();
    fs.renameSync(dl, path.join(root, 'dl.old'));
    fs.symlinkSync(path.dirname(secret), dl);
    fs.symlinkSync(secret, path.join(root, 'link'));
    sent = [];
    await e.scan();
    expectNoSecret();
    const summary = events(sent).map((ev) => `${ev.type} ${path.relative(root, ev.path)}`).sort();
    expect(summary).to.deep.equal(['added dl', 'added dl.old/shadow', 'added link', 'deleted dl/shadow']);
    // through the real-time path too: the event names a file below the link
    sent = [];
    await e.onCapture([realtimeEvent(path.join(dl, 'shadow'))]);
    await e.idle();
    expect(sent).to.deep.equal([]);
    fs.unlinkSync(path.join(root, 'link'));
    await e.onCapture([{ ...realtimeEvent(path.join(root, 'link')), op: 'delete' }]);
    await e.idle();
    expect(events(sent).map((ev) => `${ev.type} ${ev.mode} ${path.relative(root, ev.path)}`)).to.deep.equal(['deleted realtime link']);
  });

  it('follow_symbolic_link: a configured directory that is a link is followed; links below it are not', async () => {
    const real = path.join(tmp.dir, 'real');
    fs.mkdirSync(real);
    fs.writeFileSync(path.join(real, 'inside'), 'inside\n');
    fs.symlinkSync(secret, path.join(real, 'to-secret'));
    const configured = path.join(tmp.dir, 'configured');
    fs.symlinkSync(real, configured);
    for (const follow of ['yes', 'no']) {
      const conf = `<ossec_config><client><server><address>127.0.0.1</address></server></client><syscheck>
        <directories follow_symbolic_link="${follow}">${configured}</directories></syscheck></ossec_config>`;
      const { syscheck } = parseAgentConfig(conf, 'ossec.conf');
      const base = new Baseline(':memory:');
      const e = new FimEngine({ syscheck, baseline: base, hashes, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log });
      await e.scan();
      const entries = allEntries(base).map((x) => `${path.relative(tmp.dir, x.path)} ${x.state.perm}`);
      expect(entries, follow).to.deep.equal(follow === 'yes'
        ? ['configured/inside rw-r--r--', 'configured/to-secret rwxrwxrwx']
        : ['configured rwxrwxrwx']);
      base.close();
    }
    expectNoSecret();
  });

  it('a wildcard entry: what it matches is resolved beneath its fixed part, without links', async () => {
    const homes = path.join(tmp.dir, 'homes');
    fs.mkdirSync(path.join(homes, 'alice', 'data'), { recursive: true });
    fs.writeFileSync(path.join(homes, 'alice', 'data', 'notes'), 'alice\n');
    // bob's home is a link to a directory whose data/ holds the secret
    const outside = path.join(tmp.dir, 'outside');
    fs.mkdirSync(path.join(outside, 'data'), { recursive: true });
    fs.copyFileSync(secret, path.join(outside, 'data', 'shadow'));
    fs.symlinkSync(outside, path.join(homes, 'bob'));
    const conf = `<ossec_config><client><server><address>127.0.0.1</address></server></client><syscheck>
      <directories report_changes="yes">${homes}/*/data</directories></syscheck></ossec_config>`;
    const { syscheck } = parseAgentConfig(conf, 'ossec.conf');
    const e = new FimEngine({ syscheck, baseline: db, hashes, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log, diffs: new DiffStore({ dir: path.join(tmp.dir, 'diff') }) });
    await e.scan();
    expect(allEntries(db).map((x) => path.relative(homes, x.path))).to.deep.equal(['alice/data/notes']);
    expectNoSecret();
  });

  it('directories moved in, renamed inside and moved out: their files added and deleted in real time, with the who-data of the move', async () => {
    const outside = path.join(tmp.dir, 'outside');
    fs.mkdirSync(path.join(outside, 'pkg', 'sub'), { recursive: true });
    for (const f of ['a', 'sub/b']) fs.writeFileSync(path.join(outside, 'pkg', f), `${f}\n`);
    fs.symlinkSync(secret, path.join(outside, 'pkg', 'link'));
    const e = engine();
    await e.scan();
    const who = { pid: process.pid, tid: process.pid, ppid: process.ppid, uid: 0, euid: 0, gid: 0, loginuid: undefined, comm: 'mv', parentComm: 'sh', cwd: '/', parentCwd: '/' };
    const move = async (from: string, to: string) => {
      fs.renameSync(from, to);
      sent = [];
      await e.onCapture([{ op: 'rename', source: 'tracepoint', path: from, newPath: to, inode: 0n, device: 0, ktimeNs: 1n, truncated: false, who }]);
      await e.idle();
      return events(sent).map((ev) => `${ev.type} ${ev.mode} ${path.relative(tmp.dir, ev.path)}`).sort();
    };
    expect(await move(path.join(outside, 'pkg'), path.join(root, 'pkg'))).to.deep.equal(
      ['added realtime tree/pkg/a', 'added realtime tree/pkg/link', 'added realtime tree/pkg/sub/b']);
    expect(await move(path.join(root, 'pkg'), path.join(root, 'renamed'))).to.deep.equal([
      'added realtime tree/renamed/a', 'added realtime tree/renamed/link', 'added realtime tree/renamed/sub/b',
      'deleted realtime tree/pkg/a', 'deleted realtime tree/pkg/link', 'deleted realtime tree/pkg/sub/b']);
    expect(await move(path.join(root, 'renamed'), path.join(outside, 'gone'))).to.deep.equal(
      ['deleted realtime tree/renamed/a', 'deleted realtime tree/renamed/link', 'deleted realtime tree/renamed/sub/b']);
    expect(allEntries(db).map((x) => x.path)).to.deep.equal([]);
    expectNoSecret();
  });

  it("names that begin with '..' are files like any other, not a way out of the tree", async () => {
    const dotted = ['..hidden', '...', '..'.padEnd(10, 'x')].map((n) => path.join(root, n));
    for (const f of dotted) fs.writeFileSync(f, 'dotted\n');
    const e = engine();
    await e.scan();
    expect(allEntries(db).map((x) => x.path).sort()).to.deep.equal([...dotted].sort());
    fs.appendFileSync(dotted[0]!, 'changed\n');
    sent = [];
    await e.onCapture([realtimeEvent(dotted[0]!)]);
    await e.idle();
    expect(events(sent).map((ev) => `${ev.type} ${ev.path}`)).to.deep.equal([`modified ${dotted[0]}`]);
  });

  it('a file only its owner may read is not diffed unless configured by name; its content is neither read nor stored', async () => {
    const diffed = path.join(root, 'notes');
    const named = path.join(tmp.dir, 'named');
    fs.writeFileSync(diffed, 'public\n');
    fs.writeFileSync(named, 'v1\n', { mode: 0o600 });
    const e = engine(`<directories realtime="yes" report_changes="yes">${named}</directories>`);
    await e.scan();
    // a root-only secret renamed onto the diffed path
    fs.copyFileSync(secret, `${diffed}.tmp`);
    fs.chmodSync(`${diffed}.tmp`, 0o600);
    fs.renameSync(`${diffed}.tmp`, diffed);
    fs.appendFileSync(named, 'v2\n');
    sent = [];
    await e.scan();
    const byPath = new Map(events(sent).map((ev) => [ev.path, ev]));
    expect(byPath.get(diffed)!.content_changes).to.equal(DIFF_MESSAGES.ownerOnly);
    expect(sent.join('\n')).to.not.include(secretText);
    expect(byPath.get(named)!.content_changes).to.equal('1a2\n> v2\n');
  });

  it('file_max_size: larger files get the empty-input hashes without a read; 0 hashes nothing', async () => {
    const big = path.join(root, 'big');
    const small = path.join(root, 'small');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 15 * 2 ** 40); // 15 TiB, sparse: read, it would take days
    fs.writeFileSync(small, 'small\n');
    let e = engine('', (s) => (s.fileMaxSize = 1024 * 2 ** 20));
    await e.onCapture([realtimeEvent(big), realtimeEvent(small)]);
    await e.idle();
    const state = (p: string) => db.get(p)!.state;
    expect(state(big)).to.include({ size: 15 * 2 ** 40, hash_md5: EMPTY_FILE_HASHES.md5, hash_sha256: EMPTY_FILE_HASHES.sha256 });
    expect(state(small).hash_sha256).to.equal(digests('small\n')[2]);
    db.delete(small);
    e = engine('', (s) => (s.fileMaxSize = 0));
    await e.onCapture([realtimeEvent(small)]);
    await e.idle();
    expect(state(small).hash_sha256).to.equal(EMPTY_FILE_HASHES.sha256);
  });

  it('a file that is slow to hash holds back no other real-time event', async () => {
    const slow = path.join(root, 'slow');
    const quick = path.join(root, 'quick');
    fs.writeFileSync(slow, '');
    fs.truncateSync(slow, 4000 * 2 ** 20); // under the largest file_max_size: hashed, for seconds
    fs.writeFileSync(quick, 'quick\n');
    const e = engine('', (s) => (s.fileMaxSize = 4095 * 2 ** 20));
    const order: string[] = [];
    const send = sent.push.bind(sent);
    sent.push = (...m: string[]) => {
      for (const x of m) if (x.startsWith(SYSCHECK)) order.push(events([x])[0]?.path ?? '');
      return send(...m);
    };
    const took = Date.now();
    await e.onCapture([realtimeEvent(slow), realtimeEvent(quick)]);
    await e.idle();
    expect(order).to.deep.equal([quick, slow]);
    expect(db.get(slow)!.state.size).to.equal(4000 * 2 ** 20);
    // the slow file went on past the real-time deadline on the scan lane
    expect(log.records.some((r) => /took over 2000 ms; it goes on with the scheduled scan's threads/.test(r.msg)), `${Date.now() - took} ms`).to.equal(true);
  });

  it('stop() abandons a scan that is hashing a huge file', async () => {
    const slow = path.join(root, 'slow');
    fs.writeFileSync(slow, '');
    fs.truncateSync(slow, 4000 * 2 ** 20);
    const pool = new HashPool({ scanThreads: 1 });
    const conf = `<ossec_config><client><server><address>127.0.0.1</address></server></client><syscheck><directories>${root}</directories></syscheck></ossec_config>`;
    const { syscheck } = parseAgentConfig(conf, 'ossec.conf');
    syscheck.fileMaxSize = 4095 * 2 ** 20;
    const e = new FimEngine({ syscheck, baseline: db, hashes: pool, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log });
    const scanning = e.scan();
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    e.stop();
    await pool.close();
    const summary = await scanning;
    const took = Date.now() - started;
    expect(took, `${took} ms`).to.be.below(5_000);
    expect(summary.files).to.equal(1);
    expect(db.get(slow), 'nothing stored for a file whose read was abandoned').to.equal(undefined);
    expect(sent.some((m) => m.includes('"type":"scan_end"')), 'a scan cut short does not end').to.equal(false);
  });
});
