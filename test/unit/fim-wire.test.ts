// src/fim/wire.ts: the FIM events byte for byte against the captured 4.14.7 agent, the key order and
// number printing of each code path (cJSON, nlohmann), who-data.
import { expect } from 'chai';
import { attributesChecksum } from '../../src/fim/checksum.js';
import { type FileAttributes, DEFAULT_CHECKS, buildFileState, fileStateFromAttributes } from '../../src/fim/state.js';
import {
  type AuditData, auditJson, cjsonNumber, eventAttributes, fileAddedMessage, fileDeletedMessage, fileModifiedMessage,
  parseFimMessage, scanEndMessage, scanStartMessage,
} from '../../src/fim/wire.js';
import { capturedFimMessages, readFixtureJson } from '../support/fixtures.js';

const { syscheck, dbsync } = capturedFimMessages();

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

describe('fim wire: the capture of the real 4.14.7 agent', () => {
  it('has the messages these tests rebuild', () => {
    expect(events.map((e) => e.data.type)).to.deep.equal(['added', 'modified', 'deleted']);
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

  it('parseFimMessage splits queue, location and payload', () => {
    expect(parseFimMessage(dbsync[0]!)).to.deep.include({ queue: '5', location: 'fim_file' });
    expect(parseFimMessage(rawEvent('added'))?.location).to.equal('syscheck');
    expect(parseFimMessage('nope')).to.equal(undefined);
  });
});

describe('fim wire: attributes', () => {
  it('eventAttributes: Wazuh key order and inclusion rules (unknown names left out)', () => {
    const s = buildFileState({
      stat: { mode: 0o100640, size: 5, uid: 1000, gid: 100, ino: 99n, mtime: 1700000000 }, userName: null, groupName: 'users',
      hashes: { md5: 'm'.repeat(32), sha1: 's'.repeat(40), sha256: 'S'.repeat(64) },
    });
    expect(Object.keys(eventAttributes(s))).to.deep.equal(
      ['type', 'size', 'perm', 'uid', 'gid', 'group_name', 'inode', 'mtime', 'hash_md5', 'hash_sha1', 'hash_sha256', 'checksum'],
    );
  });
});

describe('fim wire: event variants', () => {
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
