// Edwards25519 group arithmetic (RFC 8032 section 5.1) with BigInt, in extended coordinates
// (X:Y:Z:T) with x = X/Z, y = Y/Z, x*y = T/Z. Variable-time: fine for verifying, not for secrets
// on a device an attacker can time.

export const P = (1n << 255n) - 19n;
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

export const IDENTITY: Point = { X: 0n, Y: 1n, Z: 1n, T: 0n };
export const BASE: Point = {
  X: 15112221349535400772501151409588531511454012693041857206046113283949847762202n,
  Y: 46316835694926478169428394003475163141307993866256225615783033603165251855960n,
  Z: 1n,
  T: 46827403850823179245072216630277197565144205554125654976674165829533817101731n,
};

// Zero results are replaced by a fresh 0n: on XS 13.3 (xsnap 0.15) repeatedly squaring a zero BigInt
// that came out of `%` can make the engine loop forever.
export function mod(a: bigint, m = P): bigint {
  const r = a % m;
  return r === 0n ? 0n : r < 0n ? r + m : r;
}

function pow(base: bigint, exponent: bigint): bigint {
  if (base === 0n) return 0n;
  let result = 1n;
  for (let b = base, e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

function invert(a: bigint): bigint {
  return pow(a, P - 2n);
}

export function add(p: Point, q: Point): Point {
  const a = mod((p.Y - p.X) * (q.Y - q.X));
  const b = mod((p.Y + p.X) * (q.Y + q.X));
  const c = mod(mod(p.T * q.T) * D2);
  const d = mod(2n * p.Z * q.Z);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return { X: mod(e * f), Y: mod(g * h), Z: mod(f * g), T: mod(e * h) };
}

export function double(p: Point): Point {
  const a = mod(p.X * p.X);
  const b = mod(p.Y * p.Y);
  const c = mod(2n * p.Z * p.Z);
  const h = a + b;
  const s = p.X + p.Y;
  const e = h - mod(s * s);
  const g = a - b;
  const f = c + g;
  return { X: mod(e * f), Y: mod(g * h), Z: mod(f * g), T: mod(e * h) };
}

/** True for the 8 points of order dividing 8 (the identity among them): [8]p is the identity. */
export function hasSmallOrder(p: Point): boolean {
  const q = double(double(double(p)));
  return q.X === 0n && q.Y === q.Z;
}

export function negate(p: Point): Point {
  return { X: mod(-p.X), Y: p.Y, Z: p.Z, T: mod(-p.T) };
}

/** [scalar]point by double-and-add. */
export function multiply(point: Point, scalar: bigint): Point {
  let q = IDENTITY;
  for (let i = bitLength(scalar) - 1; i >= 0; i--) {
    q = double(q);
    if ((scalar >> BigInt(i)) & 1n) q = add(q, point);
  }
  return q;
}

/** [a]A + [b]B in one pass of doublings (Straus/Shamir). */
export function multiplyTwo(a: bigint, pa: Point, b: bigint, pb: Point): Point {
  const both = add(pa, pb);
  let q = IDENTITY;
  for (let i = Math.max(bitLength(a), bitLength(b)) - 1; i >= 0; i--) {
    q = double(q);
    const shift = BigInt(i);
    const bitA = (a >> shift) & 1n;
    const bitB = (b >> shift) & 1n;
    if (bitA && bitB) q = add(q, both);
    else if (bitA) q = add(q, pa);
    else if (bitB) q = add(q, pb);
  }
  return q;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** 32-byte encoding: y little-endian, the sign of x in the top bit. */
export function encodePoint(p: Point): Uint8Array {
  const zInverse = invert(p.Z);
  const x = mod(p.X * zInverse);
  const y = mod(p.Y * zInverse);
  const out = bigIntToLittleEndian(y, 32);
  if (x & 1n) out[31] |= 0x80;
  return out;
}

/**
 * Decodes 32 bytes to a point (RFC 8032 section 5.1.3), or undefined when they are not the
 * canonical encoding of a point on the curve (y >= p, no square root, or x = 0 with the sign bit set).
 */
export function decodePoint(bytes: Uint8Array): Point | undefined {
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
}

export function littleEndianToBigInt(bytes: Uint8Array, start: number, end: number): bigint {
  let hex = '';
  for (let i = end - 1; i >= start; i--) hex += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return BigInt('0x' + (hex || '0'));
}

export function bigIntToLittleEndian(n: bigint, length: number): Uint8Array {
  const hex = n.toString(16).padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.slice(hex.length - 2 * i - 2, hex.length - 2 * i), 16);
  return out;
}
