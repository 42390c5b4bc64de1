// The KeyValueStore port on top of Moddable's Preference module, within each target's limits:
// ESP8266 keeps every preference in one 4 KB flash sector, with names of at most 31 characters and
// values of at most 63 bytes (modules/files/preference/esp/modPreference.c); ESP32 NVS allows
// 15-character names and 4000-byte values. Values longer than one entry are split into chunks in a
// side domain. A chunked value is written under the generation its head does NOT name, then the
// head flips: a power cut at any moment leaves either the old or the new value, never a mix.
//
// Each entry is an ArrayBuffer whose first byte says what it holds:
//   's' + UTF-8 text | 'b' + bytes                       (the whole value, one entry)
//   '*' kind generation count lengthHigh lengthLow       (a chunked value's head; kind 's' or 'b')
// Pure code: no Moddable import, so Node tests run it against an in-memory Preference.
import { ModdableHostError, describe } from './errors';

export type PreferenceValue = string | boolean | number | ArrayBuffer;

/** The static methods of Moddable's `preference` module. */
export interface PreferenceLike {
  get(domain: string, key: string): PreferenceValue | undefined;
  set(domain: string, key: string, value: PreferenceValue): void;
  delete(domain: string, key: string): void;
  keys(domain: string): string[];
}

export interface KvLimits {
  /** Longest value a single Preference entry takes, in bytes (tag byte included). */
  maxEntryBytes: number;
  /** Longest domain or key name the Preference implementation takes. */
  maxNameLength: number;
  /** Largest logical value accepted, in bytes, so that one key cannot fill the store. */
  maxValueBytes: number;
}

/** ESP8266: 63-byte entries, 31-character names, one 4 KB sector for everything. */
export const ESP8266_LIMITS: KvLimits = { maxEntryBytes: 63, maxNameLength: 31, maxValueBytes: 512 };
/** ESP32 NVS (and the desktop build, so the simulator rejects what a device would). */
export const ESP32_LIMITS: KvLimits = { maxEntryBytes: 4000, maxNameLength: 15, maxValueBytes: 3999 };

/** The port promises keys of at most 15 characters on every host. */
const MAX_KEY_LENGTH = 15;

export interface TextCodec {
  encode(text: string): Uint8Array;
  decode(bytes: Uint8Array): string;
}

const TAG_STRING = 0x73; // 's'
const TAG_BYTES = 0x62; // 'b'
const TAG_HEAD = 0x2a; // '*'
const CHUNK_INDEX = '0123456789abcdefghijklmnopqrstuvwxyz';

interface Head {
  kind: number;
  generation: number;
  count: number;
  length: number;
}

export class ChunkedPreferenceStore {
  private readonly chunkDomain: string;
  private readonly chunkBytes: number;

  constructor(
    private readonly preference: PreferenceLike,
    private readonly domain: string,
    private readonly limits: KvLimits,
    private readonly codec: TextCodec,
  ) {
    this.chunkDomain = domain + '.c';
    this.chunkBytes = limits.maxEntryBytes;
    if (this.chunkDomain.length > limits.maxNameLength) {
      throw new ModdableHostError('KV_BAD_KEY', `storage domain "${domain}" is too long for this target (at most ${limits.maxNameLength - 2} characters)`);
    }
    const chunks = Math.ceil(limits.maxValueBytes / this.chunkBytes);
    if (chunks > CHUNK_INDEX.length) {
      throw new ModdableHostError('KV_TOO_LARGE', `maxValueBytes ${limits.maxValueBytes} needs ${chunks} chunks; at most ${CHUNK_INDEX.length} are addressable`);
    }
  }

  get(key: string): string | Uint8Array | undefined {
    checkKey(key);
    const stored = this.preference.get(this.domain, key);
    if (stored === undefined) return undefined;
    if (!(stored instanceof ArrayBuffer)) return String(stored); // written by something else
    const entry = new Uint8Array(stored);
    const tag = entry[0];
    if (tag === TAG_STRING) return this.codec.decode(entry.subarray(1));
    if (tag === TAG_BYTES) return entry.slice(1);
    if (tag === TAG_HEAD) {
      const head = parseHead(entry, key);
      const bytes = this.readChunks(key, head);
      return head.kind === TAG_STRING ? this.codec.decode(bytes) : bytes;
    }
    throw corrupt(key, `unknown tag byte ${tag}`);
  }

