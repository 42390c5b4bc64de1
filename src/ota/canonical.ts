// Canonical JSON of a job manifest: the bytes the Ed25519 signature covers.
//
//   canonical(job) = UTF-8 of JSON text with object keys sorted by UTF-16 code units (the default
//   JavaScript sort), no whitespace, strings escaped as JSON.stringify does, and the top-level
//   "signature" member left out.
//
// For the values a manifest holds (strings, integers, booleans, nested objects/arrays of those) this is
// the JSON Canonicalization Scheme of RFC 8785, so operator tools in any language can produce it.
// Non-integer numbers are refused: their text form is where implementations disagree.
import { OtaError } from './errors';
import { utf8Encode } from '../text/utf8';

const MAX_DEPTH = 8;

export const canonicalJson = (value: unknown, depth = 0): string => {
  if (depth > MAX_DEPTH) throw new OtaError('bad-job', `the manifest nests deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new OtaError('bad-job', `manifest numbers must be integers, not ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).filter((k) => object[k] !== undefined);
    keys.sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k], depth + 1)}`).join(',')}}`;
  }
  throw new OtaError('bad-job', `a manifest cannot hold a ${typeof value}`);
};

/** The signed bytes of a job: canonical JSON of every member except "signature". */
export const manifestBytes = (job: Record<string, unknown>): Uint8Array => {
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(job)) if (key !== 'signature') rest[key] = job[key];
  return utf8Encode(canonicalJson(rest));
};
