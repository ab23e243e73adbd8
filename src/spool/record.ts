// Spool records on disk: each is `u32le length | u32le crc32 | SpoolRecord (protobuf)`. Pure
// bytes in/out; the CRC tells a torn or corrupted record (crash mid-write, bad disk) from a good one.
import protobuf from 'protobufjs/minimal.js';
import { wazuh_bpf_agent as pb } from '../generated/fim_event.js';

const { Reader } = protobuf;

export type FimEventFields = pb.FimEvent.$Properties;
export const FimOperation = pb.FimEvent.Operation;
export const FimMode = pb.FimEvent.Mode;
export const FimCapture = pb.FimEvent.CaptureSource;

export interface SpoolEntry {
  sequence: number;
  /** Exactly what goes to the manager: `<queue>:<location>:<text>`. */
  message: string;
  fim?: FimEventFields;
  acceptedMs: number;
}

export const FRAME_HEADER = 8;
/** Larger than any message the 4.x protocol can carry (64 KiB) plus its structured form. */
export const MAX_RECORD = 1 << 20;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib's crc32): Node 20's zlib does not expose it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeRecord(entry: SpoolEntry): Buffer {
  const body = pb.SpoolRecord.encode({
    sequence: entry.sequence,
    message: entry.message,
    fim: entry.fim,
    acceptedMs: entry.acceptedMs,
  }).finish();
  const frame = Buffer.allocUnsafe(FRAME_HEADER + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  frame.set(body, FRAME_HEADER);
  return frame;
}

export type FrameResult =
  | { kind: 'record'; entry: SpoolEntry; size: number }
  /** Not enough bytes for the record announced: the end of what was written so far. */
  | { kind: 'incomplete' }
  | { kind: 'corrupt'; why: string };

/**
 * The fields the sender needs, read straight from the wire format: decoding the structured
 * FimEvent of every record it sends would cost more than the rest of the read.
 */
function decodeHead(body: Uint8Array): { sequence: number; message: string; acceptedMs: number } {
  const r = Reader.create(body);
  const out = { sequence: 0, message: '', acceptedMs: 0 };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: out.sequence = Number(r.uint64()); break;
      case 2: out.message = r.string(); break;
      case 4: out.acceptedMs = Number(r.int64()); break;
      default: r.skipType(tag & 7);
    }
  }
  return out;
}

/** Reads the record at `offset` of `buf`; its FimEvent only `withFim` (the sender does not need it). */
export function decodeRecordAt(buf: Buffer, offset: number, withFim = false): FrameResult {
  if (buf.length - offset < FRAME_HEADER) return { kind: 'incomplete' };
  const length = buf.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD) return { kind: 'corrupt', why: `record length ${length} out of range` };
  if (buf.length - offset - FRAME_HEADER < length) return { kind: 'incomplete' };
  const body = buf.subarray(offset + FRAME_HEADER, offset + FRAME_HEADER + length);
  if (crc32(body) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt', why: 'checksum mismatch' };
  let entry: SpoolEntry;
  try {
    entry = decodeHead(body);
    if (withFim) entry.fim = pb.SpoolRecord.decode(body).fim ?? undefined;
  } catch (e) {
    return { kind: 'corrupt', why: `undecodable record: ${(e as Error).message}` };
  }
  if (!(entry.sequence > 0) || !entry.message) return { kind: 'corrupt', why: 'record without sequence or message' };
  return { kind: 'record', entry, size: FRAME_HEADER + length };
}
