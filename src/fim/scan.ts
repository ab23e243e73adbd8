// Walking the configured trees: which files a scan looks at, with Wazuh's rules for recursion
// depth, symbolic links, ignored paths, `restrict` and the filesystems to skip.
import fs from 'node:fs';
import path from 'node:path';
import { pathMatches, sregexMatches } from '../config/syscheck.js';
import type { DirectoryConfig, SyscheckConfig } from '../config/types.js';
import { isUnder } from '../watches.js';

/** statfs f_type magic numbers (linux/magic.h) of the filesystems the skip_* options name. */
const FS_MAGIC = {
  nfs: [0x6969, 0xff534d42 /* cifs */, 0xfe534d42 /* smb2 */],
  dev: [0x1373 /* devtmpfs */],
  sys: [0x62656572 /* sysfs */],
  proc: [0x9fa0],
} as const;

export interface WalkedFile {
  path: string;
  stat: fs.BigIntStats;
  dir: DirectoryConfig;
}

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

/** Configured directories with wildcard entries expanded, as Wazuh does at every scan. */
export function expandDirectories(dirs: readonly DirectoryConfig[]): DirectoryConfig[] {
  const out = new Map<string, DirectoryConfig>();
  for (const d of dirs) {
    if (!d.wildcard) out.set(d.path, d);
    else for (const p of expandGlob(d.path)) if (!out.has(p)) out.set(p, { ...d, path: p, wildcard: false });
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
 * The regular files under one configured directory (or that file itself), depth first. Entries
 * that vanish or cannot be read while walking are skipped: the next scan sees them again.
 */
export function* walkDirectory(dir: DirectoryConfig, syscheck: SyscheckConfig, all: readonly DirectoryConfig[]): Generator<WalkedFile> {
  const stack: { p: string; depth: number }[] = [{ p: dir.path, depth: -1 }];
  const seenDirs = new Set<string>();
  while (stack.length) {
    const { p, depth } = stack.pop()!;
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(p, { bigint: true });
      if (st.isSymbolicLink()) {
        if (!dir.followSymbolicLink) continue;
        st = fs.statSync(p, { bigint: true });
      }
    } catch {
      continue;
    }
    if (st.isFile()) {
      if (isMonitoredFile(p, dir, syscheck)) yield { path: p, stat: st, dir };
      continue;
    }
    if (!st.isDirectory() || depth >= dir.recursionLevel) continue;
    // a directory configured on its own is walked with its own options
    if (p !== dir.path && all.some((d) => d !== dir && d.path === p)) continue;
    if (pathMatches(syscheck.ignore, p, { directory: true })) continue;
    const key = `${st.dev}:${st.ino}`; // symlink loops
    if (seenDirs.has(key) || skippedFilesystem(p, syscheck)) continue;
    seenDirs.add(key);
    let names: string[];
    try {
      names = fs.readdirSync(p);
    } catch {
      continue;
    }
    for (const name of names.sort().reverse()) stack.push({ p: path.join(p, name), depth: depth + 1 });
  }
}
