// UTF-8 (RFC 3629), one codec for every module. The engine's own codec does the common case, ASCII,
// in one native call: XS on a device has ArrayBuffer.fromString and String.fromArrayBuffer; xsnap,
// Node and browsers have TextEncoder and TextDecoder. Other text, and engines with neither, take the
// JavaScript code here, which is also what refuses what XS's own decoder lets through (it checks only
// the byte structure: overlong forms, encoded surrogates and code points above U+10FFFF pass it).
//
// Two rules are the caller's choice:
// - a lone UTF-16 surrogate cannot be encoded: utf8Encode throws (hashes, signatures, pages, Improv:
//   the bytes must be the text), utf8EncodeLossy writes U+FFFD as TextEncoder does (MQTT: the message
//   goes out, marked where the text was broken);
// - U+0000 is valid UTF-8, but MQTT strings must not hold it: utf8Decode refuses it when asked.
import { TextError } from './errors';

interface Natives {
  fromString?(text: string): ArrayBuffer;
  fromArrayBuffer?(buffer: ArrayBufferLike, offset: number, length: number): string;
  TextEncoder?: new () => { encode(text: string): Uint8Array };
  TextDecoder?: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };
}

const XsArrayBuffer = ArrayBuffer as Natives;
const XsString = String as Natives;
const G = globalThis as Natives;
// Neither keeps state between calls (the decoder is never used in streaming mode). The decoder throws
// on bytes that are not UTF-8 instead of marking them U+FFFD, so no text of nativeText() holds U+FFFD.
const encoder = G.TextEncoder && new G.TextEncoder();
const decoder = G.TextDecoder && new G.TextDecoder('utf-8', { fatal: true });
const hasFromArrayBuffer = !!XsString.fromArrayBuffer;

/**
 * Most UTF-16 units handed to String.fromCharCode.apply at once: each is an argument, so a slot on
 * the XS stack, and an ESP8266 has 256 slots for everything (docs/xs.md).
 */
const CHUNK = 16;
const REPLACEMENT_CHARACTER = 0xfffd;

/** The UTF-8 of `text`. A lone surrogate (it has no UTF-8 form) throws TextError 'bad-utf8' naming its index. */
export const utf8Encode = (text: string): Uint8Array => {
  const native = encoder ? encoder.encode(text) : XsArrayBuffer.fromString ? new Uint8Array(XsArrayBuffer.fromString(text)) : undefined;
  // One byte per UTF-16 unit only for ASCII; anything else (lone surrogates included) is redone below.
  if (native && native.length === text.length) return native;
  noLoneSurrogate(text);
  return encode(text);
};

/** The UTF-8 of `text`, with each lone surrogate written as U+FFFD (as TextEncoder does). */
export const utf8EncodeLossy = (text: string): Uint8Array => {
  const native = encoder ? encoder.encode(text) : XsArrayBuffer.fromString ? new Uint8Array(XsArrayBuffer.fromString(text)) : undefined;
  return native && native.length === text.length ? native : encode(text);
};

/** Number of bytes utf8Encode(text) produces. Throws TextError 'bad-utf8' on a lone surrogate. */
export const utf8Length = (text: string): number => {
  noLoneSurrogate(text);
  return walk(text, undefined);
};

/** Throws TextError 'bad-utf8' at the first UTF-16 surrogate of `text` that is not half of a pair. */
const noLoneSurrogate = (text: string): void => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c >= 0xe000) continue;
    const d = text.charCodeAt(i + 1);
    if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) i++;
    else throw new TextError('bad-utf8', `string has a lone UTF-16 surrogate 0x${c.toString(16)} at index ${i}; it cannot be encoded as UTF-8`);
  }
};

/** Two passes (count, then write), so nothing is over-allocated. */
const encode = (text: string): Uint8Array => {
  const out = new Uint8Array(walk(text, undefined));
  walk(text, out);
  return out;
};

