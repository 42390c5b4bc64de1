// Our Ed25519 agrees with node:crypto (OpenSSL) for random keys and messages, both ways.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ed25519Verify } from '../../src/crypto/ed25519';
import { ed25519PublicKey, ed25519Sign } from '../../src/crypto/ed25519-sign';

// DER prefixes of PKCS#8 / SPKI Ed25519 keys (RFC 8410): the raw 32 bytes follow.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function nodeKeys(seed: Uint8Array) {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicDer = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(publicDer.subarray(SPKI_PREFIX.length)) };
}

function nodeVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return verify(null, message, key, signature);
}

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const message = fc.uint8Array({ maxLength: 300 });

describe('Ed25519 against node:crypto', () => {
  it('signatures made by node verify with ours; our keys and signatures equal node\'s', () => {
    fc.assert(
      fc.property(seed, message, (secret, msg) => {
        const { privateKey, publicKey } = nodeKeys(secret);
        const signature = new Uint8Array(sign(null, msg, privateKey));
        expect(ed25519Verify(publicKey, msg, signature)).toBe(true);
        expect(ed25519PublicKey(secret)).toEqual(publicKey);
        expect(ed25519Sign(secret, msg)).toEqual(signature);
      }),
      { numRuns: 150 },
    );
  });

  it('tampered signatures, messages and keys: our verdict equals node\'s', () => {
    const tamper = fc.record({ where: fc.constantFrom('signature', 'message', 'key'), bit: fc.nat(), secret: seed, msg: fc.uint8Array({ minLength: 1, maxLength: 200 }) });
    fc.assert(
      fc.property(tamper, ({ where, bit, secret, msg }) => {
        const { privateKey, publicKey } = nodeKeys(secret);
        const signature = new Uint8Array(sign(null, msg, privateKey));
        const target = where === 'signature' ? signature : where === 'message' ? msg : publicKey;
        const flipped = target.slice();
        flipped[(bit >> 3) % flipped.length] ^= 1 << (bit & 7);
        const args: [Uint8Array, Uint8Array, Uint8Array] =
          where === 'signature' ? [publicKey, msg, flipped] : where === 'message' ? [publicKey, flipped, signature] : [flipped, msg, signature];
        let nodeVerdict: boolean;
        try {
          nodeVerdict = nodeVerify(...args);
        } catch {
          nodeVerdict = false; // OpenSSL refuses to import a key that is not a point
        }
        expect(ed25519Verify(...args)).toBe(nodeVerdict);
        expect(nodeVerdict).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('random keys from generateKeyPairSync', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
      const msg = new TextEncoder().encode(`message ${i}`);
      expect(ed25519Verify(raw, msg, new Uint8Array(sign(null, msg, privateKey)))).toBe(true);
    }
  });
});
