// The one way FIM reaches a monitored path. Unprivileged users write into monitored trees and
// swap files and directories for symbolic links, FIFOs or devices while the agent reads, so a
// path string is never trusted twice: each read resolves it beneath its monitored root with
// openat2(2) (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: a link anywhere in
// the path refuses the lookup), opens it O_PATH (which never runs a FIFO's or a device's open),
// fstat()s that descriptor, and only for a regular file reopens the same inode for reading
// through /proc/self/fd. Every reader of a file — hashes, attributes, the report_changes copy
// and its diff — then uses that one descriptor.
//
// Wazuh 4.14.7 (syscheckd/src/create_db.c fim_checker) lstat()s each path and reads it again by
// name; this layer keeps its results (links are entries, FIFOs and devices are skipped) without
// the races. openat2 exists since Linux 5.6: every kernel this agent supports.
import koffi from 'koffi';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** openat2(2)'s number: one for every architecture since the 5.x unified syscall table. */
const SYS_OPENAT2 = 437;
const O_RDONLY = 0;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
/** sizeof(struct open_how): flags, mode, resolve (three u64). */
const OPEN_HOW_SIZE = 24;

let openat2: ((dirfd: number, path: string, how: Buffer) => number) | undefined;

function loadOpenat2(): (dirfd: number, path: string, how: Buffer) => number {
  if (!openat2) {
    const syscall = koffi.load('libc.so.6').func('long syscall(long nr, int dirfd, const char *path, void *how, size_t size)');
    openat2 = (dirfd, p, how) => Number(syscall(SYS_OPENAT2, dirfd, p, how, OPEN_HOW_SIZE));
  }
  return openat2;
}

function openHow(flags: number, resolve = RESOLVE): Buffer {
  const how = Buffer.alloc(OPEN_HOW_SIZE);
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  return how;
}

const HOW_ENTRY = openHow(O_PATH | O_NOFOLLOW | O_CLOEXEC);
const HOW_DIRECTORY = openHow(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

const ERRNO_NAMES = new Map(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));

