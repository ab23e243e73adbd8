// Wazuh 4.x secure-message codec: pure bytes in, bytes out. No sockets, no clocks, no state.
//
// The layout (Wazuh v4.14.7, src/os_crypto/shared/msgs.c CreateSecMSG/ReadSecMSG, checked
// against real frames in test/fixtures/capture-agent-4.14.7.json):
//
//   body      = random(5 digits) global(10 digits) ":" local(4 digits) ":" message
//   plain     = md5hex(body) body                        (32 ASCII hex chars, then body)
//   padded    = "!" * (1 + p) zlib(plain)                 p makes (len(zlib) + 1 + p) % 8 == 0
//   encrypted = AES-256-CBC(padded), PKCS#7, IV "FEDCBA0987654321",
//               key = the first 32 bytes of md5hex(agent key) (keys.c appends more, unused by AES-256)
//   payload   = "!<id>!#AES:" encrypted   agent -> manager when the key's IP is not one host
//             | "#AES:" encrypted         manager -> agent, or an agent keyed to a single IP
//   TCP frame = uint32 little-endian length, payload;   UDP datagram = payload
import crypto from 'node:crypto';
import zlib from 'node:zlib';

/** Wazuh's OS_MAXSTR: no decompressed message and no frame may exceed it. */
export const MAX_MESSAGE = 65536;
/** Largest ciphertext Wazuh would produce for MAX_MESSAGE, with room for the header. */
export const MAX_PAYLOAD = MAX_MESSAGE + 256;
/** The local counter wraps after this value and bumps the global one (msgs.c). */
export const LOCAL_COUNTER_MAX = 9997;

const AES_IV = Buffer.from('FEDCBA0987654321', 'ascii');
const AES_TAG = '#AES:';
const CHECKSUM_LEN = 32;
/** random(5) + global(10) + ':' + local(4) + ':' */
const COUNTER_PREFIX_LEN = 21;

export type CodecFailure =
  | 'header'       // not "#AES:" / "!<id>!#AES:"
  | 'length'       // frame length prefix out of bounds
  | 'decrypt'      // AES failed: wrong key or broken padding
  | 'compression'  // no "!" marker, or zlib stream broken / too large
  | 'checksum'     // md5 of the body does not match
  | 'format'       // counters or separators malformed
  | 'counter';     // counters not newer than the last accepted ones (replay)

