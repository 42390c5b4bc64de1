// The rules of ESP32 NVS that the simulator's key-value stores check (in memory:
// hosts/sim/fakes/store.ts; on disk: hosts/sim/kv.ts): keys of 1 to 15 bytes, string or byte values,
// and an optional size limit per value. Pure TypeScript: runs on XS too.

export class KeyValueError extends Error {
  override name = 'KeyValueError';
  constructor(
    /** EKEY (bad key), EVALUE (bad value type or size), ECORRUPT (unreadable stored value), EIO. */
    readonly code: 'EKEY' | 'EVALUE' | 'ECORRUPT' | 'EIO',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const MAX_KEY_BYTES = 15;

/** Bytes of `text` in UTF-8 (lone surrogates count 3, as TextEncoder writes U+FFFD). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new KeyValueError('EKEY', `key must be a non-empty string, got ${JSON.stringify(key)}`);
  }
  const size = utf8Length(key);
  if (size > MAX_KEY_BYTES) {
    throw new KeyValueError('EKEY', `key "${key}" is ${size} bytes; NVS keys are at most ${MAX_KEY_BYTES}: use a shorter key`);
  }
}

export function checkValue(key: string, value: unknown, maxValueBytes: number | undefined): void {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new KeyValueError('EVALUE', `value for "${key}" must be a string or Uint8Array, got ${value === null ? 'null' : typeof value}`);
  }
  const size = typeof value === 'string' ? utf8Length(value) : value.length;
  if (maxValueBytes !== undefined && size > maxValueBytes) {
    throw new KeyValueError('EVALUE', `value for "${key}" is ${size} bytes; this store holds at most ${maxValueBytes} per value`);
  }
}

export interface KeyValueOptions {
  /** Rejects longer values (UTF-8 bytes) with EVALUE, to match a device's limit (ESP8266 Preference: 63). Default: no limit. */
  maxValueBytes?: number;
}

