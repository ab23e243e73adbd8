// src/fim/checksum.ts: the attributes checksum of a file (recomputed from the captured 4.14.7
// agent's events), the range checksum and split of the integrity sync, and the byte order of paths.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { RangeChecksum, RangeSplit, attributesChecksum, attributesChecksumInput, comparePaths } from '../../src/fim/checksum.js';
import { type FileAttributes, buildFileState } from '../../src/fim/state.js';
import { capturedFimMessages } from '../support/fixtures.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

describe('fim checksum: the capture of the real 4.14.7 agent', () => {
  const events = capturedFimMessages().syscheck
    .map((m) => JSON.parse(m.slice('8:syscheck:'.length)) as { type: string; data: { type: string; attributes: FileAttributes; old_attributes?: FileAttributes } })
    .filter((p) => p.type === 'event');

  it('attributesChecksum() recomputes every checksum of the capture (attributes and old_attributes)', () => {
    const all = events.flatMap((e) => [e.data.attributes, ...(e.data.old_attributes ? [e.data.old_attributes] : [])]);
    expect(all).to.have.length(4);
    for (const a of all) expect(attributesChecksum(a), JSON.stringify(a)).to.equal(a.checksum);
  });

  it('checksum text is size:perm:attributes:uid:gid:user:group:mtime:inode:md5:sha1:sha256 (create_db.c fim_get_checksum)', () => {
    const a = events.find((e) => e.data.type === 'added')!.data.attributes;
    expect(attributesChecksumInput(a)).to.equal(
      '14:rw-r--r--::0:0:root:root:1795561597:2211851:582f7f4c4894606ed8ddc187d4b10e1a:' +
      '828377355fc4a417d07d8bc19c4c5b8734240c10:c808d09618a22b677f46b14c19cf36ead59be005198b1c1680dc251832e487e5',
    );
    expect(attributesChecksum(a)).to.equal(sha1(attributesChecksumInput(a)));
  });
});

describe('fim checksum: ranges of the integrity synchronization', () => {
  const checksums = new Map(['/etc/e', '/etc/a', '/etc/d', '/etc/b', '/etc/c'].map((p, n) => [p, buildFileState({
    stat: { mode: 0o100644, size: n, uid: 0, gid: 0, ino: 1000 + n, mtime: 1795561000 + n }, userName: 'root', groupName: 'root',
  }).checksum]));
  const fed = <T>(sum: T & { add(e: { path: string; checksum: string }): void }, paths: string[]): T => {
    for (const p of paths) sum.add({ path: p, checksum: checksums.get(p)! });
    return sum;
  };
  const inOrder = ['/etc/a', '/etc/b', '/etc/c', '/etc/d', '/etc/e'];
  const concatenated = (ps: string[]) => sha1(ps.map((p) => checksums.get(p)!).join(''));

  it('range checksum: sha1 of the checksums concatenated in path order', () => {
    expect(fed(new RangeChecksum(), inOrder).digest()).to.equal(concatenated(inOrder));
    const one = new RangeChecksum();
    one.add({ path: '/a', checksum: 'd8d4e29665353bad046964ab471446cd23ce6d55' });
    expect(one.digest()).to.equal(sha1('d8d4e29665353bad046964ab471446cd23ce6d55'));
    expect(new RangeChecksum().digest()).to.equal('da39a3ee5e6b4b0d3255bfef95601890afd80709');
  });

  it('range split: the first floor(n/2) on the left, the next one is its tail and the right begin', () => {
    expect(fed(new RangeSplit(5), inOrder).halves()).to.deep.equal({
      left: { end: '/etc/b', tail: '/etc/c', checksum: concatenated(['/etc/a', '/etc/b']) },
      right: { begin: '/etc/c', checksum: concatenated(['/etc/c', '/etc/d', '/etc/e']) },
    });
    expect(fed(new RangeSplit(2), ['/etc/a', '/etc/b']).halves()).to.deep.equal({
      left: { end: '/etc/a', tail: '/etc/b', checksum: concatenated(['/etc/a']) },
      right: { begin: '/etc/b', checksum: concatenated(['/etc/b']) },
    });
    // entries counted, then gone before they were read: no right half
    expect(fed(new RangeSplit(4), ['/etc/a', '/etc/b']).halves()).to.equal(undefined);
  });

  it('paths are ordered by UTF-8 bytes (SQLite BINARY), not UTF-16 units', () => {
    expect(comparePaths('/\uFFFF', '/\u{10000}')).to.be.lessThan(0);
    expect('/\uFFFF' < '/\u{10000}').to.equal(false);
    expect(['/b', '/a', '/c', '/bb'].sort(comparePaths)).to.deep.equal(['/a', '/b', '/bb', '/c']);
  });
});
