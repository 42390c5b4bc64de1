// MQTT 3.1.1 client over the TCP port: QoS 0/1/2 both ways, keep-alive with dead-link detection,
// persistent sessions, reconnect with capped exponential backoff and full jitter, bounded outbox.
// MQTT 5 when given `protocol: mqtt5()` (src/mqtt/v5/protocol.ts); without it, no MQTT 5 code is
// bundled, and the 3.1.1 paths below pay one field test at most.
//
// Costs: publishing to a topic seen before takes no validation or encoding of the topic (a small cache
// per client); a publish that can go out at once allocates only its packet; inbound packets are
// decoded in place, without packet objects.
import type { Clock, KeyValueStore, Logger, Network, System, TcpSocket, TimerId, TlsOptions } from '../ports';
import { encodeAck, encodeConnect, encodeEmpty, encodeSubscribe, encodeUnsubscribe, lengthPrefixed, PASSWORD_NEEDS_USER, publishPacket } from './codec';
import { invalid, MqttClientError, MqttConnectError, MqttMessageTooLargeError, MqttProtocolError } from './errors';
import { OversizedPublish, SKIPPED, TOPIC_DROPPED } from './oversized';
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
  type QoS,
} from './packets';
import { exact, fail, NAMES, PacketFramer, readConnack, readGranted, readId, readTopic } from './parser';
import { checkTopicFilter, checkTopicName, topicMatches } from './topic';
import { encodeUtf8 } from './utf8';
import type { Properties, PublishProperties, UserProperties, WillProperties } from './v5/properties';
import type { DisconnectOptions, Mqtt5Protocol, SubscribeOptions5 } from './v5/protocol';
import type { Subscription5 } from './v5/packets';

export interface MessageInfo {
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** MQTT 5: the message's properties (response topic, correlation data, user properties, ...). */
  properties?: Properties;
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  /** Goes ahead of messages waiting in the outbox (not of inflight ones): e.g. a birth after reconnect. */
  first?: boolean;
  /** MQTT 5 only. */
  properties?: PublishProperties;
}

/** subscribe() options; all but qos and onMessage are MQTT 5 only. */
export interface SubscribeOptions extends SubscribeOptions5 {
  qos?: QoS;
  onMessage?: MessageHandler;
  /** Sent in SUBSCRIBE; the server adds it to every message this subscription delivers. */
  subscriptionIdentifier?: number;
  userProperties?: UserProperties;
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
  will?: { topic: string; payload: string | Uint8Array; qos?: QoS; retain?: boolean; /** MQTT 5 only. */ properties?: WillProperties };
  /** Largest inbound packet accepted. Default 64 KB. */
  maxPacketSize?: number;
  /** Most QoS 1/2 publishes awaiting acknowledgement at once. Default 16. */
  inflightWindow?: number;
  outbox?: OutboxLimits;
  /** false disables automatic reconnects. */
  reconnect?: ReconnectOptions | false;
  /** Ms for the TCP/TLS connection and CONNACK. Default 15000. */
  connectTimeout?: number;
  /** MQTT 5: `mqtt5({...})` from src/mqtt/v5/protocol.ts. Without it the client speaks MQTT 3.1.1. */
  protocol?: Mqtt5Protocol;
  /**
   * Called after every successful connect: ms until the client reconnects (with a fresh password
   * from the `password` function), e.g. `() => renewalDelay(provider, wallSeconds(clock))` for a
   * token that expires. 0 or less: no planned reconnect.
   */
  tokenRefresh?(): number;
  /** `properties`: MQTT 5 CONNACK properties (the server's limits, assigned client id, ...). */
  onConnect?(info: { sessionPresent: boolean; properties?: Properties }): void;
  onDisconnect?(error?: Error): void;
  /** Messages that no subscription handler took. */
  onMessage?: MessageHandler;
  onError?(error: Error): void;
  onDrop?(dropped: Dropped[]): void;
  /** A persisted outbox record (or the QoS 2 guard) was unreadable at start-up and deleted. */
  onCorruptRecord?(key: string): void;
}

