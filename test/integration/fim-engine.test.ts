// The FIM engine on real files: baseline, scheduled scans, real-time events, restart, sync. Its
// messages go through the test manager's analysis step, so the assertions are the alerts the
// real manager would raise.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { CaptureEvent } from '../../src/capture/event.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/log.js';
import { Baseline } from '../../src/fim/db.js';
import { FimEngine } from '../../src/fim/engine.js';
import { HashPool } from '../../src/fim/hash.js';
import { DIFF_MESSAGES, DiffStore, truncateDiff } from '../../src/fim/diff.js';
import { WhoResolver } from '../../src/fim/who.js';
import { alertFor } from '../support/analysis.js';
import { tempDir } from '../support/manager.js';
import { allEntries } from '../support/baseline.js';

function conf(root: string, extra = ''): string {
  return `<ossec_config>
  <client><server><address>127.0.0.1</address></server></client>
  <syscheck>
    <frequency>43200</frequency>
    <directories whodata="yes">${root}/tree</directories>
    <ignore>${root}/tree/ignored</ignore>
    <ignore type="sregex">.swp$</ignore>
${extra}
  </syscheck>
</ossec_config>`;
}

describe('fim engine', function () {
  this.timeout(60_000);
  const agent = { id: '001', name: 'fim-test' };
  let tmp: { dir: string; cleanup: () => void };
  let tree: string;
  let hashes: HashPool;
  const sent: string[] = [];
  const alerts = () => sent.map((m) => alertFor(agent, m)).filter((a) => a !== undefined);

  /** A scan on a new engine, then a sync (the runner's first one comes after the first scan). */
  async function scanAndSync(db: Baseline) {
    const e = engine(db);
    const summary = await e.scan();
    expect(await e.startSync(), 'the sync started').to.equal(true);
    await e.syncIdle();
    return summary;
  }

  function engine(db: Baseline, extra = '') {
    const cfg = parseAgentConfig(conf(tmp.dir, extra), path.join(tmp.dir, 'ossec.conf'));
    return new FimEngine({ syscheck: cfg.syscheck, baseline: db, hashes, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log: new MemoryLogger() });
  }

  before(() => {
    tmp = tempDir('wba-fim');
    tree = path.join(tmp.dir, 'tree');
    fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'ignored'));
    for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(tree, i % 2 ? 'sub' : '', `f${i}.txt`), `content ${i}\n`);
    fs.writeFileSync(path.join(tree, 'ignored', 'x.txt'), 'x');
    fs.symlinkSync(path.join(tree, 'f0.txt'), path.join(tree, 'link-to-f0'));
    hashes = new HashPool({ scanThreads: 2 });
  });
  after(async () => {
    await hashes.close();
    tmp.cleanup();
  });

  it('builds the baseline silently, then reports exactly what changed, and nothing after a restart', async () => {
    const dbFile = path.join(tmp.dir, 'fim.db');
    let db = new Baseline(dbFile);
    const first = await scanAndSync(db);
    // a link is an entry of its own (Wazuh lstat()s): its attributes, never its target's
    expect(first.files).to.equal(1001);
    const link = db.get(path.join(tree, 'link-to-f0'))!.state;
    expect(link).to.include({ perm: 'rwxrwxrwx', size: path.join(tree, 'f0.txt').length, hash_sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
    expect(alerts()).to.deep.equal([]);
    expect(sent.some((m) => m.startsWith('5:fim_file:') && m.includes('integrity_check_global'))).to.equal(true);

    fs.appendFileSync(path.join(tree, 'f2.txt'), 'changed\n');
    fs.appendFileSync(path.join(tree, 'sub', 'f3.txt'), 'changed\n');
    fs.writeFileSync(path.join(tree, 'new.txt'), 'new\n');
    fs.writeFileSync(path.join(tree, 'sub', 'new.txt'), 'new\n');
    fs.unlinkSync(path.join(tree, 'f4.txt'));
    fs.unlinkSync(path.join(tree, 'sub', 'f5.txt'));
    fs.writeFileSync(path.join(tree, 'ignored', 'y.txt'), 'y');
    fs.writeFileSync(path.join(tree, 'edit.swp'), 'y');
    fs.appendFileSync(path.join(tree, 'link-to-f0'), 'via the link\n'); // changes f0.txt itself
    sent.length = 0;
    const second = await scanAndSync(db);
    expect(second).to.include({ added: 2, modified: 3, deleted: 2 });
    const got = alerts().map((a) => `${a.rule.id} ${(a.syscheck as { path: string }).path.slice(tree.length)}`).sort();
    expect(got).to.deep.equal(['550 /f0.txt', '550 /f2.txt', '550 /sub/f3.txt', '553 /f4.txt', '553 /sub/f5.txt', '554 /new.txt', '554 /sub/new.txt']);
    db.close();

    db = new Baseline(dbFile);
    sent.length = 0;
    const third = await scanAndSync(db);
    expect(third).to.include({ added: 0, modified: 0, deleted: 0 });
    expect(alerts()).to.deep.equal([]);
    db.close();
  });

  it('a first scan interrupted (twice) is resumed: stored rows compared, additions where it had been reported, the rest baselined silently', async () => {
    const root = path.join(tmp.dir, 'interrupted');
    const at = (f: string) => path.join(root, f);
    // walk order: a/…, then a-b/…, then b/…
    for (const d of ['a', 'a-b', 'b']) {
      fs.mkdirSync(at(d), { recursive: true });
      for (let i = 0; i < 100; i++) fs.writeFileSync(at(`${d}/f${String(i).padStart(3, '0')}`), `${d} ${i}\n`);
    }
    const cfg = parseAgentConfig(`<ossec_config><client><server><address>127.0.0.1</address></server></client><syscheck>
      <directories>${root}</directories><max_eps>0</max_eps></syscheck></ossec_config>`, 'x');
    const dbFile = path.join(tmp.dir, 'interrupted.db');
    const out: string[] = [];
    const reported = () => out.map((m) => alertFor(agent, m)).filter((a) => a !== undefined)
      .map((a) => `${a.rule.id} ${(a.syscheck as { path: string }).path.slice(root.length + 1)}`).sort();
    /** One start of the agent: a scan on a new engine, cut short (as by a crash) once it has stored `rows` rows. */
    const start = async (rows = Infinity) => {
      const log = new MemoryLogger();
      let stored = 0;
      let e: FimEngine | undefined;
      const db = new (class extends Baseline {
        override put(...a: Parameters<Baseline['put']>) {
          super.put(...a);
          if (++stored === rows) e!.stop();
        }
        override touch(...a: Parameters<Baseline['touch']>) {
          super.touch(...a);
          if (++stored === rows) e!.stop();
        }
      })(dbFile);
      e = new FimEngine({ syscheck: cfg.syscheck, baseline: db, hashes, who: new WhoResolver(), send: (m) => out.push(m), sendSync: async (m) => void out.push(m), log });
      await e.scan();
      db.close();
      return log;
    };

    await start(150); // a/ whole, a-b/ up to f049
    expect(reported()).to.deep.equal([]);
    fs.appendFileSync(at('a/f010'), 'changed while down\n');
    fs.rmSync(at('a-b/f020'));
    for (const f of ['a/new', 'a-b/f030-new', 'a-b/f060-new', 'b/new']) fs.writeFileSync(at(f), 'new while down\n');

    const second = await start(50); // a/f000 to a/f049: behind where the first run got
    fs.writeFileSync(at('a-b/f040-new'), 'new while down, where only the first run had been\n');

    const third = await start();
    expect(reported()).to.deep.equal(['550 a/f010', '553 a-b/f020', '554 a-b/f030-new', '554 a-b/f040-new', '554 a/new']);
    expect(second.has('info', /^Resuming the first scan/)).to.equal(true);
    expect(third.has('info', /^Resuming the first scan/)).to.equal(true);
    expect(third.has('info', /^The resumed first scan ended: 3 files added where it had been were reported, 152 where it had not been were baselined silently\.$/))
      .to.equal(true);
    const db = new Baseline(dbFile);
    expect(db.count(), 'the deleted file\'s row is gone').to.equal(304);
    expect(db.getMeta('first-scan'), 'the first scan has ended').to.equal(undefined);
    db.close();

    out.length = 0;
    fs.writeFileSync(at('b/later'), 'after the first scan ended\n');
    await start();
    expect(reported(), 'later scans report every change').to.deep.equal(['554 b/later']);
  });

  it('reports a real-time deletion with who-data from the capture', async () => {
    const db = new Baseline(':memory:');
    const e = engine(db);
    await e.scan();
    const victim = path.join(tree, 'sub', 'f7.txt');
    fs.unlinkSync(victim);
    sent.length = 0;
    const event: CaptureEvent = {
      op: 'delete', source: 'tracepoint', path: victim, inode: 0n, device: 0, ktimeNs: 1n, truncated: false,
      who: { pid: process.pid, tid: process.pid, ppid: process.ppid, uid: 0, euid: 0, gid: 0, loginuid: undefined, comm: 'node', parentComm: 'sh', cwd: '/', parentCwd: '/' },
    };
    await e.onCapture([event]);
    const [alert] = alerts();
    expect(alert?.rule.id).to.equal('553');
    expect(alert?.syscheck).to.deep.include({ path: victim, mode: 'whodata', event: 'deleted' });
    const audit = (alert!.syscheck as { audit: { process: { id: string; name: string }; user: { id: string } } }).audit;
    expect(audit.process.id).to.equal(String(process.pid));
    expect(audit.process.name).to.equal(fs.readlinkSync('/proc/self/exe'));
    expect(audit.user.id).to.equal('0');
    db.close();
  });

  const who = { pid: process.pid, tid: process.pid, ppid: process.ppid, uid: 0, euid: 0, gid: 0, loginuid: undefined, comm: 'node', parentComm: 'sh', cwd: '/', parentCwd: '/' };
  const capture = (op: CaptureEvent['op'], p: string): CaptureEvent => ({ op, source: 'tracepoint', path: p, inode: 0n, device: 0, ktimeNs: 1n, truncated: false, who });

  it('a file changed in real time after the running scan passed it is not reported deleted at the end of that scan', async () => {
    const big = path.join(tmp.dir, 'big');
    fs.mkdirSync(big);
    const files = Array.from({ length: 20_000 }, (_, i) => path.join(big, `f${String(i).padStart(5, '0')}.txt`));
    files.forEach((f, i) => fs.writeFileSync(f, `${i}\n`));
    const cfg = parseAgentConfig(conf(tmp.dir).replace(`${tmp.dir}/tree</directories>`, `${big}</directories>`), path.join(tmp.dir, 'ossec.conf'));
    const db = new Baseline(':memory:');
    const e = new FimEngine({ syscheck: cfg.syscheck, baseline: db, hashes, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log: new MemoryLogger() });
    try {
      await e.scan();
      fs.writeFileSync(path.join(big, 'f10000-new.txt'), 'new\n'); // walked half-way, long after f00000
      sent.length = 0;
      const scan = e.scan();
      // the second scan has walked past files[0] once the row of the new file is stored
      while (!db.get(path.join(big, 'f10000-new.txt'))) await new Promise((r) => setImmediate(r));
      fs.appendFileSync(files[0]!, 'changed in real time\n');
      await e.onCapture([capture('modify', files[0]!)]);
      await e.idle();
      const summary = await scan;
      expect(summary.files, 'the scan was still running when the event came').to.equal(20_001);
      const about = alerts().filter((a) => a.syscheck?.['path'] === files[0]).map((a) => `${a.rule.id} ${String(a.syscheck?.['mode'])}`);
      expect(about).to.deep.equal(['550 whodata']);
      expect(db.get(files[0]!), 'still in the baseline').to.not.equal(undefined);
    } finally {
      db.close();
      fs.rmSync(big, { recursive: true, force: true });
    }
  });

  it('rm -rf: each file deleted once, though its own event and its directory\'s arrive side by side', async () => {
    const db = new Baseline(':memory:');
    const e = engine(db);
    const dir = path.join(tree, 'rmrf');
    fs.mkdirSync(dir);
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, `g${i}`), `${i}`);
    await e.scan();
    fs.rmSync(dir, { recursive: true });
    sent.length = 0;
    // the order rm -rf makes them in: every unlink, then the rmdir, in one batch
    await e.onCapture([...Array.from({ length: 20 }, (_, i) => capture('delete', path.join(dir, `g${i}`))), capture('rmdir', dir)]);
    await e.idle();
    const deleted = alerts().map((a) => (a.syscheck as { path: string }).path).sort();
    expect(deleted).to.deep.equal(Array.from({ length: 20 }, (_, i) => path.join(dir, `g${i}`)).sort());
    db.close();
  });

  it('a write event is checked after the write lands (the hook runs before it), and reported once', async () => {
    const db = new Baseline(':memory:');
    const e = engine(db);
    await e.scan();
    const target = path.join(tree, 'f10.txt');
    sent.length = 0;
    await e.onCapture([capture('write', target)]);
    // the write itself, right after the event, as the kernel would let it happen
    fs.appendFileSync(target, 'appended while the event was on its way\n');
    await e.idle();
    expect(alerts(), 'nothing is checked at once').to.deep.equal([]);
    const deadline = Date.now() + 10_000;
    while (!alerts().length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      await e.idle();
    }
    await new Promise((r) => setTimeout(r, 1000)); // a second check would have come by now
    await e.idle();
    const [alert, ...more] = alerts();
    expect(more).to.deep.equal([]);
    expect(alert?.rule.id).to.equal('550');
    expect((alert!.syscheck as { changed_attributes: string[] }).changed_attributes).to.include.members(['size', 'md5']);
    db.close();
  });

  it('answers the manager: a failed range is split, a single entry sent as state', async () => {
    const db = new Baseline(':memory:');
    const e = engine(db);
    await e.scan();
    await e.startSync();
    await e.syncIdle();
    const global = JSON.parse(sent.filter((m) => m.includes('integrity_check_global')).pop()!.slice('5:fim_file:'.length)) as { data: { begin: string; end: string; id: number } };
    sent.length = 0;
    e.onSyncRequest('fim_file', `dbsync checksum_fail ${JSON.stringify({ begin: global.data.begin, end: global.data.end, id: global.data.id })}`);
    await e.syncIdle();
    expect(sent.map((m) => JSON.parse(m.slice('5:fim_file:'.length)).type)).to.deep.equal(['integrity_check_left', 'integrity_check_right']);
    sent.length = 0;
    e.onSyncRequest('fim_file', `dbsync checksum_fail ${JSON.stringify({ begin: global.data.begin, end: global.data.begin, id: global.data.id })}`);
    await e.syncIdle();
    expect(JSON.parse(sent[0]!.slice('5:fim_file:'.length))).to.deep.include({ type: 'state' });
    db.close();
  });

  it('honours file_limit (new files beyond it are neither hashed nor monitored, with one warning) and max_eps', async () => {
    const db = new Baseline(':memory:');
    const log = new MemoryLogger();
    const cfg = parseAgentConfig(conf(tmp.dir, '<file_limit><enabled>yes</enabled><entries>10</entries></file_limit><max_eps>20</max_eps>'), 'x');
    const out: string[] = [];
    let hashed = 0;
    const counting = { hash: (...args: Parameters<HashPool['hash']>) => (hashed++, hashes.hash(...args)) } as unknown as HashPool;
    const e = new FimEngine({ syscheck: cfg.syscheck, baseline: db, hashes: counting, who: new WhoResolver(), send: (m) => out.push(m), sendSync: async (m) => void out.push(m), log });
    const { files } = await e.scan();
    expect(db.count()).to.equal(10);
    // at most the scan's look-ahead (64 files) is read past the limit, not the other ~990
    expect(hashed, `${hashed} of ${files} files hashed`).to.be.at.most(10 + 64);
    expect(log.records.filter((r) => /^Couldn't insert '.*' entry into DB\. The DB is full, please check your configuration\.$/.test(r.msg)).length).to.be.at.least(files - 10 - 64);
    expect(log.records.filter((r) => r.level === 'warn' && /file_limit 10 entries/.test(r.msg))).to.have.length(1);
    expect(log.has('warn', /^\(6926\): File database is 100% full\.$/)).to.equal(true);
    expect(out).to.include('1:syscheck:wazuh: FIM DB: {"fim_db_table":"file_entry","file_limit":10,"file_count":10,"alert_type":"full"}');
    // 45 deletions reported at 20 a second take more than two seconds
    db.close();
    const db2 = new Baseline(':memory:');
    const paced = new FimEngine({ syscheck: { ...cfg.syscheck, fileLimit: { enabled: false, entries: 0 } }, baseline: db2, hashes, who: new WhoResolver(), send: (m) => out.push(m), sendSync: async (m) => void out.push(m), log });
    await paced.scan();
    const victims = allEntries(db2).slice(0, 45);
    for (const v of victims) fs.renameSync(v.path, `${v.path}.moved-away`);
    try {
      out.length = 0;
      const t0 = Date.now();
      await paced.scan();
      expect(out.filter((m) => m.includes('"type":"deleted"'))).to.have.length(45);
      expect(Date.now() - t0).to.be.at.least(2000);
    } finally {
      for (const v of victims) fs.renameSync(`${v.path}.moved-away`, v.path);
      db2.close();
    }
  });

  it('report_changes: diff(1) of the change as content_changes, withheld for nodiff files', async () => {
    const dir = path.join(tmp.dir, 'reported');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'app.conf'), 'port=80\nhost=a\n');
    fs.writeFileSync(path.join(dir, 'secret.key'), 'k1\n');
    const cfg = parseAgentConfig(`<ossec_config><client><server><address>127.0.0.1</address></server></client><syscheck>
      <directories report_changes="yes">${dir}</directories><nodiff>${dir}/secret.key</nodiff><max_eps>0</max_eps></syscheck></ossec_config>`, 'x');
    const db = new Baseline(':memory:');
    const out: string[] = [];
    const e = new FimEngine({ syscheck: cfg.syscheck, baseline: db, hashes, who: new WhoResolver(), send: (m) => out.push(m), sendSync: async (m) => void out.push(m), log: new MemoryLogger(), diffs: new DiffStore({ dir: path.join(tmp.dir, 'diff') }) });
    await e.scan();
    fs.writeFileSync(path.join(dir, 'app.conf'), 'port=8080\nhost=a\n');
    fs.writeFileSync(path.join(dir, 'secret.key'), 'k2\n');
    out.length = 0;
    await e.scan();
    const changes = Object.fromEntries(out.filter((m) => m.includes('"modified"')).map((m) => {
      const d = (JSON.parse(m.slice('8:syscheck:'.length)) as { data: { path: string; content_changes: string } }).data;
      return [path.basename(d.path), d.content_changes];
    }));
    expect(changes).to.deep.equal({ 'app.conf': '1c1\n< port=80\n---\n> port=8080\n', 'secret.key': DIFF_MESSAGES.nodiff });
    expect(truncateDiff('x\n'.repeat(40000))).to.match(/\nMore changes\.\.\.$/);
    expect(Buffer.byteLength(truncateDiff('x\n'.repeat(40000)))).to.be.lessThan(65536 - 6144);
    db.close();
  });
});
