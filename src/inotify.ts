// The last real-time source before scheduled scans: inotify through Node's recursive fs.watch.
// It says only that a name changed, so each event is classified by looking at the file, and
// there is no who-data. Renames arrive as the old name deleted and the new one created.
import fs from 'node:fs';
import path from 'node:path';
import type { CaptureEvent } from './bpf/event.js';

export class InotifySource {
  private watchers: fs.FSWatcher[] = [];

  constructor(private readonly dirs: string[], private readonly deliver: (events: CaptureEvent[]) => void) {}

  async start(): Promise<void> {
    for (const dir of this.dirs) {
      if (!fs.existsSync(dir)) continue;
      const w = fs.watch(dir, { recursive: true }, (kind, name) => {
        if (name !== null) this.onChange(kind, path.join(dir, name.toString()));
      });
      w.on('error', () => w.close());
      this.watchers.push(w);
    }
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private onChange(kind: 'rename' | 'change', file: string): void {
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.lstatSync(file, { bigint: true });
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) return;
    const op = st === undefined ? 'delete' : kind === 'change' ? 'modify' : 'create';
    this.deliver([{ op, source: 'inotify', path: file, inode: st?.ino ?? 0n, device: 0, ktimeNs: 0n, truncated: false }]);
  }
}
