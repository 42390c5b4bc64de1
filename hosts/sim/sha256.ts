// The simulator host's SHA-256, from Node's crypto: what a board's hardware SHA is to its firmware.
// The OTA extension takes it as its `sha256` factory (src/ota/extension.ts), so ten thousand simulated
// devices hashing their downloads do not spend the process's CPU in the pure TypeScript one.
import { createHash, type Hash as NodeHash } from 'node:crypto';
import type { Hash, HashFactory } from '../../src/crypto/hash';

class NodeSha256 implements Hash {
  readonly blockSize = 64;
  readonly outputLength = 32;
  private hash: NodeHash = createHash('sha256');

  update(bytes: Uint8Array): this {
    this.hash.update(bytes);
    return this;
  }

  digest(): Uint8Array {
    const out = new Uint8Array(this.hash.digest());
    this.hash = createHash('sha256');
    return out;
  }

  reset(): this {
    this.hash = createHash('sha256');
    return this;
  }
}

export const nodeSha256: HashFactory = () => new NodeSha256();
