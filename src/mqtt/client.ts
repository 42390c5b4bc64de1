// MQTT 3.1.1 client over the TCP port: QoS 0/1/2 both ways, keep-alive with dead-link detection,
// persistent sessions, reconnect with capped exponential backoff and full jitter, bounded outbox.
import type { Clock, KeyValueStore, Logger, Network, System, TcpSocket, TimerId, TlsOptions } from '../ports';
import { encodeAck, encodeConnect, encodeEmpty, encodePublish, encodeSubscribe, encodeUnsubscribe } from './codec';
import { MqttClientError, MqttConnectError, MqttProtocolError } from './errors';
import { Outbox, type DoneCallback, type Dropped, type OutboxLimits, type OutboxMessage } from './outbox';
import {
  CONNACK,
  CONNECT,
  DISCONNECT,
  PINGREQ,
  PINGRESP,
  PUBACK,
  PUBCOMP,
  PUBLISH,
  PUBREC,
  PUBREL,
  SUBACK,
  SUBSCRIBE,
  UNSUBACK,
  UNSUBSCRIBE,
  type Packet,
  type QoS,
  type SubscribePacket,
  type Subscription,
  type UnsubscribePacket,
} from './packets';
import { PacketParser } from './parser';
import { checkTopicFilter, checkTopicName, topicMatches } from './topic';
import { encodeUtf8 } from './utf8';

export interface MessageInfo {
  qos: QoS;
  retain: boolean;
  dup: boolean;
}

export type MessageHandler = (topic: string, payload: Uint8Array, info: MessageInfo) => void;

export interface ReconnectOptions {
  /** First backoff ceiling, ms. Default 1000. */
  minDelay?: number;
  /** Backoff cap, ms. Default 60000. */
  maxDelay?: number;
  /** The backoff resets only after a connection stayed up this long, ms. Default 20000. */
  stableAfter?: number;
}

export interface ClientOptions {
  clock: Clock;
  network: Network;
  /** Source of randomness for the backoff jitter. */
  system?: Pick<System, 'random'>;
  log?: Logger;
  /** Needed when outbox.persist or persistSession is set. */
  storage?: KeyValueStore;
  host: string;
  port?: number;
  tls?: TlsOptions;
  clientId: string;
  username?: string;
  /** Called at every connect when a function, so a rotating token works. */
  password?: string | Uint8Array | (() => string | Uint8Array);
  /** Seconds. Default 60; 0 disables. */
  keepAlive?: number;
  /** Ms to wait for PINGRESP before declaring the link dead. Default keepAlive / 2. */
  pingTimeout?: number;
  /** Default true. With false, the broker keeps the session and the client resumes it. */
  cleanSession?: boolean;
  will?: { topic: string; payload: string | Uint8Array; qos?: QoS; retain?: boolean };
  /** Largest inbound packet accepted. Default 64 KB. */
  maxPacketSize?: number;
  /** Most QoS 1/2 publishes awaiting acknowledgement at once. Default 16. */
  inflightWindow?: number;
  outbox?: OutboxLimits;
  /** false disables automatic reconnects. */
  reconnect?: ReconnectOptions | false;
  /** Ms for the TCP/TLS connection and CONNACK. Default 15000. */
  connectTimeout?: number;
  onConnect?(info: { sessionPresent: boolean }): void;
  onDisconnect?(error?: Error): void;
  /** Messages that no subscription handler took. */
  onMessage?: MessageHandler;
  onError?(error: Error): void;
  onDrop?(dropped: Dropped[]): void;
}

interface LocalSubscription {
  qos: QoS;
  handler?: MessageHandler;
}

interface PendingOperation {
  packet: SubscribePacket | UnsubscribePacket;
  done?: (error: Error | undefined, granted: number[]) => void;
}

const INBOUND_KEY = 'mqin';

const encodeOperation = (p: SubscribePacket | UnsubscribePacket) => (p.type === SUBSCRIBE ? encodeSubscribe(p) : encodeUnsubscribe(p));

export class MqttClient {
  readonly #o: ClientOptions;
  readonly #clock: Clock;
  readonly #keepAliveMs: number;
  readonly #outbox: Outbox;
  readonly #inflight = new Map<number, OutboxMessage>();
  readonly #operations = new Map<number, PendingOperation>();
  readonly #subscriptions = new Map<string, LocalSubscription>();
  /** QoS 2 packet ids received and acknowledged with PUBREC, awaiting PUBREL: the exactly-once guard. */
  readonly #inbound = new Set<number>();
  readonly #topicCache = new Map<string, Uint8Array>();
  #socket: TcpSocket | undefined;
  #parser: PacketParser | undefined;
  #timers: (TimerId | undefined)[] = [];
  #nextId = 1;
  #attempt = 0;
  #lastSend = 0;
  #lastReceive = 0;
  #pingSent = 0;
  #wanted = false;
  #everConnected = false;
  connected = false;
  readonly stats = { connects: 0, reconnects: 0, inboundDuplicates: 0, protocolErrors: 0 };

