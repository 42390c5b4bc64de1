// A persisted outbox, opt-in: `new MqttClient({ ..., outbox: { persist: outboxStore(storage) } })`.
// QoS 1/2 messages are written to the key-value store (one key each, "mq<seq>") with their packet id
// and state, so they survive a reboot and a resumed session completes them; the client's QoS 2
// exactly-once guard is kept under INBOUND_KEY. A client that does not import this module carries
// none of it.
import type { KeyValueStore } from '../ports';
import { AWAITING_PUBCOMP, QUEUED, type MessageState, type Outbox, type OutboxMessage, type OutboxPersistence } from './outbox';
import type { QoS } from './packets';
import { decodeUtf8, encodeUtf8 } from './utf8';
import { allChars } from '../text/chars';

const PREFIX = 'mq';
const NO_PROPERTIES = new Uint8Array(0);
/** Not a record, though it looks like one ("in" is a base-36 number): skipped by restore and save. */
const INBOUND_KEY = 'mqin';

const isBase36Code = (c: number): boolean => {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a); // 0-9 a-z
};

/** "mq" and a base-36 sequence number. */
const isRecordKey = (key: string): boolean => {
  return key.startsWith(PREFIX) && allChars(key.slice(PREFIX.length), isBase36Code);
};

/** Told of records outboxStore() found unreadable. An object, not a callback: a device passes one it has anyway, where a closure would cost its heap. */
export interface CorruptRecordListener {
  onCorruptRecord(key: string): void;
}

/**
 * The outbox kept in `storage`, for ClientOptions.outbox.persist. A record found unreadable at
 * start-up (a message, or the QoS 2 guard) is deleted and its key given to `listener`.
 */
export const outboxStore = (storage: KeyValueStore, listener?: CorruptRecordListener): OutboxPersistence => {
  return new OutboxStore(storage, listener);
};

class OutboxStore implements OutboxPersistence {
  #seq = 0;
  readonly #store: KeyValueStore;
  readonly #listener: CorruptRecordListener | undefined;

  constructor(store: KeyValueStore, listener?: CorruptRecordListener) {
    this.#store = store;
    this.#listener = listener;
  }

  #corrupt(key: string): void {
    this.#store.delete(key);
    if (this.#listener) this.#listener.onCorruptRecord(key);
  }

  save(m: OutboxMessage): void {
    while (!m.key || m.key === INBOUND_KEY) m.key = PREFIX + (this.#seq++).toString(36);
    const topic = encodeUtf8(m.topic);
    const id = m.id || 0;
    const props = m.props || NO_PROPERTIES;
    const at = 8 + topic.length;
    const out = new Uint8Array(at + props.length + m.payload.length);
    out[0] = m.qos | (m.retain ? 4 : 0) | (m.state << 3);
    out[1] = id >> 8;
    out[2] = id & 255;
    out[3] = topic.length >> 8;
    out[4] = topic.length & 255;
    out[5] = 2; // record version: 1 had no properties (and no bytes 6 and 7)
    out[6] = props.length >> 8;
    out[7] = props.length & 255;
    out.set(topic, 8);
    out.set(props, at);
    out.set(m.payload, at + props.length);
    this.#store.set(m.key, out);
  }

  delete(key: string): void {
    this.#store.delete(key);
  }

  restore(box: Outbox, inflight: Map<number, OutboxMessage>): number[] {
    const store = this.#store;
    // oldest first: by the sequence number in the key
    for (const key of store.keys().filter((k) => isRecordKey(k) && k !== INBOUND_KEY).sort((a, b) => seqOf(a) - seqOf(b))) {
      const v = store.get(key);
      const m = v instanceof Uint8Array ? decodeRecord(v, key) : undefined;
      if (!m) {
        this.#corrupt(key);
        continue;
      }
      this.#seq = Math.max(this.#seq, seqOf(key) + 1);
      box.count++;
      box.bytes += m.size;
      if (m.state !== QUEUED && m.id) inflight.set(m.id, m);
      else box.queue.push(m);
    }
    box.room = box.queue.length || box.count >= box.roomLimit ? -1 : box.maxBytes - box.bytes; // as Outbox counts it
    return this.#restoreInbound();
  }

  /** The QoS 2 exactly-once guard: packet ids received and not yet released. */
  #restoreInbound(): number[] {
    const store = this.#store;
    const v = store.get(INBOUND_KEY);
    if (v === undefined || v === '') return [];
    let valid = typeof v === 'string';
    const ids = valid ? (v as string).split(',').map(Number) : [];
    for (const id of ids) if (!(id >= 1 && id <= 0xffff && id % 1 === 0)) valid = false;
    if (valid) return ids;
    this.#corrupt(INBOUND_KEY);
    return [];
  }

  saveInbound(ids: Set<number>): void {
    this.#store.set(INBOUND_KEY, [...ids].join(','));
  }
}

/** The sequence number of a record key: "mq" and a base-36 number. */
const seqOf = (key: string): number => {
  return parseInt(key.slice(2), 36);
};

const decodeRecord = (v: Uint8Array, key: string): OutboxMessage | undefined => {
  const qos = (v[0] & 3) as QoS;
  const state = ((v[0] >> 3) & 3) as MessageState;
  const n = (v[3] << 8) | v[4];
  // version 2 adds the length of MQTT 5 properties (bytes 6, 7) and the properties after the topic
  const v2 = v[5] === 2;
  const h = v2 ? 8 : 6;
  const k = v2 ? (v[6] << 8) | v[7] : 0;
  if (v.length < h || (v[5] !== 1 && !v2) || !qos || qos > 2 || state > AWAITING_PUBCOMP || h + n + k > v.length) return undefined;
  let topic: string;
  try {
    topic = decodeUtf8(v, h, h + n, 'stored topic');
  } catch {
    return undefined;
  }
  const id = (v[1] << 8) | v[2];
  const payload = v.slice(h + n + k);
  const m: OutboxMessage = { topic, payload, qos, retain: (v[0] & 4) !== 0, id: id || undefined, state, sent: state !== QUEUED, size: n + k + payload.length, key };
  if (k) m.props = v.slice(h + n, h + n + k);
  return m;
};
