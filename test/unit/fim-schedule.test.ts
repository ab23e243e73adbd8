import { expect } from 'chai';
import { nextScanDelayMs } from '../../src/fim/schedule.js';

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