export interface LocalSubscription {
  qos: QoS;
  handler?: MessageHandler;
  /** The filter, its QoS and (MQTT 5) options; the subscription identifier it was made with. */
  options: Subscription5;
  sid?: number;
}

interface PendingOperation {
  /** The topic filters: to find refused ones, and (SUBSCRIBE) to avoid subscribing twice. */
  filters: string[];
  /** The encoded packet (SUBSCRIBE or UNSUBSCRIBE), sent again after a reconnect. */
  bytes: Uint8Array;
  done?: (error: Error | undefined, granted: number[]) => void;
}

/** Distinct topics whose encoded form is kept per client. */
const TOPIC_CACHE = 16;

/** MQTT 3.1.1 refuses the MQTT 5 options: any key of `o` not in `keys` (space-separated). */
function only4(o: object, keys: string) {
  for (const k in o) {
    if ((o as Record<string, unknown>)[k] !== undefined && keys.split(' ').indexOf(k) < 0) invalid(`${k} needs MQTT 5 (protocol: mqtt5())`);
  }
}

function checkQos(qos: unknown): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) invalid(`QoS must be 0, 1 or 2, not ${qos}`);
}

export class MqttClient {
  readonly #o: ClientOptions;
  readonly #clock: Clock;
  #keepAliveMs: number;
  #window: number;
  readonly #outbox: Outbox;
  readonly #inflight = new Map<number, OutboxMessage>();
  readonly #operations = new Map<number, PendingOperation>();
  readonly #subscriptions = new Map<string, LocalSubscription>();
  /** QoS 2 packet ids received and acknowledged with PUBREC, awaiting PUBREL: the exactly-once guard. */
  readonly #inbound: Set<number>;
  /** topic -> its length-prefixed UTF-8 form, checked once */
  readonly #topics = new Map<string, Uint8Array>();
  #socket: TcpSocket | undefined;
  /** MQTT 5, when the client was given `protocol: mqtt5()`. */
  readonly #v5: Mqtt5Protocol | undefined;
  #timers: (TimerId | undefined)[] = [];
  #nextId = 1;
  #attempt = 0;
  // Keep-alive bookkeeping without reading the clock per packet: traffic marks, and the keep-alive
  // ticks (every keepAlive / 4) each direction has been idle for.
  #sent = false;
  #received = false;
  #idleOut = 0;
  #idleIn = 0;
  #pingSent = 0;
  #wanted = false;
  connected = false;
  /** inboundTooLarge: messages over maxPacketSize, read through and acknowledged but not delivered. */
  readonly stats = { connects: 0, reconnects: 0, inboundDuplicates: 0, protocolErrors: 0, inboundTooLarge: 0 };
  /** The current connection's framer. */
  #framer: PacketFramer | undefined;

