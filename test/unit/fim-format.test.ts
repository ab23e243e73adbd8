import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  attributesChecksum, attributesChecksumInput, auditJson, buildFileState, checkSyncId, cjsonNumber,
  compareStates, comparePaths, DEFAULT_CHECKS, EMPTY_FILE_HASHES, eventAttributes, fileAddedMessage,
  fileDeletedMessage, fileModifiedMessage, fileStateFromAttributes, integrityCheckGlobal,
  integrityCheckLeft, integrityCheckRight, integrityClear, modeToPerm, parseFimMessage,
  parseSyncRequest, scanEndMessage, scanStartMessage, stateMessage, syncRequestMessage,
  type FileAttributes, type FimChecks, type SyncEntry, type AuditData,
} from '../../src/fim/format.js';
import { RangeChecksum, RangeSplit } from '../../src/fim/checksum.js';
import { loadCapture, readFixtureJson } from '../support/fixtures.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

const capture = loadCapture();
const agentMessages = capture.frames.filter((f) => f.direction === 'agent_to_manager').map((f) => f.message);
const syscheck = agentMessages.filter((m) => m.startsWith('8:syscheck:'));
const dbsync = agentMessages.filter((m) => m.startsWith('5:fim_file:'));

interface EventPayload {
  type: 'event';
  data: {
    path: string; mode: 'realtime'; type: 'added' | 'modified' | 'deleted'; timestamp: number; version: unknown;
    attributes: FileAttributes; old_attributes?: FileAttributes; changed_attributes?: string[];
  };
}
const payload = (m: string) => JSON.parse(m.slice('8:syscheck:'.length)) as { type: string; data: Record<string, unknown> };
const events = syscheck.map(payload).filter((p) => p.type === 'event') as unknown as EventPayload[];
const rawEvent = (type: string) => syscheck[syscheck.map(payload).findIndex((p) => p.type === 'event' && p.data['type'] === type)]!;
const eventOf = (type: string) => events.find((e) => e.data.type === type)!;

describe('fim format: the capture of the real 4.14.7 agent', () => {
  it('has the messages these tests rebuild', () => {
    expect(events.map((e) => e.data.type)).to.deep.equal(['added', 'modified', 'deleted']);
    expect(dbsync).to.have.length(1);
  });

  it('attributesChecksum() recomputes every checksum of the capture (attributes and old_attributes)', () => {
    const all = events.flatMap((e) => [e.data.attributes, ...(e.data.old_attributes ? [e.data.old_attributes] : [])]);
    expect(all).to.have.length(4);
    for (const a of all) expect(attributesChecksum(a), JSON.stringify(a)).to.equal(a.checksum);
  });

  it('checksum text is size:perm:attributes:uid:gid:user:group:mtime:inode:md5:sha1:sha256 (create_db.c fim_get_checksum)', () => {
    const a = eventOf('added').data.attributes;
    expect(attributesChecksumInput(a)).to.equal(
      '14:rw-r--r--::0:0:root:root:1795561597:2211851:582f7f4c4894606ed8ddc187d4b10e1a:' +
      '828377355fc4a417d07d8bc19c4c5b8734240c10:c808d09618a22b677f46b14c19cf36ead59be005198b1c1680dc251832e487e5',
    );
    expect(attributesChecksum(a)).to.equal(sha1(attributesChecksumInput(a)));
  });

  it('rebuilds scan_start and scan_end byte for byte', () => {
    expect(syscheck).to.include(scanStartMessage(1795561587));
    expect(syscheck).to.include(scanEndMessage(1795561587));
    expect(scanStartMessage(1795561587)).to.equal('8:syscheck:{"type":"scan_start","data":{"timestamp":1795561587}}');
  });

  it('rebuilds the realtime added event byte for byte (sorted keys, "version":"2.0")', () => {
    const e = eventOf('added').data;
    const msg = fileAddedMessage(e.path, fileStateFromAttributes(e.attributes), e.timestamp, { mode: 'realtime' });
    expect(msg).to.equal(rawEvent('added'));
    expect(payload(msg)).to.deep.equal(payload(rawEvent('added')));
  });

  it('rebuilds the realtime modified event byte for byte (changed_attributes in Wazuh order)', () => {
    const e = eventOf('modified').data;
    const msg = fileModifiedMessage(
      e.path, fileStateFromAttributes(e.old_attributes!), fileStateFromAttributes(e.attributes), e.timestamp, { mode: 'realtime' },
    );
    expect(msg).to.equal(rawEvent('modified'));
    expect(e.changed_attributes).to.deep.equal(['size', 'mtime', 'md5', 'sha1', 'sha256']);
  });

  it('rebuilds the realtime deleted event byte for byte (insertion order, "version":2, stored last_event)', () => {
    const e = eventOf('deleted').data;
    const msg = fileDeletedMessage(e.path, fileStateFromAttributes(e.attributes), e.timestamp, { mode: 'realtime' });
    expect(msg).to.equal(rawEvent('deleted'));
    // The deletion carries the modification's timestamp: Wazuh sends the entry's stored last_event.
    expect(e.timestamp).to.equal(eventOf('modified').data.timestamp);
  });

  it('rebuilds integrity_check_global byte for byte', () => {
    const d = (JSON.parse(dbsync[0]!.slice('5:fim_file:'.length)) as { data: { begin: string; end: string; checksum: string; id: number } }).data;
    expect(integrityCheckGlobal(d)).to.equal(dbsync[0]);
    // The sync id is time(NULL) at the start of the sync, here the second of the first scan.
    expect(d.id).to.equal(1795561587);
    expect(d.begin).to.equal(d.end);
  });

  it('parseFimMessage splits queue, location and payload', () => {
    expect(parseFimMessage(dbsync[0]!)).to.deep.include({ queue: '5', location: 'fim_file' });
    expect(parseFimMessage(rawEvent('added'))?.location).to.equal('syscheck');
    expect(parseFimMessage('nope')).to.equal(undefined);
  });
});

