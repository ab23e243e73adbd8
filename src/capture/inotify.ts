// The last real-time source before scheduled scans: inotify, one watch per directory through
// Node's fs.watch (its recursive mode loses events on Linux in Node 20). inotify says only that
// a name changed, so each event is classified by looking at the file, and there is no who-data.
// Renames arrive as the old name deleted and the new one created.
import fs from 'node:fs';
import path from 'node:path';
import type { CaptureEvent } from './event.js';

/** More directories than this are left to scheduled scans (each watch costs kernel memory). */
const MAX_WATCHED_DIRS = 8192;

export class InotifySource {
  private readonly watchers = new Map<string, fs.FSWatcher>();

  constructor(private readonly roots: string[], private readonly deliver: (events: CaptureEvent[]) => void) {}

  async start(): Promise<void> {
    for (const root of this.roots) this.watchTree(root);
  }

  stop(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private watchTree(dir: string): void {
    const pending = [dir];
    while (pending.length && this.watchers.size < MAX_WATCHED_DIRS) {
      const d = pending.pop()!;
      if (this.watchers.has(d)) continue;
      let w: fs.FSWatcher;
      try {
        w = fs.watch(d, (kind, name) => name !== null && this.onChange(kind, path.join(d, name.toString())));
      } catch {
        continue; // vanished or unreadable: the scans cover it
      }
      w.on('error', () => this.unwatch(d));
      this.watchers.set(d, w);
      try {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) pending.push(path.join(d, e.name));
      } catch {
        // unreadable: its own events still arrive through the watch just set
      }
    }
  }

  private unwatch(dir: string): void {
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
  }

  private onChange(kind: 'rename' | 'change', file: string): void {
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.lstatSync(file, { bigint: true });
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      this.watchTree(file);
      return;
    }
    if (st === undefined && this.watchers.has(file)) {
      this.unwatch(file);
      return;
    }
    const op = st === undefined ? 'delete' : kind === 'change' ? 'modify' : 'create';
    this.deliver([{ op, source: 'inotify', path: file, inode: st?.ino ?? 0n, device: 0, ktimeNs: 0n, truncated: false }]);
  }
}
