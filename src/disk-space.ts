// The agent's disk running full (ENOSPC, EDQUOT) or failing (EIO, EROFS): one place knows it.
// A writer that cannot write (the spool, the FIM baseline, the sender counter) keeps what it could
// not write in memory and registers a holder; the first failure starts an episode (one log line
// and a 'full' event), every holder is asked to write what it holds once a second, and the
// episode ends (one log line with each holder's account, a 'recovered' event) when all of them
// could. Nothing restarts the agent: it keeps capturing throughout.
//
// Wazuh's agent has no counterpart: its client buffer lives in memory and its FIM database logs
// each failed write (fim_db). This agent's durable spool makes the disk part of delivery, so a
// full disk is a state it runs through, like the client buffer's 'full' (client-agent/buffer.c).
import { EventEmitter } from 'node:events';
import type { Logger } from './log.js';

/** errno codes and SQLite result codes that say the disk cannot take a write now. */
const DISK_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);
const SQLITE_DISK = /^SQLITE_(FULL|IOERR|READONLY)/;

/** Whether `e` means the disk cannot take a write now (rather than a bug or a bad path). */
export function isDiskError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (DISK_ERRNOS.has(code) || SQLITE_DISK.test(code));
}

/** Something a writer keeps in memory while the disk is full. */
export interface DiskHolder {
  /** Who holds (log wording: "the spool"). */
  readonly name: string;
  /** Writes what is held; true once nothing is held any more. Throws only for non-disk errors. */
  flush(): boolean;
  /** What happened to it during the episode, for the closing log line; the account starts again. */
  account?(): string | undefined;
}

export interface DiskSpaceEvents {
  /** An episode started: the reason, e.g. "ENOSPC: no space left on device". */
  full: [string];
  recovered: [];
}

export interface DiskSpaceOptions {
  log: Logger;
  /** How often holders are asked to write what they hold. */
  retryMs?: number;
  /** What the first log line says happens meanwhile. */
  meanwhile?: string;
}

export class DiskSpace extends EventEmitter<DiskSpaceEvents> {
  private readonly holders: DiskHolder[] = [];
  private timer: NodeJS.Timeout | undefined;
  private since = 0;
  private stopped = false;

  constructor(private readonly o: DiskSpaceOptions) {
    super();
  }

  /** True during an episode. */
  get full(): boolean {
    return this.since !== 0;
  }

  register(holder: DiskHolder): void {
    this.holders.push(holder);
  }

  /**
   * Writing `what` failed with `e`. A disk error starts an episode (or is part of the running one)
   * and returns true: the caller holds the data. Anything else returns false: the caller rethrows.
   */
  writeFailed(what: string, e: unknown): boolean {
    if (!isDiskError(e)) return false;
    if (this.since === 0) {
      this.since = Date.now();
      const reason = describe(e);
      this.o.log.error(`Disk full or failing: cannot write ${what} (${reason}). The agent keeps running${this.o.meanwhile ? `: ${this.o.meanwhile}` : ''}.`);
      this.emit('full', reason);
      this.schedule();
    }
    return true;
  }

  /** Asks every holder now (tests, and the agent when it frees space itself). */
  retry(): boolean {
    if (this.since === 0) return true;
    clearTimeout(this.timer);
    this.timer = undefined;
    let clear = true;
    for (const h of this.holders) {
      try {
        if (!h.flush()) clear = false;
      } catch (e) {
        clear = false;
        this.o.log.error(`Disk: ${h.name} could not write what it holds: ${(e as Error).message}`);
      }
    }
    if (!clear) {
      this.schedule();
      return false;
    }
    const seconds = Math.round((Date.now() - this.since) / 1000);
    const accounts = this.holders.map((h) => h.account?.()).filter((a): a is string => !!a);
    this.since = 0;
    this.o.log.info(`Disk space available again after ${seconds} s${accounts.length ? `: ${accounts.join('; ')}` : ''}.`);
    this.emit('recovered');
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retry();
    }, this.o.retryMs ?? 1000);
    this.timer.unref();
  }
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err.message?.startsWith(`${err.code}:`) ? err.message : `${err.code}: ${err.message ?? String(e)}`;
}
