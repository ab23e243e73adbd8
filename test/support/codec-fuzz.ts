// The codec fuzz loops, run in a worker thread by test/unit/fuzz-codec.test.ts. Inputs go through
// the agent's decode path for manager messages exactly as the TCP transport chains it: a fresh
// TcpDeframer per connection, then SecureChannel.open with remoted.verify_msg_id on, whose replay
// check lasts for the process (every connection comes from the same server).
import {
  CodecError, CodecFailure, Counters, FrameLengthError, MAX_PAYLOAD, TcpDeframer, deriveKey, encodeManagerPayload, frameTcp, nextCounters,
} from '../../src/wazuh/codec.js';
import { SecureChannel } from '../../src/wazuh/channel.js';
import { SenderCounter } from '../../src/wazuh/counters.js';
import { loadCapture } from './fixtures.js';
import { Rng } from './fuzz.js';
import { DEFECTS, DEFECT_FAILURE, craftManagerPayload } from './hostile.js';

/** Every documented CodecFailure; `satisfies` breaks the build when codec.ts adds or drops one. */
const FAILURE_KINDS = {
  header: true, length: true, decrypt: true, compression: true, checksum: true, format: true, counter: true,
} as const satisfies Record<CodecFailure, true>;
export const CODEC_FAILURES = Object.keys(FAILURE_KINDS) as CodecFailure[];

/**
 * What one decoded frame (or the stream) ended as: decoded, a documented rejection, or
 * "incomplete": bytes left that announce a frame still to come (the stream is not over).
 */
export type Outcome = 'ok' | CodecFailure | 'incomplete';

export interface CodecFuzzArgs {
  seed: number;
  /** Where the channel's sender counter lives; the caller removes it (a hung worker cannot). */
  stateDir: string;
}

export interface FuzzReport {
  seed: number;
  inputs: number;
  /** How many inputs each generator produced (random, bit-flip, replay, ...). */
  generators: Record<string, number>;
  outcomes: Record<string, number>;
}

/** One generated input: TCP bytes, and what decoding it must give when the generator knows. */
interface Input {
  how: string;
  bytes: Buffer;
  expect?: { outcomes: Outcome[]; message?: Buffer };
  /** The counters of a valid frame. */
  counters?: Counters;
}

const capture = loadCapture();
const AGENT = { id: capture.agent.id, name: capture.agent.name, ip: capture.agent.ip, key: capture.agent.key };
const AES_KEY = deriveKey(AGENT.key);

/** The captured frames as the manager would send them: agent headers "!<id>!" removed. */
const CAPTURED_PAYLOADS = capture.frames.map((f) => {
  const payload = Buffer.from(f.tcp_bytes_hex, 'hex').subarray(4);
  return payload.subarray(payload.indexOf('#AES:'));
});

const MANAGER_MESSAGES = [
  '#!-agent ack ',
  '#!-up file 0123456789abcdef0123456789abcdef merged.mg\n',
  '#!-close file ',
  '#!-req 1234 syscheck dbsync ',
  '#!-force_reconnect',
  '#!-err {"error":1,"message":"Agent version must be lower or equal to manager version"}',
  'fim_file {"component":"fim_file","type":"no_data","data":{"id":1,"begin":"/a","end":"/z"}}',
].map((m) => Buffer.from(m));

/** The generator: valid frames from its own growing counters, and every kind of damage. */
class FrameSource {
  private sent: Counters = { global: 1, local: 0 };
  /** Payloads the channel accepted, for replays, and the newest counters among them. */
  private readonly accepted: Buffer[] = [];
  private lastAccepted: Counters | undefined;
  /** A message that inflates past 64 KiB, sealed once: decoding stops before its counters matter. */
  private readonly bomb: Buffer;
  /**
   * Sealed frames to mutate, one of them resealed now and then: sealing (zlib) is the costliest
   * step, and a mutated frame is as damaged whether its counters are fresh or not.
   */
  private readonly pool: Buffer[];

  constructor(private readonly rng: Rng) {
    this.bomb = encodeManagerPayload({ random: 1, global: 0, local: 1, message: Buffer.alloc(1 << 20, 'A') }, AES_KEY);
    this.pool = Array.from({ length: 64 }, () => this.seal(this.message()));
  }

