// Fuzz of the ossec.conf parser: seeded mutations of every good fixture, run in a worker thread so
// that a hang fails the test instead of stalling the suite. FUZZ_SEED=<n> explores other inputs.
import { expect } from 'chai';
import type { MutationReport } from '../support/config-corpus.js';
import { FUZZ_HANG_DEADLINE_MS, fuzzSeed, runFuzzWorker } from '../support/fuzz.js';

const SEED = fuzzSeed(4147);
const PER_FILE = 5_000;

describe('config fuzz', function () {
  this.timeout(FUZZ_HANG_DEADLINE_MS + 10_000);

  it('10,000 mutated ossec.conf texts: each parses or is a one-line ConfigError naming file, line and option', async () => {
    const reports = await runFuzzWorker<{ seed: number; perFile: number }, Record<string, MutationReport>>(
      new URL('../support/config-corpus.js', import.meta.url), 'fuzzGoodConfigs', { seed: SEED, perFile: PER_FILE });
    const files = Object.entries(reports);
    for (const [file, r] of files) {
      console.log(`      ${file}: seed ${SEED}, ${PER_FILE} texts; parsed ${r.parsed}, ConfigError ${r.rejected} (${r.withLine} with a line, ${r.withOption} with an option)`);
      expect(r.parsed + r.rejected).to.equal(PER_FILE);
      // The fuzz reaches both sides: mutations the readers accept, and rejections that can say where.
      expect(r.parsed).to.be.at.least(1);
      expect(r.withLine).to.be.at.least(1);
      expect(r.withOption).to.be.at.least(1);
    }
    expect(files.length * PER_FILE).to.be.at.least(10_000);
  });
});
