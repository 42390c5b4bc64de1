// Buffering and Merkle-Damgard padding shared by MD5, SHA-1, SHA-256 and SHA-512. Subclasses only
// compress whole blocks; input is fed to compress() in place when it is block-aligned.
import type { Hash } from './hash';
import { copyBytes, writeBigEndian, writeLittleEndian } from './words';

export abstract class BlockHash implements Hash {
  abstract readonly outputLength: number;
  readonly blockSize: number;
  /** Input not compressed yet: `buffered` bytes of the current block; `length` bytes fed in all. */
  protected readonly block: Uint8Array;
  private readonly lengthAt: number;
  private readonly littleEndian: boolean;
  protected buffered = 0;
  protected length = 0;

  /** `lengthBytes`: size of the message-length field at the end of the padding (8, or 16 for SHA-512). */
  constructor(blockSize: number, lengthBytes: number, littleEndian: boolean) {
    this.blockSize = blockSize;
    this.block = new Uint8Array(blockSize);
    this.lengthAt = blockSize - lengthBytes;
    this.littleEndian = littleEndian;
  }

  protected abstract compress(data: Uint8Array, offset: number): void;
  /** Writes the current chaining state as the digest. */
  protected abstract output(): Uint8Array;
  protected abstract resetState(): void;

  reset(): this {
    this.resetState();
    this.buffered = 0;
    this.length = 0;
    return this;
  }

  update(bytes: Uint8Array): this {
    const size = this.blockSize;
    const n = bytes.length;
    let i = 0;
    this.length += n;
    if (this.buffered > 0) {
      const take = Math.min(size - this.buffered, n);
      copyBytes(bytes, 0, this.block, this.buffered, take);
      this.buffered += take;
      i = take;
      if (this.buffered < size) return this;
      this.compress(this.block, 0);
      this.buffered = 0;
    }
    for (; n - i >= size; i += size) this.compress(bytes, i);
    if (i < n) {
      copyBytes(bytes, i, this.block, 0, n - i);
      this.buffered = n - i;
    }
    return this;
  }

  digest(): Uint8Array {
    const block = this.block;
    const bits = this.length * 8;
    let at = this.buffered;
    block[at++] = 0x80;
    if (at > this.lengthAt) {
      block.fill(0, at);
      this.compress(block, 0);
      at = 0;
    }
    block.fill(0, at);
    const high = Math.floor(bits / 0x100000000);
    const end = this.blockSize;
    if (this.littleEndian) {
      writeLittleEndian(block, end - 8, bits >>> 0);
      writeLittleEndian(block, end - 4, high);
    } else {
      writeBigEndian(block, end - 8, high);
      writeBigEndian(block, end - 4, bits >>> 0);
    }
    this.compress(block, 0);
    const out = this.output();
    this.reset();
    return out;
  }
}