  set(key: string, value: string | Uint8Array): void {
    checkKey(key);
    const kind = typeof value === 'string' ? TAG_STRING : TAG_BYTES;
    const bytes = typeof value === 'string' ? this.codec.encode(value) : value;
    if (bytes.length > this.limits.maxValueBytes) {
      throw new ModdableHostError(
        'KV_TOO_LARGE',
        `value for "${key}" is ${bytes.length} bytes; this target stores at most ${this.limits.maxValueBytes} bytes per key`,
      );
    }
    const old = this.headOf(key);
    if (1 + bytes.length <= this.chunkBytes) {
      const entry = new Uint8Array(1 + bytes.length);
      entry[0] = kind;
      entry.set(bytes, 1);
      this.write(this.domain, key, entry, key);
      if (old) this.deleteChunks(key, old);
      return;
    }
    const generation = old ? 1 - old.generation : 0;
    const count = Math.ceil(bytes.length / this.chunkBytes);
    const written: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const name = chunkName(key, generation, i);
        this.write(this.chunkDomain, name, bytes.subarray(i * this.chunkBytes, (i + 1) * this.chunkBytes), key);
        written.push(name);
      }
      this.write(this.domain, key, new Uint8Array([TAG_HEAD, kind, generation, count, bytes.length >> 8, bytes.length & 0xff]), key);
    } catch (error) {
      for (const name of written) this.preference.delete(this.chunkDomain, name);
      throw error;
    }
    if (old) this.deleteChunks(key, old);
  }

  delete(key: string): void {
    checkKey(key);
    const old = this.headOf(key);
    this.preference.delete(this.domain, key);
    if (old) this.deleteChunks(key, old);
  }

  keys(): string[] {
    return this.preference.keys(this.domain);
  }

  /** Deletes chunks that no head names (left by a power cut in the middle of a write). */
  sweep(): number {
    let removed = 0;
    for (const name of this.preference.keys(this.chunkDomain)) {
      const key = name.slice(0, -3);
      const generation = Number(name.charAt(name.length - 2));
      const index = CHUNK_INDEX.indexOf(name.charAt(name.length - 1));
      let head: Head | undefined;
      try {
        head = name.charAt(name.length - 3) === ':' ? this.headOf(key) : undefined;
      } catch {
        head = undefined;
      }
      if (!head || head.generation !== generation || index < 0 || index >= head.count) {
        this.preference.delete(this.chunkDomain, name);
        removed++;
      }
    }
    return removed;
  }

  private headOf(key: string): Head | undefined {
    const stored = this.preference.get(this.domain, key);
    if (!(stored instanceof ArrayBuffer)) return undefined;
    const entry = new Uint8Array(stored);
    return entry[0] === TAG_HEAD ? parseHead(entry, key) : undefined;
  }

  private readChunks(key: string, head: Head): Uint8Array {
    const out = new Uint8Array(head.length);
    let offset = 0;
    for (let i = 0; i < head.count; i++) {
      const chunk = this.preference.get(this.chunkDomain, chunkName(key, head.generation, i));
      if (!(chunk instanceof ArrayBuffer)) throw corrupt(key, `chunk ${i + 1} of ${head.count} is missing`);
      if (offset + chunk.byteLength > out.length) throw corrupt(key, 'chunks are longer than the recorded length');
      out.set(new Uint8Array(chunk), offset);
      offset += chunk.byteLength;
    }
    if (offset !== head.length) throw corrupt(key, `chunks hold ${offset} bytes, the head says ${head.length}`);
    return out;
  }

  private deleteChunks(key: string, head: Head): void {
    for (let i = 0; i < head.count; i++) this.preference.delete(this.chunkDomain, chunkName(key, head.generation, i));
  }

  private write(domain: string, name: string, bytes: Uint8Array, key: string): void {
    const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    try {
      this.preference.set(domain, name, buffer as ArrayBuffer);
    } catch (error) {
      throw new ModdableHostError(
        'KV_WRITE_FAILED',
        `could not store "${key}" (${describe(error)}); the preference area may be full: delete unused keys` +
          (this.limits.maxEntryBytes < 64 ? ' (ESP8266 keeps all preferences in one 4 KB flash sector)' : ''),
      );
    }
  }
}

const checkKey = (key: string): void => {
  let bad = typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH;
  // printable ASCII without spaces (0x21-0x7e): a loop rather than a regular expression, whose test()
  // and exec() calls would stack on every storage call (the ESP8266's XS stack has 256 slots)
  for (let i = 0; !bad && i < key.length; i++) bad = key.charCodeAt(i) < 0x21 || key.charCodeAt(i) > 0x7e;
  if (bad) {
    throw new ModdableHostError('KV_BAD_KEY', `storage key "${String(key)}" must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces`);
  }
};

const chunkName = (key: string, generation: number, index: number): string => {
  return key + ':' + generation + CHUNK_INDEX.charAt(index);
};

const parseHead = (entry: Uint8Array, key: string): Head => {
  if (entry.length !== 6) throw corrupt(key, 'chunk head has the wrong size');
  const head = { kind: entry[1]!, generation: entry[2]!, count: entry[3]!, length: (entry[4]! << 8) | entry[5]! };
  if ((head.kind !== TAG_STRING && head.kind !== TAG_BYTES) || head.generation > 1 || head.count === 0) {
    throw corrupt(key, 'chunk head is malformed');
  }
  return head;
};

const corrupt = (key: string, why: string): ModdableHostError => {
  return new ModdableHostError('KV_CORRUPT', `stored value of "${key}" is unreadable (${why}); delete the key and store it again`);
};
