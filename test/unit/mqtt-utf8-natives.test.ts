// The UTF-8 code takes XS's natives on a device (ArrayBuffer.fromString, String.fromArrayBuffer), which
// xsnap lacks (it is built with CESU-8 strings). Stand-ins with the device's behaviour, written from
// xsString.c and xsDataView.c of the Moddable SDK, check that MQTT's rules still hold on that path:
// fromArrayBuffer checks only the byte structure (overlong forms, surrogates and code points over
// U+10FFFF pass; C0 80 is how XS stores U+0000), and fromString copies XS's internal bytes (a lone
// surrogate as 3 bytes).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Utf8 from '../../src/mqtt/utf8';
import type * as Text from '../../src/text/utf8';
import type * as TextErrors from '../../src/text/errors';
import type * as ReaderModule from '../../src/mqtt/reader';
import type * as Errors from '../../src/mqtt/errors';

/** XS's lenient decoding: structure only, then each sequence's bits, whatever they say. */
function xsFromArrayBuffer(buffer: ArrayBufferLike, offset = 0, length = buffer.byteLength - offset): string {
  const b = new Uint8Array(buffer, offset, length);
  let out = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 1 : (c & 0xe0) === 0xc0 ? 2 : (c & 0xf0) === 0xe0 ? 3 : (c & 0xf0) === 0xf0 ? 4 : 0;
    if (!n || i + n > b.length) throw new TypeError('invalid UTF-8');
    let cp = n === 1 ? c : c & (0x7f >> n);
    for (let k = 1; k < n; k++) {
      if ((b[i + k] & 0xc0) !== 0x80) throw new TypeError('invalid UTF-8');
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    out += cp > 0xffff ? String.fromCharCode(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)) : String.fromCharCode(cp);
    i += n;
  }
  return out;
}

/** XS's internal bytes of a string: UTF-8, with each lone surrogate as its own 3-byte sequence. */
function xsFromString(text: string): ArrayBuffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    const d = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
      c = 0x10000 + ((c - 0xd800) << 10) + d - 0xdc00;
      i++;
      bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    } else if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(bytes).buffer;
}

const g = globalThis as Record<string, unknown>;
const S = String as unknown as Record<string, unknown>;
const AB = ArrayBuffer as unknown as Record<string, unknown>;
const saved = { TextEncoder: g.TextEncoder, TextDecoder: g.TextDecoder };
let utf8: typeof Utf8;
let text: typeof Text;
let textErrors: typeof TextErrors;
let reader: typeof ReaderModule;
let errors: typeof Errors;
let calls = 0;

beforeAll(async () => {
  g.TextEncoder = undefined;
  g.TextDecoder = undefined;
  S.fromArrayBuffer = (...args: Parameters<typeof xsFromArrayBuffer>) => (calls++, xsFromArrayBuffer(...args));
  AB.fromString = (text: string) => (calls++, xsFromString(text));
  vi.resetModules();
  utf8 = await import('../../src/mqtt/utf8');
  text = await import('../../src/text/utf8');
  textErrors = await import('../../src/text/errors');
  reader = await import('../../src/mqtt/reader');
  errors = await import('../../src/mqtt/errors');
});

afterAll(() => {
  g.TextEncoder = saved.TextEncoder;
  g.TextDecoder = saved.TextDecoder;
  delete S.fromArrayBuffer;
  delete AB.fromString;
  vi.resetModules();
});

const bytes = (...b: number[]) => Uint8Array.from(b);
/** A PUBLISH body holding `topic` bytes; the topic field is read at offset 1 (not 0, as in a chunk). */
const body = (...topic: number[]) => Uint8Array.from([0xff, topic.length >> 8, topic.length & 255, ...topic]);
/** The PUBLISH topic of b[at, end), as the dialects read it. */
const readTopic = (b: Uint8Array, at: number, end: number) => reader.readTopic({ first: 0x30, b, at, end });

