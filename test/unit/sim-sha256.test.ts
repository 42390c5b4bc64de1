// The simulator host's native SHA-256 is the firmware's: the same digests in pieces, and reusable
// after digest() or reset(), as the Hash contract says.
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../src/crypto/sha256';
import { nodeSha256 } from '../../hosts/sim/sha256';

describe('nodeSha256', () => {
  it('gives the firmware\'s digest for the same bytes fed in any pieces, and starts over after digest() and reset()', () => {
    const data = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 131 + 7) & 0xff);
    const ours = new Sha256().update(data).digest();
    const h = nodeSha256();
    expect(h.blockSize).toBe(64);
    expect(h.outputLength).toBe(32);
    for (let at = 0; at < data.length; at += 977) h.update(data.subarray(at, at + 977));
    expect(h.digest()).toEqual(ours);
    expect(h.update(data).digest()).toEqual(ours);
    h.update(Uint8Array.of(1, 2, 3)).reset();
    expect(h.update(data).digest()).toEqual(ours);
    expect(nodeSha256().digest()).toEqual(new Sha256().digest());
  });
});
