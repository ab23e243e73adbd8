// ossec.log (or ossec.json) with Wazuh's daily rotation: at the first line of a new day the file
// moves to <logs>/ossec/<YYYY>/<Mon>/ossec-<DD>.log.gz (the day it covers), as wazuh-monitord
// does, and rotated files older than `keepDays` (Wazuh's monitord.keep_log_days, 31) go away.
// A line the disk cannot take (full, failing) is counted, never thrown: the first line written
// after it says how many were lost and why.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import TransportStream from 'winston-transport';
import { formatRecord } from './log.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const KEEP_LOG_DAYS = 31;
/** Where winston puts the formatted line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

/** Where the log of local day `day` goes once rotated. */
export function rotatedPath(logDir: string, ext: 'log' | 'json', day: Date): string {
  const dd = String(day.getDate()).padStart(2, '0');
  return path.join(logDir, 'ossec', String(day.getFullYear()), MONTHS[day.getMonth()]!, `ossec-${dd}.${ext}.gz`);
}

const dayKey = (d: Date) => d.getFullYear() * 10000 + (d.getMonth() + 1) * 100 + d.getDate();

export interface OssecLogFileOptions {
  logDir: string;
  json: boolean;
  keepDays?: number;
  now?: () => Date;
}

export class OssecLogFile extends TransportStream {
  private readonly file: string;
  private readonly ext: 'log' | 'json';
  private readonly now: () => Date;
  private fd = -1;
  /** Lines the disk did not take since the last one it did, and why the first was lost. */
  private lost = { lines: 0, why: '' };
  /** The local day the open file covers. */
  private day = 0;
  private dayDate = new Date(0);

  constructor(private readonly o: OssecLogFileOptions) {
    super();
    this.ext = o.json ? 'json' : 'log';
    this.file = path.join(o.logDir, `ossec.${this.ext}`);
    this.now = o.now ?? (() => new Date());
    fs.mkdirSync(o.logDir, { recursive: true, mode: 0o750 });
    // A file left from an earlier day (the agent was stopped over midnight) is rotated first.
    try {
      const st = fs.statSync(this.file);
      if (st.size > 0) this.setDay(st.mtime);
    } catch {
      // no log yet
    }
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    const now = this.now();
    try {
      if (this.fd < 0 || dayKey(now) !== this.day) this.rotate(now);
      if (this.lost.lines) {
        const { lines, why } = this.lost;
        this.appendLine(formatRecord('warn', `${lines} log lines could not be written to ${this.file} (${why}).`, this.o.json, now));
        this.lost = { lines: 0, why: '' };
      }
      this.appendLine(String(info[MESSAGE]));
    } catch (e) {
      this.lost.lines++;
      this.lost.why ||= (e as Error).message;
    }
    next();
  }

  private appendLine(line: string): void {
    const bytes = Buffer.from(`${line}\n`);
    const start = fs.fstatSync(this.fd).size;
    try {
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(this.fd, bytes, done);
    } catch (e) {
      // no half line: the next one would be glued to it
      fs.ftruncateSync(this.fd, start);
      throw e;
    }
  }

  override close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private setDay(d: Date): void {
    this.day = dayKey(d);
    this.dayDate = new Date(d);
  }

  /** Moves the previous day's file away (when there is one) and opens the file for `now`. */
  private rotate(now: Date): void {
    this.close();
    if (this.day !== 0 && this.day !== dayKey(now) && fs.existsSync(this.file)) {
      const target = rotatedPath(this.o.logDir, this.ext, this.dayDate);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o750 });
      fs.writeFileSync(target, zlib.gzipSync(fs.readFileSync(this.file)), { mode: 0o640 });
      fs.rmSync(this.file);
      this.removeOld(now);
    }
    this.fd = fs.openSync(this.file, 'a', 0o640);
    this.setDay(now);
  }

  private removeOld(now: Date): void {
    const oldest = new Date(now.getFullYear(), now.getMonth(), now.getDate() - (this.o.keepDays ?? KEEP_LOG_DAYS));
    const root = path.join(this.o.logDir, 'ossec');
    for (const year of safeReaddir(root)) {
      for (const month of safeReaddir(path.join(root, year))) {
        const m = MONTHS.indexOf(month);
        for (const name of safeReaddir(path.join(root, year, month))) {
          const dd = /^ossec-(\d\d)\./.exec(name);
          if (m < 0 || !dd || new Date(Number(year), m, Number(dd[1])) >= oldest) continue;
          fs.rmSync(path.join(root, year, month, name), { force: true });
        }
      }
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
