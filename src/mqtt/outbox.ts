// Bounded store of outgoing publishes that are not yet acknowledged: queued (offline, or beyond the
// inflight window) and inflight. Limits: a message count and a byte budget, counted over both.
//
// Drop policy when a new message does not fit: drop queued QoS 0 messages, oldest first; then queued
// QoS 1/2 messages, oldest first. Inflight messages are never dropped. A message that still does not
// fit is refused. Every drop is reported.
//
// Optional persistence: QoS 1/2 messages are written to the key-value store (one key each, "mq<seq>"),
// with their packet id and state, so they survive a reboot and a resumed session completes them. The
// client's QoS 2 exactly-once guard is kept under INBOUND_KEY.
import type { KeyValueStore } from '../ports';
import type { QoS } from './packets';
import type { AckInfo } from './properties';
import { decodeUtf8, encodeUtf8 } from './utf8';
import { allChars } from '../text/chars';

// Where a message stands (saved with it, so the numbers are part of the record format).
/** Waiting in the queue; no packet id yet. */
export const QUEUED = 0;
/** Sent with a packet id: awaiting PUBACK (QoS 1) or PUBREC (QoS 2). */
export const AWAITING_ACK = 1;
/** QoS 2 after PUBREC: PUBREL sent, awaiting PUBCOMP. */
export const AWAITING_PUBCOMP = 2;
export type MessageState = typeof QUEUED | typeof AWAITING_ACK | typeof AWAITING_PUBCOMP;

export interface OutboxLimits {
  /** Most messages held (queued + inflight). Default 64. */
  maxMessages?: number;
  /** Most payload + topic bytes held. Default 16 KB. */
  maxBytes?: number;
  /** Keep QoS 1/2 messages in the key-value store across reboots. */
  persist?: boolean;
}

/** `info`: MQTT 5 details of a success that carried a reason code, e.g. 0x10 No matching subscribers. */
export type DoneCallback = (error?: Error, info?: AckInfo) => void;

export interface OutboxMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** Packet id once sent. */
  id?: number;
  state: MessageState;
  /** Publish was already sent once (resend with DUP). */
  sent?: boolean;
  /** MQTT 5: the encoded properties (without their length). */
  props?: Uint8Array;
  size: number;
  key?: string;
  done?: DoneCallback;
}

export type DropReason = 'outbox-full' | 'too-large';

export interface Dropped {
  topic: string;
  qos: QoS;
  bytes: number;
  reason: DropReason;
}

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

export class Outbox {
  /** Waiting messages, oldest first. Change it only through add(), shift() and requeue(). */
  readonly queue: OutboxMessage[] = [];
  count = 0;
  bytes = 0;
  /**
   * The most topic + payload bytes a new message may have to skip the queue: -1 while messages wait
   * or every message slot is taken. One comparison for the client's fast path.
   */
  room = -1;
  /** Messages held at which `room` turns -1: maxMessages, or 0 to keep it -1 (no fast path at all). */
  readonly roomLimit: number;
  readonly dropped = [0, 0, 0];
  readonly maxMessages: number;
  readonly maxBytes: number;
  /** QoS 1/2 messages are saved in the key-value store (save() does nothing otherwise). */
  readonly persist: boolean;
  #seq = 0;
  readonly #store: KeyValueStore | undefined;

  constructor(limits: OutboxLimits = {}, store?: KeyValueStore, fastPath = true) {
    this.maxMessages = limits.maxMessages ?? 64;
    this.roomLimit = fastPath ? this.maxMessages : 0;
    this.maxBytes = limits.maxBytes ?? 16384;
    this.#store = limits.persist ? store : undefined;
    this.persist = !!this.#store;
    this.#update();
  }

