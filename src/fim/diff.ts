// report_changes: a gzip copy of each such file (<home>/queue/diff/file/<sha1 of path>/last-entry.gz,
// Wazuh's layout), and the `content_changes` text of a modification: diff(1)'s output, cut
// before Wazuh's message limit, or one of Wazuh's sentences when no diff can be given
// (syscheckd/src/fim_diff_changes.c fim_file_diff, gen_diff_str).
//
// Limits as fim_diff_check_limits and fim_diff_create_compress_file apply them: over file_size the
// file's copy is deleted; disk_quota is checked first against an estimate of the compressed size
// (the estimated compression rate learns from each copy over the quota), then against the real
// one. Unlike Wazuh (which counts st_size, and at start measures an old 'local' folder, so copies
// kept from before a restart count for nothing) the quota counts the space every copy takes on
// disk, directories included, from the first start.
//
// On a full disk (DiskSpace) copies are the first thing given up: all are deleted when the
// episode starts, and until it ends no copy is stored and no diff computed.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { DiskSpace } from '../disk-space.js';
import type { Logger } from '../log.js';
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
  /** This agent's own: the disk is full, report_changes gave its copies up (see DiskSpace). */
  diskFull: "Unable to calculate diff due to the agent's disk being full.",
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

/** Wazuh's starting estimate of how much gzip saves, and the lowest it learns (syscheck-config). */
const COMPRESSION_ESTIMATE = 0.9;
const MIN_COMPRESSION_ESTIMATE = 0.4;

export interface DiffStoreOptions {
  /** <home>/queue/diff */
  dir: string;
  /** disk_quota in KB; undefined: none. */
  quotaKb?: number;
  log?: Logger;
  disk?: DiskSpace;
}

export class DiffStore {
  /** Bytes the copies take on disk, for disk_quota (measured once at start, then kept up to date). */
  private used: number;
  private compression = COMPRESSION_ESTIMATE;
  private readonly dir: string;
  /** Copies given up during the current full-disk episode. */
  private givenUp = { copies: 0, bytes: 0 };

  constructor(private readonly o: DiffStoreOptions) {
    this.dir = o.dir;
    this.used = diskUsage(path.join(this.dir, 'file')).bytes;
    o.disk?.on('full', () => this.giveUp());
    o.disk?.register({ name: 'report_changes', flush: () => true, account: () => this.account() });
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
    if (this.o.disk?.full) return DIFF_MESSAGES.diskFull;
    if (source.stat.size > BigInt(opts.maxBytes)) {
      this.o.log?.debug(`(6349): File '${file}' is too big for configured maximum size to perform diff operation.`);
      this.forget(file);
      return DIFF_MESSAGES.fileSize;
    }
    const quota = this.o.quotaKb === undefined ? Infinity : this.o.quotaKb * 1024;
    if (this.used + Number(source.stat.size) * (1 - this.compression) > quota) return this.overQuota('estimation', file);
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
    const oldUsage = previous === undefined ? 0 : diskUsage(folder).bytes;
    if (this.used - oldUsage + compressed.length > quota) {
      this.learnCompression(compressed.length, current.length);
      return this.overQuota('calculate', file);
    }
    try {
      if (!previous) {
        this.save(folder, stored, compressed, oldUsage);
        return DIFF_MESSAGES.noPrevious;
      }
      if (previous.equals(current)) return DIFF_MESSAGES.identical;
      if (opts.nodiff) return DIFF_MESSAGES.nodiff;
      const text = this.diff(previous, current, source);
      if (text === undefined) return undefined;
      this.save(folder, stored, compressed, oldUsage);
      return truncateDiff(text);
    } catch (e) {
      if (!this.o.disk?.writeFailed('a report_changes copy', e)) throw e;
      return DIFF_MESSAGES.diskFull;
    }
  }

  private save(folder: string, stored: string, compressed: Buffer, oldUsage: number): void {
    fs.mkdirSync(folder, { recursive: true, mode: 0o750 });
    try {
      fs.writeFileSync(`${stored}.tmp`, compressed, { mode: 0o600 });
      fs.renameSync(`${stored}.tmp`, stored);
    } finally {
      fs.rmSync(`${stored}.tmp`, { force: true });
      this.used += diskUsage(folder).bytes - oldUsage;
    }
  }

  /** diff(1) on two private copies, like Wazuh (exit status 1: they differ); undefined when it fails. */
  private diff(previous: Buffer, current: Buffer, source: OpenFile): string | undefined {
    const tmp = path.join(this.dir, 'tmp');
    fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
    const old = path.join(tmp, `old-${process.pid}`);
    const now = path.join(tmp, `new-${process.pid}`);
    try {
      fs.writeFileSync(old, previous, { mode: 0o600 });
      fs.writeFileSync(now, current, { mode: 0o600 });
      source.reading('diff');
      const r = spawnSync('diff', [old, now], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      return r.status === 1 ? r.stdout : undefined;
    } finally {
      fs.rmSync(old, { force: true });
      fs.rmSync(now, { force: true });
    }
  }

  private overQuota(stage: 'estimation' | 'calculate', file: string): string {
    this.o.log?.debug(`(6350): The ${stage} of the file size '${file}' exceeds the disk_quota. Operation discarded.`);
    return DIFF_MESSAGES.diskQuota;
  }

  /** fim_diff_modify_compress_estimation: a copy over the quota teaches how much gzip really saves. */
  private learnCompression(compressed: number, uncompressed: number): void {
    const rate = uncompressed > 0 ? 1 - compressed / uncompressed : 0;
    if (rate < 0.1) return;
    this.compression = Math.max(MIN_COMPRESSION_ESTIMATE, (rate + this.compression) / 2);
  }

  /** Forgets a file's copy (deleted, or over file_size). */
  forget(file: string): void {
    const folder = this.folderOf(file);
    this.used -= diskUsage(folder).bytes;
    fs.rmSync(folder, { recursive: true, force: true });
  }

  /** The disk is full: every copy goes, first of all that can. */
  private giveUp(): void {
    const root = path.join(this.dir, 'file');
    const { files, bytes } = diskUsage(root);
    if (!files) return;
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(path.join(this.dir, 'tmp'), { recursive: true, force: true });
    this.used = 0;
    this.givenUp.copies += files;
    this.givenUp.bytes += bytes;
  }

  private account(): string | undefined {
    const { copies, bytes } = this.givenUp;
    this.givenUp = { copies: 0, bytes: 0 };
    if (!copies) return undefined;
    return `report_changes gave up its ${copies} stored copies (${Math.round(bytes / 1024)} KiB; the next change of each such file says so instead of a diff)`;
  }
}

/** Files below `dir` and the space they and their directories take on disk (allocated blocks, at least their size). */
function diskUsage(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const visit = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    bytes += Math.max(st.blocks * 512, st.isDirectory() ? 0 : st.size);
    if (!st.isDirectory()) {
      files++;
      return;
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(p);
    } catch {
      // gone meanwhile
    }
    for (const name of names) visit(path.join(p, name));
  };
  visit(dir);
  return { files, bytes };
}