  next(): Input {
    const roll = this.rng.int(100);
    if (roll < 3) return { how: 'random-stream', bytes: this.rng.bytes(this.rng.between(1, 64)) };
    if (roll < 10) return this.framed('random-payload', this.rng.bytes(this.rng.int(300)));
    if (roll < 17) return this.framed('random-ciphertext', Buffer.concat([Buffer.from('#AES:'), this.rng.bytes(16 * this.rng.between(1, 20))]));
    if (roll < 29) return this.valid();
    if (roll < 74) return this.mutated();
    if (roll < 92) return this.crafted();
    return this.replay();
  }

  /** A valid frame the channel must accept, with its message. */
  valid(): Input {
    const message = this.message();
    const counters = this.nextCounters();
    const payload = encodeManagerPayload({ ...counters, random: this.rng.int(65536), message }, AES_KEY);
    return { how: 'valid', bytes: frameTcp(payload), expect: { outcomes: ['ok'], message }, counters };
  }

  /** Tells the source that the channel accepted `payload` (a frame without its length prefix). */
  accept(payload: Buffer, counters: Counters | undefined): void {
    this.accepted.push(payload);
    if (counters) this.lastAccepted = counters;
  }

  /** A frame with a defect: one that `craftManagerPayload` builds, a wrong key, or a zlib bomb. */
  crafted(): Input {
    const roll = this.rng.int(DEFECTS.length + 1);
    // Inflating 64 KiB each time is costly, and one bomb is as good as the next: a few hundred do.
    if (roll === DEFECTS.length && this.rng.int(8) === 0) return this.framed('zlib-bomb', this.bomb, ['compression']);
    if (roll === DEFECTS.length) {
      const wrongKey = deriveKey(this.rng.bytes(32).toString('hex'));
      // One wrong key in 256 leaves valid PKCS#7 padding, and then the "!" marker is missing.
      return this.framed('wrong-key', encodeManagerPayload({ ...this.nextCounters(), random: this.rng.int(65536), message: this.message() }, wrongKey),
        ['decrypt', 'compression']);
    }
    const defect = DEFECTS[roll]!;
    const payload = craftManagerPayload(AES_KEY, { ...this.nextCounters(), random: this.rng.int(65536), message: this.message() }, defect);
    return this.framed(`defect-${defect}`, payload, [DEFECT_FAILURE[defect]]);
  }

  /** The same payload again, or a new one whose counters are not newer than the last accepted. */
  private replay(): Input {
    const last = this.lastAccepted;
    if (!last || this.rng.int(2) === 0) {
      if (this.accepted.length === 0) return this.valid();
      return this.framed('replay', this.rng.pick(this.accepted), ['counter']);
    }
    const old = this.rng.int(2) === 0
      ? { global: last.global, local: this.rng.between(0, last.local) }
      : { global: this.rng.int(last.global), local: this.rng.between(1, 9997) };
    return this.framed('old-counter', encodeManagerPayload({ ...old, random: this.rng.int(65536), message: this.message() }, AES_KEY), ['counter']);
  }

  private mutated(): Input {
    const rng = this.rng;
    if (rng.int(8) === 0) this.pool[rng.int(this.pool.length)] = this.seal(this.message());
    const base = rng.int(4) === 0 ? rng.pick(CAPTURED_PAYLOADS) : rng.pick(this.pool);
    const at = (n: number) => rng.int(n + 1);
    switch (rng.int(10)) {
      case 0: {
        const p = Buffer.from(base);
        for (let n = rng.between(1, 8); n > 0; n--) p[rng.int(p.length)]! ^= 1 << rng.int(8);
        return this.framed('bit-flip', p);
      }
      case 1:
        return this.framed('truncate', base.subarray(0, rng.int(base.length)));
      case 2:
        return this.framed('extend', Buffer.concat([base, rng.bytes(rng.between(1, 64))]));
      case 3: {
        const i = at(base.length);
        return this.framed('insert', Buffer.concat([base.subarray(0, i), rng.bytes(rng.between(1, 16)), base.subarray(i)]));
      }
      case 4: {
        const i = rng.int(base.length);
        return this.framed('delete', Buffer.concat([base.subarray(0, i), base.subarray(i + rng.between(1, 16))]));
      }
      case 5:
        return this.framed('header', this.editHeader(base));
      case 6:
        return this.framed('block-shuffle', this.shuffleBlocks(base));
      case 7:
        return { how: 'length-prefix', bytes: this.editLength(frameTcp(base)) };
      case 8: {
        const framed = frameTcp(base);
        return { how: 'stream-truncate', bytes: framed.subarray(0, rng.between(1, framed.length - 1)) };
      }
      default: {
        const other = frameTcp(rng.pick(CAPTURED_PAYLOADS));
        const framed = frameTcp(base);
        return { how: 'splice', bytes: Buffer.concat([framed.subarray(0, rng.between(1, framed.length)), other.subarray(at(other.length))]) };
      }
    }
  }

