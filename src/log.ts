// Logging in the shape of Wazuh's ossec.log: "2026/11/24 10:00:00 wazuh-bpf-agent: INFO: text".
// One winston logger for the process; modules receive it as the small `Logger` interface so
// pure code and tests can pass a recording logger instead.
import winston from 'winston';
import { OssecLogFile } from './log-file.js';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const TAG = 'wazuh-bpf-agent';

/** Wazuh's timestamp: local time, `YYYY/MM/DD HH:MM:SS`. */
export function ossecTimestamp(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const LEVEL_WORD: Record<string, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

/** Formats one record the way ossec.log does (plain) or as Wazuh's JSON log lines. */
export function formatRecord(level: string, message: string, json: boolean, now: Date = new Date()): string {
  const word = LEVEL_WORD[level] ?? level.toUpperCase();
  if (json) {
    return JSON.stringify({ timestamp: ossecTimestamp(now), tag: TAG, level: word, description: message });
  }
  return `${ossecTimestamp(now)} ${TAG}: ${word}: ${message}`;
}

export interface LoggerOptions {
  /** Directory for ossec.log, rotated daily like Wazuh's (log-file.ts); omitted: stderr only. */
  logDir?: string;
  json?: boolean;
  debug?: boolean;
  /** Also write to stderr (default true). */
  stderr?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const json = opts.json ?? false;
  const format = winston.format.printf((info) => formatRecord(info.level, String(info.message), json));
  const transports: winston.transport[] = [];
  if (opts.stderr ?? true) {
    transports.push(new winston.transports.Console({ stderrLevels: ['debug', 'info', 'warn', 'error'] }));
  }
  if (opts.logDir) {
    transports.push(new OssecLogFile({ logDir: opts.logDir, json }));
  }
  if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
  return winston.createLogger({ level: opts.debug ? 'debug' : 'info', format, transports });
}

/** A logger that keeps records in memory; for tests and for buffering before the real one exists. */
export class MemoryLogger implements Logger {
  readonly records: { level: string; msg: string }[] = [];
  debug(msg: string): void { this.records.push({ level: 'debug', msg }); }
  info(msg: string): void { this.records.push({ level: 'info', msg }); }
  warn(msg: string): void { this.records.push({ level: 'warn', msg }); }
  error(msg: string): void { this.records.push({ level: 'error', msg }); }
  has(level: string, re: RegExp): boolean { return this.records.some((r) => r.level === level && re.test(r.msg)); }
}
