// Files the manager pushes to the agent (`#!-up file <md5> <name>`, content chunks,
// `#!-close file `): in practice the group's merged.mg, which the agent unpacks (agent.conf ...)
// and whose md5 it reports in every keepalive so the manager knows the agent is in sync.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { quoteValue } from '../config/errors.js';
import type { Logger } from '../log.js';
import { parseMergedFile, sharedFileName } from './messages.js';

export const MERGED_FILE = 'merged.mg';
/** Larger pushes are refused: a group's shared files are kilobytes, not this. */
const MAX_PUSHED_FILE = 64 * 1024 * 1024;

export class SharedFiles {
  private open: { name: string; md5: string; chunks: Buffer[]; size: number } | undefined;
  private readonly md5s = new Map<string, { mtimeMs: number; size: number; md5: string }>();

  constructor(private readonly dir: string, private readonly log: Logger) {}

  begin(md5: string, name: string): void {
    const safe = sharedFileName(name);
    if (!safe) {
      this.log.warn(`Invalid file ${quoteValue(name.split('\n')[0]!)}, vulnerable to directory traversal attack. Ignoring.`);
      this.open = undefined;
      return;
    }
    this.open = { name: safe, md5: md5.toLowerCase(), chunks: [], size: 0 };
  }

  get receiving(): boolean {
    return this.open !== undefined;
  }

  append(chunk: Buffer): void {
    const f = this.open;
    if (!f) return;
    f.size += chunk.length;
    if (f.size > MAX_PUSHED_FILE) {
      this.log.warn(`Shared file '${f.name}' from the manager exceeds ${MAX_PUSHED_FILE} bytes. Ignoring.`);
      this.open = undefined;
      return;
    }
    f.chunks.push(chunk);
  }

  /** Ends the current file: kept only when its md5 matches what the manager announced. */
  end(): void {
    const f = this.open;
    this.open = undefined;
    if (!f) return;
    const data = Buffer.concat(f.chunks);
    const md5 = crypto.createHash('md5').update(data).digest('hex');
    if (md5 !== f.md5) {
      this.log.debug(`Failed md5 for: ${f.name} -- deleting.`);
      return;
    }
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    if (this.store(f.name, data) && f.name === MERGED_FILE) this.unmerge(data);
  }

  /** md5 of merged.mg as stored, for the keepalive; undefined when there is none. */
  mergedMd5(): string | undefined {
    return this.md5Of(MERGED_FILE);
  }

  /** md5 of agent.conf (unpacked from merged.mg), for the keepalive. */
  agentConfMd5(): string | undefined {
    return this.md5Of('agent.conf');
  }

  /**
   * Keepalives also ask the manager to confirm delivery (up to several a second under load), so
   * a file is read and hashed again only when its size or mtime changed.
   */
  private md5Of(name: string): string | undefined {
    const file = path.join(this.dir, name);
    try {
      const st = fs.statSync(file);
      const known = this.md5s.get(name);
      if (known && known.mtimeMs === st.mtimeMs && known.size === st.size) return known.md5;
      const md5 = crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex');
      this.md5s.set(name, { mtimeMs: st.mtimeMs, size: st.size, md5 });
      return md5;
    } catch {
      this.md5s.delete(name);
      return undefined;
    }
  }

  private unmerge(data: Buffer): void {
    let entries;
    try {
      entries = parseMergedFile(data);
    } catch (e) {
      this.log.warn(`Error unmerging '${MERGED_FILE}': ${(e as Error).message}`);
      return;
    }
    for (const e of entries) {
      const name = sharedFileName(path.basename(e.name));
      if (!name || name === MERGED_FILE) continue;
      this.store(name, e.content);
    }
    this.log.info(`Shared agent configuration has been updated (${entries.length} file(s) in ${MERGED_FILE}).`);
  }

  /**
   * Writes `data` under `name`, atomically. The name comes from the manager: one the file system
   * refuses (too long, a NUL byte) is logged as Wazuh logs a file it cannot open, not thrown.
   */
  private store(name: string, data: Buffer): boolean {
    const file = path.join(this.dir, name);
    const tmp = `${file}.tmp`;
    this.md5s.delete(name);
    try {
      fs.writeFileSync(tmp, data, { mode: 0o640 });
      fs.renameSync(tmp, file);
      return true;
    } catch (e) {
      this.log.error(`(1103): Could not open file ${quoteValue(file)} due to [${describeFsError(e)}].`);
      return false;
    }
  }
}

/** "(<errno>)-(<description>)" like Wazuh's strerror pair; Node's own errors give their code. */
function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const known = typeof err.errno === 'number' ? util.getSystemErrorMap().get(err.errno) : undefined;
  return known ? `(${-err.errno!})-(${known[1]})` : `(${err.code ?? 'error'})-(${err.message.split('. ')[0]})`;
}