  private editHeader(p: Buffer): Buffer {
    const rng = this.rng;
    switch (rng.int(4)) {
      case 0: {
        const q = Buffer.from(p);
        q[rng.int(Math.min(5, q.length))] = rng.int(256);
        return q;
      }
      case 1:
        return Buffer.concat([Buffer.from(`!${AGENT.id}!`), p]);
      case 2:
        return p.subarray(5);
      default:
        return Buffer.concat([Buffer.from(':'), p.subarray(5)]); // what a blowfish message looks like
    }
  }

  /** CBC damage: two ciphertext blocks swapped, or one repeated. */
  private shuffleBlocks(p: Buffer): Buffer {
    const blocks: Buffer[] = [];
    for (let i = 5; i < p.length; i += 16) blocks.push(p.subarray(i, i + 16));
    const a = this.rng.int(blocks.length);
    const b = this.rng.int(blocks.length);
    if (this.rng.int(2) === 0) [blocks[a], blocks[b]] = [blocks[b]!, blocks[a]!];
    else blocks.splice(a, 0, blocks[b]!);
    return Buffer.concat([p.subarray(0, 5), ...blocks]);
  }

  private editLength(framed: Buffer): Buffer {
    const q = Buffer.from(framed);
    const len = framed.length - 4;
    const choices = [0, MAX_PAYLOAD + 1, 0xffffffff, this.rng.next(), Math.max(1, len - this.rng.between(1, 32)), len + this.rng.between(1, 32)];
    q.writeUInt32LE(this.rng.pick(choices), 0);
    return q;
  }

  private framed(how: string, payload: Buffer, outcomes?: Outcome[]): Input {
    return { how, bytes: frameTcp(payload), expect: outcomes && { outcomes } };
  }

  private message(): Buffer {
    return this.rng.int(3) === 0 ? this.rng.bytes(this.rng.int(1000)) : this.rng.pick(MANAGER_MESSAGES);
  }

  /** Counters newer than any sent so far; sometimes far ahead, which the agent must accept. */
  private nextCounters(): Counters {
    this.sent = this.rng.int(50) === 0 ? { global: this.sent.global + this.rng.between(1, 5), local: this.rng.between(1, 9997) } : nextCounters(this.sent);
    return this.sent;
  }

  private seal(message: Buffer): Buffer {
    return encodeManagerPayload({ ...this.nextCounters(), random: this.rng.int(65536), message }, AES_KEY);
  }
}

/** The server every fuzzed connection comes from, as a transport describes it. */
const SERVER = '[127.0.0.1]:1514/tcp';

/** The agent's channel, keyed like the captured agent, its sender counter in `stateDir`; refuses replays. */
function agentChannel(stateDir: string): SecureChannel {
  return new SecureChannel(AGENT, SenderCounter.open(stateDir), { verifyManagerCounters: true });
}

