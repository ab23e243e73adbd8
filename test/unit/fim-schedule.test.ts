import { expect } from 'chai';
import { type SyncProgress, nextScanDelayMs, nextSyncCheck, syncProgressAtStart } from '../../src/fim/schedule.js';

describe('fim: scan schedule', () => {
  const at = (s: string) => new Date(s);
  it('uses frequency alone', () => {
    expect(nextScanDelayMs({ frequency: 43200 }, at('2026-11-25T10:00:00'))).to.equal(43200_000);
  });
  it('runs at scan_time today or tomorrow', () => {
    expect(nextScanDelayMs({ frequency: 43200, scanTime: '22:30' }, at('2026-11-25T22:00:00'))).to.equal(30 * 60_000);
    expect(nextScanDelayMs({ frequency: 43200, scanTime: '08:00' }, at('2026-11-25T22:00:00'))).to.equal(10 * 3600_000);
  });
  it('waits for the next scan_day (2026-11-25 is a Wednesday)', () => {
    expect(nextScanDelayMs({ frequency: 43200, scanDay: [6] }, at('2026-11-25T12:00:00'))).to.equal((2 * 24 + 12) * 3600_000);
    expect(nextScanDelayMs({ frequency: 43200, scanDay: [3], scanTime: '13:00' }, at('2026-11-25T12:00:00'))).to.equal(3600_000);
  });
});

// FIMDB::syncAlgorithm (syscheckd/src/db/src/fimDB.cpp) with Wazuh's defaults: interval 300,
// max_interval 3600, response_timeout 30.
describe('fim: sync schedule (nextSyncCheck)', () => {
  const timing = { interval: 300, maxInterval: 3600, responseTimeout: 30 };
  const now = 1_800_000_000;
  const rows: { what: string; progress: SyncProgress; sync: boolean; reset: boolean; interval: number; managerQuiet: boolean }[] = [
    { what: 'nothing ever sent or asked', progress: { interval: 300, managerQuiet: true, lastMessageAt: 0 }, sync: true, reset: false, interval: 300, managerQuiet: true },
    { what: 'a state 10 s ago: still in progress, the interval doubles', progress: { interval: 300, managerQuiet: true, lastMessageAt: now - 10 }, sync: false, reset: false, interval: 600, managerQuiet: true },
    { what: 'a request 30 s ago, response_timeout itself: still in progress', progress: { interval: 600, managerQuiet: false, lastMessageAt: now - 30 }, sync: false, reset: false, interval: 1200, managerQuiet: false },
    { what: 'doubling stops at max_interval', progress: { interval: 2400, managerQuiet: false, lastMessageAt: now - 1 }, sync: false, reset: false, interval: 3600, managerQuiet: false },
    { what: 'and stays there', progress: { interval: 3600, managerQuiet: false, lastMessageAt: now }, sync: false, reset: false, interval: 3600, managerQuiet: false },
    { what: 'silent 31 s after the manager asked: a sync, the interval kept', progress: { interval: 1200, managerQuiet: false, lastMessageAt: now - 31 }, sync: true, reset: false, interval: 1200, managerQuiet: true },
    { what: 'the manager asked nothing since that sync: the interval is reset', progress: { interval: 1200, managerQuiet: true, lastMessageAt: now - 600 }, sync: true, reset: true, interval: 300, managerQuiet: true },
    { what: 'already at <interval>: nothing to reset', progress: { interval: 300, managerQuiet: true, lastMessageAt: now - 600 }, sync: true, reset: false, interval: 300, managerQuiet: true },
    { what: 'the clock set back: a long silence (the difference is unsigned)', progress: { interval: 600, managerQuiet: true, lastMessageAt: now + 5 }, sync: true, reset: true, interval: 300, managerQuiet: true },
  ];
  for (const r of rows) {
    it(r.what, () => {
      const check = nextSyncCheck(timing, r.progress, now);
      expect(check).to.deep.equal({
        sync: r.sync, reset: r.reset, progress: { interval: r.interval, managerQuiet: r.managerQuiet, lastMessageAt: r.progress.lastMessageAt },
      });
    });
  }

  it('response_timeout 0: a state in the same second still counts, one a second ago no longer', () => {
    const t = { interval: 2, maxInterval: 8, responseTimeout: 0 };
    expect(nextSyncCheck(t, { interval: 2, managerQuiet: false, lastMessageAt: now }, now).sync).to.equal(false);
    expect(nextSyncCheck(t, { interval: 2, managerQuiet: false, lastMessageAt: now - 1 }, now).sync).to.equal(true);
  });

  it('a manager that answers a sync with states for two intervals, then once more, then finds its inventory equal', () => {
    // what happens between two checks: a request right after the sync started, states flowing
    // until 5 s before the next check, or nothing
    const between: { asked: boolean; states: boolean }[] = [
      { asked: true, states: true }, { asked: false, states: true }, { asked: false, states: false },
      { asked: true, states: false }, { asked: false, states: false }, { asked: false, states: false },
    ];
    let p = syncProgressAtStart(timing);
    let t = now;
    const trace: string[] = [];
    for (const { asked, states } of between) {
      const wait = p.interval;
      if (asked) p = { ...p, managerQuiet: false, lastMessageAt: t + 1 };
      if (states) p = { ...p, lastMessageAt: t + wait - 5 };
      t += wait;
      const check = nextSyncCheck(timing, p, t);
      p = check.progress;
      trace.push(`${check.sync ? 'sync' : 'skip'}${check.reset ? ' reset' : ''} ${p.interval}`);
    }
    expect(trace).to.deep.equal(['skip 600', 'skip 1200', 'sync 1200', 'sync 1200', 'sync reset 300', 'sync 300']);
  });
});
