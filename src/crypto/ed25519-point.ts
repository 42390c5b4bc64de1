// Edwards25519 group arithmetic (RFC 8032 section 5.1) with BigInt, in extended coordinates
// (X:Y:Z:T) with x = X/Z, y = Y/Z, x*y = T/Z. Variable-time: fine for verifying, not for secrets
// on a device an attacker can time.

const P = (1n << 255n) - 19n;
/** Order of the base point. */
export const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const D2 = 16295367250680780974490674513165176452449235426866156013048779062215315747161n;
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;

export interface Point {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
  readonly T: bigint;
}

const IDENTITY: Point = Object.freeze({ X: 0n, Y: 1n, Z: 1n, T: 0n });
export const BASE: Point = Object.freeze({
  X: 15112221349535400772501151409588531511454012693041857206046113283949847762202n,
  Y: 46316835694926478169428394003475163141307993866256225615783033603165251855960n,
  Z: 1n,
  T: 46827403850823179245072216630277197565144205554125654976674165829533817101731n,
});

const LOW_255 = (1n << 255n) - 1n;

/** a mod m for any sign and size (used for scalars mod L and negative values). */
export const mod = (a: bigint, m = P): bigint => {
  const r = a % m;
  return r === 0n ? 0n : r < 0n ? r + m : r;
};

/**
 * a mod p for 0 <= a < 2^520, by folding 2^255 = 19 (mod p): cheaper than `%` on V8 and XS.
 * A zero result is returned as a fresh 0n: on XS 13.3 (xsnap 0.15) squaring a zero BigInt that
 * came out of `%` again and again can make the engine loop forever.
 */
const reduce = (a: bigint): bigint => {
  let r = (a & LOW_255) + 19n * (a >> 255n);
  r = (r & LOW_255) + 19n * (r >> 255n);
  if (r >= P) r -= P;
  return r === 0n ? 0n : r;
};

const pow = (base: bigint, exponent: bigint): bigint => {
  if (base === 0n) return 0n;
  const bits = exponent.toString(2);
  let result = 1n;
  for (let i = 0; i < bits.length; i++) {
    result = reduce(result * result);
    if (bits.charCodeAt(i) === 49) result = reduce(result * base);
  }
  return result;
};

const invert = (a: bigint): bigint => {
  return pow(a, P - 2n);
};

// Coordinates stay in [0, p); differences get p added so every product is non-negative.
const add = (p: Point, q: Point): Point => {
  const a = reduce((p.Y - p.X + P) * (q.Y - q.X + P));
  const b = reduce((p.Y + p.X) * (q.Y + q.X));
  const c = reduce(reduce(p.T * q.T) * D2);
  const d = reduce(2n * p.Z * q.Z);
  const e = b - a + P;
  const f = d - c + P;
  const g = d + c;
  const h = b + a;
  return { X: reduce(e * f), Y: reduce(g * h), Z: reduce(f * g), T: reduce(e * h) };
};

const double = (p: Point): Point => {
  const a = reduce(p.X * p.X);
  const b = reduce(p.Y * p.Y);
  const c = reduce(2n * p.Z * p.Z);
  const h = a + b;
  const s = p.X + p.Y;
  const e = h - reduce(s * s) + P;
  const g = a - b + P;
  const f = c + g;
  return { X: reduce(e * f), Y: reduce(g * h), Z: reduce(f * g), T: reduce(e * h) };
};

/** True for the 8 points of order dividing 8 (the identity among them): [8]p is the identity. */
export const hasSmallOrder = (p: Point): boolean => {
  const q = double(double(double(p)));
  return q.X === 0n && q.Y === q.Z;
};

export const negate = (p: Point): Point => {
  return { X: reduce(P - p.X), Y: p.Y, Z: p.Z, T: reduce(P - p.T) };
};

/** [scalar]point by double-and-add, for 0 <= scalar. */
export const multiply = (point: Point, scalar: bigint): Point => {
  const bits = scalar.toString(2);
  let q = IDENTITY;
  for (let i = 0; i < bits.length; i++) {
    q = double(q);
    if (bits.charCodeAt(i) === 49) q = add(q, point);
  }
  return q;
};

/** [a]A + [b]B in one pass of doublings (Straus/Shamir), for 0 <= a, b. */
export const multiplyTwo = (a: bigint, pa: Point, b: bigint, pb: Point): Point => {
  const both = add(pa, pb);
  const length = Math.max(a.toString(2).length, b.toString(2).length);
  const bitsA = a.toString(2).padStart(length, '0');
  const bitsB = b.toString(2).padStart(length, '0');
  let q = IDENTITY;
  for (let i = 0; i < length; i++) {
    q = double(q);
    const bitA = bitsA.charCodeAt(i) === 49;
    const bitB = bitsB.charCodeAt(i) === 49;
    if (bitA && bitB) q = add(q, both);
    else if (bitA) q = add(q, pa);
    else if (bitB) q = add(q, pb);
  }
  return q;
};

/** 32-byte encoding: y little-endian, the sign of x in the top bit. */
export const encodePoint = (p: Point): Uint8Array => {
  const zInverse = invert(p.Z);
  const x = mod(p.X * zInverse);
  const y = mod(p.Y * zInverse);
  const out = bigIntToLittleEndian(y, 32);
  if (x & 1n) out[31] |= 0x80;
  return out;
};

/**
 * Decodes 32 bytes to a point (RFC 8032 section 5.1.3), or undefined when they are not the
 * canonical encoding of a point on the curve (y >= p, no square root, or x = 0 with the sign bit set).
 */
export const decodePoint = (bytes: Uint8Array): Point | undefined => {
  const sign = bytes[31] >> 7;
  const y = littleEndianToBigInt(bytes, 0, 32) & ((1n << 255n) - 1n);
  if (y >= P) return undefined;
  const y2 = mod(y * y);
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = mod(v * v * v);
  let x = mod(u * v3 * pow(mod(u * v3 * v3 * v), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 !== u) {
    if (vx2 !== mod(-u)) return undefined;
    x = mod(x * SQRT_M1);
  }
  if (x === 0n && sign === 1) return undefined;
  if (Number(x & 1n) !== sign) x = P - x;
  return { X: x, Y: y, Z: 1n, T: mod(x * y) };
};

export const littleEndianToBigInt = (bytes: Uint8Array, start: number, end: number): bigint => {
  let hex = '';
  for (let i = end - 1; i >= start; i--) hex += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return BigInt('0x' + (hex || '0'));
};

export const bigIntToLittleEndian = (n: bigint, length: number): Uint8Array => {
  const hex = n.toString(16).padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.slice(hex.length - 2 * i - 2, hex.length - 2 * i), 16);
  return out;
};
