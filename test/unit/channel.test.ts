// SecureChannel's counters for manager messages (remoted.verify_msg_id): off, as Wazuh ships it,
// any counter is accepted; on, each server's counters must grow, so that a cluster's second node,
// counting from its own start, is accepted after the first node's higher counters.
import { expect } from 'chai';
import { SecureChannel } from '../../src/wazuh/channel.js';
import { CodecError, Counters, deriveKey, encodeManagerPayload } from '../../src/wazuh/codec.js';
import { SenderCounter } from '../../src/wazuh/counters.js';
import { tempDir } from '../support/manager.js';

const AGENT = { id: '001', name: 'channel-test', ip: 'any', key: 'a'.repeat(64) };
const SERVER_A = '[127.0.0.1]:1514/tcp';
const SERVER_B = '[127.0.0.1]:11514/tcp';

/** A manager message with these counters, as the manager sends it. */
function fromManager(counters: Counters, text: string): Buffer {
  return encodeManagerPayload({ ...counters, random: 1, message: Buffer.from(text) }, deriveKey(AGENT.key));
}

function rejection(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CodecError);
    expect((e as CodecError).failure).to.equal('counter');
    return e as CodecError;
  }
  expect.fail('expected the counters to be refused');
}

describe('secure channel: manager counters', () => {
  let state: { dir: string; cleanup: () => void };
  const channel = (verifyManagerCounters: boolean) => new SecureChannel(AGENT, SenderCounter.open(state.dir), { verifyManagerCounters });
  beforeEach(() => {
    state = tempDir('wba-channel');
  });
  afterEach(() => state.cleanup());

  it("verification off (Wazuh's default): a replayed and an older counter are accepted", () => {
    const c = channel(false);
    const ack = fromManager({ global: 2, local: 1071 }, '#!-agent ack ');
    expect(c.open(ack, SERVER_A).toString()).to.equal('#!-agent ack ');
    expect(c.open(ack, SERVER_A).toString()).to.equal('#!-agent ack ');
    expect(c.open(fromManager({ global: 0, local: 2 }, 'older'), SERVER_A).toString()).to.equal('older');
  });

  it('verification on: a replay on the same server is refused, and so is an older counter', () => {
    const c = channel(true);
    const ack = fromManager({ global: 2, local: 1071 }, '#!-agent ack ');
    c.open(ack, SERVER_A);
    expect(rejection(() => c.open(ack, SERVER_A)).message).to.equal('replayed or old counter 2:1071 (last accepted 2:1071)');
    expect(rejection(() => c.open(fromManager({ global: 0, local: 2 }, 'older'), SERVER_A)).message)
      .to.equal('replayed or old counter 0:2 (last accepted 2:1071)');
    expect(c.open(fromManager({ global: 2, local: 1072 }, 'newer'), SERVER_A).toString()).to.equal('newer');
  });

  it("verification on: each server has its own counters (server B's low ones after server A's high ones)", () => {
    const c = channel(true);
    c.open(fromManager({ global: 2, local: 1071 }, 'from A'), SERVER_A);
    expect(c.open(fromManager({ global: 0, local: 1 }, 'from B'), SERVER_B).toString()).to.equal('from B');
    expect(c.open(fromManager({ global: 0, local: 2 }, 'from B again'), SERVER_B).toString()).to.equal('from B again');
    // B's counters did not lower A's: A's old ones are still refused, and B's are tracked apart
    expect(rejection(() => c.open(fromManager({ global: 2, local: 1071 }, 'A replayed'), SERVER_A)).message)
      .to.equal('replayed or old counter 2:1071 (last accepted 2:1071)');
    expect(rejection(() => c.open(fromManager({ global: 0, local: 2 }, 'B replayed'), SERVER_B)).message)
      .to.equal('replayed or old counter 0:2 (last accepted 0:2)');
  });
});