describe('fim format: attributes', () => {
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

  it('eventAttributes: Wazuh key order and inclusion rules (unknown names left out)', () => {
    const s = buildFileState({ stat, userName: null, groupName: 'users', hashes });
    expect(Object.keys(eventAttributes(s))).to.deep.equal(
      ['type', 'size', 'perm', 'uid', 'gid', 'group_name', 'inode', 'mtime', 'hash_md5', 'hash_sha1', 'hash_sha256', 'checksum'],
    );
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

describe('fim format: event variants', () => {
  const base = buildFileState({
    stat: { mode: 0o100644, size: 3, uid: 0, gid: 0, ino: 42, mtime: 1795562290 }, userName: 'root', groupName: 'root',
  });
  const grown = buildFileState({
    stat: { mode: 0o100644, size: 4, uid: 0, gid: 0, ino: 42, mtime: 1795562291 }, userName: 'root', groupName: 'root',
    hashes: { md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'c'.repeat(64) },
  });
  const audit: AuditData = {
    user_id: '0', user_name: 'root', group_id: '0', group_name: 'root', process_name: '/usr/bin/rm', process_id: 4242,
    ppid: 4200, parent_name: '/usr/bin/bash', cwd: '/root', parent_cwd: '/root', audit_uid: '1000', audit_name: 'alice',
    effective_uid: '0', effective_name: 'root',
  };

  it('audit: fim_audit_json key order, same content as the whodata fixture', () => {
    const fx = readFixtureJson<{ event_excerpt: { data: { audit: AuditData } } }>('whodata-alert-4.14.7.json');
    expect(auditJson(fx.event_excerpt.data.audit)).to.deep.equal(fx.event_excerpt.data.audit);
    expect(Object.keys(auditJson(audit))).to.deep.equal([
      'user_id', 'user_name', 'process_name', 'process_id', 'cwd', 'group_id', 'group_name', 'audit_uid', 'audit_name',
      'effective_uid', 'effective_name', 'parent_name', 'parent_cwd', 'ppid',
    ]);
    // eBPF provider: no audit_* / effective_* strings.
    expect(Object.keys(auditJson({ user_id: '0', process_id: 1, ppid: 0 }))).to.deep.equal(['user_id', 'process_id', 'ppid']);
  });

  it('whodata deleted: fim_json_event order with audit then tags', () => {
    const msg = fileDeletedMessage('/tmp/x', base, 1795562290, { mode: 'whodata', audit, tags: 'prod' });
    const p = payload(msg);
    expect(Object.keys(p)).to.deep.equal(['type', 'data']);
    expect(Object.keys(p.data)).to.deep.equal(['path', 'version', 'mode', 'type', 'timestamp', 'attributes', 'audit', 'tags']);
    expect(p.data['version']).to.equal(2);
    expect(msg).to.contain('"version":2,"mode":"whodata","type":"deleted"');
  });

  it('whodata/realtime added & modified: sorted part, then content_changes, audit, tags', () => {
    const added = payload(fileAddedMessage('/tmp/x', base, 5, { mode: 'whodata', audit, tags: 't', contentChanges: 'ignored' }));
    expect(Object.keys(added)).to.deep.equal(['data', 'type']);
    expect(Object.keys(added.data)).to.deep.equal(['attributes', 'mode', 'path', 'timestamp', 'type', 'version', 'audit', 'tags']);
    expect(Object.keys(added.data['audit'] as object)[3]).to.equal('process_id');

    const mod = fileModifiedMessage('/tmp/x', base, grown, 6, { mode: 'realtime', audit, tags: 't', contentChanges: '1c1\n< a\n---\n> b\n' })!;
    const p = payload(mod);
    expect(Object.keys(p.data)).to.deep.equal([
      'attributes', 'changed_attributes', 'mode', 'old_attributes', 'path', 'timestamp', 'type', 'version', 'content_changes', 'tags',
    ]);
    expect(p.data['version']).to.equal('2.0');
    expect(Object.keys(p.data['attributes'] as object)).to.deep.equal([...Object.keys(eventAttributes(grown))].sort());
  });

  it('scheduled events: transaction_callback order and "version":2', () => {
    const added = payload(fileAddedMessage('/tmp/x', base, 5, { mode: 'scheduled', tags: 't' }));
    expect(Object.keys(added)).to.deep.equal(['type', 'data']);
    expect(Object.keys(added.data)).to.deep.equal(['path', 'version', 'mode', 'type', 'timestamp', 'attributes', 'tags']);

    const mod = payload(fileModifiedMessage('/tmp/x', base, grown, 6, { mode: 'scheduled', audit, contentChanges: 'diff' })!);
    expect(Object.keys(mod.data)).to.deep.equal(
      ['path', 'version', 'mode', 'type', 'timestamp', 'attributes', 'old_attributes', 'changed_attributes', 'content_changes'],
    );
    expect(Object.keys(mod.data['attributes'] as object)).to.deep.equal(Object.keys(eventAttributes(grown)));

    const del = payload(fileDeletedMessage('/tmp/x', base, 5, { mode: 'scheduled', contentChanges: 'never' }));
    expect(Object.keys(del.data)).to.deep.equal(['path', 'version', 'mode', 'type', 'timestamp', 'attributes']);
  });

  it('scheduled deletions/modifications copy size and mtime through cJSON valueint', () => {
    const big = { ...base, size: 5_000_000_000 };
    expect((payload(fileDeletedMessage('/b', big, 1, { mode: 'scheduled' })).data['attributes'] as FileAttributes).size).to.equal(2147483647);
    expect((payload(fileDeletedMessage('/b', big, 1, { mode: 'realtime' })).data['attributes'] as FileAttributes).size).to.equal(5e9);
    const smaller = { ...big, size: 1, checksum: 'other' };
    const mod = payload(fileModifiedMessage('/b', big, smaller, 1, { mode: 'scheduled' })!);
    expect((mod.data['old_attributes'] as FileAttributes).size).to.equal(2147483647);
  });

  it('no event when nothing reported changed (inode only, check_inode off)', () => {
    const checks = { ...DEFAULT_CHECKS, inode: false };
    const moved = { ...base, inode: '43' };
    const movedState = { ...moved, checksum: attributesChecksum(moved) };
    expect(movedState.checksum).to.not.equal(base.checksum);
    expect(fileModifiedMessage('/tmp/x', base, movedState, 7, { mode: 'realtime', checks })).to.equal(null);
    expect(fileModifiedMessage('/tmp/x', base, movedState, 7, { mode: 'realtime' })).to.contain('"changed_attributes":["inode"]');
  });

  it('cJSON number printing', () => {
    expect(cjsonNumber(2)).to.equal('2');
    expect(cjsonNumber(-0)).to.equal('0');
    expect(cjsonNumber(3e9)).to.equal('3000000000');
    expect(cjsonNumber(1e15)).to.equal('1e+15');
    expect(cjsonNumber(1234567890123456)).to.equal('1234567890123456');
    expect(cjsonNumber(1.5)).to.equal('1.5');
    expect(cjsonNumber(0.1)).to.equal('0.1');
  });
});

describe('fim format: integrity synchronization', () => {
  const entry = (path: string, n: number): SyncEntry => {
    const state = buildFileState({
      stat: { mode: 0o100644, size: n, uid: 0, gid: 0, ino: 1000 + n, mtime: 1795561000 + n }, userName: 'root', groupName: 'root',
    });
    return { path, state, lastEvent: 1795561500 + n };
  };
  const entries = ['/etc/e', '/etc/a', '/etc/d', '/etc/b', '/etc/c'].map((p, i) => entry(p, i));
  const byPath = (p: string) => entries.find((e) => e.path === p)!;

  const fed = <T>(sum: T & { add(e: { path: string; checksum: string }): void }, paths: string[]): T => {
    for (const p of paths) sum.add({ path: p, checksum: byPath(p).state.checksum });
    return sum;
  };
  const inOrder = ['/etc/a', '/etc/b', '/etc/c', '/etc/d', '/etc/e'];
  const concatenated = (ps: string[]) => sha1(ps.map((p) => byPath(p).state.checksum).join(''));

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

  it('integrity_clear', () => {
    expect(integrityClear(17)).to.equal('5:fim_file:{"component":"fim_file","data":{"id":17},"type":"integrity_clear"}');
  });

  it('left/right messages: sorted keys, tail only on the left', () => {
    expect(integrityCheckLeft({ begin: '/a', end: '/b', tail: '/c', checksum: 'k', id: 3 })).to.equal(
      '5:fim_file:{"component":"fim_file","data":{"begin":"/a","checksum":"k","end":"/b","id":3,"tail":"/c"},"type":"integrity_check_left"}',
    );
    expect(integrityCheckRight({ begin: '/c', end: '/z', checksum: 'k', id: 3 })).to.equal(
      '5:fim_file:{"component":"fim_file","data":{"begin":"/c","checksum":"k","end":"/z","id":3},"type":"integrity_check_right"}',
    );
  });

  it('state message: whole row, sorted, inode string, "attributes":"" and no version', () => {
    const e = entry('/etc/a', 1);
    const s = e.state;
    expect(stateMessage(e)).to.equal(
      '5:fim_file:{"component":"fim_file","data":{"attributes":{"attributes":"",' +
      `"checksum":"${s.checksum}","gid":"0","group_name":"root","hash_md5":"${EMPTY_FILE_HASHES.md5}",` +
      `"hash_sha1":"${EMPTY_FILE_HASHES.sha1}","hash_sha256":"${EMPTY_FILE_HASHES.sha256}","inode":"1001",` +
      '"mtime":1795561001,"perm":"rw-r--r--","size":1,"type":"file","uid":"0","user_name":"root"},' +
      '"index":"/etc/a","timestamp":1795561501},"type":"state"}',
    );
  });

  it('parseSyncRequest / syncRequestMessage', () => {
    const wire = '#!-fim_file dbsync checksum_fail {"begin":"/etc/a","end":"/etc/e","id":1795561587}';
    const req = parseSyncRequest(wire);
    expect(req).to.deep.equal({ component: 'fim_file', command: 'checksum_fail', begin: '/etc/a', end: '/etc/e', id: 1795561587 });
    expect(syncRequestMessage(req!)).to.equal(wire);
    expect(parseSyncRequest(wire.slice(3))).to.deep.equal(req);
    expect(parseSyncRequest('fim_file dbsync no_data {"begin":"/a b","end":"/z","id":1}')).to.deep.include({ command: 'no_data', begin: '/a b' });
    expect(parseSyncRequest('#!-syscheck dbsync checksum_fail {"begin":"/a","end":"/z","id":1}')).to.equal(undefined);
    expect(parseSyncRequest('#!-fim_file dbsync checksum_fail {"begin":"/a"}')).to.equal(undefined);
    expect(parseSyncRequest('#!-fim_file dbsync checksum_fail not-json')).to.equal(undefined);
    expect(parseSyncRequest('#!-agent ack ')).to.equal(undefined);
  });

  it('checkSyncId: newer ids refused, older ones accepted and adopted', () => {
    expect(checkSyncId(100, 100)).to.deep.equal({ accepted: true, current: 100 });
    expect(checkSyncId(100, 101)).to.deep.equal({ accepted: false, current: 100 });
    expect(checkSyncId(100, 99)).to.deep.equal({ accepted: true, current: 99 });
  });
});
