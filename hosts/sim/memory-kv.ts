// The key-value store of a simulated device that keeps no state dir (a fleet in a benchmark): the
// rules of ESP32 NVS (kv-rules.ts) in memory, in one small object. A device stores a handful of keys
// (boot counter, Wi-Fi networks), so the values live as properties of a plain object (no hash table
// per device), each key behind a prefix so that no key can be a name Object.prototype gives meaning to.
// For faults a test can plant (unreadable keys, power cuts), use the test kit's MemoryStore.
import type { KeyValueStore } from '../../src/ports';
import { checkKey, checkValue } from './kv-rules';

const PREFIX = '#';

export class MemoryKeyValueStore implements KeyValueStore {
  private values: Record<string, string | Uint8Array> = {};

  get(key: string): string | Uint8Array | undefined {
    checkKey(key);
    const value = this.values[PREFIX + key];
    return value instanceof Uint8Array ? new Uint8Array(value) : value;
  }

  set(key: string, value: string | Uint8Array): void {
    checkKey(key);
    checkValue(key, value, undefined);
    this.values[PREFIX + key] = typeof value === 'string' ? value : new Uint8Array(value);
  }

  delete(key: string): void {
    checkKey(key);
    const name = PREFIX + key;
    if (!(name in this.values)) return;
    // rebuilt rather than `delete`d: the object keeps a fast shape shared with the other devices' stores
    const kept: Record<string, string | Uint8Array> = {};
    for (const k of Object.keys(this.values)) if (k !== name) kept[k] = this.values[k];
    this.values = kept;
  }

  keys(): string[] {
    return Object.keys(this.values)
      .map((k) => k.slice(PREFIX.length))
      .sort();
  }
}