describe('MQTT UTF-8 on the device natives', () => {
  it('uses the natives for ASCII', () => {
    const before = calls;
    expect(utf8.decodeUtf8(bytes(0x61, 0x2f, 0x62), 0, 3)).toBe('a/b');
    expect(Array.from(utf8.encodeUtf8('a/b'))).toEqual([0x61, 0x2f, 0x62]);
    expect(calls - before).toBe(2);
  });

  it('decodes valid non-ASCII text the same way', () => {
    expect(utf8.decodeUtf8(bytes(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80), 0, 9)).toBe('\u00e9\u20ac\u{1f600}');
  });

  it('refuses what XS lets through: overlong forms, surrogates, code points over U+10FFFF, U+0000', () => {
    for (const bad of [
      [0xc0, 0x80], // XS's own U+0000
      [0xc1, 0x81], // overlong "A"
      [0xe0, 0x80, 0xaf], // overlong "/"
      [0xed, 0xa0, 0x80], // U+D800
      [0xf4, 0x90, 0x80, 0x80], // U+110000
      [0x61, 0x00],
      [0x80], // XS throws here
    ]) {
      expect(() => utf8.decodeUtf8(Uint8Array.from(bad), 0, bad.length), bad.join(' ')).toThrow(errors.MqttProtocolError);
    }
  });

  it('reads PUBLISH topics at an offset with the same rules', () => {
    expect(readTopic(body(0x73, 0x2f, 0x31), 1, 6)).toBe('s/1');
    expect(readTopic(body(0xc3, 0xa9), 1, 5)).toBe('\u00e9');
    const code = (t: number[]) => {
      try {
        readTopic(body(...t), 1, 3 + t.length);
      } catch (error) {
        return (error as Errors.MqttProtocolError).code;
      }
      return 'ok';
    };
    expect(code([0xc0, 0x80])).toBe('bad-utf8');
    expect(code([0xc1, 0xab])).toBe('bad-utf8'); // an overlong "+": refused as UTF-8 before it can be a wildcard
    expect(code([0x61, 0x2b])).toBe('bad-topic');
  });

  it('encodes a lone surrogate as U+FFFD, not as XS stores it', () => {
    expect(Array.from(utf8.encodeUtf8('a\ud800'))).toEqual([0x61, 0xef, 0xbf, 0xbd]);
    expect(Array.from(utf8.encodeUtf8('\u{1f600}'))).toEqual([0xf0, 0x9f, 0x98, 0x80]);
  });
});

describe('the shared UTF-8 codec on the device natives', () => {
  it('uses the natives for ASCII, U+0000 included when not refused', () => {
    const before = calls;
    expect(text.utf8Decode(bytes(0x61, 0x2f, 0x62))).toBe('a/b');
    expect(Array.from(text.utf8Encode('a/b'))).toEqual([0x61, 0x2f, 0x62]);
    expect(calls - before).toBe(2);
    expect(text.utf8Decode(bytes(0x61, 0x00))).toBe('a\u0000');
    expect(Array.from(text.utf8Encode('a\u0000'))).toEqual([0x61, 0x00]); // not XS's C0 80
  });

  it('refuses what XS lets through, naming the byte', () => {
    for (const [bad, where] of [
      [[0xc0, 0x80], 'byte 0'],
      [[0x61, 0xe0, 0x80, 0xaf], 'byte 1'],
      [[0xed, 0xa0, 0x80], 'byte 0'],
      [[0xf4, 0x90, 0x80, 0x80], 'byte 0'],
    ] as [number[], string][]) {
      expect(() => text.utf8Decode(Uint8Array.from(bad)), bad.join(' ')).toThrow(textErrors.TextError);
      expect(() => text.utf8Decode(Uint8Array.from(bad)), bad.join(' ')).toThrow(where);
    }
  });

  it('a lone surrogate: utf8Encode throws, utf8EncodeLossy writes U+FFFD', () => {
    expect(() => text.utf8Encode('a\ud800')).toThrow(textErrors.TextError);
    expect(Array.from(text.utf8EncodeLossy('a\ud800'))).toEqual([0x61, 0xef, 0xbf, 0xbd]);
    expect(text.utf8Length('\u00e9\u{1f600}')).toBe(6);
  });
});