/** Counts the UTF-8 bytes of `text` (each lone surrogate as U+FFFD) and, given `out`, writes them there. */
const walk = (text: string, out: Uint8Array | undefined): number => {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xe000) {
      const d = text.charCodeAt(i + 1);
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + d - 0xdc00;
        i++;
      } else c = REPLACEMENT_CHARACTER;
    }
    // k continuation bytes after a lead byte of k + 1 high bits
    const k = c < 0x80 ? 0 : c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
    if (out) {
      out[n] = k ? ((0xff << (7 - k)) & 0xff) | (c >> (6 * k)) : c;
      for (let j = 1; j <= k; j++) out[n + j] = 0x80 | ((c >> (6 * (k - j))) & 63);
    }
    n += k + 1;
  }
  return n;
};

/**
 * bytes[start, end) decoded by the engine in one call, when the result has one UTF-16 unit per byte:
 * then it is ASCII (any byte of 0x80 or more gives fewer units than bytes, and bytes that are not
 * UTF-8 give no text); undefined otherwise.
 */
export const nativeText = (bytes: Uint8Array, start: number, end: number): string | undefined => {
  let text: string | undefined;
  try {
    text = hasFromArrayBuffer
      ? XsString.fromArrayBuffer!(bytes.buffer, bytes.byteOffset + start, end - start)
      : decoder && decoder.decode(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start));
  } catch {
    return undefined; // not UTF-8: utf8Decode says where
  }
  return text && text.length === end - start ? text : undefined;
};

/**
 * Decodes bytes[start, end) strictly. Overlong forms, encoded surrogates, code points above U+10FFFF,
 * stray continuation bytes and truncated sequences throw TextError 'bad-utf8' with the offset from
 * `start`; so does U+0000 when `refuseNul` (MQTT strings).
 */
export const utf8Decode = (bytes: Uint8Array, start = 0, end = bytes.length, refuseNul = false): string => {
  const ascii = nativeText(bytes, start, end);
  if (ascii !== undefined && !(refuseNul && ascii.indexOf('\u0000') >= 0)) return ascii;
  let text = '';
  const units: number[] = [];
  for (let i = start; i < end; ) {
    let at = i;
    let c = bytes[i++];
    let problem = '';
    // a byte that cannot stand where it is
    let invalid = -1;
    if (c > 0x7f) {
      // k continuation bytes (C0 and C1 can only start overlong forms, F5 and up only too large values)
      const k = c >= 0xf5 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
      if (!k) invalid = c;
      else if (i + k > end) problem = 'truncated UTF-8 sequence';
      else {
        c &= 0x3f >> k;
        for (let j = 0; j < k; j++, i++) {
          const b = bytes[i];
          if ((b & 0xc0) !== 0x80) {
            invalid = b;
            at = i;
            break;
          }
          c = (c << 6) | (b & 0x3f);
        }
        // the lowest code point each length may carry
        if (invalid < 0) {
          problem =
            c < (k === 1 ? 0x80 : k === 2 ? 0x800 : 0x10000)
              ? 'overlong UTF-8 encoding'
              : c >= 0xd800 && c < 0xe000
                ? `UTF-8 encodes a surrogate (U+${c.toString(16)})`
                : c > 0x10ffff
                  ? 'UTF-8 code point above U+10FFFF'
                  : '';
        }
      }
      if (invalid >= 0) problem = `invalid UTF-8 byte 0x${invalid.toString(16)}`;
      if (c > 0xffff) {
        c -= 0x10000;
        units.push(0xd800 + (c >> 10));
        c = 0xdc00 + (c & 0x3ff);
      }
    } else if (!c && refuseNul) problem = 'U+0000';
    if (problem) throw new TextError('bad-utf8', `${problem} at byte ${at - start}`);
    units.push(c);
    if (units.length >= CHUNK) text += flush(units);
  }
  return text + flush(units);
};

const flush = (units: number[]): string => {
  const s = String.fromCharCode.apply(null, units);
  units.length = 0;
  return s;
};