  #update(): void {
    this.room = this.queue.length || this.count >= this.roomLimit ? -1 : this.maxBytes - this.bytes;
  }

  /** True when a message of `size` bytes fits without dropping anything. */
  fits(size: number): boolean {
    return this.count < this.maxMessages && this.bytes + size <= this.maxBytes;
  }

  /** Counts a message that skips the queue and goes straight into flight (it must fit). */
  hold(m: OutboxMessage): void {
    const count = ++this.count;
    const bytes = (this.bytes += m.size);
    this.room = this.queue.length || count >= this.roomLimit ? -1 : this.maxBytes - bytes;
  }

  /** Takes the oldest waiting message off the queue (it stays counted until released). */
  shift(): OutboxMessage | undefined {
    const m = this.queue.shift();
    this.#update();
    return m;
  }

  /**
   * Messages taken out of flight go back to the head of the queue, in order, as never sent: they get
   * new packet ids when they go again. (They stay counted: they never left the outbox.)
   */
  requeue(messages: OutboxMessage[]): void {
    for (const m of messages) {
      m.state = QUEUED;
      m.id = undefined;
      m.sent = false;
      this.save(m);
    }
    this.queue.unshift(...messages);
    this.#update();
  }

  /** Adds a message; returns what had to be dropped (the message itself when it was refused). */
  add(m: OutboxMessage, first?: boolean): OutboxMessage[] {
    const dropped: OutboxMessage[] = [];
    const queue = this.queue;
    while (m.size <= this.maxBytes && !this.fits(m.size)) {
      let victim = queue.findIndex((q) => q.qos === 0);
      if (victim < 0 && m.qos) victim = queue.findIndex((q) => q.state === QUEUED);
      if (victim < 0) break;
      const v = queue.splice(victim, 1)[0];
      this.release(v);
      this.dropped[v.qos]++;
      dropped.push(v);
    }
    if (!this.fits(m.size)) {
      this.dropped[m.qos]++;
      dropped.push(m);
    } else {
      if (first) queue.unshift(m);
      else queue.push(m);
      this.hold(m);
      if (m.qos) this.save(m);
    }
    return dropped;
  }

  /** A message left the outbox: acknowledged, or dropped. */
  release(m: OutboxMessage): void {
    const count = --this.count;
    const bytes = (this.bytes -= m.size);
    this.room = this.queue.length || count >= this.roomLimit ? -1 : this.maxBytes - bytes;
    if (m.key && this.#store) this.#store.delete(m.key);
  }

  /** Writes a QoS 1/2 message (again) after its id or state changed. */
  save(m: OutboxMessage): void {
    const store = this.#store;
    if (!store) return;
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
    store.set(m.key, out);
  }

  /**
   * Reloads the messages saved by an earlier run and returns them, oldest first. Those never sent go
   * back in the queue; the caller puts the others (sent, with a packet id) in flight. Corrupt records
   * are deleted and reported by key.
   */
  restore(onCorrupt?: (key: string) => void): OutboxMessage[] {
    const store = this.#store;
    if (!store) return [];
    const found: OutboxMessage[] = [];
    // oldest first: by the sequence number in the key
    for (const key of store.keys().filter((k) => isRecordKey(k) && k !== INBOUND_KEY).sort((a, b) => seqOf(a) - seqOf(b))) {
      const v = store.get(key);
      const m = v instanceof Uint8Array ? decodeRecord(v, key) : undefined;
      if (!m) {
        store.delete(key);
        if (onCorrupt) onCorrupt(key);
        continue;
      }
      this.#seq = Math.max(this.#seq, seqOf(key) + 1);
      found.push(m);
      this.hold(m);
    }
    for (const m of found) if (m.state === QUEUED || !m.id) this.queue.push(m);
    this.#update();
    return found;
  }

  /** The saved QoS 2 exactly-once guard: packet ids received and not yet released. */
  restoreInbound(onCorrupt?: (key: string) => void): number[] {
    const store = this.#store;
    const v = store && store.get(INBOUND_KEY);
    if (v === undefined || v === '') return [];
    let valid = typeof v === 'string';
    const ids = valid ? (v as string).split(',').map(Number) : [];
    for (const id of ids) if (!(id >= 1 && id <= 0xffff && id % 1 === 0)) valid = false;
    if (valid) return ids;
    store!.delete(INBOUND_KEY);
    if (onCorrupt) onCorrupt(INBOUND_KEY);
    return [];
  }

  saveInbound(ids: Set<number>): void {
    if (this.#store) this.#store.set(INBOUND_KEY, [...ids].join(','));
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