/** A failed system call as Node reports one: `code` is the errno's name (ELOOP, ENOENT…). */
export function errnoError(op: string, errno: number, p: string): NodeJS.ErrnoException {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  const e = new Error(`${code}: ${op} '${p}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = -errno;
  e.syscall = op;
  return e;
}

/** What a read found at a path, resolved beneath its root. */
export type EntryKind = 'file' | 'symlink' | 'directory' | 'other';

export function kindOf(st: fs.BigIntStats): EntryKind {
  return st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'directory' : 'other';
}

/** The moments at which a reader takes data from an open file: the test seam below runs at each. */
export type ReadPhase = 'hash' | 'attributes' | 'copy' | 'diff';

/**
 * A test seam: runs with the path just before each reader reads the file it opened. Tests swap
 * the path for a symlink or a FIFO there and check that nothing of the swapped-in target is read.
 */
let beforeRead: ((phase: ReadPhase, file: string) => void) | undefined;

export function setBeforeReadHook(hook: typeof beforeRead): void {
  beforeRead = hook;
}

/** A regular file opened for reading through the access layer; its readers share the one fd. */
export class OpenFile {
  private closed = false;

  constructor(readonly path: string, readonly fd: number, readonly stat: fs.BigIntStats) {}

  /** Called by each reader before it reads (the test seam). */
  reading(phase: ReadPhase): void {
    beforeRead?.(phase, this.path);
  }

  /** fstat(2) of the open file: the attributes of exactly the inode that was read. */
  fstat(): fs.BigIntStats {
    this.reading('attributes');
    return fs.fstatSync(this.fd, { bigint: true });
  }

  /**
   * The file's content from offset 0 (pread: readers do not move each other's offset), at most
   * `limit` bytes; undefined when the file holds more than that.
   */
  readAll(phase: ReadPhase, limit: number): Buffer | undefined {
    this.reading(phase);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limit - total + 1));
      const n = fs.readSync(this.fd, chunk, 0, chunk.length, total);
      if (n === 0) break;
      total += n;
      if (total > limit) return undefined;
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/** The entry at a path: its lstat, and for a regular file an OpenFile the caller closes. */
export type Entry =
  | { kind: 'file'; stat: fs.BigIntStats; file: OpenFile }
  | { kind: Exclude<EntryKind, 'file'>; stat: fs.BigIntStats };

/** A directory opened beneath the root: its names, and each child's lstat relative to it. */
export interface OpenDirectory {
  /** The directory's descriptor (for fstatfs through /proc/self/fd). */
  fd: number;
  /** Its entries, with the type readdir(3) gives (looked up in this directory when the filesystem gives none). */
  entries: fs.Dirent<Buffer>[];
  /** lstat(2) of a child, looked up in this very directory (never through the path again). */
  lstat(name: Buffer): fs.BigIntStats;
  close(): void;
}

/**
 * One monitored root (a configured <directories> path). The root itself is trusted as the
 * administrator configured it — followed when it is a link and `follow_symbolic_link` is set;
 * every component below it is resolved without following anything.
 */
export class MonitoredRoot {
  private constructor(readonly path: string, private readonly fd: number) {}

  /**
   * Opens the root; throws an errno error (ENOENT, ELOOP for a link not followed…). `base`: a
   * trusted directory above the root (a wildcard's fixed part) beneath which the rest of its path
   * is resolved, without links unless `follow` (and then only to places beneath `base`).
   */
  static open(root: string, follow: boolean, base?: string): MonitoredRoot {
    if (base === undefined || base === root) return new MonitoredRoot(root, fs.openSync(root, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)));
    const baseFd = fs.openSync(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
    try {
      const how = openHow(O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), follow ? RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS : RESOLVE);
      const fd = loadOpenat2()(baseFd, path.relative(base, root), how);
      if (fd < 0) throw errnoError('openat2', koffi.errno(), root);
      return new MonitoredRoot(root, fd);
    } finally {
      fs.closeSync(baseFd);
    }
  }

  /** Runs `fn` with the root open, closing it afterwards. */
  static with<T>(root: string, follow: boolean, fn: (r: MonitoredRoot) => T): T {
    const r = MonitoredRoot.open(root, follow);
    try {
      return fn(r);
    } finally {
      r.close();
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** `p` relative to the root ('' for the root itself); an error for a path outside it. */
  private relative(p: string): string {
    const rel = path.relative(this.path, p);
    // '..' as a whole component only: '..hidden' is a name a user may give a file in the tree
    if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) throw errnoError('openat2', os.constants.errno.EXDEV, p);
    return rel;
  }

  /** An O_PATH descriptor of the entry at `p` itself (a link is the link), or an errno error. */
  private openPath(p: string, how: Buffer = HOW_ENTRY): number {
    const rel = this.relative(p);
    if (rel === '') {
      if (how === HOW_ENTRY) return fs.openSync(`/proc/self/fd/${this.fd}`, O_PATH | O_CLOEXEC);
      return fs.openSync(`/proc/self/fd/${this.fd}`, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    const fd = loadOpenat2()(this.fd, rel, how);
    if (fd < 0) throw errnoError('openat2', koffi.errno(), p);
    return fd;
  }

  /** lstat(2) of `p`, resolved beneath the root without following links. */
  lstat(p: string): fs.BigIntStats {
    const fd = this.openPath(p);
    try {
      return fs.fstatSync(fd, { bigint: true });
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * The entry at `p`. A regular file is reopened for reading from its O_PATH descriptor (the
   * same inode, whatever the path names by now), non-blocking and without becoming a terminal.
   */
  open(p: string): Entry {
    const fd = this.openPath(p);
    try {
      const stat = fs.fstatSync(fd, { bigint: true });
      const kind = kindOf(stat);
      if (kind !== 'file') return { kind, stat };
      const readable = fs.openSync(`/proc/self/fd/${fd}`, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      return { kind, stat, file: new OpenFile(p, readable, stat) };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Opens the directory at `p` for listing; ENOTDIR/ELOOP when it is no longer a directory. */
  openDirectory(p: string): OpenDirectory {
    const fd = this.openPath(p, HOW_DIRECTORY);
    const self = `/proc/self/fd/${fd}`;
    let entries: fs.Dirent<Buffer>[];
    try {
      entries = fs.readdirSync(self, { encoding: 'buffer', withFileTypes: true });
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    const prefix = Buffer.from(`${self}/`);
    return {
      fd,
      entries,
      lstat: (name) => fs.lstatSync(Buffer.concat([prefix, name]), { bigint: true }),
      close: () => fs.closeSync(fd),
    };
  }
}
