// The FIM engine on hostile trees: names that break quoting, names that are not UTF-8, paths at
// PATH_MAX, files that cannot be read, and files deleted or replaced while they are hashed. In
// each case the scan ends, the other files are reported, and no event carries a wrong path or
// a state that never existed.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAgentConfig } from '../../src/config/load.js';
import { Baseline } from '../../src/fim/db.js';
import { FimEngine } from '../../src/fim/engine.js';
import { HashPool } from '../../src/fim/hash.js';
import { setBeforeReadHook } from '../../src/fim/access.js';
import { WhoResolver } from '../../src/fim/who.js';
import { MemoryLogger } from '../../src/log.js';
import { alertFor } from '../support/analysis.js';
import { INVALID_NAMES, ODD_NAMES, REPLACEMENT_NAME, makeHuge, makeLongPaths, removeTree, whileHashing } from '../support/fim-hostile-tree.js';
import { tempDir } from '../support/manager.js';

const SYSCHECK = '8:syscheck:';

function conf(root: string): string {
  return `<ossec_config><client><server><address>127.0.0.1</address></server></client>
  <syscheck><frequency>43200</frequency><max_eps>0</max_eps><directories>${root}</directories></syscheck></ossec_config>`;
}

interface FimEventData {
  path: string;
  type: 'added' | 'modified' | 'deleted';
  attributes: { size: number; inode: string; hash_sha256: string };
}

/** The FIM events among the messages, decoded from the JSON after the `8:syscheck:` prefix. */
function fimEvents(sent: readonly string[]): FimEventData[] {
  return sent.filter((m) => m.startsWith(SYSCHECK))
    .map((m) => JSON.parse(m.slice(SYSCHECK.length)) as { type: string; data: FimEventData })
    .filter((j) => j.type === 'event').map((j) => j.data);
}

const summaryOf = (sent: readonly string[]) => fimEvents(sent).map((e) => `${e.type} ${e.path}`).sort();
const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

