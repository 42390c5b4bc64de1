// HMAC (RFC 2104) over any Hash, ours or a host's native digest.
// Each hash module exports its own shortcut (hmacSha256 in sha256.ts, ...), so that importing one
// does not pull the other hash functions into a firmware image.
import type { Hash, HashFactory } from './hash';
import { utf8Encode } from '../text/utf8';

export class Hmac implements Hash {
  readonly blockSize: number;
  readonly outputLength: number;
  private readonly inner: Hash;
  private readonly outer: Hash;
  private readonly innerPad: Uint8Array;
  private readonly outerPad: Uint8Array;

  /** Keys longer than the hash block are hashed first, as RFC 2104 says. */
  constructor(createHash: HashFactory, key: Uint8Array) {
    this.inner = createHash();
    this.outer = createHash();
    this.blockSize = this.inner.blockSize;
    this.outputLength = this.inner.outputLength;
    const block = new Uint8Array(this.blockSize);
    block.set(key.length > this.blockSize ? this.outer.update(key).digest() : key);
    this.innerPad = new Uint8Array(this.blockSize);
    this.outerPad = new Uint8Array(this.blockSize);
    for (let i = 0; i < this.blockSize; i++) {
      this.innerPad[i] = block[i] ^ 0x36;
      this.outerPad[i] = block[i] ^ 0x5c;
    }
    this.reset();
  }

  update(bytes: Uint8Array): this {
    this.inner.update(bytes);
    return this;
  }

  /** The MAC of everything fed since the last reset; then resets, keeping the key. */
  digest(): Uint8Array {
    const innerDigest = this.inner.digest();
    const mac = this.outer.reset().update(this.outerPad).update(innerDigest).digest();
    this.reset();
    return mac;
  }

  reset(): this {
    this.inner.reset().update(this.innerPad);
    return this;
  }
}

/** One-shot HMAC; a string key or message is taken as UTF-8. */
export const hmac = (createHash: HashFactory, key: Uint8Array | string, message: Uint8Array | string): Uint8Array => {
  return new Hmac(createHash, bytesOf(key)).update(bytesOf(message)).digest();
};

const bytesOf = (data: Uint8Array | string): Uint8Array => {
  return typeof data === 'string' ? utf8Encode(data) : data;
};