  constructor(options: ClientOptions) {
    this.#o = options;
    this.#clock = options.clock;
    this.#keepAliveMs = (options.keepAlive ?? 60) * 1000;
    if (!options.clientId && options.cleanSession === false) {
      throw new MqttClientError('invalid-argument', 'a persistent session (cleanSession: false) needs a client id');
    }
    if (options.password !== undefined && options.username === undefined) {
      throw new MqttClientError('invalid-argument', 'MQTT 3.1.1 sends a password only with a user name: set username too');
    }
    const persist = options.outbox?.persist;
    if (persist && !options.storage) throw new MqttClientError('invalid-argument', 'outbox.persist needs a storage port');
    this.#outbox = new Outbox(options.outbox, options.storage);
    for (const m of this.#outbox.restore((key) => this.#error(new MqttClientError('dropped', `stored message ${key} was corrupt and is deleted`)))) {
      if (m.state && m.id) {
        this.#inflight.set(m.id, m);
        this.#nextId = Math.max(this.#nextId, m.id + 1) & 0xffff || 1;
      } else this.#outbox.queue.push(m);
    }
    const stored = persist ? options.storage!.get(INBOUND_KEY) : undefined;
    if (typeof stored === 'string' && stored) for (const id of stored.split(',')) this.#inbound.add(+id);
  }

