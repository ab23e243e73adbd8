// Manager payloads with one deliberate defect the codec's own encoder never produces: broken AES
// padding, a corrupt zlib stream, a wrong checksum, malformed counters, a missing "!" marker.
// The layout is the one documented in src/wazuh/codec.ts; only the defect differs. Shared by the
// codec fuzz and the hostile-manager test.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { CodecFailure, SecureMessage } from '../../src/wazuh/codec.js';

export const DEFECTS = ['padding', 'zlib', 'checksum', 'counter-format', 'short', 'marker'] as const;
export type Defect = (typeof DEFECTS)[number];

/** The CodecError failure each defect must produce. */
export const DEFECT_FAILURE: Record<Defect, CodecFailure> = {
  padding: 'decrypt',
  zlib: 'compression',
  checksum: 'checksum',
  'counter-format': 'format',
  short: 'format',
  marker: 'compression',
};

const AES_IV = Buffer.from('FEDCBA0987654321', 'ascii');

/** "#AES:" + ciphertext of `msg` under `key`, with `defect` built in. */
export function craftManagerPayload(key: Buffer, msg: SecureMessage, defect: Defect): Buffer {
  const random = String(msg.random).padStart(5, '0');
  const global = String(msg.global).padStart(10, '0');
  const local = String(msg.local).padStart(4, '0');
  const head = defect === 'counter-format' ? `${random}${global}-${local}-` : `${random}${global}:${local}:`;
  const body = defect === 'short' ? Buffer.from('short', 'ascii') : Buffer.concat([Buffer.from(head, 'ascii'), msg.message]);
  const checksum = md5hex(defect === 'checksum' ? Buffer.concat([body, Buffer.from('x')]) : body);
  const compressed = zlib.deflateSync(Buffer.concat([Buffer.from(checksum, 'ascii'), body]));
  if (defect === 'zlib') compressed[1]! ^= 0x01; // the zlib header's check bits no longer add up
  const bangs = defect === 'marker' ? 0 : 1 + ((8 - ((compressed.length + 1) % 8)) % 8);
  const clear = Buffer.concat([Buffer.alloc(bangs, '!'), compressed]);
  const cipher = crypto.createCipheriv('aes-256-cbc', key, AES_IV);
  if (defect === 'padding') {
    // PKCS#7 wants the last byte to be 1..16 and repeated; 0 never is.
    cipher.setAutoPadding(false);
    const padded = Buffer.concat([clear, Buffer.alloc(16 - (clear.length % 16), 0)]);
    return Buffer.concat([Buffer.from('#AES:'), cipher.update(padded), cipher.final()]);
  }
  return Buffer.concat([Buffer.from('#AES:'), cipher.update(clear), cipher.final()]);
}

function md5hex(data: Buffer): string {
  return crypto.createHash('md5').update(data).digest('hex');
}
