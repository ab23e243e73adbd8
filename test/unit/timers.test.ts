// src/timers.ts Timer: one pending call, any wait, a long one in parts. The longest single wait is
// shrunk to 20 ms here so that a wait "longer than setTimeout's" takes a test a fraction of a second.
import { expect } from 'chai';
import { Timer } from '../../src/timers.js';
import { sleep, until } from '../support/wait.js';

describe('timers: Timer', () => {
  it('a wait longer than the longest timeout is waited in parts: the call comes once, not before its time', async () => {
    const timer = new Timer(20);
    const setAt = performance.now();
    const calls: number[] = [];
    timer.set(110, () => calls.push(performance.now() - setAt));
    await until('the call', () => calls.length > 0, 5_000);
    await sleep(60);
    expect(calls).to.have.length(1);
    // a timer may come a millisecond early (libuv counts from the time its loop turn began); a wait
    // cut to its longest part would have come at 20 ms
    expect(calls[0]).to.be.at.least(108);
  });

  it('set() replaces the pending call, clear() cancels it', async () => {
    const timer = new Timer();
    const calls: string[] = [];
    timer.set(10, () => calls.push('first'));
    timer.set(20, () => calls.push('second'));
    await until('the call', () => calls.length > 0, 5_000);
    timer.set(10, () => calls.push('third'));
    timer.clear();
    await sleep(60);
    expect(calls).to.deep.equal(['second']);
  });
});
