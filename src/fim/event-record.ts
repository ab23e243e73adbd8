// A FIM event's structured form for the spool (proto/fim_event.proto), next to the Wazuh message.
import Long from 'long';
import type { CaptureSource } from '../capture/event.js';
import { FimCapture, FimEventFields, FimMode as ProtoMode, FimOperation } from '../spool/record.js';
import type { FileState } from './state.js';
import type { AuditData, FimMode } from './wire.js';

export type FimOrigin = { capture: CaptureSource; ktimeNs: bigint } | 'scan';

const MODES: Record<FimMode, number> = { scheduled: ProtoMode.SCHEDULED, realtime: ProtoMode.REALTIME, whodata: ProtoMode.WHODATA };
const CAPTURES: Record<CaptureSource, number> = {
  kprobe: FimCapture.KPROBE,
  fentry: FimCapture.FENTRY,
  tracepoint: FimCapture.TRACEPOINT,
  inotify: FimCapture.INOTIFY,
};
const OPERATIONS = { added: FimOperation.ADDED, modified: FimOperation.MODIFIED, deleted: FimOperation.DELETED };

export function fimEventFields(
  operation: keyof typeof OPERATIONS, path: string, state: FileState, mode: FimMode, origin: FimOrigin, timestamp: number, who?: AuditData,
): FimEventFields {
  const s = state;
  return {
    operation: OPERATIONS[operation],
    path,
    // field by field: an object rest/spread here cost more than the rest of the event's encoding
    attributes: {
      size: s.size, perm: s.perm, uid: s.uid, gid: s.gid, userName: s.user_name, groupName: s.group_name, inode: s.inode, mtime: s.mtime,
      hashMd5: s.hash_md5, hashSha1: s.hash_sha1, hashSha256: s.hash_sha256, checksum: s.checksum,
    },
    who: who && {
      processId: who.process_id, ppid: who.ppid, processName: who.process_name, parentName: who.parent_name, cwd: who.cwd,
      parentCwd: who.parent_cwd, userId: who.user_id, userName: who.user_name, groupId: who.group_id, groupName: who.group_name,
      auditUid: who.audit_uid, auditName: who.audit_name, effectiveUid: who.effective_uid, effectiveName: who.effective_name,
    },
    mode: MODES[mode],
    capture: origin === 'scan' ? FimCapture.SCAN : CAPTURES[origin.capture],
    kernelTimeNs: origin === 'scan' ? 0 : Long.fromString(origin.ktimeNs.toString(), true),
    timestamp,
  };
}
