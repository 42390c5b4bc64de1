// Strict UTF-8 (RFC 3629) without TextEncoder/TextDecoder, which XS builds may lack.
import { CryptoError } from './errors';

/**
 * Code units per String.fromCharCode.apply: each is an argument, so a slot on the XS stack, and an
 * ESP8266 has 256 slots for everything.
 */
const CHUNK = 16;

/** Encodes a string as UTF-8. Throws CryptoError 'bad-utf8' on a lone surrogate (not encodable). */
export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
    } else if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    } else {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}

/** Number of bytes utf8Encode(text) produces. Throws CryptoError 'bad-utf8' on a lone surrogate. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c < 0xd800 || c > 0xdfff) n += 3;
    else {
      const next = text.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw new CryptoError(
          'bad-utf8',
          `string has a lone UTF-16 surrogate 0x${c.toString(16)} at index ${i}; it cannot be encoded as UTF-8`,
        );
      }
      n += 4;
      i++;
    }
  }
  return n;
}

/**
 * Decodes UTF-8 bytes[start, end). Rejects (CryptoError 'bad-utf8', with the byte offset) overlong
 * forms, surrogates, code points above U+10FFFF, stray continuation bytes and truncated sequences.
 */
export function utf8Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = '';
  const units: number[] = [];
  let i = start;
  while (i < end) {
    const b = bytes[i];
    let c: number;
    let need: number;
    let min: number;
    if (b < 0x80) {
      units.push(b);
      i++;
      if (units.length >= CHUNK) text += flush(units);
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      c = b & 0x1f;
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      c = b & 0x0f;
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      c = b & 0x07;
      need = 3;
      min = 0x10000;
    } else {
      throw badByte(b, i);
    }
    if (i + need >= end) {
      throw new CryptoError('bad-utf8', `truncated UTF-8 sequence at byte ${i - start}: 0x${b.toString(16)} needs ${need} more byte(s)`);
    }
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k];
      if ((next & 0xc0) !== 0x80) throw badByte(next, i + k);
      c = (c << 6) | (next & 0x3f);
    }
    if (c < min) throw new CryptoError('bad-utf8', `overlong UTF-8 encoding at byte ${i - start}`);
    if (c >= 0xd800 && c <= 0xdfff) throw new CryptoError('bad-utf8', `UTF-8 encodes a surrogate (U+${c.toString(16)}) at byte ${i - start}`);
    if (c > 0x10ffff) throw new CryptoError('bad-utf8', `UTF-8 code point above U+10FFFF at byte ${i - start}`);
    if (c >= 0x10000) {
      c -= 0x10000;
      units.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
    } else {
      units.push(c);
    }
    i += need + 1;
    if (units.length >= CHUNK) text += flush(units);
  }
  return text + flush(units);

  function badByte(value: number, at: number): CryptoError {
    return new CryptoError('bad-utf8', `invalid UTF-8 byte 0x${value.toString(16)} at byte ${at - start}`);
  }
}

function flush(units: number[]): string {
  if (units.length === 0) return '';
  const s = String.fromCharCode.apply(null, units);
  units.length = 0;
  return s;
}
