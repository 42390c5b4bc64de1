// Bounded store of outgoing publishes that are not yet acknowledged: queued (offline, or beyond the
// inflight window) and inflight. Limits: a message count and a byte budget, counted over both.
//
// Drop policy when a new message does not fit: drop queued QoS 0 messages, oldest first; then queued
// QoS 1/2 messages, oldest first. Inflight messages are never dropped. A message that still does not
// fit is refused. Every drop is reported.
//
// Optional persistence: QoS 1/2 messages are written to the key-value store (one key each, "mq<seq>"),
// with their packet id and state, so they survive a reboot and a resumed session completes them.
import type { KeyValueStore } from '../ports';
import type { QoS } from './packets';
import { decodeUtf8, encodeUtf8 as encodeText } from './utf8';

export interface OutboxLimits {
  /** Most messages held (queued + inflight). Default 64. */
  maxMessages?: number;
  /** Most payload + topic bytes held. Default 16 KB. */
  maxBytes?: number;
  /** Keep QoS 1/2 messages in the key-value store across reboots. */
  persist?: boolean;
}

export type DoneCallback = (error?: Error) => void;

export interface OutboxMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** Packet id once sent. */
  id?: number;
  /** 0 queued, 1 sent and awaiting PUBACK/PUBREC, 2 awaiting PUBCOMP. */
  state: 0 | 1 | 2;
  /** Publish was already sent once (resend with DUP). */
  sent?: boolean;
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

export class Outbox {
  readonly queue: OutboxMessage[] = [];
  count = 0;
  bytes = 0;
  readonly dropped = [0, 0, 0];
  private seq = 0;
  readonly maxMessages: number;
  readonly maxBytes: number;

  constructor(limits: OutboxLimits = {}, private readonly store?: KeyValueStore) {
    this.maxMessages = limits.maxMessages ?? 64;
    this.maxBytes = limits.maxBytes ?? 16384;
    if (!limits.persist) this.store = undefined;
  }

  /** Adds a message; returns what had to be dropped (the message itself when it was refused). */
  add(m: OutboxMessage): OutboxMessage[] {
    const dropped: OutboxMessage[] = [];
    if (m.size > this.maxBytes) return this.refuse(m, dropped);
    while (this.count + 1 > this.maxMessages || this.bytes + m.size > this.maxBytes) {
      let victim = this.queue.findIndex((q) => q.qos === 0);
      if (victim < 0) {
        if (m.qos === 0) return this.refuse(m, dropped);
        victim = this.queue.findIndex((q) => q.state === 0);
      }
      if (victim < 0) return this.refuse(m, dropped);
      const [v] = this.queue.splice(victim, 1);
      this.release(v);
      this.dropped[v.qos]++;
      dropped.push(v);
    }
    this.count++;
    this.bytes += m.size;
    this.queue.push(m);
    if (m.qos) this.save(m);
    return dropped;
  }

  private refuse(m: OutboxMessage, dropped: OutboxMessage[]): OutboxMessage[] {
    this.dropped[m.qos]++;
    dropped.push(m);
    return dropped;
  }

  /** A message left the outbox: acknowledged, or dropped. */
  release(m: OutboxMessage): void {
    this.count--;
    this.bytes -= m.size;
    if (m.key && this.store) this.store.delete(m.key);
  }

  /** Writes a QoS 1/2 message (again) after its id or state changed. */
  save(m: OutboxMessage): void {
    const store = this.store;
    if (!store) return;
    m.key ??= PREFIX + (this.seq++).toString(36);
    const topic = encodeText(m.topic);
    const out = new Uint8Array(6 + topic.length + m.payload.length);
    out[0] = m.qos | (m.retain ? 4 : 0) | (m.state << 3);
    out[1] = (m.id ?? 0) >> 8;
    out[2] = (m.id ?? 0) & 255;
    out[3] = topic.length >> 8;
    out[4] = topic.length & 255;
    out[5] = 1; // record version
    out.set(topic, 6);
    out.set(m.payload, 6 + topic.length);
    store.set(m.key, out);
  }

  /** Messages saved by an earlier run, oldest first. Corrupt records are deleted and reported by key. */
  restore(onCorrupt?: (key: string) => void): OutboxMessage[] {
    const store = this.store;
    if (!store) return [];
    const found: [number, OutboxMessage][] = [];
    for (const key of store.keys()) {
      if (!key.startsWith(PREFIX) || !/^[0-9a-z]+$/.test(key.slice(PREFIX.length))) continue;
      const seq = parseInt(key.slice(PREFIX.length), 36);
      const v = store.get(key);
      const m = v instanceof Uint8Array ? decodeRecord(v, key) : undefined;
      if (!m) {
        store.delete(key);
        onCorrupt?.(key);
        continue;
      }
      this.seq = Math.max(this.seq, seq + 1);
      found.push([seq, m]);
    }
    found.sort((a, b) => a[0] - b[0]);
    return found.map(([, m]) => {
      this.count++;
      this.bytes += m.size;
      return m;
    });
  }
}

function decodeRecord(v: Uint8Array, key: string): OutboxMessage | undefined {
  if (v.length < 6 || v[5] !== 1) return undefined;
  const qos = (v[0] & 3) as QoS;
  const state = ((v[0] >> 3) & 3) as 0 | 1 | 2;
  const n = (v[3] << 8) | v[4];
  if (!qos || qos > 2 || state > 2 || 6 + n > v.length) return undefined;
  let topic: string;
  try {
    topic = decodeText(v.subarray(6, 6 + n));
  } catch {
    return undefined;
  }
  const id = (v[1] << 8) | v[2];
  const payload = v.slice(6 + n);
  return { topic, payload, qos, retain: (v[0] & 4) !== 0, id: id || undefined, state, sent: state > 0, size: n + payload.length, key };
}

function decodeText(b: Uint8Array): string {
  return decodeUtf8(b, 0, b.length, 'stored topic');
}
