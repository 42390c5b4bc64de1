// The MQTT session over the TCP port, in the dialect it is given (dialect.ts): MQTT 3.1.1 by default
// (v311/dialect.ts), MQTT 5 with `protocol: mqtt5()` (v5/protocol.ts; a firmware that does not import
// it carries no MQTT 5 code). The session does what both versions share: QoS 0/1/2 both ways with
// packet ids and an inflight window, the QoS 2 exactly-once guard, keep-alive with dead-link
// detection, persistent sessions, reconnect with capped exponential backoff and full jitter, a bounded
// outbox, delivery to subscriptions.
//
// Costs: publishing to a topic seen before takes no validation or encoding of the topic (a small cache
// per client); a publish that can go out at once allocates only its packet; inbound packets are
// decoded in place, without packet objects, one call from the framer to the dialect and one from the
// dialect to the session.
import type { Clock, Logger, Network, System, TcpSocket, TimerId, TlsOptions } from '../ports';
import { lengthPrefixed } from './codec';
import type { ConnectFields, Dialect, SessionEvents } from './dialect';
import { fail, invalid, MqttClientError, MqttMessageTooLargeError, MqttProtocolError } from './errors';
import { AWAITING_ACK, AWAITING_PUBCOMP, Outbox, QUEUED, type DoneCallback, type Dropped, type OutboxLimits, type OutboxMessage } from './outbox';
import { PUBACK, PUBCOMP, PUBREC, PUBREL, SUBACK, SUBSCRIBE, type QoS } from './packets';
import type { PacketFramer } from './parser';
import type { AckInfo, DisconnectOptions, Properties, PublishProperties, SubscribeOptions5, Subscription5, UserProperties, WillProperties } from './properties';
import { checkTopicFilter, checkTopicName, topicMatches } from './topic';
import { encodeUtf8 } from './utf8';
import { Mqtt311Dialect } from './v311/dialect';

/** Shared between messages (frozen) when it has no properties: read it, keep it, do not change it. */
export interface MessageInfo {
  readonly qos: QoS;
  readonly retain: boolean;
  readonly dup: boolean;
  /** MQTT 5: the message's properties (response topic, correlation data, user properties, ...). */
  readonly properties?: Properties;
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
  /** The dialect: MQTT 5 with `mqtt5({...})` from src/mqtt/v5/protocol.ts. Without it the client speaks MQTT 3.1.1. */
  protocol?: Dialect;
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
}

/** A filter with its own QoS and (MQTT 5) options, in subscribe(). */
type FilterOptions = SubscribeOptions5 & { filter: string; qos?: QoS };

