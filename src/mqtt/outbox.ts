// Bounded store of outgoing publishes that are not yet acknowledged: queued (offline, or beyond the
// inflight window) and inflight. Limits: a message count and a byte budget, counted over both.
//
// Drop policy when a new message does not fit: drop queued QoS 0 messages, oldest first; then queued
// QoS 1/2 messages, oldest first. Inflight messages are never dropped. A message that still does not
// fit is refused. Every drop is reported.
//
// Persistence is opt-in, as MQTT 5 is: `persist: outboxStore(storage)` (outbox-store.ts) keeps QoS 1/2
// messages and the QoS 2 exactly-once guard across reboots; a client built without it carries none of
// its code.
import { invalid } from './errors';
import type { QoS } from './packets';
import type { AckInfo } from './properties';

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
  /** Keeps QoS 1/2 messages (and the QoS 2 guard) across reboots: `outboxStore(storage)` from src/mqtt/outbox-store.ts. */
  persist?: OutboxPersistence;
}

/** Where a persisted outbox keeps its messages: outbox-store.ts. */
export interface OutboxPersistence {
  /** Writes a QoS 1/2 message (again), under its `key` (it sets one on first save). */
  save(m: OutboxMessage): void;
  /** Deletes a message's record. */
  delete(key: string): void;
  /**
   * Reloads what an earlier run kept, oldest first: messages never sent into `box`'s queue, sent ones
   * (with a packet id) into `inflight`, all counted by `box`; unreadable records are deleted (and
   * reported by the store). Returns the QoS 2 exactly-once guard: packet ids received and not yet
   * released.
   */
  restore(box: Outbox, inflight: Map<number, OutboxMessage>): number[];
  saveInbound(ids: Set<number>): void;
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

export class Outbox {
  /** Waiting messages, oldest first. Change it only through add() and shift() (and the client's #resume). */
  readonly queue: OutboxMessage[] = [];
  count: number;
  bytes: number;
  /**
   * The most topic + payload bytes a new message may have to skip the queue: -1 while messages wait
   * or every message slot is taken. One comparison for the client's fast path.
   */
  room = -1;
  /** Messages held at which `room` turns -1: maxMessages, or 0 to keep it -1 (no fast path at all). */
  declare readonly roomLimit: number;
  /** Messages dropped, by QoS; made at the first drop (three numbers in an array cost XS several slots per client). */
  dropped: number[] | undefined;
  readonly #maxMessages: number;
  declare readonly maxBytes: number;
  /** Where QoS 1/2 messages are saved, when the outbox is persisted. */
  declare readonly store: OutboxPersistence | undefined;

  constructor(limits: OutboxLimits = {}, fastPath = true) {
    this.count = this.bytes = 0;
    this.#maxMessages = limits.maxMessages ?? 64;
    this.roomLimit = fastPath ? this.#maxMessages : 0;
    this.maxBytes = limits.maxBytes ?? 16384;
    const store = (this.store = limits.persist);
    if (store && !store.save) invalid('outbox.persist takes outboxStore(storage)');
    this.#update();
  }

  #update(): void {
    this.room = this.queue.length || this.count >= this.roomLimit ? -1 : this.maxBytes - this.bytes;
  }

  /** True when a message of `size` bytes fits without dropping anything. */
  #fits(size: number): boolean {
    return this.count < this.#maxMessages && this.bytes + size <= this.maxBytes;
  }

  /** Takes the oldest waiting message off the queue (it stays counted until released). */
  shift(): OutboxMessage | undefined {
    const m = this.queue.shift();
    this.#update();
    return m;
  }

  /** Adds a message; returns what had to be dropped (the message itself when it was refused). */
  add(m: OutboxMessage, first?: boolean): OutboxMessage[] {
    const dropped: OutboxMessage[] = [];
    const queue = this.queue;
    while (m.size <= this.maxBytes && !this.#fits(m.size)) {
      let victim = queue.findIndex((q) => q.qos === 0);
      if (victim < 0 && m.qos) victim = queue.findIndex((q) => q.state === QUEUED);
      if (victim < 0) break;
      const v = queue.splice(victim, 1)[0];
      this.release(v);
      (this.dropped ??= [0, 0, 0])[v.qos]++;
      dropped.push(v);
    }
    if (!this.#fits(m.size)) {
      (this.dropped ??= [0, 0, 0])[m.qos]++;
      dropped.push(m);
    } else {
      if (first) queue.unshift(m);
      else queue.push(m);
      this.count++;
      this.bytes += m.size;
      this.#update();
      if (m.qos) this.save(m);
    }
    return dropped;
  }

  /** A message left the outbox: acknowledged, or dropped. (The client inlines this, and the count of a message that skips the queue, on its fast paths.) */
  release(m: OutboxMessage): void {
    this.count--;
    this.bytes -= m.size;
    this.#update();
    if (m.key) this.store!.delete(m.key);
  }

  /** Writes a QoS 1/2 message (again) after its id or state changed, when the outbox is persisted. */
  save(m: OutboxMessage): void {
    if (this.store) this.store.save(m);
  }

  saveInbound(ids: Set<number>): void {
    if (this.store) this.store.saveInbound(ids);
  }
}
