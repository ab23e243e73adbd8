// Which directories are monitored, as the kernel sees them: each monitored directory and the
// root of every filesystem mounted inside one becomes an "anchor" (device, inode) with its
// absolute path. The BPF programs stop their upward walk at an anchor; a walk that leaves a
// filesystem without meeting one is outside every monitored tree.
import fs from 'node:fs';
import path from 'node:path';
import { kernelDevice } from './event.js';

export interface Anchor {
  id: number;
  path: string;
  device: number;
  inode: bigint;
}

/** Mount points listed in /proc/self/mountinfo (field 5, octal escapes decoded). */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field) points.push(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return points;
}

/** True when `p` is `dir` or below it. */
export function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** Mount points strictly inside any of `dirs`. */
export function mountPointsUnder(points: string[], dirs: string[]): string[] {
  return [...new Set(points.filter((p) => dirs.some((d) => p !== d && isUnder(p, d))))];
}

/** What changed in the anchors since the last look: registered anew, and gone. */
export interface AnchorChanges {
  added: Anchor[];
  removed: Anchor[];
}

/**
 * The anchors of a set of monitored directories, kept current: a directory created after start
 * (or deleted and created again, a new inode) and a filesystem mounted inside a tree after start
 * are anchored at the next refresh; anchors whose directory or mount went away are dropped.
 */
export class Watches {
  private readonly byId = new Map<number, Anchor>();
  /** The anchors now registered, by "device:inode". */
  private readonly current = new Map<string, Anchor>();
  /** Ids dropped at the last refresh: kept one refresh longer for records still in the ring. */
  private retiring: number[] = [];
  private nextId = 1;

  constructor(readonly dirs: string[]) {}

  /** Anchors for the directories and the mounts inside them, as now; missing directories are skipped. */
  scan(mountinfo: string = readMountinfo()): Anchor[] {
    this.refresh(mountinfo);
    return [...this.current.values()];
  }

  /** Looks again at the directories and mounts; returns the anchors to register and to drop. */
  refresh(mountinfo: string = readMountinfo()): AnchorChanges {
    for (const id of this.retiring) this.byId.delete(id);
    const targets = [...this.dirs, ...mountPointsUnder(parseMountPoints(mountinfo), this.dirs)];
    const seen = new Map<string, { p: string; st: fs.BigIntStats }>();
    for (const p of targets) {
      let st: fs.BigIntStats;
      try {
        st = fs.statSync(p, { bigint: true });
      } catch {
        continue;
      }
      const key = `${kernelDevice(st.dev)}:${st.ino}`;
      if (!seen.has(key)) seen.set(key, { p: path.resolve(p), st });
    }
    const added: Anchor[] = [];
    const removed: Anchor[] = [];
    for (const [key, a] of this.current) {
      if (seen.get(key)?.p === a.path) continue;
      removed.push(a);
      this.current.delete(key);
    }
    for (const [key, { p, st }] of seen) {
      if (this.current.has(key)) continue;
      const a: Anchor = { id: this.nextId++, path: p, device: kernelDevice(st.dev), inode: st.ino };
      this.byId.set(a.id, a);
      this.current.set(key, a);
      added.push(a);
    }
    this.retiring = removed.map((a) => a.id);
    return { added, removed };
  }

  pathOf(id: number): string | undefined {
    return this.byId.get(id)?.path;
  }
}

function readMountinfo(): string {
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}
