// When the next scheduled scan runs: every `frequency` seconds, or, with scan_time and/or
// scan_day, at that time on those days (Wazuh's syscheckd run_check.c). Pure: `now` is given.
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
