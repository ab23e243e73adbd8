// Which directories are monitored, as the kernel sees them: each monitored directory and the
// root of every filesystem mounted inside one becomes an "anchor" (device, inode) with its
// absolute path. The BPF programs stop their upward walk at an anchor; a walk that leaves a
// filesystem without meeting one is outside every monitored tree.
import fs from 'node:fs';
import path from 'node:path';
import { kernelDevice } from './bpf/event.js';

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

export class Watches {
  private readonly byId = new Map<number, Anchor>();
  private nextId = 1;

  constructor(readonly dirs: string[]) {}

  /** Anchors for the directories and the mounts inside them; missing directories are skipped. */
  scan(mountinfo: string = readMountinfo()): Anchor[] {
    const targets = [...this.dirs, ...mountPointsUnder(parseMountPoints(mountinfo), this.dirs)];
    const anchors: Anchor[] = [];
    for (const p of targets) {
      let st: fs.BigIntStats;
      try {
        st = fs.statSync(p, { bigint: true });
      } catch {
        continue;
      }
      const a: Anchor = { id: this.nextId++, path: path.resolve(p), device: kernelDevice(st.dev), inode: st.ino };
      this.byId.set(a.id, a);
      anchors.push(a);
    }
    return anchors;
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
