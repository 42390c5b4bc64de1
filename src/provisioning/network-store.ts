// Stored Wi-Fi networks in the key-value store, most recently successful first. Each network is
// two short entries (ESP8266 Preference: values <= 63 bytes), never one blob:
//   w<slot>s  SSID         w<slot>p  passphrase ("" for open networks)
//   wo        slot order, e.g. "201" = slot 2 is the most recent
// Writes are ordered so a power cut at any point leaves a consistent store: a slot counts only
// once its SSID is written (after its password), and an evicted slot loses its SSID before reuse.
// A cut while saving over the oldest network may lose that one, never another or a password.
import type { KeyValueStore } from '../ports';
import type { WiFiCredentials } from './validate';

export const DEFAULT_MAX_NETWORKS = 5;
const ORDER_KEY = 'wo';

const ssidKey = (slot: number): string => {
  return `w${slot}s`;
};
const passKey = (slot: number): string => {
  return `w${slot}p`;
};

const asText = (value: string | Uint8Array | undefined): string | undefined => {
  return typeof value === 'string' ? value : undefined;
};

export class NetworkStore {
  constructor(
    private readonly kv: KeyValueStore,
    readonly capacity = DEFAULT_MAX_NETWORKS,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 10) {
      throw new RangeError(`NetworkStore capacity must be 1..10 (one digit per slot in "${ORDER_KEY}"), got ${capacity}`);
    }
  }

  /** The stored networks, most recently successful first. */
  list(): WiFiCredentials[] {
    return this.order().map((slot) => ({ ssid: asText(this.kv.get(ssidKey(slot))) ?? '', password: asText(this.kv.get(passKey(slot))) ?? '' }));
  }

  get size(): number {
    return this.order().length;
  }

  /** Saves (or updates) a network and makes it the most recent. */
  save(credentials: WiFiCredentials): void {
    const order = this.order();
    let slot = this.slotOf(order, credentials.ssid);
    if (slot < 0) {
      slot = this.freeSlot(order);
      if (slot < 0) {
        slot = order[order.length - 1];
        order.pop();
        // Unreference the evicted slot and drop its SSID, so no step below can pair one
        // network's SSID with another's password.
        this.writeOrder(order);
        this.kv.delete(ssidKey(slot));
      }
      this.kv.set(passKey(slot), credentials.password);
      this.kv.set(ssidKey(slot), credentials.ssid); // the SSID last: it makes the slot count
    } else {
      if (asText(this.kv.get(passKey(slot))) !== credentials.password) this.kv.set(passKey(slot), credentials.password);
      order.splice(order.indexOf(slot), 1);
    }
    order.unshift(slot);
    this.writeOrder(order);
  }

  /** Marks a stored network as the most recently successful; writes only when the order changes. */
  promote(ssid: string): void {
    const order = this.order();
    const slot = this.slotOf(order, ssid);
    if (slot < 0 || order[0] === slot) return;
    order.splice(order.indexOf(slot), 1);
    order.unshift(slot);
    this.writeOrder(order);
  }

  /** Removes a network. Returns whether it was stored. */
  forget(ssid: string): boolean {
    const order = this.order();
    const slot = this.slotOf(order, ssid);
    if (slot < 0) return false;
    // SSID first: a slot without an SSID is dropped on the next read even if "wo" still names it.
    this.kv.delete(ssidKey(slot));
    this.kv.delete(passKey(slot));
    order.splice(order.indexOf(slot), 1);
    this.writeOrder(order);
    return true;
  }

  private slotOf(order: number[], ssid: string): number {
    for (const slot of order) if (asText(this.kv.get(ssidKey(slot))) === ssid) return slot;
    return -1;
  }

  private freeSlot(order: number[]): number {
    for (let slot = 0; slot < this.capacity; slot++) if (order.indexOf(slot) < 0) return slot;
    return -1;
  }

  /**
   * Slots in use, in order. Repairs what a power cut can leave behind: unknown or repeated digits
   * and slots without an SSID are dropped; filled slots missing from "wo" (written just before
   * the cut) are appended, so a network is never lost to an interrupted write.
   */
  private order(): number[] {
    const text = asText(this.kv.get(ORDER_KEY)) ?? '';
    const order: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const slot = text.charCodeAt(i) - 0x30;
      if (slot >= 0 && slot < this.capacity && order.indexOf(slot) < 0 && asText(this.kv.get(ssidKey(slot)))) order.push(slot);
    }
    for (let slot = 0; slot < this.capacity; slot++) {
      if (order.indexOf(slot) < 0 && asText(this.kv.get(ssidKey(slot)))) order.push(slot);
    }
    return order;
  }

  private writeOrder(order: number[]): void {
    const text = order.join('');
    if (asText(this.kv.get(ORDER_KEY)) !== text) this.kv.set(ORDER_KEY, text);
  }
}
