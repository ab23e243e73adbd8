// src/fim/state.ts: a file's state as Wazuh 4.14.7's fim_get_data fills it, and the changes
// between two states in the order its events list them.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { attributesChecksumInput } from '../../src/fim/checksum.js';
import {
  type FimChecks, EMPTY_FILE_HASHES, buildFileState, compareStates, fileStateFromAttributes, modeToPerm,
} from '../../src/fim/state.js';
import { eventAttributes } from '../../src/fim/wire.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

describe('fim state', () => {
  it('modeToPerm follows agent_file_perm (lowercase s/t even without the x bit)', () => {
    expect(modeToPerm(0o100644)).to.equal('rw-r--r--');
    expect(modeToPerm(0o40755)).to.equal('rwxr-xr-x');
    expect(modeToPerm(0o4755)).to.equal('rwsr-xr-x');
    expect(modeToPerm(0o4644)).to.equal('rwsr--r--');
    expect(modeToPerm(0o2755)).to.equal('rwxr-sr-x');
    expect(modeToPerm(0o2644)).to.equal('rw-r-sr--');
    expect(modeToPerm(0o1777)).to.equal('rwxrwxrwt');
    expect(modeToPerm(0o1666)).to.equal('rw-rw-rwt');
    expect(modeToPerm(0o7000)).to.equal('--s--s--t');
    expect(modeToPerm(0)).to.equal('---------');
  });

  const stat = { mode: 0o100640, size: 5, uid: 1000, gid: 100, ino: 99n, mtime: 1700000000 };
  const hashes = { md5: 'm'.repeat(32), sha1: 's'.repeat(40), sha256: 'S'.repeat(64) };

  it('buildFileState mirrors fim_get_data (checks off -> empty values, inode always kept)', () => {
    const full = buildFileState({ stat, userName: 'alice', groupName: 'users', hashes });
    expect(full).to.deep.include({ size: 5, perm: 'rw-r-----', uid: '1000', gid: '100', user_name: 'alice', inode: '99', mtime: 1700000000 });
    expect(full.checksum).to.equal(sha1(`5:rw-r-----::1000:100:alice:users:1700000000:99:${hashes.md5}:${hashes.sha1}:${hashes.sha256}`));

    const none: FimChecks = { size: false, perm: false, owner: false, group: false, mtime: false, inode: false, md5: false, sha1: false, sha256: true };
    const some = buildFileState({ stat, userName: 'alice', groupName: 'users', checks: none });
    expect(attributesChecksumInput(some)).to.equal(`0:::::::0:99:::${EMPTY_FILE_HASHES.sha256}`);
    expect(eventAttributes(some, none)).to.deep.equal({ type: 'file', hash_sha256: EMPTY_FILE_HASHES.sha256, checksum: some.checksum });
    // Without the real inode a state rebuilt from such attributes has another checksum; pass it.
    expect(fileStateFromAttributes(eventAttributes(some, none), '99').checksum).to.equal(some.checksum);
  });

  it('compareStates lists every change in the 4.14.7 order', () => {
    const a = buildFileState({ stat, userName: 'alice', groupName: 'users', hashes });
    const b = buildFileState({
      stat: { mode: 0o100600, size: 6, uid: 0, gid: 0, ino: 100, mtime: 1700000001 }, userName: 'root', groupName: 'root',
      hashes: { md5: '1'.repeat(32), sha1: '2'.repeat(40), sha256: '3'.repeat(64) },
    });
    const { oldAttributes, changed } = compareStates(a, b);
    expect(changed).to.deep.equal(
      ['size', 'permission', 'uid', 'gid', 'user_name', 'group_name', 'inode', 'mtime', 'md5', 'sha1', 'sha256'],
    );
    expect(oldAttributes).to.deep.equal(eventAttributes(a));
    expect(Object.keys(oldAttributes)).to.deep.equal(Object.keys(eventAttributes(a)));
  });
});
