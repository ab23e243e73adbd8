import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { SenderCounter, readCounterFile } from '../../src/wazuh/counters.js';
import { countersAfter } from '../../src/wazuh/codec.js';
import { tempDir } from '../support/manager.js';

describe('sender counter', () => {
  it('starts a new global value at every start, so counters never repeat across restarts or crashes', () => {
    const { dir, cleanup } = tempDir('wba-counters');
    try {
      const first = SenderCounter.open(dir);
      const sent = Array.from({ length: 12_000 }, () => first.next()); // crosses a local wrap (9997)
      expect(sent[0]).to.deep.equal({ global: 1, local: 1 });
      expect(sent[9997]).to.deep.equal({ global: 2, local: 1 });
      // Crash: nothing persisted after the last global change. The next run still goes forward.
      const second = SenderCounter.open(dir).next();
      expect(countersAfter(second, sent[sent.length - 1]!)).to.equal(true);
      expect(fs.readFileSync(path.join(dir, 'sender_counter'), 'utf8')).to.equal('3:0:');
      expect(fs.statSync(path.join(dir, 'sender_counter')).mode & 0o777).to.equal(0o640);
    } finally {
      cleanup();
    }
  });
  it("reads Wazuh's rids format and treats garbage as 0:0", () => {
    const { dir, cleanup } = tempDir('wba-counters');
    try {
      fs.writeFileSync(path.join(dir, 'a'), '7:1234:');
      fs.writeFileSync(path.join(dir, 'b'), 'garbage');
      expect(readCounterFile(path.join(dir, 'a'))).to.deep.equal({ global: 7, local: 1234 });
      expect(readCounterFile(path.join(dir, 'b'))).to.deep.equal({ global: 0, local: 0 });
      expect(readCounterFile(path.join(dir, 'missing'))).to.deep.equal({ global: 0, local: 0 });
    } finally {
      cleanup();
    }
  });
});
