// When FIM work runs. Pure: the time is given.
//  * The next scheduled scan: every `frequency` seconds, or, with scan_time and/or scan_day, at
//    that time on those days (Wazuh 4.14.7's syscheckd run_check.c start_daemon).
//  * Whether a periodic integrity sync runs, and the wait before the next check: Wazuh 4.14.7's
//    syscheckd/src/db/src/fimDB.cpp FIMDB::syncAlgorithm, on <synchronization> interval,
//    max_interval and response_timeout (config/syscheck-config.c parse_synchronization).
import type { SyscheckConfig } from '../config/types.js';

/** Milliseconds from `now` to the next scan. */
export function nextScanDelayMs(s: Pick<SyscheckConfig, 'frequency' | 'scanTime' | 'scanDay'>, now: Date): number {
  if (s.scanTime === undefined && s.scanDay === undefined) return Math.max(1, s.frequency) * 1000;
  const [hh, mm] = (s.scanTime ?? '00:00').split(':').map(Number) as [number, number];
  for (let days = 0; days <= 7; days++) {
    const t = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, hh, mm, 0, 0);
    if (t.getTime() <= now.getTime()) continue;
    if (s.scanDay === undefined || s.scanDay.includes(t.getDay())) return t.getTime() - now.getTime();
  }
  return Math.max(1, s.frequency) * 1000;
}

/** <synchronization> as the sync schedule reads it, in seconds (max_interval is never below interval). */
export type SyncTiming = Pick<SyscheckConfig['synchronization'], 'interval' | 'maxInterval' | 'responseTimeout'>;

/** What the sync schedule knows between two checks: the members of Wazuh's FIMDB it reads. */
export interface SyncProgress {
  /** Seconds from this check to the next (m_currentSyncInterval). */
  interval: number;
  /**
   * The manager sent no request since the last sync started: it found its inventory equal to the
   * agent's (m_syncSuccessful).
   */
  managerQuiet: boolean;
  /** When a state was last sent or a manager request last came, seconds since the epoch; 0 before any (m_timeLastSyncMsg). */
  lastMessageAt: number;
}

/** Before the first sync (FIMDB::init). */
export function syncProgressAtStart(t: SyncTiming): SyncProgress {
  return { interval: t.interval, managerQuiet: true, lastMessageAt: 0 };
}

export interface SyncCheck {
  /** Start a sync now; false: one is still in progress, this one is skipped. */
  sync: boolean;
  /** The interval went back to <interval>: the manager had nothing to ask after the last sync. */
  reset: boolean;
  progress: SyncProgress;
}

/**
 * One periodic check, `now` in seconds since the epoch. A sync is still in progress while a state
 * was sent or a request came within response_timeout: this check is skipped and the interval
 * doubles, up to max_interval. Otherwise a sync starts; the interval returns to <interval> only
 * if the manager asked nothing since the last sync started (its checksum matched), else it stays
 * where the skips left it. A clock set back counts as a long silence (Wazuh's difference is unsigned).
 */
export function nextSyncCheck(t: SyncTiming, p: SyncProgress, now: number): SyncCheck {
  const silent = now - p.lastMessageAt;
  if (silent < 0 || silent > t.responseTimeout) {
    const reset = p.managerQuiet && p.interval > t.interval;
    return { sync: true, reset, progress: { ...p, interval: reset ? t.interval : p.interval, managerQuiet: true } };
  }
  return { sync: false, reset: false, progress: { ...p, interval: Math.min(p.interval * 2, t.maxInterval) } };
}
