// The capture's event contract: the records bpf/fim.bpf.c writes to its ring buffer (struct
// fim_event in bpf/fim.h, 200-byte header + path data), one offset table checked against the
// object's BTF at load, and their decoding into events with absolute paths. Pure: the anchor
// table comes from the caller.
import path from 'node:path';
import type { Btf } from '../bpf/btf.js';
import type { ProcessPathSet, ProcessPaths } from './process-paths.js';

/**
 * struct fim_event (bpf/fim.h): every field the decoder reads, with its byte offset and size.
 * checkEventLayout() compares this table with the struct in the object's BTF when the programs
 * load, so a change on one side that is not made on the other stops the capture with a reason.
 */
export const EVENT_LAYOUT = {
  ktime_ns: { offset: 0, size: 8 },
  ino: { offset: 8, size: 8 },
  dev: { offset: 16, size: 4 },
  op: { offset: 20, size: 4 },
  source: { offset: 24, size: 4 },
  tgid: { offset: 28, size: 4 },
  pid: { offset: 32, size: 4 },
  ppid: { offset: 36, size: 4 },
  uid: { offset: 40, size: 4 },
  euid: { offset: 44, size: 4 },
  gid: { offset: 48, size: 4 },
  loginuid: { offset: 52, size: 4 },
  comm: { offset: 56, size: 16 },
  pcomm: { offset: 72, size: 16 },
  refs: { offset: 88, size: 8 * 12 },
  data_len: { offset: 184, size: 4 },
  attrs: { offset: 188, size: 4 },
  who_gen: { offset: 192, size: 4 },
  flags: { offset: 196, size: 4 },
} as const;
export const HEADER_SIZE = 200;
/** FIM_EVENT_WHO_REUSED: the process paths are those of the thread's walk `who_gen`, sent before. */
const WHO_REUSED = 1;
/** struct fim_path_ref */
const REF_LAYOUT = {
  anchor: { offset: 0, size: 4 },
  offset: { offset: 4, size: 2 },
  len: { offset: 6, size: 2 },
  count: { offset: 8, size: 2 },
  kind: { offset: 10, size: 1 },
  flags: { offset: 11, size: 1 },
} as const;
const REF_SIZE = 12;
const REF_COUNT = 8;
const L = EVENT_LAYOUT;

export type FimOp = 'delete' | 'create' | 'modify' | 'rename' | 'attrib' | 'link' | 'symlink' | 'mkdir' | 'rmdir' | 'write';
/** Attributes an 'attrib' event set (the kernel's ATTR_* bits of struct iattr, or the syscall's). */
export type AttrChange = 'mode' | 'uid' | 'gid' | 'size' | 'atime' | 'mtime';
export type CaptureSource = 'kprobe' | 'fentry' | 'tracepoint' | 'inotify';

const OPS: Record<number, FimOp> = {
  1: 'delete', 2: 'create', 3: 'modify', 4: 'rename', 5: 'attrib', 6: 'link', 7: 'symlink', 8: 'mkdir', 9: 'rmdir', 10: 'write',
};
/** FIM_ATTR_* (the kernel's ATTR_* bits) */
const ATTRS: [number, AttrChange][] = [[0x1, 'mode'], [0x2, 'uid'], [0x4, 'gid'], [0x8, 'size'], [0x10, 'atime'], [0x20, 'mtime']];
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
  Exe = 6,
  ParentExe = 7,
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
  /** The executables of the process and its parent, read in the kernel at the event (a short-lived process is gone by the time user space looks). */
  exe?: string;
  parentExe?: string;
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
  /** 'attrib': what was set. */
  attributes?: AttrChange[];
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

/**
 * One record. `processPaths` keeps each thread's last walk of its process paths: the record
 * either carries a walk (kept there) or names one (taken from there).
 */
