// The in-memory key-value store of the test kit, with the rules of ESP32 NVS (keys of 1 to 15 bytes)
// and faults a test can plant: a value size limit, unreadable keys, an unreadable index and a power cut
// at a chosen write. Also the simulator's storage for devices that keep nothing. Pure TypeScript:
// portable cases and the XS budgets run it inside XS.
import type { KeyValueStore } from '../../../src/ports';
import { checkKey, checkValue, KeyValueError, type KeyValueOptions } from '../kv-rules';

/** Thrown at the write where the power goes (MemoryStore.cutAt): that write does not happen. */
export class PowerCut extends Error {
}
PowerCut.prototype.name = 'PowerCut';

/** Bytes are copied in and out as plain Uint8Arrays, as a real store does: nobody shares a buffer with it. */
export class MemoryStore implements KeyValueStore {
  /** The stored values. A test may plant or inspect entries here, past the checks and the faults. */
  readonly map = new Map<string, string | Uint8Array>();
  /** Keys whose read throws ECORRUPT, as a corrupt flash entry does; deleting the key heals it. */
  readonly unreadable: string[] = [];
  /** keys() throws, as an unreadable storage index does. */
  keysThrow = false;
  /** Writes (sets and deletes) so far, the failed ones included. */
  writes = 0;
  /** The write (1-based, counting `writes`) where the power goes: it and every later one throws PowerCut and changes nothing. 0: never. */
  cutAt = 0;

  constructor(private readonly options: KeyValueOptions = {}) {}

  get(key: string): string | Uint8Array | undefined {
    checkKey(key);
    if (this.unreadable.indexOf(key) >= 0) throw new KeyValueError('ECORRUPT', `stored value of "${key}" is corrupt: fix or delete it`);
    const value = this.map.get(key);
    return value instanceof Uint8Array ? new Uint8Array(value) : value;
  }

  set(key: string, value: string | Uint8Array): void {
    checkKey(key);
    checkValue(key, value, this.options.maxValueBytes);
    this.write();
    this.map.set(key, typeof value === 'string' ? value : new Uint8Array(value));
  }

  delete(key: string): void {
    checkKey(key);
    this.write();
    const i = this.unreadable.indexOf(key);
    if (i >= 0) this.unreadable.splice(i, 1);
    this.map.delete(key);
  }

  keys(): string[] {
    if (this.keysThrow) throw new KeyValueError('ECORRUPT', 'the storage index is unreadable');
    return Array.from(this.map.keys()).sort();
  }

  /** Whether the power went (a write was attempted at or after cutAt). */
  get cut(): boolean {
    return this.cutAt > 0 && this.writes >= this.cutAt;
  }

  /** The power is back: the same contents and unreadable keys, no cut pending, writes counted from 0. */
  powerOn(): this {
    this.cutAt = 0;
    this.writes = 0;
    return this;
  }

  /** Another store with the same contents, limits and unreadable keys, no fault pending. */
  copy(): MemoryStore {
    const other = new MemoryStore(this.options);
    this.map.forEach((value, key) => other.map.set(key, value));
    for (const key of this.unreadable) other.unreadable.push(key);
    return other;
  }

  private write(): void {
    const n = ++this.writes;
    if (this.cutAt && n >= this.cutAt) throw new PowerCut(`power cut at write ${n}`);
  }
}