  constructor(options: ClientOptions) {
    this.#o = options;
    this.#clock = options.clock;
    this.#keepAliveMs = (options.keepAlive ?? 60) * 1000;
    this.#window = options.inflightWindow ?? 16;
    const v5 = (this.#v5 = options.protocol);
    if (v5) {
      v5.attach({
        send: (bytes) => this.#send(bytes),
        drop: (error) => this.#drop(error),
        handle: (first, b, s, e) => this.#handle(first, b, s, e),
        pump: () => this.#pump(),
        inflight: this.#inflight,
        subscriptions: this.#subscriptions,
        options,
        stats: this.stats,
      });
    } else {
      // MQTT 5 lets the server assign a client id, and sends a password without a user name
      if (!options.clientId && options.cleanSession === false) invalid('cleanSession: false needs a client id');
      if (options.password !== undefined && options.username === undefined) invalid(PASSWORD_NEEDS_USER);
      if (options.will) only4(options.will, 'topic payload qos retain');
    }
    const limits = options.outbox;
    if (limits && limits.persist && !options.storage) invalid('outbox.persist needs a storage port');
    // MQTT 5 publishes take the queue's path (room stays -1): the fast path below is MQTT 3.1.1's
    const box = (this.#outbox = new Outbox(limits, options.storage, !v5));
    const corrupt = (key: string) => {
      if (options.onCorruptRecord) options.onCorruptRecord(key);
      this.#error(new MqttClientError('dropped', `stored message ${key} was corrupt: deleted`));
    };
    for (const m of box.restore(corrupt)) {
      if (m.state && m.id) {
        this.#inflight.set(m.id, m);
        this.#nextId = Math.max(this.#nextId, m.id + 1) & 0xffff || 1;
      }
    }
    this.#inbound = new Set(box.restoreInbound(corrupt));
    if (v5) v5.use(box, this.#inbound);
  }

  /** Messages held (queued + inflight), their bytes, and drops per QoS. */
  get outboxState(): { depth: number; bytes: number; inflight: number; dropped: number[] } {
    const box = this.#outbox;
    return { depth: box.count, bytes: box.bytes, inflight: this.#inflight.size, dropped: box.dropped.slice() };
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
  publish(topic: string, payload: string | Uint8Array, options?: PublishOptions, done?: DoneCallback): boolean {
    // The conversions to UTF-8 (engine calls, the deepest part) run in this small frame; #publish (a
    // tail call: this frame is gone by then) builds and sends. An ESP8266 has 256 stack slots.
    const t = this.#topics.get(topic) || this.#topic(topic);
    const bytes = typeof payload === 'string' ? encodeUtf8(payload) : payload;
    return this.#publish(topic, t, bytes, options, done);
  }

  #publish(topic: string, t: Uint8Array, bytes: Uint8Array, options: PublishOptions | undefined, done: DoneCallback | undefined): boolean {
    let qos: QoS = 0;
    let retain = 0;
    let props: Uint8Array | undefined;
    if (options) {
      qos = options.qos || 0;
      retain = options.retain ? 1 : 0;
      if (qos && qos !== 1 && qos !== 2) checkQos(qos);
      if (options.properties) {
        if (!this.#v5) only4(options, 'qos retain');
        props = this.#v5!.publishProperties(options.properties);
      }
    }
    // the topic's, the payload's (and MQTT 5 properties') bytes, as the outbox counts them
    let size = t.length - 2 + bytes.length;
    const box = this.#outbox;
    // Connected, nothing waiting, room to spare: this one goes now.
    if (this.connected && size <= box.room) {
      if (!qos) {
        const n = size + 2;
        let out: Uint8Array;
        if (n < 128) {
          // publishPacket() inlined for the most common packet
          out = new Uint8Array(n + 2);
          out[0] = 48 | retain;
          out[1] = n;
          out.set(t, 2);
          out.set(bytes, t.length + 2);
        } else out = publishPacket(retain, t, bytes, 0);
        this.#socket!.write(out);
        this.#sent = true;
        if (done) done();
        return true;
      }
      const inflight = this.#inflight;
      if (inflight.size < this.#window) {
        let id = this.#nextId;
        if (inflight.has(id) || this.#operations.has(id)) id = this.#allocateId();
        else this.#nextId = id < 65535 ? id + 1 : 1;
        const m: OutboxMessage = { topic, payload: bytes, qos, retain: !!retain, id, state: 1, sent: true, size, done };
        box.hold(m);
        inflight.set(id, m);
        if (box.persist) box.save(m);
        const n = size + 4;
        let out: Uint8Array;
        if (n < 128) {
          out = new Uint8Array(n + 2);
          out[0] = 48 | (qos << 1) | retain;
          out[1] = n;
          out.set(t, 2);
          out[n - bytes.length] = id >> 8;
          out[n - bytes.length + 1] = id & 255;
          out.set(bytes, n + 2 - bytes.length);
        } else out = publishPacket((qos << 1) | retain, t, bytes, id);
        this.#socket!.write(out);
        this.#sent = true;
        return true;
      }
    }
    if (props) size += props.length;
    const m: OutboxMessage = { topic, payload: bytes, qos, retain: !!retain, state: 0, size, done };
    if (props) m.props = props;
    const dropped = box.add(m, options?.first);
    if (dropped.length) this.#reportDrops(dropped);
    this.#pump();
    return dropped[dropped.length - 1] !== m;
  }

  /**
   * Subscribes to filters (each a string, or an object with its own QoS and, with MQTT 5, options).
   * `done` gets the granted QoS per filter (MQTT 5: the reason code), and an error naming refused ones.
   */
  subscribe(
    filters: string | string[] | (SubscribeOptions5 & { filter: string; qos?: QoS })[],
    options?: SubscribeOptions,
    done?: (error: Error | undefined, granted: number[]) => void,
  ): void {
    const o = options || {};
    const qos = o.qos || 0;
    const v5 = this.#v5;
    const list = (Array.isArray(filters) ? filters : [filters]).map((f): Subscription5 => (typeof f === 'string' ? { filter: f, qos } : { ...f, qos: f.qos ?? qos }));
    if (!list.length) invalid('no topic filter given');
    for (const s of list) {
      checkTopicFilter(s.filter);
      checkQos(s.qos);
      if (!v5) only4(s, 'filter qos');
    }
    if (!v5) only4(o, 'qos onMessage');
    const id = this.#allocateId();
    // MQTT 5 fills in each filter's options from `o`
    const bytes = v5 ? v5.subscribe(id, list, o) : encodeSubscribe({ type: SUBSCRIBE, packetId: id, subscriptions: list });
    for (const s of list) this.#subscriptions.set(s.filter, { qos: s.qos, handler: o.onMessage, options: s, sid: o.subscriptionIdentifier });
    this.#operation(id, { filters: list.map((s) => s.filter), bytes, done });
  }

  unsubscribe(filters: string | string[], done?: (error?: Error) => void): void {
    const list = Array.isArray(filters) ? filters : [filters];
    if (!list.length) invalid('no topic filter given');
    list.forEach(checkTopicFilter);
    const id = this.#allocateId();
    const v5 = this.#v5;
    const bytes = v5 ? v5.unsubscribe(id, list) : encodeUnsubscribe({ type: UNSUBSCRIBE, packetId: id, filters: list });
    for (const f of list) this.#subscriptions.delete(f);
    this.#operation(id, { filters: list, bytes, done: done && ((e) => done(e)) });
  }

  /**
   * Graceful stop: sends DISCONNECT (so the broker discards the will) and closes. No reconnect follows.
   * Unacknowledged messages stay in the outbox (and in storage when persisted). MQTT 5: `options` give
   * a reason code (0x04 asks the broker to publish the will), a new session expiry, a reason string.
   */
  end(options?: DisconnectOptions): void {
    const v5 = this.#v5;
    if (options && !v5) only4(options, '');
    const bytes = v5 ? v5.disconnect(options) : encodeEmpty(DISCONNECT);
    if (this.connected) this.#send(bytes);
    this.destroy();
  }

  /**
   * Ends the connection cleanly (DISCONNECT: no will) and connects again at once, with a fresh
   * password from the `password` function: for tokens that expire (see tokenRefresh).
   */
  reconnect(): void {
    this.end();
    this.connect();
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
    const v5 = this.#v5;
    // a PUBLISH over maxPacketSize is read through and reported (#oversized), not a reason to disconnect
    const parser = (this.#framer = new PacketFramer(o.maxPacketSize ?? 65536, !!v5, v5 ? v5.readThrough : OversizedPublish));
    // Plain functions on `self`: the socket calls them per read, and XS charges arrow functions more.
    const self = this;
    let opened = false;
    const socket: TcpSocket = o.network.connect({
      host: o.host,
      port: o.port ?? (o.tls ? 8883 : 1883),
      tls: o.tls,
      onWritable() {
        if (opened || socket !== self.#socket) return;
        opened = true;
        self.#sendConnect();
      },
      onReadable() {
        if (socket !== self.#socket) return;
        const bytes = socket.read();
        if (!bytes) return;
        self.#received = true;
        try {
          for (let b = parser.nextBody(bytes); b; b = parser.more && socket === self.#socket ? parser.nextBody() : undefined) {
            if (v5) v5.handle(parser.first, b, parser.start, parser.end);
            else self.#handle(parser.first, b, parser.start, parser.end);
          }
        } catch (error) {
          if (!(error instanceof MqttProtocolError)) throw error;
          self.stats.protocolErrors++;
          // MQTT 5 tells the server which rule it broke
          if (v5) self.#send(v5.protocolError(error));
          self.#drop(error);
        }
      },
      onError(error) {
        if (socket === self.#socket) self.#drop(new MqttClientError('connection', `connection to ${o.host}: ${error.message}`, error));
      },
    });
    this.#socket = socket;
    const timeout = o.connectTimeout ?? 15000;
    this.#setTimer(0, () => this.#drop(new MqttClientError('timeout', `no CONNACK from ${o.host} within ${timeout / 1000} s`)), timeout);
  }

  #sendConnect(): void {
    const o = this.#o;
    const will = o.will;
    let packet: Uint8Array;
    try {
      let password: string | Uint8Array | undefined;
      try {
        password = typeof o.password === 'function' ? o.password() : o.password;
      } catch (error) {
        invalid(`password provider failed: ${(error as Error).message}`);
      }
      const fields = {
        type: CONNECT,
        clientId: o.clientId,
        cleanSession: o.cleanSession ?? true,
        keepAlive: o.keepAlive ?? 60,
        username: o.username,
        password: typeof password === 'string' ? encodeUtf8(password) : password,
        will: will && {
          topic: will.topic,
          payload: typeof will.payload === 'string' ? encodeUtf8(will.payload) : will.payload,
          qos: will.qos ?? 0,
          retain: !!will.retain,
        },
      } as const;
      const v5 = this.#v5;
      packet = v5 ? v5.connect(fields) : encodeConnect(fields);
    } catch (error) {
      return this.#drop(error as Error);
    }
    this.#send(packet);
  }

  #onConnack(sessionPresent: boolean, returnCode: number): void {
    this.#clearTimer(0);
    if (returnCode) return this.#drop(new MqttConnectError(returnCode));
    // The session's state is restored in #resume, whose large frame is gone before onConnect runs.
    this.#resume(sessionPresent);
    const o = this.#o;
    if (o.onConnect) o.onConnect({ sessionPresent, properties: this.#v5 && this.#v5.connack });
    this.#pump();
  }

  /** The connection was accepted: timers, session state, and what must be sent again. */
  #resume(sessionPresent: boolean): void {
    const stats = this.stats;
    const o = this.#o;
    const v5 = this.#v5;
    this.connected = true;
    if (stats.connects++) stats.reconnects++;
    if (v5) {
      // the server's limits for this connection
      this.#window = Math.min(o.inflightWindow ?? 16, v5.receiveMaximum);
      this.#keepAliveMs = (v5.serverKeepAlive ?? o.keepAlive ?? 60) * 1000;
    }
    const keepAlive = this.#keepAliveMs;
    this.#setTimer(3, () => (this.#attempt = 0), (this.#o.reconnect || {}).stableAfter ?? 20000);
    // the CONNACK just received counts as the last traffic both ways
    this.#idleOut = this.#idleIn = 0;
    this.#sent = this.#received = false;
    if (keepAlive) this.#setTimer(1, () => this.#keepAlive(), Math.max(100, keepAlive / 4), Math.max(100, keepAlive / 4));

    if (!sessionPresent) {
      // The broker has no state for us: inbound QoS 2 guards are void; messages it already took over
      // with PUBREC are delivered; everything else is sent again as new.
      this.#inbound.clear();
      this.#outbox.saveInbound(this.#inbound);
      for (const m of this.#inflight.values()) {
        if (m.state === 2) this.#complete(m);
        else m.sent = false;
      }
      const pending = new Set<string>();
      for (const op of this.#operations.values()) if (op.bytes[0] >> 4 === SUBSCRIBE) op.filters.forEach((f) => pending.add(f));
      // one SUBSCRIBE per subscription identifier (MQTT 5 carries one per packet; 3.1.1 has none)
      const groups = new Map<number | undefined, Subscription5[]>();
      for (const [filter, s] of this.#subscriptions) if (!pending.has(filter)) (groups.get(s.sid) || groups.set(s.sid, []).get(s.sid)!).push(s.options);
      for (const [sid, again] of groups) {
        const id = this.#allocateId();
        const bytes = v5 ? v5.subscribe(id, again, { subscriptionIdentifier: sid }) : encodeSubscribe({ type: SUBSCRIBE, packetId: id, subscriptions: again });
        this.#operations.set(id, { filters: again.map((x) => x.filter), bytes });
      }
    }
    // Resend in the original order: unacknowledged PUBLISH (with DUP when sent before) and PUBREL.
    // MQTT 5 first queues again what is over the server's receive maximum.
    if (v5) v5.trim(this.#window);
    for (const m of this.#inflight.values()) this.#transmit(m);
    for (const op of this.#operations.values()) this.#send(op.bytes);
    const refresh = o.tokenRefresh;
    if (refresh) {
      try {
        const ms = refresh();
        if (ms > 0) this.#setTimer(4, () => this.reconnect(), ms);
      } catch (error) {
        this.#error(error as Error);
      }
    }
  }

  /**
   * Every keepAlive / 4: a PINGREQ once either direction has been idle for 3/4 of keepAlive (counted in
   * whole ticks, so a packet never reads the clock); the link is dead when no PINGRESP follows within
   * pingTimeout.
   */
  #keepAlive(): void {
    const now = this.#clock.now();
    const keepAlive = this.#keepAliveMs;
    this.#idleOut = this.#sent ? 0 : this.#idleOut + 1;
    this.#idleIn = this.#received ? 0 : this.#idleIn + 1;
    this.#sent = this.#received = false;
    if (this.#pingSent) {
      const timeout = this.#o.pingTimeout ?? keepAlive / 2;
      if (now - this.#pingSent >= timeout) {
        this.#drop(new MqttClientError('timeout', `no answer to PINGREQ within ${timeout / 1000} s`));
      }
    } else if (Math.max(this.#idleOut, this.#idleIn) * Math.max(100, keepAlive / 4) >= (keepAlive * 3) / 4) {
      this.#send(encodeEmpty(PINGREQ));
      this.#pingSent = now;
      this.#sent = false;
      this.#idleOut = 0;
    }
  }

  /** Ends the current connection (if any) and schedules a reconnect when still wanted. */
  #drop(error: Error | undefined): void {
    const socket = this.#socket;
    const o = this.#o;
    const wasConnected = this.connected;
    this.#socket = undefined;
    this.connected = false;
    this.#pingSent = 0;
    this.#clearTimer(0);
    this.#clearTimer(1);
    this.#clearTimer(3);
    this.#clearTimer(4);
    if (socket) {
      try {
        socket.close();
      } catch {
        // already closed by the peer
      }
    }
    if (error) this.#error(error);
    if (wasConnected && o.onDisconnect) o.onDisconnect(error);
    const r = o.reconnect;
    if (this.#wanted && r !== false && this.#timers[2] === undefined) {
      const { minDelay = 1000, maxDelay = 60000 } = r || {};
      const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(this.#attempt++, 30));
      this.#setTimer(
        2,
        () => {
          this.#timers[2] = undefined;
          if (this.#wanted && !this.#socket) this.#open();
        },
        Math.floor((o.system ? o.system.random() : Math.random()) * ceiling),
      );
    }
  }

  #error(error: Error): void {
    const o = this.#o;
    if (o.log) o.log.log('warn', `mqtt: ${error.message}`);
    if (o.onError) o.onError(error);
  }

  // ---- receiving (the socket's onReadable frames packets) ----------------------------------------

  /** One packet from the broker: header byte `first`, body b[s, e). */
  #handle(first: number, b: Uint8Array, s: number, e: number): void {
    const type = first >> 4;
    // a tail call: the application's handlers run below this (large) frame's caller, not below it
    if (type === PUBLISH) return this.#publishIn(first, b, s, e);
    if (type >= PUBACK && type <= PUBCOMP) {
      if (e - s !== 2) exact(type, s, e, 2);
      const id = (b[s] << 8) | b[s + 1];
      if (!id) readId(b, s, e, type);
      const m = this.#inflight.get(id);
      if (type === PUBREL) {
        if (this.#inbound.delete(id)) this.#outbox.saveInbound(this.#inbound);
        return this.#send(encodeAck(PUBCOMP, id));
      }
      if (type === PUBREC) {
        if (m && m.qos === 2 && m.state === 1) {
          m.state = 2;
          this.#outbox.save(m);
        }
        return this.#send(encodeAck(PUBREL, id));
      }
      // PUBACK completes QoS 1, PUBCOMP QoS 2
      if (m && m.qos === (type === PUBACK ? 1 : 2)) {
        // #complete() inlined: the acknowledgement of every QoS 1 publish
        const box = this.#outbox;
        this.#inflight.delete(id);
        box.release(m);
        if (m.done) m.done();
        if (box.queue.length) this.#pump();
      }
      return;
    }
    const v5 = this.#v5;
    if (type === SUBACK || type === UNSUBACK) {
      const id = readId(b, s, e, type);
      let granted: number[] = [];
      if (v5) granted = v5.codes(type, b, s, e);
      else if (type === SUBACK) granted = readGranted(b, s, e);
      else exact(type, s, e, 2);
      const op = this.#operations.get(id);
      if (!op) return;
      this.#operations.delete(id);
      let error: Error | undefined;
      const refused = op.filters.filter((_f, i) => granted[i] >= 0x80);
      if (refused.length) {
        error = v5 ? v5.refusal(type, op.filters, granted) : new MqttClientError('subscribe-failed', `the broker refused the subscription to ${refused.join(', ')} (0x80)`);
        if (type === SUBACK) for (const f of refused) this.#subscriptions.delete(f);
        if (!op.done) this.#error(error);
      }
      if (op.done) op.done(error, granted);
      return;
    }
    if (type === PINGRESP) {
      exact(type, s, e, 0);
      this.#pingSent = 0;
      return;
    }
    if (type === CONNACK) {
      // MQTT 5 drops a refused connection itself (-1)
      const v = v5 ? v5.onConnack(b, s, e) : readConnack(b, s, e);
      if (!this.connected) return v < 0 ? undefined : this.#onConnack(v > 255, v & 255);
      fail('malformed', 'a second CONNACK');
    }
    if (first & SKIPPED) return this.#oversized(first, b, s, e);
    fail('bad-packet-type', `${NAMES[type]} from a broker`);
  }

  /** A PUBLISH from the broker: delivered, then acknowledged as its QoS asks. */
  #publishIn(first: number, b: Uint8Array, s: number, e: number): void {
    const topic = readTopic(b, s, e);
    const qos = (first >> 1) & 3;
    let at = s + 2 + ((b[s] << 8) | b[s + 1]);
    const id = qos ? readId(b, at, e, PUBLISH) : 0;
    if (qos) at += 2;
    const payload = new Uint8Array(b.buffer, b.byteOffset + at, e - at);
    if (qos < 2) {
      this.#deliver(topic, payload, first);
      if (qos) this.#send(encodeAck(PUBACK, id));
      return;
    }
    const inbound = this.#inbound;
    if (inbound.has(id)) this.stats.inboundDuplicates++;
    else {
      inbound.add(id);
      this.#outbox.saveInbound(inbound);
      this.#deliver(topic, payload, first);
    }
    return this.#send(encodeAck(PUBREC, id));
  }

  /**
   * A PUBLISH over maxPacketSize, read through without its payload (b[s, e) holds its header as far as
   * it was kept): acknowledged as its QoS asks, so the broker stops sending it, counted and reported
   * with an MqttMessageTooLargeError; never delivered. QoS 2 keeps the exactly-once guard, so a
   * redelivery before PUBREL is neither reported nor answered with more than PUBREC.
   */
  #oversized(first: number, b: Uint8Array, s: number, e: number): void {
    const qos = ((first >> 1) & 3) as QoS;
    const v5 = this.#v5;
    let topic: string | undefined;
    let id = 0;
    let properties: Properties | undefined;
    if (v5) ({ topic, id, properties } = v5.oversized(first, b, s, e));
    else {
      if (!(first & TOPIC_DROPPED)) topic = readTopic(b, s, e);
      if (qos) id = readId(b, s + 2 + ((b[s] << 8) | b[s + 1]), e, PUBLISH);
    }
    if (qos === 2) {
      const inbound = this.#inbound;
      if (inbound.has(id)) {
        this.stats.inboundDuplicates++;
        return this.#send(encodeAck(PUBREC, id));
      }
      inbound.add(id);
      this.#outbox.saveInbound(inbound);
    }
    this.stats.inboundTooLarge++;
    if (qos) this.#send(encodeAck(qos === 2 ? PUBREC : PUBACK, id));
    this.#error(new MqttMessageTooLargeError(topic, this.#framer!.skipped, this.#framer!.maxPacketSize, qos, properties));
  }

  #deliver(topic: string, payload: Uint8Array, first: number): void {
    const qos = ((first >> 1) & 3) as QoS;
    const retain = (first & 1) === 1;
    const dup = (first & 8) === 8;
    let handled = false;
    if (this.#subscriptions.size) {
      // not for-of: its iterator takes ~16 more XS stack slots under every handler
      const entries = this.#subscriptions.entries();
      for (let next = entries.next(); !next.done; next = entries.next()) {
        const s = next.value[1];
        if (s.handler && topicMatches(next.value[0], topic)) {
          handled = true;
          s.handler(topic, payload, { qos, retain, dup });
        }
      }
    }
    const fallback = this.#o.onMessage;
    if (!handled && fallback) fallback(topic, payload, { qos, retain, dup });
  }

  // ---- sending --------------------------------------------------------------------------------

  #send(bytes: Uint8Array): void {
    const socket = this.#socket;
    // the app may have ended the connection from inside a callback
    if (!socket) return;
    socket.write(bytes);
    this.#sent = true;
  }

  /** The topic's length-prefixed UTF-8 form, checked and cached on first use. */
  #topic(topic: string): Uint8Array {
    let t = this.#topics.get(topic);
    if (!t) {
      checkTopicName(topic);
      t = lengthPrefixed(topic, 'topic');
      const cache = this.#topics;
      if (cache.size >= TOPIC_CACHE) cache.clear();
      cache.set(topic, t);
    }
    return t;
  }

  /** Moves queued messages onto the wire while connected and the inflight window allows. */
  #pump(): void {
    const box = this.#outbox;
    const queue = box.queue;
    while (this.connected && queue.length) {
      const m = queue[0];
      if (m.qos) {
        if (this.#inflight.size >= this.#window) return;
        m.id = this.#allocateId();
        m.state = 1;
        this.#inflight.set(m.id, m);
        box.save(m);
      }
      box.shift();
      if (this.#transmit(m) && !m.qos) {
        box.release(m);
        if (m.done) m.done();
      }
    }
  }

  /** Sends a message; false when MQTT 5 limits kept it from going (it is then done, with an error). */
  #transmit(m: OutboxMessage): boolean {
    if (m.state === 2) {
      this.#send(encodeAck(PUBREL, m.id!));
      return true;
    }
    const flags = (m.sent ? 8 : 0) | (m.qos << 1) | (m.retain ? 1 : 0);
    const v5 = this.#v5;
    const t = this.#topic(m.topic);
    const out = v5 ? v5.publish(m, flags, t) : publishPacket(flags, t, m.payload, m.id || 0);
    if (!out) return false;
    this.#send(out);
    m.sent = m.qos > 0;
    return true;
  }

  /** A QoS 2 message the broker took over before the session was lost. */
  #complete(m: OutboxMessage): void {
    this.#inflight.delete(m.id!);
    this.#outbox.release(m);
    if (m.done) m.done();
  }

  #operation(id: number, op: PendingOperation): void {
    this.#operations.set(id, op);
    if (this.connected) this.#send(op.bytes);
  }

  #reportDrops(dropped: OutboxMessage[]): void {
    const max = this.#outbox.maxBytes;
    for (const m of dropped) {
      m.done?.(new MqttClientError('dropped', `message to ${m.topic} dropped: ${m.size > max ? `over the outbox size (${max} bytes)` : 'outbox full'}`));
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
    return invalid('all 65535 packet ids are in use');
  }

  // timers: 0 connect timeout, 1 keep-alive, 2 reconnect, 3 backoff reset, 4 token refresh
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