export function decodeEvent(rec: Buffer, anchors: AnchorPaths, processPaths: ProcessPaths): CaptureEvent {
  if (rec.length < HEADER_SIZE) throw new EventDecodeError(`record of ${rec.length} bytes is shorter than the ${HEADER_SIZE}-byte header`);
  const u32 = (f: { offset: number }) => rec.readUInt32LE(f.offset);
  const op = OPS[u32(L.op)];
  const source = SOURCES[u32(L.source)];
  if (!op || !source) throw new EventDecodeError(`unknown operation ${u32(L.op)} or source ${u32(L.source)}`);
  const dataLen = u32(L.data_len);
  if (HEADER_SIZE + dataLen > rec.length) throw new EventDecodeError(`path data (${dataLen} bytes) runs past the record (${rec.length} bytes)`);
  const data = rec.subarray(HEADER_SIZE, HEADER_SIZE + dataLen);
  const refs = Array.from({ length: REF_COUNT }, (_, i) => readRef(rec, L.refs.offset + i * REF_SIZE));
  const text = (r: PathRef) => resolveRef(r, data, anchors);
  const tid = u32(L.pid);
  const gen = u32(L.who_gen);
  let paths: ProcessPathSet | undefined;
  if (u32(L.flags) & WHO_REUSED) {
    paths = processPaths.named(tid, gen);
  } else {
    paths = { cwd: text(refs[Ref.Cwd]!), parentCwd: text(refs[Ref.ParentCwd]!), exe: text(refs[Ref.Exe]!), parentExe: text(refs[Ref.ParentExe]!) };
    processPaths.walked(tid, gen, paths);
  }
  const cwd = paths?.cwd;
  const loginuid = u32(L.loginuid);
  const who: WhoData = {
    pid: u32(L.tgid),
    tid,
    ppid: u32(L.ppid),
    uid: u32(L.uid),
    euid: u32(L.euid),
    gid: u32(L.gid),
    loginuid: loginuid === 0xffffffff ? undefined : loginuid,
    comm: cString(rec, L.comm.offset, L.comm.size),
    parentComm: cString(rec, L.pcomm.offset, L.pcomm.size),
    cwd,
    parentCwd: paths?.parentCwd,
  };
  if (paths?.exe !== undefined) who.exe = paths.exe;
  if (paths?.parentExe !== undefined) who.parentExe = paths.parentExe;
  const event: CaptureEvent = {
    op,
    source,
    path: joinSyscallPath(text(refs[Ref.Path]!), text(refs[Ref.PathName]!), cwd),
    inode: rec.readBigUInt64LE(L.ino.offset),
    device: u32(L.dev),
    ktimeNs: rec.readBigUInt64LE(L.ktime_ns.offset),
    truncated: refs.some((r) => (r.flags & TRUNCATED) !== 0),
    who,
  };
  if (op === 'rename') event.newPath = joinSyscallPath(text(refs[Ref.Path2]!), text(refs[Ref.Path2Name]!), cwd);
  if (op === 'attrib') {
    const bits = u32(L.attrs);
    event.attributes = ATTRS.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => name);
  }
  return event;
}

/**
 * Compares the decoder's tables with `struct fim_event` and `struct fim_path_ref` in the BPF
 * object's BTF; returns the differences (none when they agree).
 */
export function checkEventLayout(btf: Btf): string[] {
  const problems: string[] = [];
  const compare = (struct: string, table: Record<string, { offset: number; size: number }>, size: number) => {
    const members = btf.structMembers(struct);
    if (!members) {
      problems.push(`the object's BTF has no struct ${struct}`);
      return;
    }
    for (const [name, want] of Object.entries(table)) {
      const m = members.find((x) => x.name === name);
      if (!m) problems.push(`struct ${struct} has no member '${name}'`);
      else if (m.offset !== want.offset || m.size !== want.size) {
        problems.push(`struct ${struct}.${name} is at ${m.offset} (${m.size} bytes) in the object, at ${want.offset} (${want.size} bytes) in the decoder`);
      }
    }
    const last = members.reduce((end, m) => Math.max(end, m.offset + m.size), 0);
    if (last !== size) problems.push(`struct ${struct} is ${last} bytes in the object, ${size} in the decoder`);
  };
  compare('fim_event', EVENT_LAYOUT, HEADER_SIZE);
  compare('fim_path_ref', REF_LAYOUT, REF_SIZE);
  return problems;
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
  const R = REF_LAYOUT;
  return {
    anchor: rec.readUInt32LE(at + R.anchor.offset),
    offset: rec.readUInt16LE(at + R.offset.offset),
    len: rec.readUInt16LE(at + R.len.offset),
    count: rec.readUInt16LE(at + R.count.offset),
    kind: rec.readUInt8(at + R.kind.offset),
    flags: rec.readUInt8(at + R.flags.offset),
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
