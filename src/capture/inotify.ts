// The last real-time source before scheduled scans: inotify, one watch per directory through
// Node's fs.watch (its recursive mode loses events on Linux in Node 20). inotify says only that
// a name changed, so each event is classified by looking at the path, and there is no who-data.
// Directories are reported like files: 'create' when one appears (made, or moved in with what it
// holds: the FIM engine walks it), 'delete' when it goes (the engine reports what was below it),
// 'modify' when its attributes change; fs.watch cannot tell an attribute change (chmod, chown,
// touch) from a write, so both are 'modify'. Renames arrive as the old name deleted and the new
// one created. A root's own watch cannot report the root going or coming back, so the roots are
// looked at again every ROOT_CHECK_MS: one missing at start, or deleted and created again, is
// watched (and reported) within that time.
import fs from 'node:fs';
import path from 'node:path';
import type { CaptureEvent } from './event.js';
import { isUnder } from './watches.js';

/** More directories than this are left to scheduled scans (each watch costs kernel memory). */
const MAX_WATCHED_DIRS = 8192;
const ROOT_CHECK_MS = 500;

interface Watched {
  watcher: fs.FSWatcher;
  /** The directory's inode when the watch was set: inotify watches that inode, not the name. */
  ino: bigint;
}

type InotifyOp = 'create' | 'modify' | 'delete';

export class InotifySource {
  private readonly watched = new Map<string, Watched>();
  private rootTimer: NodeJS.Timeout | undefined;

  constructor(private readonly roots: string[], private readonly deliver: (events: CaptureEvent[]) => void) {}

  async start(): Promise<void> {
    for (const root of this.roots) this.watchTree(root);
    this.rootTimer = setInterval(() => this.checkRoots(), ROOT_CHECK_MS);
  }

  stop(): void {
    clearInterval(this.rootTimer);
    for (const w of this.watched.values()) w.watcher.close();
    this.watched.clear();
  }

  /** Roots that appeared, went or were replaced (a new inode) since the last look. */
  private checkRoots(): void {
    for (const root of this.roots) {
      const st = statOf(root, fs.statSync); // a root may be a link to its directory
      if (st?.isDirectory()) {
        if (this.rewatch(root, st.ino) && this.watched.has(root)) this.emit('create', root, st);
      } else if (this.watched.has(root)) {
        this.unwatchTree(root);
        this.emit('delete', root, undefined);
      }
    }
  }

  private onChange(kind: 'rename' | 'change', file: string): void {
    const st = statOf(file, fs.lstatSync);
    if (st?.isDirectory()) {
      // fs.watch names a directory's attribute change 'rename' (IN_ISDIR): a directory is new or not by its watch
      this.emit(this.rewatch(file, st.ino) ? 'create' : 'modify', file, st);
      return;
    }
    if (this.watched.has(file)) this.unwatchTree(file); // a directory gone, moved out or replaced by a file
    this.emit(st === undefined ? 'delete' : kind === 'change' ? 'modify' : 'create', file, st);
  }

  private emit(op: InotifyOp, file: string, st: fs.BigIntStats | undefined): void {
    this.deliver([{ op, source: 'inotify', path: file, inode: st?.ino ?? 0n, device: 0, ktimeNs: 0n, truncated: false }]);
  }

  /** Watches `dir` and what is below it unless already watched at this inode; true when it was not. */
  private rewatch(dir: string, ino: bigint): boolean {
    const w = this.watched.get(dir);
    if (w?.ino === ino) return false;
    if (w) this.unwatchTree(dir); // replaced: the old watches follow the old inodes
    this.watchTree(dir);
    return true;
  }

  private watchTree(dir: string): void {
    const pending = [dir];
    while (pending.length && this.watched.size < MAX_WATCHED_DIRS) {
      const d = pending.pop()!;
      if (this.watched.has(d)) continue;
      let watched: Watched;
      try {
        const { ino } = fs.statSync(d, { bigint: true });
        watched = { ino, watcher: fs.watch(d, (kind, name) => name !== null && this.onChange(kind, path.join(d, name.toString()))) };
      } catch {
        continue; // vanished or unreadable: the scans cover it
      }
      watched.watcher.on('error', () => this.unwatchTree(d));
      this.watched.set(d, watched);
      try {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) pending.push(path.join(d, e.name));
      } catch {
        // unreadable: its own events still arrive through the watch just set
      }
    }
  }

  /** Drops the watches of `dir` and every directory below it (moved away, they would report under the old names). */
  private unwatchTree(dir: string): void {
    for (const [d, w] of this.watched) {
      if (!isUnder(d, dir)) continue;
      w.watcher.close();
      this.watched.delete(d);
    }
  }
}

function statOf(p: string, stat: typeof fs.statSync | typeof fs.lstatSync): fs.BigIntStats | undefined {
  try {
    return stat(p, { bigint: true });
  } catch {
    return undefined;
  }
}
