// UTF-8 as MQTT wants it (3.1.1 section 1.5.3): well-formed, no surrogates, no U+0000.
// The engine's own codec does the common case, ASCII, in one native call: XS on a device has
// ArrayBuffer.fromString and String.fromArrayBuffer; xsnap, Node and browsers have TextEncoder and
// TextDecoder. Other text, and engines with neither, take the JavaScript code here, which is also
// what enforces MQTT's rules (XS's own decoder checks only the byte structure).
import { MqttProtocolError } from './errors';

interface Natives {
  fromString?(text: string): ArrayBuffer;
  fromArrayBuffer?(buffer: ArrayBufferLike, offset: number, length: number): string;
  TextEncoder?: new () => { encode(text: string): Uint8Array };
  TextDecoder?: new () => { decode(bytes: Uint8Array): string };
}

const XsArrayBuffer = ArrayBuffer as Natives;
const XsString = String as Natives;
const G = globalThis as Natives;
// Neither keeps state between calls (the decoder is never used in streaming mode).
const encoder = G.TextEncoder && new G.TextEncoder();
const decoder = G.TextDecoder && new G.TextDecoder();

export function encodeUtf8(text: string): Uint8Array {
  const native = encoder ? encoder.encode(text) : XsArrayBuffer.fromString ? new Uint8Array(XsArrayBuffer.fromString(text)) : undefined;
  // One byte per UTF-16 unit only for ASCII; anything else (lone surrogates included) is redone below.
  if (native && native.length === text.length) return native;
  // Two passes (count, then write) so nothing is over-allocated. Lone surrogates become U+FFFD.
  let out: Uint8Array | undefined;
  for (;;) {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c >= 0xd800 && c < 0xe000) {
        const d = text.charCodeAt(i + 1);
        if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + d - 0xdc00;
          i++;
        } else c = 0xfffd;
      }
      // k continuation bytes after a lead byte of k + 1 high bits
      const k = c < 0x80 ? 0 : c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
      if (out) {
        out[n] = k ? ((0xff << (7 - k)) & 0xff) | (c >> (6 * k)) : c;
        for (let j = 1; j <= k; j++) out[n + j] = 0x80 | ((c >> (6 * (k - j))) & 63);
      }
      n += k + 1;
    }
    if (out) return out;
    out = new Uint8Array(n);
  }
}

/**
 * bytes[start, end) decoded by the engine in one call, when the result has one UTF-16 unit per byte;
 * undefined otherwise. The text is ASCII only when it also holds no U+FFFD (the decoder's mark for
 * bytes that are not UTF-8): any other byte of 0x80 or more gives fewer units than bytes. Callers test
 * that with one regular expression, with whatever else they refuse.
 */
export function nativeText(bytes: Uint8Array, start: number, end: number): string | undefined {
  const n = end - start;
  let text: string | undefined;
  if (XsString.fromArrayBuffer) {
    try {
      text = XsString.fromArrayBuffer(bytes.buffer, bytes.byteOffset + start, n);
    } catch {
      return undefined; // not UTF-8: decodeUtf8 says where
    }
  } else if (decoder) text = decoder.decode(new Uint8Array(bytes.buffer, bytes.byteOffset + start, n));
  return text !== undefined && text.length === n ? text : undefined;
}

const NOT_PLAIN = /[\u0000\ufffd]/;
/** Code units per String.fromCharCode.apply below. */
const APPLY_UNITS = 16;

/** Decodes bytes[start, end) strictly; `what` names the field in the error. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number, what = 'string'): string {
  const ascii = nativeText(bytes, start, end);
  if (ascii !== undefined && !NOT_PLAIN.test(ascii)) return ascii;
  let text = '';
  const units: number[] = [];
  for (let i = start; i < end; ) {
    let c = bytes[i++];
    if (c > 0x7f) {
      // k continuation bytes; the lowest code point each length may carry, to refuse overlong forms
      const k = c >= 0xf8 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
      const min = k === 1 ? 0x80 : k === 2 ? 0x800 : 0x10000;
      if (!k || i + k > end) bad(what);
      c &= 0x3f >> k;
      for (let j = 0; j < k; j++) {
        const b = bytes[i++];
        if ((b & 0xc0) !== 0x80) bad(what);
        c = (c << 6) | (b & 0x3f);
      }
      if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) bad(what);
      if (c > 0xffff) {
        c -= 0x10000;
        units.push(0xd800 + (c >> 10));
        c = 0xdc00 + (c & 0x3ff);
      }
    } else if (!c) bad(what);
    units.push(c);
    // each unit is an argument of apply, so a slot on the XS stack (an ESP8266 has 256)
    if (units.length >= APPLY_UNITS) {
      text += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return text + String.fromCharCode.apply(null, units);
}

function bad(what: string): never {
  throw new MqttProtocolError('bad-utf8', `invalid UTF-8 in ${what}`);
}
