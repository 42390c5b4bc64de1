// Our hashes, HMAC and encoders agree with Node's (OpenSSL-backed) implementations on random input.
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Decode, base64Encode, base64UrlDecode, base64UrlEncode } from '../../src/text/base64';
import type { Hash } from '../../src/crypto/hash';
import { hexDecode, hexEncode } from '../../src/text/hex';
import { Hmac } from '../../src/crypto/hmac';
import { Md5, hmacMd5 } from '../../src/crypto/md5';
import { Sha1, hmacSha1, sha1 } from '../../src/crypto/sha1';
import { Sha256, hmacSha256, sha256 } from '../../src/crypto/sha256';
import { Sha512, hmacSha512, sha512 } from '../../src/crypto/sha512';
import { utf8Decode, utf8Encode } from '../../src/text/utf8';

const hashes: [string, () => Hash][] = [
  ['sha256', () => new Sha256()],
  ['sha1', () => new Sha1()],
  ['sha512', () => new Sha512()],
  ['md5', () => new Md5()],
];

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
/** A message and the cut points at which it is fed. */
const chunked = fc.tuple(bytes(700), fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 8 }));

function feed(hash: Hash, message: Uint8Array, cuts: number[]): Uint8Array {
  const points = [...new Set(cuts.map((c) => Math.min(c, message.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, message.length]) {
    hash.update(message.subarray(from, to));
    from = to;
  }
  return hash.digest();
}

describe('hashes equal node:crypto', () => {
  for (const [name, make] of hashes) {
    it(`${name}: random messages fed in random chunks`, () => {
      fc.assert(
        fc.property(chunked, ([message, cuts]) => {
          expect(hex(feed(make(), message, cuts))).toBe(createHash(name).update(message).digest('hex'));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('one million "a" (FIPS 180 long-message vectors)', () => {
    const million = new Uint8Array(1_000_000).fill(0x61);
    expect(hexEncode(sha256(million))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
    expect(hexEncode(sha1(million))).toBe('34aa973cd4c4daa4f61eeb2bdbad27316534016f');
    expect(hexEncode(sha512(million))).toBe(
      'e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b',
    );
  });
});

describe('HMAC equals node:crypto', () => {
  const keyAndMessage = fc.tuple(bytes(200), bytes(500));
  it('HMAC-SHA256, -SHA1, -MD5 and -SHA512 for random keys (shorter and longer than a block)', () => {
    fc.assert(
      fc.property(keyAndMessage, ([key, message]) => {
        expect(hex(hmacSha256(key, message))).toBe(createHmac('sha256', key).update(message).digest('hex'));
        expect(hex(hmacSha1(key, message))).toBe(createHmac('sha1', key).update(message).digest('hex'));
        expect(hex(hmacMd5(key, message))).toBe(createHmac('md5', key).update(message).digest('hex'));
        expect(hex(hmacSha512(key, message))).toBe(createHmac('sha512', key).update(message).digest('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('HMAC-SHA512 through the generic Hmac, fed in chunks', () => {
    fc.assert(
      fc.property(bytes(300), chunked, (key, [message, cuts]) => {
        const mac = feed(new Hmac(() => new Sha512(), key), message, cuts);
        expect(hex(mac)).toBe(createHmac('sha512', key).update(message).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('encoders equal Buffer / TextDecoder', () => {
  it('base64 and base64url encode like Buffer and decode back', () => {
    fc.assert(
      fc.property(bytes(300), (data) => {
        const standard = Buffer.from(data).toString('base64');
        const url = Buffer.from(data).toString('base64url');
        expect(base64Encode(data)).toBe(standard);
        expect(base64UrlEncode(data)).toBe(url);
        expect(base64Decode(standard)).toEqual(data);
        expect(base64UrlDecode(url)).toEqual(data);
        expect(hexEncode(data)).toBe(Buffer.from(data).toString('hex'));
        expect(hexDecode(Buffer.from(data).toString('hex').toUpperCase())).toEqual(data);
      }),
    );
  });

  it('UTF-8 encode equals Buffer for well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const ours = utf8Encode(text);
        expect(Buffer.from(ours).equals(Buffer.from(text, 'utf8'))).toBe(true);
        expect(utf8Decode(ours)).toBe(text);
      }),
    );
  });

  it('UTF-8 decode accepts exactly what a fatal TextDecoder accepts, with the same text', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    // Bias toward bytes that form (or nearly form) multi-byte sequences.
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0x80, max: 0xbf }), fc.constantFrom(0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 40 }), (values) => {
        const data = Uint8Array.from(values);
        let expected: string | undefined;
        try {
          expected = decoder.decode(data);
        } catch {
          expected = undefined;
        }
        let actual: string | undefined;
        try {
          actual = utf8Decode(data);
        } catch {
          actual = undefined;
        }
        expect(actual).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
