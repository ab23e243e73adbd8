import { expect } from 'chai';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import {
  CodecError, TcpDeframer, checkCounters, countersAfter, deriveKey, encodeAgentPayload, encodeManagerPayload, frameTcp,
  nextCounters, open, parseAgentPayload, parseManagerPayload, LOCAL_COUNTER_MAX, MAX_PAYLOAD,
} from '../../src/wazuh/codec.js';
import { loadCapture } from '../support/fixtures.js';

const capture = loadCapture();
const key = deriveKey(capture.agent.key);

function decodeCapturedFrame(hex: string, direction: string) {
  const frames = new TcpDeframer().push(Buffer.from(hex, 'hex'));
  expect(frames).to.have.length(1);
  const payload = frames[0]!;
  if (direction === 'agent_to_manager') {
    const { agentId, encrypted } = parseAgentPayload(payload);
    return { agentId, opened: open(encrypted, key) };
  }
  return { agentId: undefined, opened: open(parseManagerPayload(payload), key) };
}

function expectCodecError(fn: () => unknown, failure: string): CodecError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CodecError);
    expect((e as CodecError).failure).to.equal(failure);
    expect((e as CodecError).message).to.be.a('string').and.not.empty;
    return e as CodecError;
  }
  expect.fail(`expected a CodecError (${failure})`);
}

describe('codec: real Wazuh 4.14.7 frames', () => {
  it('has the 16 captured frames in both directions', () => {
    expect(capture.frames).to.have.length(16);
    expect(new Set(capture.frames.map((f) => f.direction))).to.deep.equal(new Set(['agent_to_manager', 'manager_to_agent']));
  });

  capture.frames.forEach((f, i) => {
    it(`decodes frame ${i} (${f.direction}) exactly: ${JSON.stringify(f.message.slice(0, 40))}`, () => {
      const { agentId, opened } = decodeCapturedFrame(f.tcp_bytes_hex, f.direction);
      expect(opened.message.toString('utf8')).to.equal(f.message);
      expect(opened.checksum).to.equal(f.checksum);
      expect(String(opened.random).padStart(5, '0')).to.equal(f.random);
      expect(String(opened.global).padStart(10, '0')).to.equal(f.global_counter);
      expect(String(opened.local).padStart(4, '0')).to.equal(f.local_counter);
      expect(agentId === undefined ? '#AES:' : `!${agentId}!#AES:`).to.equal(f.header);
    });
  });

  it('round-trips every captured message through its own encoder', () => {
    for (const f of capture.frames) {
      const msg = { random: Number(f.random), global: Number(f.global_counter), local: Number(f.local_counter), message: Buffer.from(f.message) };
      const payload = f.direction === 'agent_to_manager'
        ? encodeAgentPayload(msg, key, capture.agent.id, capture.agent.ip)
        : encodeManagerPayload(msg, key);
      const { agentId, opened } = decodeCapturedFrame(frameTcp(payload).toString('hex'), f.direction);
      // Node's zlib may choose other (valid) bytes than Wazuh's: compare decoded content, not bytes.
      expect(opened.message.toString('utf8')).to.equal(f.message);
      expect(opened.checksum).to.equal(f.checksum);
      expect(agentId === undefined ? '#AES:' : `!${agentId}!#AES:`).to.equal(f.header);
    }
  });

  it('pads with "!" the way Wazuh does: (zlib length + 1 + padding) is a multiple of 8', () => {
    for (const f of capture.frames) {
      const payload = new TcpDeframer().push(Buffer.from(f.tcp_bytes_hex, 'hex'))[0]!;
      const enc = f.direction === 'agent_to_manager' ? parseAgentPayload(payload).encrypted : parseManagerPayload(payload);
      const d = crypto.createDecipheriv('aes-256-cbc', key, Buffer.from('FEDCBA0987654321'));
      const clear = Buffer.concat([d.update(enc), d.final()]);
      let bangs = 0;
      while (clear[bangs] === 0x21) bangs++;
      expect(clear.length % 8).to.equal(0);
      expect(bangs).to.be.within(1, 8);
      expect(zlib.inflateSync(clear.subarray(bangs)).length).to.be.greaterThan(32);
    }
  });

  it('puts "!<id>!" before "#AES:" only when the key is not bound to one IPv4 host', () => {
    const msg = { random: 1, global: 0, local: 1, message: Buffer.from('x') };
    const head = (ip: string) => encodeAgentPayload(msg, key, '002', ip).toString('latin1').split('#AES:')[0];
    expect(head('any')).to.equal('!002!');
    expect(head('10.0.0.0/8')).to.equal('!002!');
    expect(head('192.168.1.7')).to.equal('');
    expect(head('192.168.1.7/32')).to.equal('');
    expect(head('fe80::1')).to.equal('!002!');
  });
});

