// HMAC against RFC 4231 section 4 (HMAC-SHA-256, test cases 1-7, case 5 truncated to 128 bits) and
// RFC 2202 sections 2 and 3 (HMAC-MD5 and HMAC-SHA-1, test cases 1-7).
import { equal, hex, suite } from '../../hosts/xs/harness';
import { timingSafeEqual } from '../../src/crypto/compare';
import { Hmac, hmac } from '../../src/crypto/hmac';
import { hmacMd5 } from '../../src/crypto/md5';
import { hmacSha1 } from '../../src/crypto/sha1';
import { Sha256, hmacSha256 } from '../../src/crypto/sha256';
import { Sha512, hmacSha512 } from '../../src/crypto/sha512';
import { utf8Encode } from '../../src/text/utf8';

function filled(length: number, value: number): Uint8Array {
  return new Uint8Array(length).fill(value);
}

const KEY_0102 = hex('0102030405060708090a0b0c0d0e0f10111213141516171819');
const HASH_KEY_FIRST = 'Test Using Larger Than Block-Size Key - Hash Key First';

interface Vector {
  name: string;
  key: Uint8Array;
  data: Uint8Array | string;
  mac: string;
}

const rfc4231: Vector[] = [
  { name: '1', key: filled(20, 0x0b), data: 'Hi There', mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  { name: '2 (short key)', key: utf8Encode('Jefe'), data: 'what do ya want for nothing?', mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
  { name: '3', key: filled(20, 0xaa), data: filled(50, 0xdd), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
  { name: '4', key: KEY_0102, data: filled(50, 0xcd), mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b' },
  { name: '5 (truncated to 128 bits)', key: filled(20, 0x0c), data: 'Test With Truncation', mac: 'a3b6167473100ee06e0c796c2955552b' },
  { name: '6 (131-byte key)', key: filled(131, 0xaa), data: HASH_KEY_FIRST, mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54' },
  {
    name: '7 (131-byte key, long data)',
    key: filled(131, 0xaa),
    data: 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  },
];

const LONG_DATA = 'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data';

const rfc2202Sha1: Vector[] = [
  { name: '1', key: filled(20, 0x0b), data: 'Hi There', mac: 'b617318655057264e28bc0b6fb378c8ef146be00' },
  { name: '2', key: utf8Encode('Jefe'), data: 'what do ya want for nothing?', mac: 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79' },
  { name: '3', key: filled(20, 0xaa), data: filled(50, 0xdd), mac: '125d7342b9ac11cd91a39af48aa17b4f63f175d3' },
  { name: '4', key: KEY_0102, data: filled(50, 0xcd), mac: '4c9007f4026250c6bc8414f9bf50c86c2d7235da' },
  { name: '5', key: filled(20, 0x0c), data: 'Test With Truncation', mac: '4c1a03424b55e07fe7f27be1d58bb9324a9a5a04' },
  { name: '6 (80-byte key)', key: filled(80, 0xaa), data: HASH_KEY_FIRST, mac: 'aa4ae5e15272d00e95705637ce8a3b55ed402112' },
  { name: '7 (80-byte key, long data)', key: filled(80, 0xaa), data: LONG_DATA, mac: 'e8e99d0f45237d786d6bbaa7965c7808bbff1a91' },
];

const rfc2202Md5: Vector[] = [
  { name: '1', key: filled(16, 0x0b), data: 'Hi There', mac: '9294727a3638bb1c13f48ef8158bfc9d' },
  { name: '2', key: utf8Encode('Jefe'), data: 'what do ya want for nothing?', mac: '750c783e6ab0b503eaa86e310a5db738' },
  { name: '3', key: filled(16, 0xaa), data: filled(50, 0xdd), mac: '56be34521d144c88dbb8c733f0e8b3f6' },
  { name: '4', key: KEY_0102, data: filled(50, 0xcd), mac: '697eaf0aca3a3aea3a75164746ffaa79' },
  { name: '5', key: filled(16, 0x0c), data: 'Test With Truncation', mac: '56461ef2342edc00f9bab995690efd4c' },
  { name: '6 (80-byte key)', key: filled(80, 0xaa), data: HASH_KEY_FIRST, mac: '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd' },
  { name: '7 (80-byte key, long data)', key: filled(80, 0xaa), data: LONG_DATA, mac: '6f630fad67cda0ee1fb1f562db3aa53e' },
];

export default suite('crypto: HMAC (RFC 4231, RFC 2202)', (test) => {
  for (const v of rfc4231) {
    test(`HMAC-SHA-256, RFC 4231 test case ${v.name}`, () => {
      const expected = hex(v.mac);
      equal(hmacSha256(v.key, v.data).subarray(0, expected.length), expected);
    });
  }
  for (const v of rfc2202Sha1) {
    test(`HMAC-SHA-1, RFC 2202 test case ${v.name}`, () => {
      equal(hmacSha1(v.key, v.data), hex(v.mac));
    });
  }
  for (const v of rfc2202Md5) {
    test(`HMAC-MD5, RFC 2202 test case ${v.name}`, () => {
      equal(hmacMd5(v.key, v.data), hex(v.mac));
    });
  }

  test('incremental HMAC, reused after digest(), gives the RFC 4231 results', () => {
    const mac = new Hmac(() => new Sha256(), filled(131, 0xaa));
    const data = utf8Encode(rfc4231[6].data as string);
    for (let i = 0; i < data.length; i += 17) mac.update(data.subarray(i, i + 17));
    equal(mac.digest(), hex(rfc4231[6].mac));
    equal(mac.update(utf8Encode(HASH_KEY_FIRST)).digest(), hex(rfc4231[5].mac), 'second message, same key');
    equal([mac.blockSize, mac.outputLength], [64, 32]);
  });

  // RFC 4231 section 4.2, HMAC-SHA-512 result: HMAC over a hash with 128-byte blocks.
  test('HMAC-SHA-512 (generic hmac() and hmacSha512), RFC 4231 test case 1', () => {
    const expected = hex(
      '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde' +
        'daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
    );
    equal(hmac(() => new Sha512(), filled(20, 0x0b), 'Hi There'), expected);
    equal(hmacSha512(filled(20, 0x0b), 'Hi There'), expected);
  });

  test('timingSafeEqual compares MACs of equal and different length', () => {
    const mac = hmacSha256(filled(20, 0x0b), 'Hi There');
    equal(timingSafeEqual(mac, hex(rfc4231[0].mac)), true);
    const changed = mac.slice();
    changed[31] ^= 1;
    equal(timingSafeEqual(mac, changed), false);
    equal(timingSafeEqual(mac, mac.subarray(0, 16)), false);
    equal(timingSafeEqual(new Uint8Array(0), new Uint8Array(0)), true);
  });
});
