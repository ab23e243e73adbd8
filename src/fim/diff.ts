// report_changes: a gzip copy of each such file (<home>/queue/diff/file/<sha1 of path>/last-entry.gz,
// Wazuh's layout), and the `content_changes` text of a modification: diff(1)'s output, cut
// before Wazuh's message limit, or one of Wazuh's sentences when no diff can be given
// (syscheckd/src/fim_diff_changes.c fim_file_diff, gen_diff_str).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { OpenFile } from './access.js';

/** OS_MAXSTR - OS_SK_HEADER - 1: the most diff text an event carries. */
const MAX_DIFF = 65536 - 6144 - 1;
const MORE_CHANGES = 'More changes...';

export const DIFF_MESSAGES = {
  fileSize: "Unable to calculate diff due to 'file_size' limit has been reached.",
  noPrevious: 'Unable to calculate diff due to no previous data stored for this file.',
  identical: 'No content changes were found for this file.',
  nodiff: "Diff truncated due to 'nodiff' configuration detected for this file.",
  diskQuota: "Unable to calculate diff due to 'disk_quota' limit has been reached.",
  /** This agent's own: a file only its owner may read is not diffed unless configured by name. */
  ownerOnly: 'Diff withheld: the file is readable by its owner only (list the file itself in <directories> to diff it).',
} as const;

/** Cuts diff output the way gen_diff_str does: at a line end, with "More changes..." after it. */
export function truncateDiff(text: string): string {
  const bytes = Buffer.from(text);
  if (bytes.length < MAX_DIFF) return text;
  let n = MAX_DIFF - MORE_CHANGES.length;
  while (n > 0 && bytes[n - 1] !== 0x0a) n--;
  return bytes.toString('utf8', 0, n) + MORE_CHANGES;
}

export class DiffStore {
  /** Bytes of stored copies, for disk_quota (counted once at start, then kept up to date). */
  private used: number;

  /** `quotaKb` undefined: no disk_quota. */
  constructor(private readonly dir: string, private readonly quotaKb?: number) {
    this.used = sizeOfTree(path.join(dir, 'file'));
  }

  private folderOf(file: string): string {
    return path.join(this.dir, 'file', crypto.createHash('sha1').update(file).digest('hex'));
  }

  /**
   * Stores the content of the open file and returns what changed since the stored copy. The
   * content comes from `source`'s descriptor (access.ts), never from the path again. `maxBytes`:
   * the most read (the file_size limit, else file_max_size); `nodiff`: the text is withheld (a
   * secret file); `ownerOnly`: neither read nor stored (see README, Security).
   */
  contentChanges(file: string, source: OpenFile, opts: { maxBytes: number; nodiff: boolean; ownerOnly: boolean }): string | undefined {
    if (opts.ownerOnly) return DIFF_MESSAGES.ownerOnly;
    if (source.stat.size > BigInt(opts.maxBytes)) return DIFF_MESSAGES.fileSize;
    let current: Buffer | undefined;
    try {
      current = source.readAll('copy', opts.maxBytes);
    } catch {
      return undefined;
    }
    if (current === undefined) return DIFF_MESSAGES.fileSize;
    const folder = this.folderOf(file);
    const stored = path.join(folder, 'last-entry.gz');
    let previous: Buffer | undefined;
    try {
      previous = zlib.gunzipSync(fs.readFileSync(stored));
    } catch {
      previous = undefined;
    }
    const compressed = zlib.gzipSync(current);
    const oldSize = previous === undefined ? 0 : fs.statSync(stored).size;
    if (this.quotaKb !== undefined && (this.used - oldSize + compressed.length) / 1024 > this.quotaKb) return DIFF_MESSAGES.diskQuota;
    const save = () => {
      fs.mkdirSync(folder, { recursive: true, mode: 0o750 });
      fs.writeFileSync(`${stored}.tmp`, compressed, { mode: 0o600 });
      fs.renameSync(`${stored}.tmp`, stored);
      this.used += compressed.length - oldSize;
    };
    if (!previous) {
      save();
      return DIFF_MESSAGES.noPrevious;
    }
    if (previous.equals(current)) return DIFF_MESSAGES.identical;
    if (opts.nodiff) return DIFF_MESSAGES.nodiff;
    const tmp = path.join(this.dir, 'tmp');
    fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
    const old = path.join(tmp, `old-${process.pid}`);
    const now = path.join(tmp, `new-${process.pid}`);
    fs.writeFileSync(old, previous, { mode: 0o600 });
    fs.writeFileSync(now, current, { mode: 0o600 });
    // diff(1) on the two private copies, like Wazuh (exit status 1 = they differ)
    source.reading('diff');
    const r = spawnSync('diff', [old, now], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    fs.rmSync(old, { force: true });
    fs.rmSync(now, { force: true });
    if (r.status !== 1) return undefined;
    save();
    return truncateDiff(r.stdout);
  }

  /** Forgets a deleted file's copy. */
  forget(file: string): void {
    const folder = this.folderOf(file);
    this.used -= sizeOfTree(folder);
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

function sizeOfTree(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? sizeOfTree(p) : fs.statSync(p).size;
  }
  return total;
}