describe('codec: counters', () => {
  it('wraps the local counter after 9997 into the global one', () => {
    expect(nextCounters({ global: 0, local: 49 })).to.deep.equal({ global: 0, local: 50 });
    expect(nextCounters({ global: 3, local: LOCAL_COUNTER_MAX })).to.deep.equal({ global: 4, local: 1 });
  });
  it('accepts only strictly newer counters', () => {
    expect(countersAfter({ global: 0, local: 51 }, { global: 0, local: 50 })).to.equal(true);
    expect(countersAfter({ global: 1, local: 1 }, { global: 0, local: 9997 })).to.equal(true);
    expect(countersAfter({ global: 0, local: 50 }, { global: 0, local: 50 })).to.equal(false);
    expect(countersAfter({ global: 0, local: 9000 }, { global: 1, local: 1 })).to.equal(false);
  });
});

describe('codec: tampered input is rejected with a reason', () => {
  const f = capture.frames[2]!; // "1:wazuh-agent:ossec: Agent started: ..."
  const payload = () => Buffer.from(f.tcp_bytes_hex, 'hex').subarray(4);

  it('a flipped ciphertext byte', () => {
    // Flip a byte in every position of the last block: decryption or checksum must fail, never pass.
    for (let back = 1; back <= 32; back++) {
      const p = payload();
      p[p.length - back]! ^= 0x01;
      const { encrypted } = parseAgentPayload(p);
      let err: unknown;
      try { open(encrypted, key); } catch (e) { err = e; }
      expect(err, `flip at -${back}`).to.be.instanceOf(CodecError);
      expect(['decrypt', 'compression', 'checksum', 'format']).to.include((err as CodecError).failure);
    }
  });

  it('a flipped byte inside the compressed body fails the checksum or zlib', () => {
    const body = Buffer.from('12345000000000:0001:hello world', 'ascii');
    const plain = Buffer.concat([Buffer.from(crypto.createHash('md5').update(body).digest('hex')), body]);
    plain[plain.length - 3] = 0x58; // change one letter of the message, keep the old checksum
    const z = zlib.deflateSync(plain);
    const bangs = 1 + ((8 - ((z.length + 1) % 8)) % 8);
    const c = crypto.createCipheriv('aes-256-cbc', key, Buffer.from('FEDCBA0987654321'));
    const enc = Buffer.concat([c.update(Buffer.alloc(bangs, '!')), c.update(z), c.final()]);
    expectCodecError(() => open(enc, key), 'checksum');
  });

  it('the wrong key', () => {
    const { encrypted } = parseAgentPayload(payload());
    const err = expectCodecError(() => open(encrypted, deriveKey('not-the-key')), 'decrypt');
    expect(err.message).to.match(/wrong key/);
  });

  it('a replayed counter', () => {
    const { encrypted } = parseAgentPayload(payload());
    const first = open(encrypted, key);
    checkCounters(first, { global: 0, local: 49 });
    const replay = open(encrypted, key);
    const err = expectCodecError(() => checkCounters(replay, first), 'counter');
    expect(err.message).to.match(/replayed or old counter 0:50 \(last accepted 0:50\)/);
  });

  it('a missing or foreign header', () => {
    expectCodecError(() => parseManagerPayload(Buffer.from('hello')), 'header');
    expectCodecError(() => parseAgentPayload(Buffer.from('!abc!#AES:xxxx')), 'header');
    expectCodecError(() => parseAgentPayload(Buffer.from(':blowfish')), 'header');
  });

  it('a zlib bomb is stopped at 64 KiB', () => {
    const body = Buffer.concat([Buffer.from('00001' + '0000000000:0001:'), Buffer.alloc(1 << 20, 'A')]);
    const plain = Buffer.concat([Buffer.from(crypto.createHash('md5').update(body).digest('hex')), body]);
    const z = zlib.deflateSync(plain);
    const bangs = 1 + ((8 - ((z.length + 1) % 8)) % 8);
    const c = crypto.createCipheriv('aes-256-cbc', key, Buffer.from('FEDCBA0987654321'));
    const enc = Buffer.concat([c.update(Buffer.alloc(bangs, '!')), c.update(z), c.final()]);
    const err = expectCodecError(() => open(enc, key), 'compression');
    expect(err.message).to.match(/exceeds 65536/);
  });

  it('a huge or zero length prefix', () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32LE(0x7fffffff, 0);
    expectCodecError(() => new TcpDeframer().push(huge), 'length');
    expectCodecError(() => new TcpDeframer().push(Buffer.alloc(4)), 'length');
    const ok = Buffer.alloc(4);
    ok.writeUInt32LE(MAX_PAYLOAD, 0);
    expect(new TcpDeframer().push(ok)).to.deep.equal([]);
  });
});

describe('codec: TCP framing', () => {
  it('reassembles frames split and joined at any byte boundary', () => {
    const stream = Buffer.concat(capture.frames.map((f) => Buffer.from(f.tcp_bytes_hex, 'hex')));
    for (const step of [1, 3, 7, 64, 1000, stream.length]) {
      const d = new TcpDeframer();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...d.push(stream.subarray(i, i + step)));
      expect(out.map((b) => b.toString('hex'))).to.deep.equal(capture.frames.map((f) => f.tcp_bytes_hex.slice(8)));
    }
  });
});
