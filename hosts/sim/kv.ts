// KeyValueStore for the simulator on disk: one JSON file per key in a device's state dir, written
// atomically (temp file + rename) so a crash leaves either the old or the new value. Keys follow
// ESP32 NVS: 1 to 15 bytes, checked as in memory (hosts/sim/kv-rules.ts).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyValueStore } from '../../src/ports';
import { checkKey, checkValue, KeyValueError, type KeyValueOptions } from './kv-rules';

const utf8 = new TextEncoder();

// File names: [a-z0-9_-] kept, every other UTF-8 byte as %XX (upper case too, for case-insensitive
// file systems); ".json" appended.
function fileName(key: string): string {
  let out = '';
  for (const byte of utf8.encode(key)) {
    const c = String.fromCharCode(byte);
    out += /[a-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `${out}.json`;
}

function keyOf(name: string): string | undefined {
  if (!name.endsWith('.json') || name.startsWith('.')) return undefined;
  try {
    return decodeURIComponent(name.slice(0, -5));
  } catch {
    return undefined;
  }
}

interface Stored {
  type: 'string' | 'bytes';
  /** The string, or the bytes in base64. */
  value: string;
}

let tempCounter = 0;

export class FileKeyValueStore implements KeyValueStore {
  constructor(
    readonly dir: string,
    /**
     * `flush` (default true): every write reaches the disk (fsync) before its rename makes it
     * visible, so a value survives the machine losing power. Without it a crash of the simulator
     * still leaves each value old or new (the rename); a fleet of thousands boots without waiting
     * for the disk.
     */
    private readonly options: KeyValueOptions & { flush?: boolean } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    // Leftovers of writes interrupted by a crash; the renamed files are the truth.
    for (const name of readdirSync(dir)) if (name.startsWith('.tmp-')) rmSync(join(dir, name), { force: true });
  }

  private path(key: string): string {
    return join(this.dir, fileName(key));
  }

  get(key: string): string | Uint8Array | undefined {
    checkKey(key);
    const path = this.path(key);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KeyValueError('EIO', `reading "${key}" from ${path}: ${(error as Error).message}`, { cause: error });
    }
    let stored: Stored;
    try {
      stored = JSON.parse(text) as Stored;
    } catch (error) {
      throw new KeyValueError('ECORRUPT', `stored value of "${key}" in ${path} is not valid JSON: fix or delete the file`, { cause: error });
    }
    if (stored.type === 'string' && typeof stored.value === 'string') return stored.value;
    if (stored.type === 'bytes' && typeof stored.value === 'string') return new Uint8Array(Buffer.from(stored.value, 'base64'));
    throw new KeyValueError('ECORRUPT', `stored value of "${key}" in ${path} lacks {type: "string"|"bytes", value}: fix or delete the file`);
  }

  set(key: string, value: string | Uint8Array): void {
    checkKey(key);
    checkValue(key, value, this.options.maxValueBytes);
    const stored: Stored =
      typeof value === 'string' ? { type: 'string', value } : { type: 'bytes', value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
    const path = this.path(key);
    const temp = join(this.dir, `.tmp-${process.pid}-${++tempCounter}`);
    try {
      // flush: the data reaches the disk before the rename makes it visible.
      writeFileSync(temp, JSON.stringify(stored), { flush: this.options.flush ?? true });
      renameSync(temp, path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw new KeyValueError('EIO', `writing "${key}" to ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  delete(key: string): void {
    checkKey(key);
    rmSync(this.path(key), { force: true });
  }

  keys(): string[] {
    const keys: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const key = keyOf(name);
      if (key !== undefined) keys.push(key);
    }
    return keys.sort();
  }
}
