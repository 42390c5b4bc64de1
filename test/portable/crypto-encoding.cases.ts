// Base64/base64url (RFC 4648 section 10 vectors), hex, and UTF-8 (RFC 3629 section 7 examples),
// with the rejections a strict decoder owes its callers.
import { equal, hex, suite, throws } from '../../hosts/xs/harness';
import { base64Decode, base64Encode, base64UrlDecode, base64UrlEncode } from '../../src/text/base64';
import { TextError } from '../../src/text/errors';
import { hexDecode, hexEncode } from '../../src/text/hex';
import { utf8Decode, utf8Encode, utf8EncodeLossy, utf8Length } from '../../src/text/utf8';

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function code(fn: () => unknown, part?: string): string {
  return (throws(fn, TextError, part) as TextError).code;
}

const rfc4648: [string, string][] = [
  ['', ''],
  ['f', 'Zg=='],
  ['fo', 'Zm8='],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg=='],
  ['fooba', 'Zm9vYmE='],
  ['foobar', 'Zm9vYmFy'],
];

export default suite('crypto: base64, hex, UTF-8', (test) => {
  for (const [plain, encoded] of rfc4648) {
    test(`base64 RFC 4648 vector ${JSON.stringify(plain)} <-> ${JSON.stringify(encoded)}`, () => {
      equal(base64Encode(ascii(plain)), encoded);
      equal(base64Decode(encoded), ascii(plain));
    });
  }

  test('base64url uses - and _ and drops padding unless asked', () => {
    // 0xfb 0xff 0xbf: 111110 111111 111110 111111 -> indices 62 63 62 63
    const bytes = hex('fb ff bf');
    equal(base64Encode(bytes), '+/+/');
    equal(base64UrlEncode(bytes), '-_-_');
    equal(base64UrlEncode(hex('fb ff')), '-_8');
    equal(base64UrlEncode(hex('fb ff'), true), '-_8=');
    equal(base64UrlDecode('-_8'), hex('fb ff'));
    equal(base64UrlDecode('-_8='), hex('fb ff'));
    equal(base64UrlDecode('Zm9vYg'), ascii('foob'));
  });

  test('all 256 byte values survive a base64 and base64url round trip', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let n = 0; n <= 256; n += 37) {
      equal(base64Decode(base64Encode(all.subarray(0, n))), all.subarray(0, n));
      equal(base64UrlDecode(base64UrlEncode(all.subarray(0, n))), all.subarray(0, n));
    }
  });

  test('base64 rejects characters outside the alphabet, naming the index', () => {
    equal(code(() => base64Decode('Zm9v!mFy'), 'index 4'), 'bad-base64');
    equal(code(() => base64Decode('Zm9v YmFy'), 'index 4'), 'bad-base64');
    equal(code(() => base64Decode('Zm9v\nYmFy')), 'bad-base64');
    throws(() => base64Decode('-_-_'), TextError, 'use base64UrlDecode');
    throws(() => base64UrlDecode('+/+/'), TextError, 'use base64Decode');
  });

  test('base64 rejects missing, extra or misplaced padding', () => {
    equal(code(() => base64Decode('Zg')), 'bad-base64');
    equal(code(() => base64Decode('Zg=')), 'bad-base64');
    equal(code(() => base64Decode('Zg===')), 'bad-base64');
    equal(code(() => base64Decode('Zm9v=')), 'bad-base64');
    equal(code(() => base64Decode('Zg==Zg=='), 'padding is only allowed at the end'), 'bad-base64');
    equal(code(() => base64Decode('Z'), 'truncated'), 'bad-base64');
    equal(code(() => base64UrlDecode('Zg=')), 'bad-base64');
  });

  test('base64 rejects non-zero unused bits (RFC 4648 section 3.5)', () => {
    equal(code(() => base64Decode('Zh=='), 'unused bits'), 'bad-base64');
    equal(code(() => base64Decode('Zm9='), 'unused bits'), 'bad-base64');
  });

  test('hex: RFC 4648 base16 vector, either case in, lower case out', () => {
    equal(hexDecode('666F6F626172'), ascii('foobar'));
    equal(hexDecode('666f6f626172'), ascii('foobar'));
    equal(hexEncode(ascii('foobar')), '666f6f626172');
    equal(hexEncode(hex('00 0f f0 ff')), '000ff0ff');
    equal(hexDecode(''), new Uint8Array(0));
  });

  test('hex rejects odd length and non-digits', () => {
    equal(code(() => hexDecode('abc'), 'odd length'), 'bad-hex');
    equal(code(() => hexDecode('0g'), 'index 1'), 'bad-hex');
    equal(code(() => hexDecode('0x00')), 'bad-hex');
  });

  // RFC 3629 section 7 examples.
  const rfc3629: [string, string][] = [
    ['A\u2262\u0391.', '41 e2 89 a2 ce 91 2e'],
    ['\ud55c\uad6d\uc5b4', 'ed 95 9c ea b5 ad ec 96 b4'],
    ['\u65e5\u672c\u8a9e', 'e6 97 a5 e6 9c ac e8 aa 9e'],
    ['\ufeff\ud84c\udfb4', 'ef bb bf f0 a3 8e b4'],
  ];
  for (const [text, bytes] of rfc3629) {
    test(`UTF-8 RFC 3629 example ${bytes}`, () => {
      equal(utf8Encode(text), hex(bytes));
      equal(utf8Length(text), hex(bytes).length);
      equal(utf8Decode(hex(bytes)), text);
    });
  }

  test('UTF-8 boundaries: U+007F, U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF', () => {
    const text = '\u007f\u0080\u07ff\u0800\uffff\ud800\udc00\udbff\udfff';
    const bytes = hex('7f c280 dfbf e0a080 efbfbf f0908080 f48fbfbf');
    equal(utf8Encode(text), bytes);
    equal(utf8Decode(bytes), text);
  });

  test('UTF-8 decode of a range (start, end) without copying', () => {
    const bytes = hex('00 41 c3a9 42 ff');
    equal(utf8Decode(bytes, 1, 5), 'A\u00e9B');
  });

  test('UTF-8 decode of long text (past the internal chunk size)', () => {
    const text = 'h\u00e9llo w\u00f6rld \u2713 '.repeat(300);
    equal(utf8Decode(utf8Encode(text)), text);
  });

  test('UTF-8 decoding rejects malformed input, naming the offset', () => {
    equal(code(() => utf8Decode(hex('41 80')), 'byte 1'), 'bad-utf8'); // stray continuation
    equal(code(() => utf8Decode(hex('c0 80')), 'byte 0'), 'bad-utf8'); // overlong NUL (C0 is never valid)
    equal(code(() => utf8Decode(hex('e0 80 af')), 'overlong'), 'bad-utf8'); // overlong '/'
    equal(code(() => utf8Decode(hex('f0 80 80 af')), 'overlong'), 'bad-utf8');
    equal(code(() => utf8Decode(hex('ed a0 80')), 'surrogate'), 'bad-utf8'); // U+D800
    equal(code(() => utf8Decode(hex('f4 90 80 80')), 'U+10FFFF'), 'bad-utf8');
    equal(code(() => utf8Decode(hex('f5 80 80 80'))), 'bad-utf8');
    equal(code(() => utf8Decode(hex('41 e2 89')), 'truncated'), 'bad-utf8');
    equal(code(() => utf8Decode(hex('c3 41')), 'byte 1'), 'bad-utf8');
    equal(code(() => utf8Decode(hex('ff'))), 'bad-utf8');
  });

  test('UTF-8 encoding rejects lone surrogates instead of silently replacing them', () => {
    equal(code(() => utf8Encode('a\ud800b'), 'index 1'), 'bad-utf8');
    equal(code(() => utf8Encode('\udc00')), 'bad-utf8');
    equal(code(() => utf8Encode('x\ud83d')), 'bad-utf8');
  });

  test('UTF-8 lossy encoding writes a lone surrogate as U+FFFD (EF BF BD), pairs as usual', () => {
    equal(utf8EncodeLossy('a\ud800b'), hex('61 efbfbd 62'));
    equal(utf8EncodeLossy('\udc00\ud83d'), hex('efbfbd efbfbd'));
    equal(utf8EncodeLossy('\ud83d\ude00 caf\u00e9'), utf8Encode('\ud83d\ude00 caf\u00e9'));
    equal(utf8EncodeLossy('plain'), utf8Encode('plain'));
  });

  test('UTF-8 decoding keeps U+0000 unless asked to refuse it (MQTT strings)', () => {
    equal(utf8Decode(hex('61 00 62')), 'a\u0000b');
    equal(code(() => utf8Decode(hex('61 00 62'), 0, 3, true), 'byte 1'), 'bad-utf8');
    equal(code(() => utf8Decode(hex('c3 a9 00'), 0, 3, true), 'byte 2'), 'bad-utf8');
    equal(utf8Decode(hex('61 c3 a9'), 0, 3, true), 'a\u00e9');
  });

  test('UTF-8 decoding errors give the offset from the start of the range', () => {
    equal(code(() => utf8Decode(hex('ff ff 41 80'), 2, 4), 'byte 1'), 'bad-utf8');
  });
});
