// The key-value store as the device's MQTT outbox uses it (persistOutbox). Two things differ from the
// store itself:
// - Writes and deletes are queued and made from a 0 ms timer, on a fresh XS stack. The outbox writes
//   under a publish, which runs under the MQTT delivery or the CONNACK handling, and the flash write
//   below it (on an ESP8266, the chunked preferences) took those paths past the ESP8266's 256-slot
//   XS stack (measured: 263 slots for the discovery at the first connect). A message is kept in RAM
//   meanwhile, as always until the broker has it.
// - A write the host cannot make (a record larger than its entries take, or a full flash: an ESP8266
//   keeps every preference in one 4 KB sector) is logged, not thrown: the message stays in RAM and
//   goes out as usual; it is lost only if the device restarts before the broker has it.
import type { Clock, KeyValueStore, Logger, TimerId } from '../ports';
import { describe, type CheckedStore } from './checked-store';

export class OutboxStore implements KeyValueStore {
  /**
   * Writes not made yet, in order: a key and its value, undefined for a delete. Made when needed. A
   * record is kept as its ArrayBuffer (a Uint8Array over it costs seven more slots while it waits).
   */
  private keysQueued: string[] | undefined;
  private valuesQueued: (string | ArrayBuffer | undefined)[] | undefined;
  private timer: TimerId | undefined;

  constructor(
    private readonly store: CheckedStore,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  get(key: string): string | Uint8Array | undefined {
    const keys = this.keysQueued;
    if (keys) for (let i = keys.length - 1; i >= 0; i--) if (keys[i] === key) return bytesOf(this.valuesQueued![i]);
    return this.store.get(key);
  }

  set(key: string, value: string | Uint8Array): void {
    this.queue(key, typeof value === 'string' ? value : value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? (value.buffer as ArrayBuffer) : (value.slice().buffer as ArrayBuffer));
  }

  delete(key: string): void {
    this.queue(key, undefined);
  }

  keys(): string[] {
    this.flush();
    return this.store.keys();
  }

  /** Makes the queued writes now (a timer does it; and a stopping device before it restarts). */
  flush(): void {
    if (this.timer !== undefined) this.clock.clear(this.timer);
    this.timer = undefined;
    const keys = this.keysQueued;
    const values = this.valuesQueued;
    this.keysQueued = this.valuesQueued = undefined;
    if (!keys) return;
    for (let i = 0; i < keys.length; i++) this.write(keys[i], bytesOf(values![i]));
  }

  private queue(key: string, value: string | ArrayBuffer | undefined): void {
    const keys = (this.keysQueued ??= []);
    const values = (this.valuesQueued ??= []);
    // a later write of a key replaces the queued ones: a dropped or acknowledged message's record is
    // let go at once, not held until the timer (a burst of replies queues and drops many)
    for (let i = keys.length - 1; i >= 0; i--) {
      if (keys[i] !== key) continue;
      keys.splice(i, 1);
      values.splice(i, 1);
    }
    keys.push(key);
    values.push(value);
    if (this.timer === undefined) this.timer = this.clock.set(() => this.flush(), 0);
  }

  private write(key: string, value: string | Uint8Array | undefined): void {
    try {
      if (value === undefined) this.store.delete(key);
      else this.store.set(key, value);
    } catch (error) {
      if (value === undefined) {
        this.log.log('warn', `outbox: the stored message ${key} could not be deleted (${describe(error)}); it is checked again at the next start`);
        return;
      }
      this.log.log('warn', `outbox: message ${key} kept in RAM only, not stored (${describe(error)}); it is lost if the device restarts before the broker has it`);
      this.forget(key);
    }
  }

  /** An older record of the message must not come back after a restart with a state it no longer has. */
  private forget(key: string): void {
    try {
      this.store.delete(key);
    } catch {
      // nothing more to do: restore() checks every record it reads
    }
  }
}

const bytesOf = (value: string | ArrayBuffer | undefined): string | Uint8Array | undefined => {
  return value instanceof ArrayBuffer ? new Uint8Array(value) : value;
};
