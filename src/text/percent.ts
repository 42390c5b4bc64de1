// Percent-encoding (RFC 3986 section 2.1). Encoding: every byte of the UTF-8 form except the
// unreserved characters A-Z a-z 0-9 - . _ ~ becomes %XX with upper-case hex; stricter than
// encodeURIComponent, which keeps ! ' ( ) *; cloud SDKs (Azure's, Python's quote) encode those too.
// Decoding rejects malformed escapes and invalid UTF-8 instead of passing them through.
import { TextError } from './errors';
import { utf8Decode, utf8Encode } from './utf8';

const HEX = '0123456789ABCDEF';

/** Percent-encodes `text`. A lone surrogate throws TextError 'bad-utf8' (it has no UTF-8 form). */
export const percentEncode = (text: string): string => {
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < text.length; i++) {
    if (isUnreserved(text.charCodeAt(i))) continue;
    out += text.slice(plainFrom, i);
    let end = i + 1;
    while (end < text.length && !isUnreserved(text.charCodeAt(end))) end++;
    const bytes = utf8Encode(text.slice(i, end));
    for (let k = 0; k < bytes.length; k++) out += '%' + HEX.charAt(bytes[k] >> 4) + HEX.charAt(bytes[k] & 15);
    plainFrom = end;
    i = end - 1;
  }
  return out + text.slice(plainFrom);
};

const isUnreserved = (c: number): boolean => {
  return (
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126
  );
};

const hexValue = (c: number): number => {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
};

/**
 * Decodes bytes[start, end) to a string: %XX escapes become bytes, `+` becomes a space when
 * `plusIsSpace` (form encoding), and the result must be valid UTF-8. Anything else throws TextError
 * 'bad-percent-encoding', its message starting with `what`.
 */
export const percentDecode = (bytes: Uint8Array, start: number, end: number, plusIsSpace: boolean, what: string): string => {
  const out = new Uint8Array(end - start);
  let o = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === 0x25) {
      const hi = i + 2 < end ? hexValue(bytes[i + 1]) : -1;
      const lo = i + 2 < end ? hexValue(bytes[i + 2]) : -1;
      if (hi < 0 || lo < 0) throw new TextError('bad-percent-encoding', `${what}: "%" must be followed by two hex digits`);
      out[o++] = (hi << 4) | lo;
      i += 2;
    } else out[o++] = plusIsSpace && c === 0x2b ? 0x20 : c;
  }
  try {
    return utf8Decode(out, 0, o);
  } catch (error) {
    throw new TextError('bad-percent-encoding', `${what} is not valid UTF-8 (${(error as Error).message})`);
  }
};

/** Percent-decodes an ASCII string (a path or query taken from an HTTP request line). */
export const percentDecodeText = (text: string, plusIsSpace: boolean, what: string): string => {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return percentDecode(bytes, 0, text.length, plusIsSpace, what);
};
