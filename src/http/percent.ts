// Percent-decoding (RFC 3986 §2.1) that rejects malformed escapes instead of passing them through.
import { HttpError } from './errors';
import { CryptoError } from '../crypto/errors';
import { utf8Decode, utf8Encode } from '../crypto/utf8';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes bytes[start, end) to a string: %XX escapes become bytes, `+` becomes a space when
 * `plusIsSpace` (form encoding), and the result must be valid UTF-8.
 */
export function percentDecode(bytes: Uint8Array, start: number, end: number, plusIsSpace: boolean, what: string): string {
  const out = new Uint8Array(end - start);
  let o = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === 0x25) {
      const hi = i + 2 < end ? hexValue(bytes[i + 1]) : -1;
      const lo = i + 2 < end ? hexValue(bytes[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        throw new HttpError('bad-percent-encoding', 400, `${what}: "%" must be followed by two hex digits`);
      }
      out[o++] = (hi << 4) | lo;
      i += 2;
    } else out[o++] = plusIsSpace && c === 0x2b ? 0x20 : c;
  }
  try {
    return utf8Decode(out, 0, o);
  } catch (error) {
    if (error instanceof CryptoError) throw new HttpError('bad-percent-encoding', 400, `${what} is not valid UTF-8 (${error.message})`);
    throw error;
  }
}

function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Percent-decodes an ASCII string (a path or query taken from the request line). */
export function percentDecodeText(text: string, plusIsSpace: boolean, what: string): string {
  return percentDecode(asciiBytes(text), 0, text.length, plusIsSpace, what);
}

const unreserved = /[A-Za-z0-9\-._~]/;

/** Percent-encodes every byte of the UTF-8 form of `text` except unreserved characters. */
export function percentEncode(text: string): string {
  let out = '';
  const bytes = utf8Encode(text);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const ch = String.fromCharCode(b);
    out += b < 0x80 && unreserved.test(ch) ? ch : '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}