export class CodecError extends Error {
  constructor(readonly failure: CodecFailure, message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

export interface Counters {
  global: number;
  local: number;
}

export interface SecureMessage extends Counters {
  random: number;
  message: Buffer;
}

export interface OpenedMessage extends SecureMessage {
  /** The md5 carried in the message (lowercase hex). */
  checksum: string;
}

/** The AES key Wazuh derives from a client.keys entry's key string. */
export function deriveKey(agentKey: string): Buffer {
  return Buffer.from(md5hex(Buffer.from(agentKey, 'utf8')), 'ascii');
}

/** The counters of the next message after `c` (local wraps after 9997 into the global). */
export function nextCounters(c: Counters): Counters {
  return c.local >= LOCAL_COUNTER_MAX ? { global: c.global + 1, local: 1 } : { global: c.global, local: c.local + 1 };
}

/** True when `got` is strictly newer than `last`: the only counters Wazuh accepts. */
export function countersAfter(got: Counters, last: Counters): boolean {
  return got.global > last.global || (got.global === last.global && got.local > last.local);
}

/** Throws CodecError('counter') unless `got` is newer than `last`: how Wazuh refuses replays. */
export function checkCounters(got: Counters, last: Counters | undefined): void {
  if (last && !countersAfter(got, last)) {
    throw new CodecError(
      'counter',
      `replayed or old counter ${got.global}:${got.local} (last accepted ${last.global}:${last.local})`,
    );
  }
}

/** Encrypts one message into a payload without header. `random` is 0..65535 (Wazuh's 5 digits). */
export function seal(msg: SecureMessage, key: Buffer): Buffer {
  const body = Buffer.concat([
    Buffer.from(
      `${String(msg.random).padStart(5, '0')}${String(msg.global).padStart(10, '0')}:${String(msg.local).padStart(4, '0')}:`,
      'ascii',
    ),
    msg.message,
  ]);
  // Any zlib stream is valid (remoted calls uncompress()); on messages of a few hundred bytes the
  // fastest level is as small as Wazuh's best compression, within a few bytes, for 30 % less CPU.
  const compressed = zlib.deflateSync(Buffer.concat([Buffer.from(md5hex(body), 'ascii'), body]), { level: zlib.constants.Z_BEST_SPEED });
  const bangs = 1 + ((8 - ((compressed.length + 1) % 8)) % 8);
  const cipher = crypto.createCipheriv('aes-256-cbc', key, AES_IV);
  return Buffer.concat([cipher.update(Buffer.alloc(bangs, '!')), cipher.update(compressed), cipher.final()]);
}

/** Decrypts and verifies one payload body (after the header). Counters are checked by the caller. */
export function open(encrypted: Buffer, key: Buffer): OpenedMessage {
  if (encrypted.length === 0 || encrypted.length % 16 !== 0) {
    throw new CodecError('decrypt', `ciphertext length ${encrypted.length} is not a positive multiple of the AES block size`);
  }
  let clear: Buffer;
  try {
    const decipher = crypto.createDecipheriv('aes-256-cbc', key, AES_IV);
    clear = Buffer.concat([decipher.update(encrypted), decipher.final()]);
  } catch {
    throw new CodecError('decrypt', 'AES decryption failed (wrong key or corrupt padding)');
  }
  let start = 0;
  while (start < clear.length && clear[start] === 0x21 /* '!' */) start++;
  if (start === 0) throw new CodecError('compression', 'decrypted message does not start with the compression marker');
  let plain: Buffer;
  try {
    plain = zlib.inflateSync(clear.subarray(start), { maxOutputLength: MAX_MESSAGE });
  } catch (e) {
    const tooLarge = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new CodecError('compression', tooLarge ? `decompressed message exceeds ${MAX_MESSAGE} bytes` : 'zlib stream is corrupt');
  }
  if (plain.length < CHECKSUM_LEN + COUNTER_PREFIX_LEN) {
    throw new CodecError('format', `decompressed message too short (${plain.length} bytes)`);
  }
  const checksum = plain.toString('ascii', 0, CHECKSUM_LEN);
  const body = plain.subarray(CHECKSUM_LEN);
  if (md5hex(body) !== checksum) throw new CodecError('checksum', 'message checksum (md5) does not match its content');
  const prefix = body.toString('ascii', 0, COUNTER_PREFIX_LEN);
  const m = /^(\d{5})(\d{10}):(\d{4}):$/.exec(prefix);
  if (!m) throw new CodecError('format', 'random/counter fields are malformed');
  return {
    checksum,
    random: Number(m[1]),
    global: Number(m[2]),
    local: Number(m[3]),
    message: body.subarray(COUNTER_PREFIX_LEN),
  };
}

/** Header an agent puts before its ciphertext. Wazuh adds the id unless the key names one host IP. */
export function agentHeader(agentId: string, keyIp: string): Buffer {
  return Buffer.from(isSingleHost(keyIp) ? AES_TAG : `!${agentId}!${AES_TAG}`, 'ascii');
}

/** Splits an agent payload into the agent id it names (if any) and its ciphertext. */
export function parseAgentPayload(payload: Buffer): { agentId?: string; encrypted: Buffer } {
  let rest = payload;
  let agentId: string | undefined;
  if (rest[0] === 0x21 /* '!' */) {
    const end = rest.indexOf(0x21, 1);
    const id = end > 1 ? rest.toString('ascii', 1, end) : '';
    if (!/^\d{1,8}$/.test(id)) throw new CodecError('header', 'agent id in "!<id>!" header is malformed');
    agentId = id;
    rest = rest.subarray(end + 1);
  }
  return { agentId, encrypted: stripAesTag(rest) };
}

/** The ciphertext of a manager payload ("#AES:" + ciphertext). */
export function parseManagerPayload(payload: Buffer): Buffer {
  return stripAesTag(payload);
}

/** Agent side, whole message: payload ready for a UDP datagram or `frameTcp`. */
export function encodeAgentPayload(msg: SecureMessage, key: Buffer, agentId: string, keyIp: string): Buffer {
  return Buffer.concat([agentHeader(agentId, keyIp), seal(msg, key)]);
}

/** Manager side, whole message (used by the test manager and tests). */
export function encodeManagerPayload(msg: SecureMessage, key: Buffer): Buffer {
  return Buffer.concat([Buffer.from(AES_TAG, 'ascii'), seal(msg, key)]);
}

export function frameTcp(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/**
 * A length prefix of 0 or above the limit. `frames` are the complete frames that came before it
 * in the same chunk: sound input the caller still handles before closing the connection.
 */
export class FrameLengthError extends CodecError {
  constructor(readonly frames: Buffer[], length: number, maxPayload: number) {
    super('length', `frame length ${length} is outside 1..${maxPayload}`);
  }
}

/**
 * Reassembles TCP frames from a byte stream. A length prefix of 0 or above `maxPayload` is a
 * protocol violation the caller must answer by closing the connection (Wazuh's remoted does the
 * same); it throws FrameLengthError, which carries the frames before it, so that how TCP happened
 * to cut the stream never changes which frames are delivered.
 */
export class TcpDeframer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the frame under way needs in all (4 until its length prefix is known). */
  private awaiting = 4;

  constructor(private readonly maxPayload = MAX_PAYLOAD) {}

  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    // Copy nothing until the frame under way is complete: a peer trickling a frame byte by byte
    // would otherwise cost a copy of all pending bytes per byte (seconds of CPU per 64 KiB frame).
    if (this.pendingBytes < this.awaiting) return frames;
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    let offset = 0;
    while (buf.length - offset >= 4) {
      const len = buf.readUInt32LE(offset);
      if (len === 0 || len > this.maxPayload) {
        this.pending = [];
        this.pendingBytes = 0;
        this.awaiting = 4;
        throw new FrameLengthError(frames, len, this.maxPayload);
      }
      if (buf.length - offset - 4 < len) break;
      frames.push(buf.subarray(offset + 4, offset + 4 + len));
      offset += 4 + len;
    }
    buf = buf.subarray(offset);
    this.pending = buf.length ? [buf] : [];
    this.pendingBytes = buf.length;
    this.awaiting = buf.length >= 4 ? 4 + buf.readUInt32LE(0) : 4;
    return frames;
  }
}

function stripAesTag(payload: Buffer): Buffer {
  if (payload.length < AES_TAG.length || payload.toString('ascii', 0, AES_TAG.length) !== AES_TAG) {
    throw new CodecError('header', 'payload does not start with "#AES:" (blowfish and plain messages are not supported)');
  }
  return payload.subarray(AES_TAG.length);
}

/** Wazuh's isSingleHost(): an IPv4 address without a mask, or with /32. "any" and IPv6 are not. */
function isSingleHost(ip: string): boolean {
  const [addr, mask] = ip.split('/');
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(addr ?? '')) return false;
  return mask === undefined || mask === '32' || mask === '255.255.255.255';
}

function md5hex(data: Buffer): string {
  return crypto.createHash('md5').update(data).digest('hex');
}
