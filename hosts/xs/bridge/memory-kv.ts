// In-memory KeyValueStore for the bridge when no other store is given. Applies the port's limit of
// 15-character keys (NVS), so firmware that breaks it fails here as it would on the device.
import type { KeyValueStore } from '../../../src/ports';

export class KeyValueError extends Error {
  override name = 'KeyValueError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class MemoryKeyValueStore implements KeyValueStore {
  private readonly values = new Map<string, string | Uint8Array>();

  get(key: string): string | Uint8Array | undefined {
    const value = this.values.get(key);
    return value instanceof Uint8Array ? value.slice() : value;
  }

  set(key: string, value: string | Uint8Array): void {
    if (key.length === 0 || key.length > 15) {
      throw new KeyValueError('EINVAL', `key "${key}" has ${key.length} characters; keys must have 1 to 15 (NVS limit)`);
    }
    this.values.set(key, typeof value === 'string' ? value : value.slice());
  }

  delete(key: string): void {
    this.values.delete(key);
  }

  keys(): string[] {
    return [...this.values.keys()];
  }
}