describe('fim engine on hostile trees', function () {
  this.timeout(60_000);
  let tmp: { dir: string; cleanup: () => void };
  let root: string;
  let hashes: HashPool;
  let sent: string[];
  let log: MemoryLogger;

  function engine(db: Baseline, pool: HashPool = hashes): FimEngine {
    const { syscheck } = parseAgentConfig(conf(root), path.join(tmp.dir, 'ossec.conf'));
    // the largest file_max_size Wazuh allows: the huge files below are hashed, not skipped
    syscheck.fileMaxSize = 4095 * 2 ** 20;
    return new FimEngine({ syscheck, baseline: db, hashes: pool, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log });
  }

  before(() => (hashes = new HashPool({ scanThreads: 2 })));
  after(() => hashes.close());
  beforeEach(() => {
    tmp = tempDir('wba-hostile');
    root = path.join(tmp.dir, 'tree');
    fs.mkdirSync(root);
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(root, `plain-${i}`), `plain ${i}\n`);
    sent = [];
    log = new MemoryLogger();
  });
  afterEach(() => removeTree(tmp.dir));

  it('reports odd, 255-byte and PATH_MAX - 1 names exactly; skips what is not UTF-8 or too long', async () => {
    const db = new Baseline(':memory:');
    const e = engine(db);
    await e.scan();
    const oddDir = path.join(root, 'dir\nwith "odd"\tname');
    fs.mkdirSync(oddDir);
    const reported = [...ODD_NAMES.map((n) => path.join(root, n)), path.join(oddDir, 'in\\side'), path.join(root, REPLACEMENT_NAME)];
    for (const p of reported) fs.writeFileSync(p, p);
    for (const name of INVALID_NAMES) fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/`), name]), 'not UTF-8');
    const { longest, tooLong } = makeLongPaths(path.join(root, 'deep'));
    reported.push(longest);

    sent = [];
    const second = await e.scan();
    // each file once: a lossy decoding would list the U+FFFD name once per name it collides with
    expect(second).to.deep.equal({ files: 5 + reported.length, added: reported.length, modified: 0, deleted: 0 });
    expect(summaryOf(sent)).to.deep.equal(reported.map((p) => `added ${p}`).sort());
    for (const m of sent) expect(m, 'one message, one line').to.not.match(/[\n\r]/);
    // the manager's side decodes the same paths
    const alerts = sent.map((m) => alertFor({ id: '001', name: 'hostile' }, m)).filter((a) => a !== undefined);
    expect(alerts.map((a) => (a.syscheck as { path: string }).path).sort()).to.deep.equal([...reported].sort());

    fs.appendFileSync(longest, 'changed\n');
    for (const p of reported.filter((p) => p !== longest)) fs.unlinkSync(p);
    sent = [];
    const third = await e.scan();
    expect(third).to.include({ added: 0, modified: 1, deleted: reported.length - 1 });
    expect(summaryOf(sent)).to.deep.equal(reported.map((p) => `${p === longest ? 'modified' : 'deleted'} ${p}`).sort());
    // what was skipped was said, in each of the two scans: the non-UTF-8 names, the paths past PATH_MAX
    const problems = log.records.filter((r) => r.level === 'warn' || r.level === 'error').map((r) => r.msg);
    expect(problems.filter((m) => /^\(6955\): Ignoring file '.*' due to unsupported name \(non-UTF8\)\.$/.test(m))).to.have.length(2 * INVALID_NAMES.length);
    expect(problems.filter((m) => /^\(6720\): The path '.*' is too long\. The maximum length is 4095 bytes\.$/.test(m))).to.have.length(2 * tooLong.length);
    expect(problems).to.have.length(2 * (INVALID_NAMES.length + tooLong.length));
    db.close();
  });

  it('a file deleted or replaced while it is hashed: gone, or reported with the new content; never half-read', async () => {
    const deleted = path.join(root, 'a-deleted');
    const replaced = path.join(root, 'b-replaced');
    const bornAndGone = path.join(root, 'c-new-then-deleted');
    fs.writeFileSync(deleted, 'old\n');
    fs.writeFileSync(replaced, 'old\n');
    const db = new Baseline(':memory:');
    const e = engine(db);
    await e.scan();
    fs.writeFileSync(bornAndGone, '');
    for (const f of [deleted, replaced, bornAndGone]) makeHuge(f);
    fs.appendFileSync(path.join(root, 'plain-1'), 'changed\n');

    sent = [];
    const scanning = e.scan();
    // The scan reads the files in name order; each is deleted or replaced once the worker has it
    // open, then the old inode is emptied through the worker's fd so that its read ends now.
    const atDeleted = await whileHashing(deleted);
    fs.unlinkSync(deleted);
    fs.truncateSync(atDeleted, 0);
    const atReplaced = await whileHashing(replaced);
    fs.writeFileSync(`${replaced}.tmp`, 'replacement\n');
    fs.renameSync(`${replaced}.tmp`, replaced);
    fs.truncateSync(atReplaced, 0);
    const atBorn = await whileHashing(bornAndGone);
    fs.unlinkSync(bornAndGone);
    fs.truncateSync(atBorn, 0);
    const summary = await scanning;

    expect(summary).to.include({ added: 0, modified: 2, deleted: 1 });
    expect(summaryOf(sent)).to.deep.equal([`deleted ${deleted}`, `modified ${path.join(root, 'plain-1')}`, `modified ${replaced}`].sort());
    const now = fimEvents(sent).find((ev) => ev.path === replaced)!.attributes;
    expect(now).to.include({ size: 'replacement\n'.length, inode: String(fs.statSync(replaced).ino), hash_sha256: sha256('replacement\n') });
    expect(db.get(bornAndGone)).to.equal(undefined);
    // gone is not an error: Wazuh counts a file that vanishes before it is read as deleted
    expect(log.records.filter((r) => r.level === 'warn' || r.level === 'error')).to.deep.equal([]);
    for (const gone of [deleted, bornAndGone]) {
      expect(log.records).to.deep.include({ level: 'debug', msg: `(6324): Couldn't generate hashes for '${gone}' due to [(2)-(No such file or directory)].` });
    }
    db.close();
  });

  it('a file deleted, or replaced by a FIFO, a device or a symlink, while it is read: the new entry counts, nothing through it is read', async () => {
    const swapped = ['fifo', 'device', 'link', 'gone'].map((n) => path.join(root, n));
    const [fifo, device, link, gone] = swapped as [string, string, string, string];
    for (const f of swapped) fs.writeFileSync(f, 'regular\n');
    const db = new Baseline(':memory:');
    const e = engine(db);
    const swaps = new Map<string, () => void>();
    setBeforeReadHook((phase, file) => {
      if (phase !== 'hash') return;
      swaps.get(file)?.();
      swaps.delete(file);
    });
    try {
      await e.scan();
      for (const f of swapped) fs.appendFileSync(f, 'listed as changed, so hashed again\n');
      swaps.set(fifo, () => { fs.unlinkSync(fifo); execFileSync('mkfifo', [fifo]); });
      // /dev/zero never ends: read, it would hold the scan forever (the mocha timeout detects that)
      swaps.set(device, () => { fs.unlinkSync(device); execFileSync('mknod', [device, 'c', '1', '5']); });
      swaps.set(link, () => { fs.unlinkSync(link); fs.symlinkSync('/etc/hostname', link); });
      swaps.set(gone, () => fs.unlinkSync(gone));
      sent = [];
      const summary = await e.scan();
      // the file read was swapped away meanwhile, so the path is read again: a FIFO or a device is
      // no file for FIM (deleted, as the walk of the next scan sees it); the link is an entry of its own
      expect(summaryOf(sent)).to.deep.equal([`deleted ${device}`, `deleted ${fifo}`, `deleted ${gone}`, `modified ${link}`]);
      const linkEvent = fimEvents(sent).find((ev) => ev.path === link)!.attributes as unknown as Record<string, unknown>;
      expect(linkEvent).to.include({ perm: 'rwxrwxrwx', size: '/etc/hostname'.length, hash_sha256: sha256('') });
      expect(summary.files).to.equal(9);
      expect(log.records.filter((r) => r.level === 'warn' || r.level === 'error')).to.deep.equal([]);
      expect(log.records.filter((r) => r.level === 'debug').map((r) => r.msg).sort()).to.deep.equal([
        `(6324): Couldn't generate hashes for '${device}': it is no longer a regular file.`,
        `(6324): Couldn't generate hashes for '${fifo}': it is no longer a regular file.`,
        `(6324): Couldn't generate hashes for '${gone}' due to [(2)-(No such file or directory)].`,
      ]);
    } finally {
      setBeforeReadHook(undefined);
      db.close();
    }
  });

  it('files and directories it cannot read: one warning each with the errno, the rest reported', async () => {
    const dbFile = path.join(tmp.dir, 'fim.db');
    const db = new Baseline(dbFile);
    await engine(db).scan();
    db.close();
    const secret = path.join(root, 'secret');
    const oddSecret = path.join(root, 'odd\nsecret');
    const locked = path.join(root, 'locked');
    const noSearch = path.join(root, 'no-search');
    for (const d of [locked, noSearch]) {
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'inside'), 'x');
    }
    for (const f of [secret, oddSecret]) fs.writeFileSync(f, 'x');
    for (const f of [secret, oddSecret, locked]) fs.chmodSync(f, 0o000);
    fs.chmodSync(noSearch, 0o600); // names can be listed, not looked up
    execFileSync('mkfifo', [path.join(root, 'fifo')]); // not a regular file: never opened, so no hang
    fs.appendFileSync(path.join(root, 'plain-1'), 'changed\n');
    fs.writeFileSync(path.join(root, 'plain-new'), 'new\n');

    // root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: mode bits apply to it
    const child = fileURLToPath(new URL('../support/fim-scan-child.js', import.meta.url));
    const out = execFileSync('setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, child, conf(root), dbFile], { encoding: 'utf8' });
    type Rec = { level: string; msg: string };
    const got = JSON.parse(out) as { engineLog: Rec[]; sent: string[]; summary: { files: number } };

    expect(summaryOf(got.sent)).to.deep.equal([`added ${path.join(root, 'plain-new')}`, `modified ${path.join(root, 'plain-1')}`]);
    // no-search/inside is listed (its type comes with the listing) but cannot be opened
    expect(got.summary.files).to.equal(9);
    const warnings = (recs: Rec[]) => recs.filter((r) => r.level !== 'debug' && r.level !== 'info').map((r) => `${r.level} ${r.msg}`).sort();
    expect(warnings(got.engineLog)).to.deep.equal([
      `warn (6324): Couldn't generate hashes for '${noSearch}/inside' due to [(13)-(Permission denied)].`,
      `warn (6324): Couldn't generate hashes for '${root}/odd\\nsecret' due to [(13)-(Permission denied)].`,
      `warn (6324): Couldn't generate hashes for '${secret}' due to [(13)-(Permission denied)].`,
      `warn (6922): Cannot open '${locked}' due to [(13)-(Permission denied)].`,
    ].sort());
  });
});
