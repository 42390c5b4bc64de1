// MD5 (RFC 1321). Broken as a hash; here only because OneNET tokens may be signed with HMAC-MD5.
import { BlockHash } from './block-hash';
import { hmac } from './hmac';
import { utf8Encode } from '../text/utf8';
import { writeLittleEndian } from './words';

// floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4
const T = /* @__PURE__ */ new Int32Array([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);

// Per-round left-rotation amounts, four per round.
const SHIFT = /* @__PURE__ */ new Uint8Array([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

export class Md5 extends BlockHash {
  readonly outputLength = 16;
  private readonly state = new Int32Array(4);
  private readonly x = new Int32Array(16);

  constructor() {
    super(64, 8, true);
    this.reset();
  }

  protected resetState(): void {
    const s = this.state;
    s[0] = 0x67452301;
    s[1] = 0xefcdab89;
    s[2] = 0x98badcfe;
    s[3] = 0x10325476;
  }

  protected output(): Uint8Array {
    const out = new Uint8Array(16);
    for (let i = 0; i < 4; i++) writeLittleEndian(out, i * 4, this.state[i]);
    return out;
  }

  protected compress(data: Uint8Array, offset: number): void {
    const x = this.x;
    const s = this.state;
    for (let i = 0; i < 16; i++, offset += 4) {
      x[i] = data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24);
    }
    let a = s[0];
    let b = s[1];
    let c = s[2];
    let d = s[3];
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (b & d) | (c & ~d);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const r = SHIFT[((i >> 4) << 2) | (i & 3)];
      const t = (a + f + T[i] + x[g]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((t << r) | (t >>> (32 - r)))) | 0;
    }
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
  }
}

/** One-shot MD5; strings are hashed as UTF-8. */
export function md5(data: Uint8Array | string): Uint8Array {
  return new Md5().update(typeof data === 'string' ? utf8Encode(data) : data).digest();
}

/** HMAC-MD5 (RFC 2104); a string key or message is taken as UTF-8. */
export function hmacMd5(key: Uint8Array | string, message: Uint8Array | string): Uint8Array {
  return hmac(() => new Md5(), key, message);
}
