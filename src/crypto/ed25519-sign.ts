// Ed25519 key derivation and signing (RFC 8032 sections 5.1.5 and 5.1.6). BigInt arithmetic is not
// constant-time: use this for tests and tools, not to hold a long-term secret on an exposed device.
import { CryptoError } from './errors';
import { BASE, L, bigIntToLittleEndian, encodePoint, littleEndianToBigInt, mod, multiply } from './ed25519-point';
import { Sha512 } from './sha512';
import { utf8Encode } from '../text/utf8';

/** The 32-byte public key of a 32-byte private key (seed). */
export function ed25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return encodePoint(multiply(BASE, expand(privateKey).scalar));
}

/** The 64-byte signature R || S of `message`. */
export function ed25519Sign(privateKey: Uint8Array, message: Uint8Array | string): Uint8Array {
  const { scalar, prefix } = expand(privateKey);
  const bytes = typeof message === 'string' ? utf8Encode(message) : message;
  const publicKey = encodePoint(multiply(BASE, scalar));
  const hash = new Sha512();
  const r = mod(littleEndianToBigInt(hash.update(prefix).update(bytes).digest(), 0, 64), L);
  const encodedR = encodePoint(multiply(BASE, r));
  const k = mod(littleEndianToBigInt(hash.update(encodedR).update(publicKey).update(bytes).digest(), 0, 64), L);
  const s = mod(r + k * scalar, L);
  const signature = new Uint8Array(64);
  signature.set(encodedR, 0);
  signature.set(bigIntToLittleEndian(s, 32), 32);
  return signature;
}

function expand(privateKey: Uint8Array): { scalar: bigint; prefix: Uint8Array } {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) {
    throw new CryptoError('bad-length', `Ed25519 private key must be 32 bytes, got ${privateKey instanceof Uint8Array ? `${privateKey.length} bytes` : typeof privateKey}`);
  }
  const h = new Sha512().update(privateKey).digest();
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  return { scalar: littleEndianToBigInt(h, 0, 32), prefix: h.subarray(32, 64) };
}
