// SHA-256 (FIPS 180-4), incremental. Int32 arithmetic and preallocated buffers: no allocation per block.
import { BlockHash } from './block-hash';
import { CryptoError } from './errors';
import { hmac } from './hmac';
import { utf8Encode } from '../text/utf8';
import { writeBigEndian } from './words';

const K = /* @__PURE__ */ new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** A saved state: version, the 8 chaining words, the byte count (two words), the buffered count and bytes. */
const STATE_VERSION = 1;
const STATE_HEAD = 1 + 32 + 8 + 1;

const INITIAL = /* @__PURE__ */ new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

export class Sha256 extends BlockHash {
  readonly outputLength = 32;
  private readonly state = new Int32Array(8);
  private readonly w = new Int32Array(64);

  constructor() {
    super(64, 8, false);
    this.reset();
  }

  protected resetState(): void {
    this.state.set(INITIAL);
  }

  /** The progress so far (at most 105 bytes): a download that a restart interrupts continues from it. */
  save(): Uint8Array {
    const n = this.buffered;
    const out = new Uint8Array(STATE_HEAD + n);
    out[0] = STATE_VERSION;
    for (let i = 0; i < 8; i++) writeBigEndian(out, 1 + i * 4, this.state[i]);
    writeBigEndian(out, 33, Math.floor(this.length / 0x100000000));
    writeBigEndian(out, 37, this.length >>> 0);
    out[41] = n;
    out.set(this.block.subarray(0, n), STATE_HEAD);
    return out;
  }

  /** Continues the message from a save(); throws CryptoError 'bad-state' when `saved` is not one. */
  restore(saved: Uint8Array): this {
    const n = saved.length - STATE_HEAD;
    const at = (i: number) => ((saved[i] << 24) | (saved[i + 1] << 16) | (saved[i + 2] << 8) | saved[i + 3]) >>> 0;
    if (n < 0 || n >= 64 || saved[0] !== STATE_VERSION || saved[41] !== n) {
      throw new CryptoError('bad-state', `not a saved SHA-256 state (${saved.length} bytes, version ${saved[0]})`);
    }
    const length = at(33) * 0x100000000 + at(37);
    if (!Number.isSafeInteger(length) || length % 64 !== n) throw new CryptoError('bad-state', `saved SHA-256 state counts ${length} bytes with ${n} buffered`);
    for (let i = 0; i < 8; i++) this.state[i] = at(1 + i * 4) | 0;
    this.block.set(saved.subarray(STATE_HEAD));
    this.buffered = n;
    this.length = length;
    return this;
  }

  protected output(): Uint8Array {
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) writeBigEndian(out, i * 4, this.state[i]);
    return out;
  }

  protected compress(data: Uint8Array, offset: number): void {
    const w = this.w;
    const s = this.state;
    for (let i = 0; i < 16; i++, offset += 4) {
      w[i] = (data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = s[0];
    let b = s[1];
    let c = s[2];
    let d = s[3];
    let e = s[4];
    let f = s[5];
    let g = s[6];
    let h = s[7];
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
    s[4] = (s[4] + e) | 0;
    s[5] = (s[5] + f) | 0;
    s[6] = (s[6] + g) | 0;
    s[7] = (s[7] + h) | 0;
  }
}

/** One-shot SHA-256; strings are hashed as UTF-8. */
export const sha256 = (data: Uint8Array | string): Uint8Array => {
  return new Sha256().update(typeof data === 'string' ? utf8Encode(data) : data).digest();
};

/** HMAC-SHA256 (RFC 2104); a string key or message is taken as UTF-8. */
export const hmacSha256 = (key: Uint8Array | string, message: Uint8Array | string): Uint8Array => {
  return hmac(() => new Sha256(), key, message);
};