  /** Messages held (queued + inflight), their bytes, and drops per QoS. */
  get outboxState(): { depth: number; bytes: number; inflight: number; dropped: number[] } {
    return { depth: this.#outbox.count, bytes: this.#outbox.bytes, inflight: this.#inflight.size, dropped: this.#outbox.dropped.slice() };
  }

  connect(): void {
    this.#wanted = true;
    if (!this.#socket && this.#timers[2] === undefined) this.#open();
  }

  /**
   * Queues a message. It goes out at once when connected and the inflight window allows; otherwise it
   * waits in the outbox. `done` is called when the broker acknowledged it (QoS 1/2), when it was
   * written (QoS 0), or with an error when it was dropped. Returns false when it was refused outright.
   */
  publish(topic: string, payload: string | Uint8Array, options?: { qos?: QoS; retain?: boolean }, done?: DoneCallback): boolean {
    checkTopicName(topic);
    const qos = options?.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new MqttClientError('invalid-argument', `QoS must be 0, 1 or 2, not ${qos}`);
    const bytes = typeof payload === 'string' ? encodeUtf8(payload) : payload;
    const m: OutboxMessage = { topic, payload: bytes, qos, retain: !!options?.retain, state: 0, size: topic.length + bytes.length, done };
    const dropped = this.#outbox.add(m);
    if (dropped.length) this.#reportDrops(dropped);
    this.#pump();
    return dropped[dropped.length - 1] !== m;
  }

  subscribe(
    filters: string | string[] | { filter: string; qos?: QoS }[],
    options?: { qos?: QoS; onMessage?: MessageHandler },
    done?: (error: Error | undefined, granted: number[]) => void,
  ): void {
    const list = (Array.isArray(filters) ? filters : [filters]).map((f): Subscription =>
      typeof f === 'string' ? { filter: f, qos: options?.qos ?? 0 } : { filter: f.filter, qos: f.qos ?? options?.qos ?? 0 },
    );
    if (!list.length) throw new MqttClientError('invalid-argument', 'subscribe needs at least one topic filter');
    for (const s of list) {
      checkTopicFilter(s.filter);
      if (s.qos !== 0 && s.qos !== 1 && s.qos !== 2) throw new MqttClientError('invalid-argument', `QoS must be 0, 1 or 2, not ${s.qos}`);
    }
    for (const s of list) this.#subscriptions.set(s.filter, { qos: s.qos, handler: options?.onMessage });
    this.#operation({ type: SUBSCRIBE, packetId: this.#allocateId(), subscriptions: list }, done);
  }

  unsubscribe(filters: string | string[], done?: (error?: Error) => void): void {
    const list = Array.isArray(filters) ? filters : [filters];
    if (!list.length) throw new MqttClientError('invalid-argument', 'unsubscribe needs at least one topic filter');
    for (const f of list) {
      checkTopicFilter(f);
      this.#subscriptions.delete(f);
    }
    this.#operation({ type: UNSUBSCRIBE, packetId: this.#allocateId(), filters: list }, done && ((e) => done(e)));
  }

  /**
   * Graceful stop: sends DISCONNECT (so the broker discards the will) and closes. No reconnect follows.
   * Unacknowledged messages stay in the outbox (and in storage when persisted).
   */
  end(): void {
    this.#wanted = false;
    this.#clearTimer(2);
    const socket = this.#socket;
    if (socket && this.connected) this.#send(encodeEmpty(DISCONNECT));
    this.#drop(undefined);
  }

  /** Abrupt stop, as on power loss: no DISCONNECT, so the broker publishes the will. */
  destroy(): void {
    this.#wanted = false;
    this.#clearTimer(2);
    this.#drop(undefined);
  }

  // ---- connection ---------------------------------------------------------------------------

  #open(): void {
    const o = this.#o;
    this.#parser = new PacketParser({ maxPacketSize: o.maxPacketSize ?? 65536 });
    let opened = false;
    const socket: TcpSocket = o.network.connect({
      host: o.host,
      port: o.port ?? (o.tls ? 8883 : 1883),
      tls: o.tls,
      onWritable: () => {
        if (opened || socket !== this.#socket) return;
        opened = true;
        this.#sendConnect();
      },
      onReadable: () => this.#receive(socket),
      onError: (error) => {
        if (socket === this.#socket) this.#drop(new MqttClientError('connection', `connection to ${o.host}: ${error.message}`));
      },
    });
    this.#socket = socket;
    this.#setTimer(0, () => this.#drop(new MqttClientError('timeout', `no CONNACK from ${o.host} within ${this.#connectTimeout / 1000} s`)), this.#connectTimeout);
  }

  get #connectTimeout(): number {
    return this.#o.connectTimeout ?? 15000;
  }

  #sendConnect(): void {
    const o = this.#o;
    let password: Uint8Array | undefined;
    try {
      const p = typeof o.password === 'function' ? o.password() : o.password;
      password = typeof p === 'string' ? encodeUtf8(p) : p;
    } catch (error) {
      return this.#drop(new MqttClientError('invalid-argument', `the password provider failed: ${(error as Error).message}`));
    }
    const will = o.will;
    let packet: Uint8Array;
    try {
      packet = encodeConnect({
        type: CONNECT,
        clientId: o.clientId,
        cleanSession: o.cleanSession ?? true,
        keepAlive: this.#keepAliveMs / 1000,
        username: o.username,
        password,
        will: will && {
          topic: will.topic,
          payload: typeof will.payload === 'string' ? encodeUtf8(will.payload) : will.payload,
          qos: will.qos ?? 0,
          retain: !!will.retain,
        },
      });
    } catch (error) {
      return this.#drop(error as Error);
    }
    this.#send(packet);
  }

  #onConnack(sessionPresent: boolean, returnCode: number): void {
    this.#clearTimer(0);
    if (returnCode) return this.#drop(new MqttConnectError(returnCode));
    this.connected = true;
    this.stats.connects++;
    if (this.#everConnected) this.stats.reconnects++;
    this.#everConnected = true;
    const stableAfter = (this.#o.reconnect || undefined)?.stableAfter ?? 20000;
    this.#setTimer(3, () => (this.#attempt = 0), stableAfter);
    if (this.#keepAliveMs) this.#setTimer(1, () => this.#keepAlive(), Math.max(100, this.#keepAliveMs / 4), Math.max(100, this.#keepAliveMs / 4));

    if (!sessionPresent) {
      // The broker has no state for us: inbound QoS 2 guards are void; messages it already took over
      // with PUBREC are delivered; everything else is sent again as new.
      this.#inbound.clear();
      this.#saveInbound();
      for (const m of this.#inflight.values()) {
        if (m.state === 2) this.#complete(m, false);
        else m.sent = false;
      }
      const resubscribe: Subscription[] = [];
      const pending = new Set<string>();
      for (const op of this.#operations.values()) if (op.packet.type === SUBSCRIBE) for (const s of op.packet.subscriptions) pending.add(s.filter);
      for (const [filter, s] of this.#subscriptions) if (!pending.has(filter)) resubscribe.push({ filter, qos: s.qos });
      if (resubscribe.length) this.#operation({ type: SUBSCRIBE, packetId: this.#allocateId(), subscriptions: resubscribe });
    }
    // Resend in the original order: unacknowledged PUBLISH (with DUP when sent before) and PUBREL.
    for (const m of this.#inflight.values()) this.#transmit(m);
    for (const op of this.#operations.values()) this.#send(encodeOperation(op.packet));
    this.#o.onConnect?.({ sessionPresent });
    this.#pump();
  }

  #keepAlive(): void {
    const now = this.#clock.now();
    if (this.#pingSent) {
      const timeout = this.#o.pingTimeout ?? this.#keepAliveMs / 2;
      if (now - this.#pingSent >= timeout) {
        this.#drop(new MqttClientError('timeout', `no answer to PINGREQ within ${timeout / 1000} s: the connection is dead`));
      }
    } else if (now - Math.min(this.#lastSend, this.#lastReceive) >= (this.#keepAliveMs * 3) / 4) {
      this.#send(encodeEmpty(PINGREQ));
      this.#pingSent = now;
    }
  }

  /** Ends the current connection (if any) and schedules a reconnect when still wanted. */
  #drop(error: Error | undefined): void {
    const socket = this.#socket;
    const wasConnected = this.connected;
    this.#socket = undefined;
    this.#parser = undefined;
    this.connected = false;
    this.#pingSent = 0;
    this.#clearTimer(0);
    this.#clearTimer(1);
    this.#clearTimer(3);
    if (socket) {
      try {
        socket.close();
      } catch {
        // already closed by the peer
      }
    }
    if (error) this.#error(error);
    if (wasConnected) this.#o.onDisconnect?.(error);
    if (this.#wanted && this.#o.reconnect !== false && this.#timers[2] === undefined) {
      const r = this.#o.reconnect || {};
      const ceiling = Math.min(r.maxDelay ?? 60000, (r.minDelay ?? 1000) * 2 ** Math.min(this.#attempt++, 30));
      const delay = Math.floor((this.#o.system?.random() ?? Math.random()) * ceiling);
      this.#setTimer(2, () => {
        this.#timers[2] = undefined;
        if (this.#wanted && !this.#socket) this.#open();
      }, delay);
    }
  }

  #error(error: Error): void {
    this.#o.log?.log('warn', `mqtt: ${error.message}`);
    this.#o.onError?.(error);
  }

  // ---- receiving ------------------------------------------------------------------------------

  #receive(socket: TcpSocket): void {
    if (socket !== this.#socket) return;
    const bytes = socket.read();
    const parser = this.#parser;
    if (!bytes || !parser) return;
    this.#lastReceive = this.#clock.now();
    parser.push(bytes);
    try {
      for (let p = parser.next(); p; p = this.#socket === socket ? parser.next() : undefined) this.#handle(p);
    } catch (error) {
      if (!(error instanceof MqttProtocolError)) throw error;
      this.stats.protocolErrors++;
      this.#drop(error);
    }
  }

  #handle(p: Packet): void {
    switch (p.type) {
      case PUBLISH: {
        const id = p.packetId!;
        if (p.qos === 2) {
          if (this.#inbound.has(id)) this.stats.inboundDuplicates++;
          else {
            this.#inbound.add(id);
            this.#saveInbound();
            this.#deliver(p.topic, p.payload, p);
          }
          this.#send(encodeAck(PUBREC, id));
          return;
        }
        this.#deliver(p.topic, p.payload, p);
        if (p.qos === 1) this.#send(encodeAck(PUBACK, id));
        return;
      }
      case PUBACK:
      case PUBCOMP: {
        const m = this.#inflight.get(p.packetId);
        if (m && m.qos === (p.type === PUBACK ? 1 : 2)) this.#complete(m);
        return;
      }
      case PUBREC: {
        const m = this.#inflight.get(p.packetId);
        if (m && m.qos === 2 && m.state === 1) {
          m.state = 2;
          this.#outbox.save(m);
        }
        this.#send(encodeAck(PUBREL, p.packetId));
        return;
      }
      case PUBREL:
        if (this.#inbound.delete(p.packetId)) this.#saveInbound();
        this.#send(encodeAck(PUBCOMP, p.packetId));
        return;
      case SUBACK:
      case UNSUBACK: {
        const op = this.#operations.get(p.packetId);
        if (!op) return;
        this.#operations.delete(p.packetId);
        let error: Error | undefined;
        const granted = p.type === SUBACK ? p.granted : [];
        if (op.packet.type === SUBSCRIBE) {
          const refused = op.packet.subscriptions.filter((_s, i) => granted[i] === 0x80).map((s) => s.filter);
          if (refused.length) {
            error = new MqttClientError('subscribe-failed', `the broker refused the subscription to ${refused.join(', ')} (0x80)`);
            for (const f of refused) this.#subscriptions.delete(f);
            if (!op.done) this.#error(error);
          }
        }
        op.done?.(error, granted);
        return;
      }
      case PINGRESP:
        this.#pingSent = 0;
        return;
      case CONNACK:
        if (!this.connected) return this.#onConnack(p.sessionPresent, p.returnCode);
    }
    throw new MqttProtocolError('malformed', `unexpected packet of type ${p.type} from the broker`);
  }

  #deliver(topic: string, payload: Uint8Array, info: MessageInfo): void {
    let handled = false;
    for (const [filter, s] of this.#subscriptions) {
      if (s.handler && topicMatches(filter, topic)) {
        handled = true;
        s.handler(topic, payload, { qos: info.qos, retain: info.retain, dup: info.dup });
      }
    }
    if (!handled) this.#o.onMessage?.(topic, payload, { qos: info.qos, retain: info.retain, dup: info.dup });
  }

  #saveInbound(): void {
    if (this.#o.outbox?.persist) this.#o.storage!.set(INBOUND_KEY, Array.from(this.#inbound).join(','));
  }

  // ---- sending --------------------------------------------------------------------------------

  #send(bytes: Uint8Array): void {
    // the app may have ended the connection from inside a callback
    if (!this.#socket) return;
    this.#socket.write(bytes);
    this.#lastSend = this.#clock.now();
  }

  /** Moves queued messages onto the wire while connected and the inflight window allows. */
  #pump(): void {
    const queue = this.#outbox.queue;
    const window = this.#o.inflightWindow ?? 16;
    while (this.connected && queue.length) {
      const m = queue[0];
      if (m.qos) {
        if (this.#inflight.size >= window) return;
        m.id = this.#allocateId();
        m.state = 1;
        this.#inflight.set(m.id, m);
        this.#outbox.save(m);
      }
      queue.shift();
      this.#transmit(m);
      if (!m.qos) {
        this.#outbox.release(m);
        m.done?.();
      }
    }
  }

  #transmit(m: OutboxMessage): void {
    if (m.state === 2) return this.#send(encodeAck(PUBREL, m.id!));
    let topic = this.#topicCache.get(m.topic);
    if (!topic) {
      if (this.#topicCache.size >= 16) this.#topicCache.clear();
      this.#topicCache.set(m.topic, (topic = encodeUtf8(m.topic)));
    }
    this.#send(encodePublish({ type: PUBLISH, topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup: !!m.sent, packetId: m.id }, topic));
    m.sent = m.qos > 0;
  }

  #complete(m: OutboxMessage, next = true): void {
    this.#inflight.delete(m.id!);
    this.#outbox.release(m);
    m.done?.();
    if (next) this.#pump();
  }

  #operation(packet: SubscribePacket | UnsubscribePacket, done?: PendingOperation['done']): void {
    this.#operations.set(packet.packetId, { packet, done });
    if (this.connected) this.#send(encodeOperation(packet));
  }

  #reportDrops(dropped: OutboxMessage[]): void {
    const max = this.#outbox.maxBytes;
    for (const m of dropped) {
      const why = m.size > max ? `it is larger than the outbox (${max} bytes)` : 'the outbox is full';
      m.done?.(new MqttClientError('dropped', `message to ${m.topic} dropped: ${why}`));
    }
    this.#o.onDrop?.(dropped.map((m) => ({ topic: m.topic, qos: m.qos, bytes: m.size, reason: m.size > max ? 'too-large' : 'outbox-full' })));
  }

  /** A packet id not used by any message or operation in flight. */
  #allocateId(): number {
    for (let i = 0; i < 65535; i++) {
      const id = this.#nextId;
      this.#nextId = id === 65535 ? 1 : id + 1;
      if (!this.#inflight.has(id) && !this.#operations.has(id)) return id;
    }
    throw new MqttClientError('invalid-argument', 'all 65535 packet ids are in use');
  }

  // timers: 0 connect timeout, 1 keep-alive, 2 reconnect, 3 backoff reset
  #setTimer(slot: number, fn: () => void, ms: number, repeat?: number): void {
    this.#clearTimer(slot);
    this.#timers[slot] = this.#clock.set(fn, ms, repeat);
  }

  #clearTimer(slot: number): void {
    const t = this.#timers[slot];
    if (t !== undefined) {
      this.#clock.clear(t);
      this.#timers[slot] = undefined;
    }
  }
}
