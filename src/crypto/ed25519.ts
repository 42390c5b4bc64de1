// Ed25519 signature verification (RFC 8032 section 5.1.7), strict: wrong lengths, a public key or R
// that is not a canonical curve point, S >= L (malleable signatures) and public keys of small order
// are all rejected. The check is cofactorless ([S]B = R + [k]A), as in OpenSSL and node:crypto.
import { CryptoError, type CryptoErrorCode } from './errors';
import { BASE, L, decodePoint, encodePoint, hasSmallOrder, littleEndianToBigInt, mod, multiplyTwo, negate } from './ed25519-point';
import { Sha512 } from './sha512';
import { utf8Encode } from '../text/utf8';

const ED25519_PUBLIC_KEY_LENGTH = 32;
const ED25519_SIGNATURE_LENGTH = 64;

interface Problem {
  code: CryptoErrorCode;
  message: string;
}

/** True only when `signature` is a valid Ed25519 signature of `message` by `publicKey`. Never throws. */
export const ed25519Verify = (publicKey: Uint8Array, message: Uint8Array | string, signature: Uint8Array): boolean => {
  return check(publicKey, message, signature) === undefined;
};

/** Like ed25519Verify, but throws a CryptoError whose code and message say why the check failed. */
export const ed25519AssertValid = (publicKey: Uint8Array, message: Uint8Array | string, signature: Uint8Array): void => {
  const problem = check(publicKey, message, signature);
  if (problem) throw new CryptoError(problem.code, problem.message);
};

const check = (publicKey: Uint8Array, message: Uint8Array | string, signature: Uint8Array): Problem | undefined => {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    return { code: 'bad-length', message: `Ed25519 public key must be ${ED25519_PUBLIC_KEY_LENGTH} bytes, got ${describe(publicKey)}` };
  }
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_LENGTH) {
    return { code: 'bad-length', message: `Ed25519 signature must be ${ED25519_SIGNATURE_LENGTH} bytes, got ${describe(signature)}` };
  }
  const s = littleEndianToBigInt(signature, 32, 64);
  if (s >= L) {
    return { code: 'bad-signature', message: 'Ed25519 signature is not canonical (S >= L): rejected as malleable' };
  }
  const a = decodePoint(publicKey);
  if (!a) return { code: 'bad-key', message: 'Ed25519 public key is not the canonical encoding of a curve point' };
  // A key of small order accepts forged signatures such as R = identity, S = 0 for every message.
  if (hasSmallOrder(a)) return { code: 'bad-key', message: 'Ed25519 public key has small order (a weak key that would accept forgeries)' };
  const bytes = typeof message === 'string' ? utf8Encode(message) : message;
  const digest = new Sha512().update(signature.subarray(0, 32)).update(publicKey).update(bytes).digest();
  const k = mod(littleEndianToBigInt(digest, 0, 64), L);
  // [S]B - [k]A must equal R; comparing encodings also rejects a non-canonical R.
  const r = encodePoint(multiplyTwo(s, BASE, k, negate(a)));
  let difference = 0;
  for (let i = 0; i < 32; i++) difference |= r[i] ^ signature[i];
  if (difference !== 0) return { code: 'bad-signature', message: 'Ed25519 signature does not match the message and public key' };
  return undefined;
};

const describe = (value: unknown): string => {
  return value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
};