interface LocalSubscription {
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
const NO_BYTES = new Uint8Array(0);
/** MessageInfo without properties by PUBLISH header flags (DUP 8, QoS << 1, RETAIN 1): a delivery allocates none. */
const INFO: readonly MessageInfo[] = (() => {
  const out: MessageInfo[] = [];
  for (let f = 0; f < 16; f++) out.push(Object.freeze({ qos: ((f >> 1) & 3) as QoS, retain: (f & 1) === 1, dup: (f & 8) === 8 }));
  return out;
})();

// Timers, by slot.
const CONNECT_TIMEOUT = 0;
const KEEP_ALIVE = 1;
const RECONNECT = 2;
const BACKOFF_RESET = 3;
const TOKEN_REFRESH = 4;
type Timer = typeof CONNECT_TIMEOUT | typeof KEEP_ALIVE | typeof RECONNECT | typeof BACKOFF_RESET | typeof TOKEN_REFRESH;

/** One filter or several, as a list; none is an error. */
const listOf = <T>(filters: T | T[]): T[] => {
  const list = Array.isArray(filters) ? filters : [filters];
  if (!list.length) invalid('no topic filter given');
  return list;
};

/** The keep-alive timer's period, ms. */
const tickOf = (keepAlive: number): number => {
  return Math.max(100, keepAlive / 4);
};

const checkQos = (qos: unknown): void => {
  if (qos !== 0 && qos !== 1 && qos !== 2) invalid(`QoS must be 0, 1 or 2, not ${qos}`);
};

export class MqttClient {
  readonly #o: ClientOptions;
  readonly #dialect: Dialect;
  /** Set at each connect (#resume), before anything reads it: the server may lower it (MQTT 5). */
  #window!: number;
  readonly #outbox: Outbox;
  readonly #inflight = new Map<number, OutboxMessage>();
  readonly #operations = new Map<number, PendingOperation>();
  readonly #subscriptions = new Map<string, LocalSubscription>();
  /** QoS 2 packet ids received and acknowledged with PUBREC, awaiting PUBREL: the exactly-once guard. */
  readonly #inbound: Set<number>;
  /**
   * The object of the last QoS 1/2 message acknowledged (state QUEUED), kept in #inflight under its
   * packet id for the next publish to go straight into flight with: a Map entry made and deleted per
   * message is garbage on XS. Counted out of #inflight.size wherever that counts messages in flight.
   */
  #spare: OutboxMessage | undefined;
  /** topic -> its length-prefixed UTF-8 form, checked once */
  readonly #topics = new Map<string, Uint8Array>();
  #socket: TcpSocket | undefined;
  readonly #timers: (TimerId | undefined)[] = [];
  #nextId = 1;
  // (the numbers and flags below are set in the constructor, in two assignments)
  #attempt: number;
  // Keep-alive bookkeeping without reading the clock per packet: traffic marks, and the keep-alive
  // ticks (every keepAlive / 4) each direction has been idle for.
  #sent: boolean;
  #received: boolean;
  #idleOut: number;
  #idleIn: number;
  #pingSent: number;
  #wanted: boolean;
  connected: boolean;
  /** inboundTooLarge: messages over maxPacketSize, read through and acknowledged but not delivered. */
  readonly stats = { connects: 0, reconnects: 0, inboundDuplicates: 0, protocolErrors: 0, inboundTooLarge: 0 };
  /** The current connection's framer. */
  #framer: PacketFramer | undefined;