/** `bytes` cut at 0-3 random points: how TCP may hand them over. */
function chunk(rng: Rng, bytes: Buffer): Buffer[] {
  const cuts = Array.from({ length: rng.int(4) }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
  return [0, ...cuts].map((start, i) => bytes.subarray(start, i < cuts.length ? cuts[i] : bytes.length));
}

/** A CodecError with a documented failure and a one-line message; anything else is rethrown. */
function rejection(e: unknown): CodecFailure {
  if (e instanceof CodecError && e.failure in FAILURE_KINDS && e.message.trim() !== '' && !e.message.includes('\n')) return e.failure;
  throw e;
}

/** What the transport does with the bytes of one connection: deframe, then open every frame. */
function decodeConnection(channel: SecureChannel, chunks: Buffer[]): { outcome: Outcome; message?: Buffer }[] {
  const deframer = new TcpDeframer();
  const results: { outcome: Outcome; message?: Buffer }[] = [];
  let consumed = 0;
  let total = 0;
  for (const c of chunks) {
    total += c.length;
    let frames: Buffer[];
    let broken: CodecFailure | undefined;
    try {
      frames = deframer.push(c);
    } catch (e) {
      frames = e instanceof FrameLengthError ? e.frames : [];
      broken = rejection(e);
    }
    for (const f of frames) {
      consumed += 4 + f.length;
      try {
        results.push({ outcome: 'ok', message: channel.open(f, SERVER) });
      } catch (e) {
        results.push({ outcome: rejection(e) });
      }
    }
    if (broken) {
      results.push({ outcome: broken });
      return results; // the transport drops the connection: nothing after this is read
    }
  }
  if (consumed < total) results.push({ outcome: 'incomplete' });
  return results;
}

function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

function failure(seed: number, index: number, how: string, bytes: Buffer, what: string): Error {
  return new Error(`codec fuzz seed ${seed}, input ${index} (${how}): ${what}\ninput hex: ${bytes.toString('hex')}`);
}

/**
 * `inputs` generated frames, each on its own connection (fresh deframer, random chunking) into
 * one long-lived channel. Every frame must end decoded or as a documented CodecError; inputs
 * whose outcome the generator knows (valid, defects, replays) must end exactly so.
 */
export function fuzzCodec({ seed, inputs, stateDir }: CodecFuzzArgs & { inputs: number }): FuzzReport {
  const rng = new Rng(seed);
  const source = new FrameSource(rng);
  const channel = agentChannel(stateDir);
  const report: FuzzReport = { seed, inputs, generators: {}, outcomes: {} };
  for (let i = 0; i < inputs; i++) {
    const input = source.next();
    count(report.generators, input.how);
    let results;
    try {
      results = decodeConnection(channel, chunk(rng, input.bytes));
    } catch (e) {
      throw failure(seed, i, input.how, input.bytes, `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    if (results.length === 0) throw failure(seed, i, input.how, input.bytes, 'ended as nothing');
    for (const r of results) count(report.outcomes, r.outcome);
    const first = results[0]!;
    if (input.expect) {
      if (results.length !== 1 || !input.expect.outcomes.includes(first.outcome)) {
        throw failure(seed, i, input.how, input.bytes, `ended as ${results.map((r) => r.outcome).join(', ')}, expected ${input.expect.outcomes.join(' or ')}`);
      }
      if (input.expect.message && !first.message!.equals(input.expect.message)) {
        throw failure(seed, i, input.how, input.bytes, 'decoded to another message than was sealed');
      }
    }
    if (results.length === 1 && first.outcome === 'ok') source.accept(input.bytes.subarray(4), input.counters);
  }
  return report;
}

/**
 * `streams` connections, each carrying 2-10 frames, valid or with a defect, and sometimes a final
 * length prefix out of bounds, cut into random chunks (single bytes included). Every frame must
 * come out whole and in order whatever the cuts, decode to what was sealed or fail as its defect
 * says, and a bad prefix must end the stream as 'length' after the frames before it.
 */
export function fuzzStreams({ seed, streams, stateDir }: CodecFuzzArgs & { streams: number }): FuzzReport {
  const rng = new Rng(seed);
  const source = new FrameSource(rng);
  const channel = agentChannel(stateDir);
  const report: FuzzReport = { seed, inputs: streams, generators: {}, outcomes: {} };
  for (let i = 0; i < streams; i++) {
    const inputs = Array.from({ length: rng.between(2, 10) }, () => (rng.int(2) === 0 ? source.valid() : source.crafted()));
    if (rng.int(4) === 0) {
      const bad = Buffer.alloc(4);
      bad.writeUInt32LE(rng.pick([0, MAX_PAYLOAD + 1 + rng.int(1 << 20)]), 0);
      inputs.push({ how: 'bad-length', bytes: Buffer.concat([bad, rng.bytes(rng.int(32))]), expect: { outcomes: ['length'] } });
    }
    for (const input of inputs) count(report.generators, input.how);
    const bytes = Buffer.concat(inputs.map((x) => x.bytes));
    const pieces = rng.int(10) === 0 ? Array.from(bytes, (_, k) => bytes.subarray(k, k + 1)) : chunk(rng, bytes);
    let results;
    try {
      results = decodeConnection(channel, pieces);
    } catch (e) {
      throw failure(seed, i, 'stream', bytes, `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    for (const r of results) count(report.outcomes, r.outcome);
    const got = results.map((r) => r.outcome).join(',');
    const want = inputs.map((x) => x.expect!.outcomes.join('|')).join(',');
    const matches = results.length === inputs.length && results.every((r, k) => {
      const e = inputs[k]!.expect!;
      return e.outcomes.includes(r.outcome) && (!e.message || r.message?.equals(e.message));
    });
    if (!matches) throw failure(seed, i, 'stream', bytes, `frames ended as [${got}], expected [${want}]`);
  }
  return report;
}
