// PEM to DER for the TLS options: Moddable's TLS session takes certificates and keys as DER bytes.
import { ModdableHostError } from './errors';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The DER bytes of every `-----BEGIN <label>-----` block in `pem`, in order. */
export function pemBlocks(pem: string, what: string): ArrayBuffer[] {
  const blocks: ArrayBuffer[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(pem)) !== null) blocks.push(decodeBase64(match[2]!, what));
  if (blocks.length === 0) {
    throw new ModdableHostError('TLS_UNAVAILABLE', `${what} is not PEM text (expected a "-----BEGIN ...-----" block)`);
  }
  return blocks;
}

function decodeBase64(text: string, what: string): ArrayBuffer {
  const clean = text.replace(/[\s=]/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const digit = ALPHABET.indexOf(clean.charAt(i));
    if (digit < 0) throw new ModdableHostError('TLS_UNAVAILABLE', `${what} has a character that is not base64 at offset ${i}`);
    value = ((value << 6) | digit) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out.buffer.slice(0, o);
}
