// Decodes the records bpf/fim.bpf.c writes to its ring buffer (struct fim_event in bpf/fim.h,
// 168-byte header + path data) into events with absolute paths. Pure: the anchor table comes
// from the caller.
import path from 'node:path';

export const HEADER_SIZE = 168;
const REF_SIZE = 12;
const REFS_OFFSET = 88;
const DATA_LEN_OFFSET = 160;

/**
 * What the kernel saw. 'modify': a file opened for writing was closed; 'write': a write to a file
 * (throttled per file in the kernel); 'attrib': mode, owner, times or size set; 'link' (hard link),
 * 'symlink' and 'mkdir' create `path`; 'rmdir' removes it; 'rename' moves `path` to `newPath`.
 */
export type FimOp = 'delete' | 'create' | 'modify' | 'rename' | 'attrib' | 'link' | 'symlink' | 'mkdir' | 'rmdir' | 'write';
/** Attributes an 'attrib' event set (the kernel's ATTR_* bits of struct iattr, or the syscall's). */
export type AttrChange = 'mode' | 'uid' | 'gid' | 'size' | 'atime' | 'mtime';
export type CaptureSource = 'kprobe' | 'fentry' | 'tracepoint' | 'inotify';

const OPS: Record<number, FimOp> = { 1: 'delete', 2: 'create', 3: 'modify', 4: 'rename' };
const SOURCES: Record<number, CaptureSource> = { 1: 'kprobe', 2: 'fentry', 3: 'tracepoint' };

enum PathKind {
  None = 0,
  Anchored = 1,
  Absolute = 2,
  String = 3,
}

enum Ref {
  Path = 0,
  PathName = 1,
  Path2 = 2,
  Path2Name = 3,
  Cwd = 4,
  ParentCwd = 5,
}

const TRUNCATED = 1;

/** Who did it: the kernel's view of the task at the hook. */
export interface WhoData {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  euid: number;
  gid: number;
  /** Audit login uid; undefined when unset (4294967295) or without CONFIG_AUDIT. */
  loginuid: number | undefined;
  comm: string;
  parentComm: string;
  cwd: string | undefined;
  parentCwd: string | undefined;
}

export interface CaptureEvent {
  op: FimOp;
  source: CaptureSource;
  /** Absolute path; for a rename, the old one. Undefined when it cannot be resolved. */
  path: string | undefined;
  /** Rename: the new path. */
  newPath?: string;
  /** Inode and kernel device (major << 20 | minor) of the file; 0 when unknown. */
  inode: bigint;
  device: number;
  /** CLOCK_MONOTONIC nanoseconds at the hook (0 when the source has no kernel clock). */
  ktimeNs: bigint;
  /** A path was longer than the kernel-side limits allow. */
  truncated: boolean;
  /** Absent where the source cannot tell (inotify). */
  who?: WhoData;
}

/** Maps the anchor ids registered in the BPF `anchors` map to their absolute paths. */
export type AnchorPaths = (id: number) => string | undefined;

interface PathRef {
  anchor: number;
  offset: number;
  len: number;
  count: number;
  kind: PathKind;
  flags: number;
}

export class EventDecodeError extends Error {}

export function decodeEvent(rec: Buffer, anchors: AnchorPaths): CaptureEvent {
  if (rec.length < HEADER_SIZE) throw new EventDecodeError(`record of ${rec.length} bytes is shorter than the ${HEADER_SIZE}-byte header`);
  const op = OPS[rec.readUInt32LE(20)];
  const source = SOURCES[rec.readUInt32LE(24)];
  if (!op || !source) throw new EventDecodeError(`unknown operation ${rec.readUInt32LE(20)} or source ${rec.readUInt32LE(24)}`);
  const dataLen = rec.readUInt32LE(DATA_LEN_OFFSET);
  if (HEADER_SIZE + dataLen > rec.length) throw new EventDecodeError(`path data (${dataLen} bytes) runs past the record (${rec.length} bytes)`);
  const data = rec.subarray(HEADER_SIZE, HEADER_SIZE + dataLen);
  const refs = Array.from({ length: 6 }, (_, i) => readRef(rec, REFS_OFFSET + i * REF_SIZE));
  const text = (r: PathRef) => resolveRef(r, data, anchors);
  const cwd = text(refs[Ref.Cwd]!);
  const loginuid = rec.readUInt32LE(52);
  const event: CaptureEvent = {
    op,
    source,
    path: joinSyscallPath(text(refs[Ref.Path]!), text(refs[Ref.PathName]!), cwd),
    inode: rec.readBigUInt64LE(8),
    device: rec.readUInt32LE(16),
    ktimeNs: rec.readBigUInt64LE(0),
    truncated: refs.some((r) => (r.flags & TRUNCATED) !== 0),
    who: {
      pid: rec.readUInt32LE(28),
      tid: rec.readUInt32LE(32),
      ppid: rec.readUInt32LE(36),
      uid: rec.readUInt32LE(40),
      euid: rec.readUInt32LE(44),
      gid: rec.readUInt32LE(48),
      loginuid: loginuid === 0xffffffff ? undefined : loginuid,
      comm: cString(rec, 56, 16),
      parentComm: cString(rec, 72, 16),
      cwd,
      parentCwd: text(refs[Ref.ParentCwd]!),
    },
  };
  if (op === 'rename') event.newPath = joinSyscallPath(text(refs[Ref.Path2]!), text(refs[Ref.Path2Name]!), cwd);
  return event;
}

/** Kernel dev_t (major << 20 | minor) of a `fs.Stats.dev` (glibc's encoding). */
export function kernelDevice(statDev: number | bigint): number {
  const dev = BigInt(statDev);
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & 0xffffff00n));
  // the kernel keeps 12 bits of major and 20 of minor (MINORBITS)
  return (((major & 0xfff) << 20) | (minor & 0xfffff)) >>> 0;
}

function readRef(rec: Buffer, at: number): PathRef {
  return {
    anchor: rec.readUInt32LE(at),
    offset: rec.readUInt16LE(at + 4),
    len: rec.readUInt16LE(at + 6),
    count: rec.readUInt16LE(at + 8),
    kind: rec.readUInt8(at + 10),
    flags: rec.readUInt8(at + 11),
  };
}

function resolveRef(r: PathRef, data: Buffer, anchors: AnchorPaths): string | undefined {
  if (r.kind === PathKind.None) return undefined;
  const bytes = data.subarray(r.offset, r.offset + r.len);
  if (r.kind === PathKind.String) return cString(bytes, 0, bytes.length);
  // components were written leaf first, each NUL-terminated
  const components = bytes.toString('utf8').split('\0').slice(0, r.count).reverse();
  if (r.kind === PathKind.Absolute) return `/${components.join('/')}`;
  if (r.kind === PathKind.Anchored) {
    const root = anchors(r.anchor);
    if (root === undefined) return undefined;
    return components.length ? path.posix.join(root, ...components) : root;
  }
  return undefined;
}

/**
 * Tracepoint events carry the name as the process passed it, plus the directory it is relative
 * to when that was not the working directory. Kprobe/fentry events carry a full path already.
 */
function joinSyscallPath(dir: string | undefined, name: string | undefined, cwd: string | undefined): string | undefined {
  if (name === undefined) return dir;
  if (name.startsWith('/')) return path.posix.normalize(name);
  const base = dir ?? cwd;
  return base === undefined ? undefined : path.posix.join(base, name);
}

function cString(buf: Buffer, start: number, max: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end >= start && end < start + max ? end : start + max);
}