  constructor(options: ClientOptions) {
    this.#attempt = this.#idleOut = this.#idleIn = this.#pingSent = 0;
    this.#sent = this.#received = this.#wanted = this.connected = false;
    this.#o = options;
    const dialect: Dialect = (this.#dialect = options.protocol || new Mqtt311Dialect());
    dialect.attach(new MqttClient.#Events(this), options);
    const box = (this.#outbox = new Outbox(options.outbox, !dialect.outboxOnly));
    const store = box.store;
    // what an earlier run kept (outbox-store.ts): messages never sent queued, sent ones in flight
    this.#inbound = new Set(store && store.restore(box, this.#inflight));
    for (const id of this.#inflight.keys()) this.#nextId = Math.max(this.#nextId, id + 1) & 0xffff || 1;
  }

  /** Messages held (queued + inflight), their bytes, and drops per QoS. */
  get outboxState(): { depth: number; bytes: number; inflight: number; dropped: number[] } {
    const box = this.#outbox;
    return { depth: box.count, bytes: box.bytes, inflight: this.#inflight.size - (this.#spare ? 1 : 0), dropped: box.dropped ? box.dropped.slice() : [0, 0, 0] };
  }

  connect(): void {
    this.#wanted = true;
    if (!this.#socket && this.#timers[RECONNECT] === undefined) this.#open();
  }

  /**
   * Queues a message. It goes out at once when connected and the inflight window allows; otherwise it
   * waits in the outbox. `done` is called when the broker acknowledged it (QoS 1/2), when it was
   * written (QoS 0), or with an error when it was dropped. Returns false when it was refused outright.
   */
  publish(topic: string, payload: string | Uint8Array, options?: PublishOptions, done?: DoneCallback): boolean {
    // DUP 8, QoS << 1, RETAIN 1: the PUBLISH header's flags
    let flags = 0;
    let props: Uint8Array | undefined;
    if (options) {
      const qos = options.qos;
      if (qos) {
        if (qos !== 1 && qos !== 2) checkQos(qos);
        flags = qos << 1;
      }
      if (options.retain) flags |= 1;
      if (options.properties) props = this.#dialect.publishProperties(options.properties);
    }
    const t = this.#topics.get(topic) || this.#topic(topic);
    const bytes = typeof payload === 'string' ? encodeUtf8(payload) : payload;
    // the topic's, the payload's (and MQTT 5 properties') bytes, as the outbox counts them
    let size = t.length - 2 + bytes.length;
    const box = this.#outbox;
    let m: OutboxMessage | undefined;
    // Connected, nothing waiting, room to spare, and a dialect that publishes straight (no properties,
    // no server limits; `room` is -1 otherwise): this one goes now.
    if (this.connected && size <= box.room) {
      if (flags < 2) {
        this.#socket!.write(this.#dialect.publish(flags, t, bytes));
        this.#sent = true;
        if (done) done();
        return true;
      }
      const inflight = this.#inflight;
      // (the spare is in #inflight too: see ack())
      m = this.#spare;
      if (inflight.size - (m ? 1 : 0) < this.#window) {
        let id: number;
        if (m) {
          // the last message acknowledged: its object and its packet id, still in #inflight, go again,
          // so a QoS 1/2 round allocates nothing
          id = m.id!;
          this.#spare = undefined;
        } else inflight.set((id = this.#allocateId()), (m = { id } as OutboxMessage));
        m.topic = topic;
        m.payload = bytes;
        m.qos = (flags >> 1) as QoS;
        m.retain = (flags & 1) === 1;
        m.state = AWAITING_ACK;
        m.sent = true;
        m.size = size;
        m.done = done;
        // as the outbox counts a message that skips its queue (inlined: a call costs XS some 20
        // computrons); `room` allowed this one
        const count = ++box.count;
        box.bytes += size;
        box.room = count < box.roomLimit ? box.room - size : -1;
        if (box.store) box.store.save(m);
        this.#socket!.write(this.#dialect.publish(flags, t, bytes, id));
        this.#sent = true;
        return true;
      }
    }
    if (props) size += props.length;
    m = { topic, payload: bytes, qos: (flags >> 1) as QoS, retain: (flags & 1) === 1, state: QUEUED, size, done };
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
    filters: string | (string | FilterOptions)[],
    options?: SubscribeOptions,
    done?: (error: Error | undefined, granted: number[]) => void,
  ): void {
    const o = options || {};
    const qos = o.qos || 0;
    const list = listOf(filters).map((f): Subscription5 => (typeof f === 'string' ? { filter: f, qos } : { ...f, qos: f.qos ?? qos }));
    for (const s of list) {
      checkTopicFilter(s.filter);
      checkQos(s.qos);
    }
    const id = this.#freeId();
    // the dialect refuses options its version lacks; MQTT 5 fills in each filter's options from `o`
    const bytes = this.#dialect.subscribe(id, list, o);
    for (const s of list) this.#subscriptions.set(s.filter, { handler: o.onMessage, options: s, sid: o.subscriptionIdentifier });
    this.#operation(id, { filters: list.map((s) => s.filter), bytes, done });
  }

  unsubscribe(filters: string | string[], done?: (error?: Error) => void): void {
    const list = listOf(filters);
    list.forEach(checkTopicFilter);
    const id = this.#freeId();
    const bytes = this.#dialect.unsubscribe(id, list);
    for (const f of list) this.#subscriptions.delete(f);
    this.#operation(id, { filters: list, bytes, done });
  }

  /**
   * Graceful stop: sends DISCONNECT (so the broker discards the will) and closes. No reconnect follows.
   * Unacknowledged messages stay in the outbox (and in storage when persisted). MQTT 5: `options` give
   * a reason code (0x04 asks the broker to publish the will), a new session expiry, a reason string.
   */
  end(options?: DisconnectOptions): void {
    const bytes = this.#dialect.disconnect(options);
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
    this.#clearTimer(RECONNECT);
    this.#drop();
  }

  // ---- connection ---------------------------------------------------------------------------

  #open(): void {
    const o = this.#o;
    const dialect = this.#dialect;
    const framer = (this.#framer = dialect.framer(o.maxPacketSize ?? 65536));
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
        self.#received = true;
        try {
          // the framer is left on each packet, for the dialect to decode in place (nothing read: no packet)
          if (framer.nextBody(bytes)) do dialect.receive(framer); while (framer.more && socket === self.#socket && framer.nextBody());
        } catch (error) {
          if (!(error instanceof MqttProtocolError)) throw error;
          self.stats.protocolErrors++;
          // MQTT 5 tells the server which rule it broke
          if (dialect.protocolError) self.#send(dialect.protocolError(error));
          self.#drop(error);
        }
      },
      onError(error) {
        if (socket === self.#socket) self.#drop(new MqttClientError('connection', `connection to ${o.host}: ${error.message}`, error));
      },
    });
    this.#socket = socket;
    const timeout = o.connectTimeout ?? 15000;
    this.#setTimer(CONNECT_TIMEOUT, () => this.#drop(new MqttClientError('timeout', `no CONNACK from ${o.host} within ${timeout / 1000} s`)), timeout);
  }

  #sendConnect(): void {
    const o = this.#o;
    let packet: Uint8Array;
    try {
      let password: string | Uint8Array | undefined;
      try {
        password = typeof o.password === 'function' ? o.password() : o.password;
      } catch (error) {
        invalid(`password provider failed: ${(error as Error).message}`);
      }
      // the options (a dialect reads the fields it has: ConnectFields), defaults filled in
      const fields: ConnectFields = { ...o, password, cleanSession: o.cleanSession ?? true, keepAlive: o.keepAlive ?? 60, maxPacketSize: o.maxPacketSize ?? 65536 };
      packet = this.#dialect.connect(fields);
    } catch (error) {
      return this.#drop(error as Error);
    }
    this.#send(packet);
  }

  /**
   * Every keepAlive / 4: a PINGREQ once either direction has been idle for 3/4 of keepAlive (counted in
   * whole ticks, so a packet never reads the clock); the link is dead when no PINGRESP follows within
   * pingTimeout.
   */
  #keepAlive(keepAlive: number): void {
    const now = this.#o.clock.now();
    this.#idleOut = this.#sent ? 0 : this.#idleOut + 1;
    this.#idleIn = this.#received ? 0 : this.#idleIn + 1;
    this.#sent = this.#received = false;
    if (this.#pingSent) {
      const timeout = this.#o.pingTimeout ?? keepAlive / 2;
      if (now - this.#pingSent >= timeout) {
        this.#drop(new MqttClientError('timeout', `no answer to PINGREQ within ${timeout / 1000} s`));
      }
    } else if (Math.max(this.#idleOut, this.#idleIn) * tickOf(keepAlive) >= (keepAlive * 3) / 4) {
      this.#send(this.#dialect.ping());
      this.#pingSent = now;
      this.#sent = false;
      this.#idleOut = 0;
    }
  }

  /** Ends the current connection (if any) and schedules a reconnect when still wanted. */
  #drop(error?: Error): void {
    const socket = this.#socket;
    const o = this.#o;
    const wasConnected = this.connected;
    this.#socket = undefined;
    this.connected = false;
    this.#pingSent = 0;
    // the spare leaves #inflight: a new connection resends what is in it
    const spare = this.#spare;
    if (spare) this.#inflight.delete(spare.id!);
    this.#spare = undefined;
    // every timer of the connection: all but RECONNECT
    for (let t: Timer = CONNECT_TIMEOUT; t <= TOKEN_REFRESH; t++) if (t !== RECONNECT) this.#clearTimer(t as Timer);
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
    if (this.#wanted && r !== false && this.#timers[RECONNECT] === undefined) {
      const { minDelay = 1000, maxDelay = 60000 } = r || {};
      const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(this.#attempt++, 30));
      this.#setTimer(
        RECONNECT,
        () => {
          this.#timers[RECONNECT] = undefined;
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

  // ---- receiving: the dialect decodes each packet the framer frames and calls these -------------

  /**
   * The session as its dialect sees it (SessionEvents), one per client: a class inside MqttClient's
   * body, so that its methods, shared by every client, reach the client's private state.
   */
  static readonly #Events = class implements SessionEvents {
    readonly #c: MqttClient;

    constructor(client: MqttClient) {
      this.#c = client;
    }

    connack(sessionPresent: boolean, refusal: Error | undefined): void {
      const c = this.#c;
      if (c.connected) fail('malformed', 'a second CONNACK');
      c.#clearTimer(CONNECT_TIMEOUT);
      if (refusal) return c.#drop(refusal);
      // the session's state is restored in #resume, whose large frame is gone before onConnect runs
      // (an ESP8266 has 256 XS stack slots)
      this.#resume(sessionPresent);
      const o = c.#o;
      if (o.onConnect) o.onConnect({ sessionPresent, properties: c.#dialect.connack });
      c.#pump();
    }

    /** The connection was accepted: timers, session state, and what must be sent again. */
    #resume(sessionPresent: boolean): void {
      const c = this.#c;
      const stats = c.stats;
      const o = c.#o;
      const dialect = c.#dialect;
      const inflight = c.#inflight;
      c.connected = true;
      if (stats.connects++) stats.reconnects++;
      // the server's limits for this connection (MQTT 5)
      c.#window = Math.min(o.inflightWindow ?? 16, dialect.receiveMaximum ?? 65535);
      const keepAlive = (dialect.serverKeepAlive ?? o.keepAlive ?? 60) * 1000;
      c.#setTimer(BACKOFF_RESET, () => (c.#attempt = 0), (o.reconnect || {}).stableAfter ?? 20000);
      // the CONNACK just received counts as the last traffic both ways
      c.#idleOut = c.#idleIn = 0;
      c.#sent = c.#received = false;
      // (the timer's function keeps only keepAlive: each variable it holds costs a slot per client)
      const tick = tickOf(keepAlive);
      if (keepAlive) c.#setTimer(KEEP_ALIVE, () => c.#keepAlive(keepAlive), tick, tick);

      if (!sessionPresent) {
        // The broker has no state for us: inbound QoS 2 guards are void; messages it already took over
        // with PUBREC are delivered; everything else is sent again as new.
        c.#inbound.clear();
        c.#outbox.saveInbound(c.#inbound);
        for (const m of inflight.values()) {
          if (m.state === AWAITING_PUBCOMP) c.#settle(m);
          else m.sent = false;
        }
        const pending = new Set<string>();
        for (const op of c.#operations.values()) if (op.bytes[0] >> 4 === SUBSCRIBE) op.filters.forEach((f) => pending.add(f));
        // one SUBSCRIBE per subscription identifier (MQTT 5 carries one per packet; 3.1.1 has none)
        const groups = new Map<number | undefined, Subscription5[]>();
        for (const [filter, s] of c.#subscriptions) if (!pending.has(filter)) (groups.get(s.sid) || groups.set(s.sid, []).get(s.sid)!).push(s.options);
        for (const [sid, again] of groups) {
          const id = c.#allocateId();
          c.#operations.set(id, { filters: again.map((x) => x.filter), bytes: dialect.subscribe(id, again, { subscriptionIdentifier: sid }) });
        }
      }
      // Resend in the original order: unacknowledged PUBLISH (with DUP when sent before) and PUBREL.
      // What may not go again under its id (MQTT 5: over the server's receive maximum) is queued again,
      // except QoS 2 messages the server may already hold under their id.
      let resend = dialect.resendLimit ? dialect.resendLimit(c.#window) : 65535;
      const back: OutboxMessage[] = [];
      for (const m of inflight.values()) {
        if (m.state === AWAITING_ACK && resend-- <= 0 && (m.qos === 1 || !m.sent)) {
          inflight.delete(m.id!);
          back.push(m);
        } else c.#transmit(m);
      }
      if (back.length) {
        // back to the head of the queue, in order, as never sent: new packet ids when they go again
        // (still counted: they never left the outbox)
        const box = c.#outbox;
        for (const m of back) {
          m.state = QUEUED;
          m.id = undefined;
          m.sent = false;
          box.save(m);
        }
        box.queue.unshift(...back);
        box.room = -1; // messages wait
      }
      for (const op of c.#operations.values()) c.#send(op.bytes);
      const refresh = o.tokenRefresh;
      if (refresh) {
        try {
          const ms = refresh();
          if (ms > 0) c.#setTimer(TOKEN_REFRESH, () => c.reconnect(), ms);
        } catch (error) {
          c.#error(error as Error);
        }
      }
    }

    publish(topic: string, payload: Uint8Array, first: number, id?: number, properties?: Properties): void {
      const c = this.#c;
      // QoS 2 (flags & 4: the header check refused QoS 3): the exactly-once guard
      if (first & 4 && this.#again(id!)) return;
      // delivery: to the handlers of matching subscriptions, else to onMessage
      const info = properties ? { ...INFO[first & 15], properties } : INFO[first & 15];
      let fallback = c.#o.onMessage;
      const subscriptions = c.#subscriptions;
      if (subscriptions.size) {
        // not for-of: its iterator takes ~16 more XS stack slots under every handler (an ESP8266 has 256)
        const entries = subscriptions.entries();
        for (let next = entries.next(); !next.done; next = entries.next()) {
          const s = next.value[1];
          if (s.handler && topicMatches(next.value[0], topic)) {
            fallback = undefined;
            s.handler(topic, payload, info);
          }
        }
      }
      if (fallback) fallback(topic, payload, info);
      if (first & 6) c.#send(c.#dialect.ack(first & 4 ? PUBREC : PUBACK, id!));
    }

    /**
     * A PUBLISH over maxPacketSize, read through without its payload: acknowledged as its QoS asks, so
     * the broker stops sending it, counted and reported with an MqttMessageTooLargeError; never
     * delivered. QoS 2 keeps the exactly-once guard, so a redelivery before PUBREL is neither reported
     * nor answered with more than PUBREC.
     */
    oversized(topic: string | undefined, id: number, first: number, properties?: Properties): void {
      const c = this.#c;
      const qos = ((first >> 1) & 3) as QoS;
      if (qos === 2 && this.#again(id)) return;
      c.stats.inboundTooLarge++;
      if (qos) c.#send(c.#dialect.ack(qos === 2 ? PUBREC : PUBACK, id));
      c.#error(new MqttMessageTooLargeError(topic, c.#framer!.skipped, c.#framer!.maxPacketSize, qos, properties));
    }

    /**
     * The QoS 2 exactly-once guard: true, and PUBREC sent again, when packet `id` was received before
     * and not yet released; otherwise `id` is noted (and saved when the outbox is persisted).
     */
    #again(id: number): boolean {
      const c = this.#c;
      const inbound = c.#inbound;
      if (inbound.has(id)) {
        c.stats.inboundDuplicates++;
        c.#send(c.#dialect.ack(PUBREC, id));
        return true;
      }
      inbound.add(id);
      c.#outbox.saveInbound(inbound);
      return false;
    }

    ack(type: number, id: number, reason?: number, properties?: Properties): void {
      const c = this.#c;
      if (type === PUBREL) {
        if (c.#inbound.delete(id)) c.#outbox.saveInbound(c.#inbound);
        return c.#send(c.#dialect.ack(PUBCOMP, id));
      }
      const m = c.#inflight.get(id);
      if (type === PUBREC && !(reason! >= 0x80)) {
        if (m && m.qos === 2 && m.state === AWAITING_ACK) {
          m.state = AWAITING_PUBCOMP;
          c.#outbox.save(m);
        }
        return c.#send(c.#dialect.ack(PUBREL, id));
      }
      // PUBACK completes QoS 1, PUBCOMP QoS 2; a PUBREC refusing the message ends QoS 2 (MQTT 5); the
      // spare (QUEUED) is no message
      if (!m || !m.state || m.qos !== (type === PUBACK ? 1 : 2)) return;
      const box = c.#outbox;
      if (!reason) {
        // #settle() inlined, box.release() too (a call costs XS some 20 computrons): the
        // acknowledgement of every QoS 1 publish. The message stays in #inflight as the spare, without
        // what it held; a spare before it leaves.
        const count = --box.count;
        const bytes = (box.bytes -= m.size);
        box.room = box.queue.length || count >= box.roomLimit ? -1 : box.maxBytes - bytes;
        if (m.key) {
          box.store!.delete(m.key);
          m.key = undefined;
        }
        // (MQTT 5 properties need not be cleared: only a dialect without them reuses the spare)
        const done = m.done;
        m.payload = NO_BYTES;
        m.done = undefined;
        m.state = QUEUED;
        const old = c.#spare;
        if (old) c.#inflight.delete(old.id!);
        c.#spare = m;
        if (done) done();
      } else {
        c.#settle(m, c.#dialect.ackOutcome!(type, reason, m, properties));
      }
      if (box.queue.length) c.#pump();
    }

    subAck(type: number, id: number, codes: number[], properties?: Properties): void {
      const c = this.#c;
      const op = c.#operations.get(id);
      if (!op) return;
      c.#operations.delete(id);
      let error: Error | undefined;
      const refused = op.filters.filter((_f, i) => codes[i] >= 0x80);
      if (refused.length) {
        error = c.#dialect.refusal(type, op.filters, codes, properties, refused);
        if (type === SUBACK) for (const f of refused) c.#subscriptions.delete(f);
      }
      if (op.done) op.done(error, codes);
      else if (error) c.#error(error);
    }

    pingResp(): void {
      this.#c.#pingSent = 0;
    }

    close(error: Error): void {
      this.#c.#drop(error);
    }

    send(bytes: Uint8Array): void {
      this.#c.#send(bytes);
    }

    unreleased(id: number): number {
      const inbound = this.#c.#inbound;
      return inbound.has(id) ? 0 : inbound.size;
    }
  };

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
        if (this.#inflight.size - (this.#spare ? 1 : 0) >= this.#window) return;
        m.id = this.#allocateId();
        m.state = AWAITING_ACK;
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

  /** Sends a message; false when the server's limits (MQTT 5) keep it from going: it is then done, with the error. */
  #transmit(m: OutboxMessage): boolean {
    const dialect = this.#dialect;
    if (m.state === AWAITING_PUBCOMP) {
      this.#send(dialect.ack(PUBREL, m.id!));
      return true;
    }
    const out = dialect.message(m, (m.sent ? 8 : 0) | (m.qos << 1) | (m.retain ? 1 : 0), this.#topic(m.topic));
    if (out instanceof Error) {
      this.#settle(m, out);
      return false;
    }
    this.#send(out);
    m.sent = m.qos > 0;
    return true;
  }

  /**
   * Message `m` leaves the session: acknowledged (MQTT 5: `outcome` the details), refused (`outcome`
   * the error), or taken over by the broker before the session was lost.
   */
  #settle(m: OutboxMessage, outcome?: Error | AckInfo): void {
    if (m.id) this.#inflight.delete(m.id);
    this.#outbox.release(m);
    const failed = outcome instanceof Error;
    if (m.done) {
      if (failed) m.done(outcome);
      else m.done(undefined, outcome);
    } else if (failed) this.#error(outcome);
  }

  #operation(id: number, op: PendingOperation): void {
    this.#nextId = (id % 65535) + 1; // 65535 wraps to 1
    this.#operations.set(id, op);
    if (this.connected) this.#send(op.bytes);
  }

  #reportDrops(dropped: OutboxMessage[]): void {
    const max = this.#outbox.maxBytes;
    const list: Dropped[] = [];
    // a loop, not map(): no closure made under a burst of drops (an ESP8266's heap peaks there)
    for (let i = 0; i < dropped.length; i++) {
      const m = dropped[i];
      const big = m.size > max;
      if (m.done) m.done(new MqttClientError('dropped', `message to ${m.topic} dropped: ${big ? `over the outbox size (${max} bytes)` : 'outbox full'}`));
      list.push({ topic: m.topic, qos: m.qos, bytes: m.size, reason: big ? 'too-large' : 'outbox-full' });
    }
    const o = this.#o;
    if (o.onDrop) o.onDrop(list);
  }

  /** A packet id not used by any message or operation in flight, from #nextId on; taken by #allocateId() or #operation(). */
  #freeId(): number {
    let id = this.#nextId;
    for (let i = 0; i < 65535; i++) {
      if (!this.#inflight.has(id) && !this.#operations.has(id)) return id;
      id = (id % 65535) + 1;
    }
    return invalid('all 65535 packet ids are in use');
  }

  #allocateId(): number {
    const id = this.#freeId();
    this.#nextId = (id % 65535) + 1; // 65535 wraps to 1
    return id;
  }

  #setTimer(timer: Timer, fn: () => void, ms: number, repeat?: number): void {
    this.#clearTimer(timer);
    this.#timers[timer] = this.#o.clock.set(fn, ms, repeat);
  }

  #clearTimer(timer: Timer): void {
    const t = this.#timers[timer];
    if (t !== undefined) {
      this.#o.clock.clear(t);
      this.#timers[timer] = undefined;
    }
  }
}
