// Walking the configured trees: which files a scan looks at, with Wazuh's rules for recursion
// depth, symbolic links, ignored paths, `restrict` and the filesystems to skip.
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { pathMatches, sregexMatches } from '../config/syscheck.js';
import type { DirectoryConfig, SyscheckConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { isUnder } from '../capture/watches.js';
import { EntryKind, MonitoredRoot, OpenDirectory, kindOf } from './access.js';

/** Linux PATH_MAX, the terminating NUL included: every call naming a longer path fails (ENAMETOOLONG). */
export const PATH_MAX = 4096;

/** statfs f_type magic numbers (linux/magic.h) of the filesystems the skip_* options name. */
const FS_MAGIC = {
  nfs: [0x6969, 0xff534d42 /* cifs */, 0xfe534d42 /* smb2 */],
  dev: [0x1373 /* devtmpfs */],
  sys: [0x62656572 /* sysfs */],
  proc: [0x9fa0],
} as const;

/** A file found by the walk (read later, through the access layer), or a link with its lstat. */
export type WalkedFile = { path: string; dir: DirectoryConfig } & (
  | { kind: 'file' }
  | { kind: 'symlink'; /** lstat(2) of the link, taken in its directory as listed. */ stat: fs.BigIntStats }
);

/** glob(3) for one pattern: '*', '?' and '[...]' within path components; sorted matches. */
export function expandGlob(pattern: string): string[] {
  const parts = pattern.split('/').filter(Boolean);
  let found = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    if (!/[*?[]/.test(part)) {
      for (const base of found) next.push(path.join(base, part));
    } else {
      const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\[!/g, '[^')}$`);
      for (const base of found) {
        let names: string[];
        try {
          names = fs.readdirSync(base);
        } catch {
          continue;
        }
        // like glob(3) without GLOB_PERIOD: a leading '.' is matched only by a leading '.'
        for (const n of names) if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(path.join(base, n));
      }
    }
    found = next;
  }
  return found.filter((p) => fs.existsSync(p)).sort();
}

/** The directories of a glob pattern before its first component with a wildcard. */
export function wildcardBase(pattern: string): string {
  const parts = pattern.split('/').filter(Boolean);
  const first = parts.findIndex((c) => /[*?[]/.test(c));
  return `/${parts.slice(0, first < 0 ? parts.length : first).join('/')}`;
}

/** Configured directories with wildcard entries expanded, as Wazuh does at every scan. */
export function expandDirectories(dirs: readonly DirectoryConfig[]): DirectoryConfig[] {
  const out = new Map<string, DirectoryConfig>();
  for (const d of dirs) {
    if (!d.wildcard) out.set(d.path, d);
    else for (const p of expandGlob(d.path)) if (!out.has(p)) out.set(p, { ...d, path: p, wildcard: false, wildcardBase: wildcardBase(d.path) });
  }
  return [...out.values()];
}

/** The configured directory a path belongs to: the deepest one containing it (Wazuh's rule). */
export function configFor(p: string, dirs: readonly DirectoryConfig[]): DirectoryConfig | undefined {
  let best: DirectoryConfig | undefined;
  for (const d of dirs) {
    if (d.wildcard || !isUnder(p, d.path)) continue;
    if (!best || d.path.length > best.path.length) best = d;
  }
  if (!best) return undefined;
  const depth = p === best.path ? 0 : p.slice(best.path.length).split('/').filter(Boolean).length - 1;
  return depth <= best.recursionLevel ? best : undefined;
}

/** Whether a file path is reported at all: not ignored and, with `restrict`, matching it. */
export function isMonitoredFile(p: string, dir: DirectoryConfig, syscheck: SyscheckConfig): boolean {
  if (pathMatches(syscheck.ignore, p)) return false;
  return dir.restrict === undefined || sregexMatches(dir.restrict, p);
}

function skippedFilesystem(dirPath: string, syscheck: SyscheckConfig): boolean {
  let type: number;
  try {
    type = Number(fs.statfsSync(dirPath).type) >>> 0;
  } catch {
    return false;
  }
  const skip = (on: boolean, magics: readonly number[]) => on && magics.includes(type);
  return skip(syscheck.skipNfs, FS_MAGIC.nfs) || skip(syscheck.skipDev, FS_MAGIC.dev) ||
    skip(syscheck.skipSys, FS_MAGIC.sys) || skip(syscheck.skipProc, FS_MAGIC.proc);
}

/**
 * A path as one log record shows it: control characters, backslashes and bytes that are not
 * UTF-8 escaped, so that a hostile name can neither split the record nor pass for another name.
 */
export function printablePath(p: string | Buffer): string {
  const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b >= 0x80) {
      // the shortest slice from here that is valid UTF-8 is one whole character
      const n = [2, 3, 4].find((len) => i + len <= bytes.length && isUtf8(bytes.subarray(i, i + len)));
      if (n !== undefined) {
        out += bytes.toString('utf8', i, i + n);
        i += n;
        continue;
      }
    }
    out += b === 0x5c ? '\\\\' : b === 0x0a ? '\\n' : b === 0x09 ? '\\t' : b === 0x0d ? '\\r'
      : b < 0x20 || b >= 0x7f ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b);
    i++;
  }
  return out;
}

/** An errno as Wazuh's messages print it: "[(13)-(Permission denied)]". */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? String(e);
  const errno = os.constants.errno[code as keyof typeof os.constants.errno];
  const text = errno === undefined ? undefined : util.getSystemErrorMap().get(-errno)?.[1];
  return errno === undefined || text === undefined ? `[(${code})]` : `[(${errno})-(${text[0]!.toUpperCase()}${text.slice(1)})]`;
}

/**
 * Errors by which a path says it no longer names what it did (deleted, or behind a link now): no
 * warning, the baseline reports it as deleted at the next scan. `e` is an errno error or its code.
 */
export function vanished(e: unknown): boolean {
  const code = typeof e === 'string' ? e : (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EXDEV';
}

/**
 * The order in which walkDirectory yields paths: depth first, each directory's entries by name
 * (UTF-16 code units, as sort() compares), i.e. component by component; a directory before what
 * it holds. Negative when `a` comes first. Deterministic: adding or removing a file does not move
 * the others (the first scan's progress relies on it, first-scan.ts).
 */
export function walkOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

/**
 * The regular files and symbolic links under one configured directory (or that entry itself;
 * or, with `start`, under one of its subdirectories), in walkOrder,
 * depth first, each directory listed through a descriptor resolved beneath `root` (access.ts):
 * a directory swapped for a link is never entered, a link is an entry like a file (Wazuh lstat()s),
 * FIFOs, sockets and devices are skipped. Entries that vanish while walking are skipped silently:
 * the baseline reports them as deleted. What cannot be read, names that are not UTF-8 (the wire
 * format is JSON text) and paths longer than PATH_MAX are skipped with one warning each, in
 * Wazuh's words, and the walk goes on.
 */
export function* walkDirectory(
  root: MonitoredRoot, dir: DirectoryConfig, syscheck: SyscheckConfig, all: readonly DirectoryConfig[], log?: Logger,
  start: string = dir.path,
): Generator<WalkedFile> {
  let top: fs.BigIntStats;
  try {
    top = root.lstat(start);
  } catch (e) {
    if (!vanished(e)) log?.warn(`(6222): Stat() function failed on: '${printablePath(start)}' due to ${errnoText(e)}.`);
    return;
  }
  type Pending = { p: string; kind: EntryKind; link?: fs.BigIntStats; depth: number };
  // depth: levels of `start` below the configured directory, less one (-1 for the directory itself)
  const depth = start === dir.path ? -1 : start.slice(dir.path.length).split('/').filter(Boolean).length - 1;
  const stack: Pending[] = [{ p: start, kind: kindOf(top), link: top, depth }];
  while (stack.length) {
    const { p, kind, link, depth } = stack.pop()!;
    if (kind === 'file' || kind === 'symlink') {
      if (!isMonitoredFile(p, dir, syscheck)) continue;
      if (kind === 'file') yield { path: p, dir, kind };
      else yield { path: p, dir, kind, stat: link! };
      continue;
    }
    if (kind !== 'directory' || depth >= dir.recursionLevel) continue;
    // a directory configured on its own is walked with its own options
    if (p !== dir.path && all.some((d) => d !== dir && d.path === p)) continue;
    if (pathMatches(syscheck.ignore, p, { directory: true })) continue;
    let listing: OpenDirectory;
    try {
      listing = root.openDirectory(p);
    } catch (e) {
      if (!vanished(e)) log?.warn(`(6922): Cannot open '${printablePath(p)}' due to ${errnoText(e)}.`);
      continue;
    }
    const children: Pending[] = [];
    try {
      // the filesystem of the directory itself, reached through its descriptor
      if (skippedFilesystem(`/proc/self/fd/${listing.fd}`, syscheck)) continue;
      for (const entry of listing.entries) {
        const name = entry.name;
        if (!isUtf8(name)) {
          const shown = printablePath(Buffer.concat([Buffer.from(path.join(p, '/')), name]));
          log?.warn(`(6955): Ignoring file '${shown}' due to unsupported name (non-UTF8).`);
          continue;
        }
        const child = path.join(p, name.toString('utf8'));
        if (Buffer.byteLength(child) >= PATH_MAX) {
          log?.warn(`(6720): The path '${printablePath(child)}' is too long. The maximum length is ${PATH_MAX - 1} bytes.`);
          continue;
        }
        // a file's attributes come from the descriptor it is read through, a link's from lstat here
        const type: EntryKind = entry.isFile() ? 'file' : entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symlink' : 'other';
        if (type !== 'symlink') {
          children.push({ p: child, kind: type, depth: depth + 1 });
          continue;
        }
        try {
          children.push({ p: child, kind: type, link: listing.lstat(name), depth: depth + 1 });
        } catch (e) {
          if (!vanished(e)) log?.warn(`(6222): Stat() function failed on: '${printablePath(child)}' due to ${errnoText(e)}.`);
        }
      }
    } finally {
      listing.close();
    }
    // last first, so the stack pops them in walkOrder (for siblings, the order of their names)
    children.sort((a, b) => (a.p < b.p ? 1 : a.p > b.p ? -1 : 0));
    for (const c of children) stack.push(c);
  }
}
