// Portable test cases: written once, run by vitest on Node (test/unit/portable.test.ts) and
// inside the XS engine (hosts/xs). Case files import only this harness and src/, never Node.

export interface Case {
  name: string;
  fn: () => void | Promise<void>;
}

export interface Suite {
  name: string;
  cases: Case[];
}

export function suite(name: string, body: (test: (name: string, fn: Case['fn']) => void) => void): Suite {
  const cases: Case[] = [];
  body((caseName, fn) => cases.push({ name: caseName, fn }));
  return { name, cases };
}

export class AssertionError extends Error {}
AssertionError.prototype.name = 'AssertionError';

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array[${Array.from(value, (b) => b.toString(16).padStart(2, '0')).join(' ')}]`;
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? show(v) : typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

export function equal(actual: unknown, expected: unknown, message = ''): void {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function ok(condition: unknown, message = 'expected a truthy value'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function near(actual: number, expected: number, tolerance: number, message = ''): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new AssertionError(`${message ? message + ': ' : ''}expected ${expected} ± ${tolerance}, got ${actual}`);
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

export function throws(fn: () => unknown, type?: ErrorClass, messagePart?: string): Error {
  try {
    fn();
  } catch (error) {
    checkError(error, type, messagePart);
    return error as Error;
  }
  throw new AssertionError(`expected ${type?.name ?? 'an error'} to be thrown`);
}

export async function rejects(fn: () => Promise<unknown>, type?: ErrorClass, messagePart?: string): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    checkError(error, type, messagePart);
    return error as Error;
  }
  throw new AssertionError(`expected ${type?.name ?? 'an error'} to be rejected`);
}

function checkError(error: unknown, type?: ErrorClass, messagePart?: string): void {
  if (type && !(error instanceof type)) {
    throw new AssertionError(`expected ${type.name}, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
  if (messagePart && !String((error as Error)?.message).includes(messagePart)) {
    throw new AssertionError(`expected message containing "${messagePart}", got "${(error as Error)?.message}"`);
  }
}

/** Hex string ("10 0c 00") to bytes; whitespace ignored. For hand-written vectors. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2) throw new Error(`odd hex length: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
