// Fuzz of the decode path for manager messages (TcpDeframer, then SecureChannel.open): seeded
// random and mutated frames, real Wazuh 4.14.7 frames among the seeds. Run in a worker thread so
// that a hang fails the test instead of stalling the suite. FUZZ_SEED=<n> explores other inputs.
import { expect } from 'chai';
import { CODEC_FAILURES, type CodecFuzzArgs, type FuzzReport } from '../support/codec-fuzz.js';
import { FUZZ_HANG_DEADLINE_MS, fuzzSeed, runFuzzWorker } from '../support/fuzz.js';
import { tempDir } from '../support/manager.js';

const LOOPS = new URL('../support/codec-fuzz.js', import.meta.url);
const SEED = fuzzSeed(20261124);

function summary(name: string, r: FuzzReport): string {
  const outcomes = Object.entries(r.outcomes).sort().map(([k, n]) => `${k}=${n}`).join(' ');
  return `${name}: seed ${r.seed}, ${r.inputs} inputs; outcomes ${outcomes}`;
}

describe('codec fuzz', function () {
  this.timeout(FUZZ_HANG_DEADLINE_MS + 10_000);
  let state: { dir: string; cleanup: () => void };
  beforeEach(() => {
    state = tempDir('wba-fuzz');
  });
  afterEach(() => state.cleanup());

  it('the hang detector stops a loop that overruns its deadline', async () => {
    const error = await runFuzzWorker(LOOPS, 'fuzzCodec', { seed: SEED, inputs: 1e9, stateDir: state.dir }, 1000).then(() => undefined, (e: Error) => e);
    expect(error?.message).to.match(/^hang: fuzzCodec\(.*\) did not finish within 1 s$/);
  });

  it('100,000 random and mutated frames: each decodes or is a documented CodecError, every kind reached', async () => {
    const r = await runFuzzWorker<CodecFuzzArgs & { inputs: number }, FuzzReport>(LOOPS, 'fuzzCodec', { seed: SEED, inputs: 100_000, stateDir: state.dir });
    console.log(`      ${summary('frames', r)}`);
    console.log(`      generators ${Object.entries(r.generators).sort().map(([k, n]) => `${k}=${n}`).join(' ')}`);
    expect(r.inputs).to.equal(100_000);
    for (const kind of ['ok', ...CODEC_FAILURES]) expect(r.outcomes[kind], `outcome ${kind}`).to.be.at.least(1);
  });

  it('3,000 connections of valid and defective frames cut at random points: frames whole, in order, judged one by one', async () => {
    const r = await runFuzzWorker<CodecFuzzArgs & { streams: number }, FuzzReport>(LOOPS, 'fuzzStreams', { seed: SEED, streams: 3_000, stateDir: state.dir });
    console.log(`      ${summary('streams', r)}`);
    for (const kind of ['ok', 'length', 'decrypt', 'compression', 'checksum', 'format']) expect(r.outcomes[kind], `outcome ${kind}`).to.be.at.least(1);
  });
});
