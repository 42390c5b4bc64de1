// Base64 and base64url (RFC 4648 sections 4 and 5); Uint8Array.fromBase64/toBase64 are missing on XS.
import { codesToString } from './ascii';
import { TextError } from './errors';

const STANDARD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Standard alphabet, with '=' padding. */
export const base64Encode = (bytes: Uint8Array): string => {
  return encode(bytes, STANDARD, true);
};

/** URL-safe alphabet ('-', '_'); without padding unless `pad` is true. */
export const base64UrlEncode = (bytes: Uint8Array, pad = false): string => {
  return encode(bytes, URL_SAFE, pad);
};

/**
 * Decodes standard base64. Padding is required, and whitespace, characters outside the alphabet and
 * non-zero unused bits are rejected with TextError 'bad-base64' naming the position.
 */
export const base64Decode = (text: string): Uint8Array => {
  return decode(text, false);
};

/** Decodes base64url; padding is optional. Same strictness as base64Decode otherwise. */
export const base64UrlDecode = (text: string): Uint8Array => {
  return decode(text, true);
};

const encode = (bytes: Uint8Array, alphabet: string, pad: boolean): string => {
  const full = Math.floor(bytes.length / 3) * 3;
  const rest = bytes.length - full;
  const codes = new Uint8Array(full / 3 * 4 + (rest === 0 ? 0 : pad ? 4 : rest + 1));
  let o = 0;
  for (let i = 0; i < full; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    codes[o++] = alphabet.charCodeAt(n >> 18);
    codes[o++] = alphabet.charCodeAt((n >> 12) & 63);
    codes[o++] = alphabet.charCodeAt((n >> 6) & 63);
    codes[o++] = alphabet.charCodeAt(n & 63);
  }
  if (rest > 0) {
    const n = (bytes[full] << 16) | (rest === 2 ? bytes[full + 1] << 8 : 0);
    codes[o++] = alphabet.charCodeAt(n >> 18);
    codes[o++] = alphabet.charCodeAt((n >> 12) & 63);
    if (rest === 2) codes[o++] = alphabet.charCodeAt((n >> 6) & 63);
    if (pad) while (o < codes.length) codes[o++] = 61;
  }
  return codesToString(codes);
};

const decode = (text: string, url: boolean): Uint8Array => {
  const name = url ? 'base64url' : 'base64';
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  const padding = text.length - end;
  const tail = end % 4;
  if (tail === 1) {
    checkAlphabet(text, end, url);
    throw new TextError('bad-base64', `${name} text has a length that cannot be valid (${end} data characters); is it truncated?`);
  }
  if (padding > 0 || !url) {
    if (padding > 2 || (end + padding) % 4 !== 0 || (tail === 0 && padding > 0)) {
      checkAlphabet(text, end, url);
      throw new TextError(
        'bad-base64',
        `${name} text is not padded correctly: ${end} data characters followed by ${padding} '='` +
          (url ? '' : ' (standard base64 needs a length that is a multiple of 4)'),
      );
    }
  }
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let o = 0;
  let i = 0;
  for (; i + 4 <= end; i += 4) {
    const n = (value(text, i, url) << 18) | (value(text, i + 1, url) << 12) | (value(text, i + 2, url) << 6) | value(text, i + 3, url);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (tail > 0) {
    const a = value(text, i, url);
    const b = value(text, i + 1, url);
    const c = tail === 3 ? value(text, i + 2, url) : 0;
    if ((tail === 2 && (b & 15) !== 0) || (tail === 3 && (c & 3) !== 0)) {
      throw new TextError('bad-base64', `${name} text has non-zero unused bits in its last character (index ${i + tail - 1}); it was not made by a conforming encoder`);
    }
    const n = (a << 18) | (b << 12) | (c << 6);
    out[o++] = n >> 16;
    if (tail === 3) out[o++] = (n >> 8) & 255;
  }
  return out;
};

/** On the error path: a bad character explains more than the length it caused. */
const checkAlphabet = (text: string, end: number, url: boolean): void => {
  for (let i = 0; i < end; i++) value(text, i, url);
};

const value = (text: string, at: number, url: boolean): number => {
  const c = text.charCodeAt(at);
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c === (url ? 45 : 43)) return 62;
  if (c === (url ? 95 : 47)) return 63;
  const shown = c === 61 ? "'=' (padding is only allowed at the end)" : JSON.stringify(text.charAt(at));
  const hint = url ? (c === 43 || c === 47 ? ' (that is standard base64: use base64Decode)' : '') : c === 45 || c === 95 ? ' (that is base64url: use base64UrlDecode)' : '';
  throw new TextError('bad-base64', `invalid ${url ? 'base64url' : 'base64'} character ${shown} at index ${at}${hint}`);
};
