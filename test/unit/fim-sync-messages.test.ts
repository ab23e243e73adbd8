// src/fim/sync-messages.ts: the integrity synchronization's messages byte for byte (the captured
// 4.14.7 agent's integrity_check_global, rsync's left/right/state/clear), the manager's requests
// parsed as the agent's rsync decodes them, and rsync's id check.
import { expect } from 'chai';
import { buildFileState, EMPTY_FILE_HASHES } from '../../src/fim/state.js';
import {
  type SyncEntry, checkSyncId, integrityCheckGlobal, integrityCheckLeft, integrityCheckRight, integrityClear, parseSyncRequest,
  stateMessage, syncRequestMessage,
} from '../../src/fim/sync-messages.js';
import { capturedFimMessages } from '../support/fixtures.js';

describe('fim sync messages', () => {
  const { dbsync } = capturedFimMessages();

  it('rebuilds the capture\'s integrity_check_global byte for byte', () => {
    expect(dbsync).to.have.length(1);
    const d = (JSON.parse(dbsync[0]!.slice('5:fim_file:'.length)) as { data: { begin: string; end: string; checksum: string; id: number } }).data;
    expect(integrityCheckGlobal(d)).to.equal(dbsync[0]);
    // The sync id is time(NULL) at the start of the sync, here the second of the first scan.
    expect(d.id).to.equal(1795561587);
    expect(d.begin).to.equal(d.end);
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
    const state = buildFileState({
      stat: { mode: 0o100644, size: 1, uid: 0, gid: 0, ino: 1001, mtime: 1795561001 }, userName: 'root', groupName: 'root',
    });
    const e: SyncEntry = { path: '/etc/a', state, lastEvent: 1795561501 };
    expect(stateMessage(e)).to.equal(
      '5:fim_file:{"component":"fim_file","data":{"attributes":{"attributes":"",' +
      `"checksum":"${state.checksum}","gid":"0","group_name":"root","hash_md5":"${EMPTY_FILE_HASHES.md5}",` +
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
