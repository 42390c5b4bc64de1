// SHA-1 (FIPS 180-4). Broken for collision resistance; here only for HMAC-SHA1, which some clouds require.
import { BlockHash } from './block-hash';
import { hmac } from './hmac';
import { utf8Encode } from '../text/utf8';
import { writeBigEndian } from './words';

export class Sha1 extends BlockHash {
  readonly outputLength = 20;
  private readonly state = new Int32Array(5);
  private readonly w = new Int32Array(80);

  constructor() {
    super(64, 8, false);
    this.reset();
  }

  protected resetState(): void {
    const s = this.state;
    s[0] = 0x67452301;
    s[1] = 0xefcdab89;
    s[2] = 0x98badcfe;
    s[3] = 0x10325476;
    s[4] = 0xc3d2e1f0;
  }

  protected output(): Uint8Array {
    const out = new Uint8Array(20);
    for (let i = 0; i < 5; i++) writeBigEndian(out, i * 4, this.state[i]);
    return out;
  }

  protected compress(data: Uint8Array, offset: number): void {
    const w = this.w;
    const s = this.state;
    for (let i = 0; i < 16; i++, offset += 4) {
      w[i] = (data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3];
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = s[0];
    let b = s[1];
    let c = s[2];
    let d = s[3];
    let e = s[4];
    for (let i = 0; i < 80; i++) {
      let f: number;
      if (i < 20) f = ((b & c) | (~b & d)) + 0x5a827999;
      else if (i < 40) f = (b ^ c ^ d) + 0x6ed9eba1;
      else if (i < 60) f = ((b & c) | (b & d) | (c & d)) - 0x70e44324;
      else f = (b ^ c ^ d) - 0x359d3e2a;
      const t = (((a << 5) | (a >>> 27)) + f + e + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
    s[4] = (s[4] + e) | 0;
  }
}

/** One-shot SHA-1; strings are hashed as UTF-8. */
export function sha1(data: Uint8Array | string): Uint8Array {
  return new Sha1().update(typeof data === 'string' ? utf8Encode(data) : data).digest();
}

/** HMAC-SHA1 (RFC 2104); a string key or message is taken as UTF-8. */
export function hmacSha1(key: Uint8Array | string, message: Uint8Array | string): Uint8Array {
  return hmac(() => new Sha1(), key, message);
}
