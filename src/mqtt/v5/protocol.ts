// MQTT 5.0 for MqttClient: `new MqttClient({ ..., protocol: mqtt5({...}) })`. The client keeps
// sessions, the outbox, QoS flows and reconnects; this object does what MQTT 5 adds: properties,
// reason codes, the server's limits (receive maximum, maximum packet size, maximum QoS, retain),
// topic aliases both ways, session expiry, DISCONNECT and AUTH. A firmware built without importing
// this module carries no MQTT 5 code.
import { MqttClientError, MqttConnectError, invalid, type MqttProtocolError } from '../errors';
import { fail } from '../parser';
import { topicNameProblem } from '../topic';
import type { EnhancedAuth } from './auth';
import { encodeConnect5, encodeDisconnect5, encodeSubscribe5, encodeUnsubscribe5, propertyContents, vbiSize, publishPacket5 } from './codec';
import { readConnack5, readDisconnect5, readId5, readSubackCodes, readTopic5 } from './decode';
import { TOPIC_DROPPED } from '../oversized';
import { OversizedPublish5, PROPERTIES_DROPPED } from './oversized';
import { encodeAck } from '../codec';
import type { ClientOptions, LocalSubscription, MessageInfo } from '../client';
import type { Outbox, OutboxMessage } from '../outbox';
import { topicMatches } from '../topic';
import { AUTH, type Subscription5 } from './packets';
import { readProperties, type Properties, type PublishProperties, type UserProperties } from './properties';
import { Reader } from './reader';
import { checkReason, describeReason, reasonError, reasonForProtocolError, reasonName, withReason } from './reason-codes';
import { IncomingAliases, OutgoingAliases } from './topic-alias';

export interface Mqtt5Options {
  /**
   * Seconds the server keeps the session once the connection ends. Default: 0 with cleanSession
   * (the session ends with the connection), 0xFFFFFFFF (never expires) with cleanSession: false, as
   * MQTT 3.1.1 would.
   */
  sessionExpiryInterval?: number;
  /** QoS 1 and 2 messages the server may send this client before it acknowledges them. Default 65535. */
  receiveMaximum?: number;
  /** Topic aliases the server may set for messages to this client. Default 16; 0 refuses them. */
  topicAliasMaximum?: number;
  /** Aliases this client keeps for topics it publishes to (least recently used replaced), within the server's maximum. Default 16; 0 sends none. */
  topicAliases?: number;
  /** Ask the server for Response Information in CONNACK (a topic prefix for responses). */
  requestResponseInformation?: boolean;
  /** false: the server leaves out Reason Strings and User Properties where it may. */
  requestProblemInformation?: boolean;
  /** User Properties of CONNECT. */
  userProperties?: UserProperties;
  /** Enhanced authentication (AUTH packets). */
  auth?: EnhancedAuth;
}

/** What MqttClient gives the protocol to build CONNECT (will properties and limits come from its options). */
export interface ConnectFields {
  clientId: string;
  cleanSession: boolean;
  keepAlive: number;
  username?: string;
  password?: Uint8Array;
  will?: { topic: string; payload: Uint8Array; qos: 0 | 1 | 2; retain: boolean };
}

/** How the protocol reaches into its client (MqttClient builds this; nothing else should). */
export interface ProtocolHost {
  send(bytes: Uint8Array): void;
  /** Ends the connection with this error (a reconnect follows as usual). */
  drop(error: Error): void;
  /** The MQTT 3.1.1 handling of a packet, where MQTT 5 adds nothing. */
  handle(first: number, b: Uint8Array, s: number, e: number): void;
  /** Sends queued messages the window has room for. */
  pump(): void;
  inflight: Map<number, OutboxMessage>;
  subscriptions: Map<string, LocalSubscription>;
  options: ClientOptions;
  stats: { inboundDuplicates: number };
}

/** DISCONNECT options: reason code (0 normal, 0x04 publish the will), a new session expiry, a reason string. */
export interface DisconnectOptions {
  reasonCode?: number;
  sessionExpiryInterval?: number;
  reasonString?: string;
  userProperties?: UserProperties;
}

/** MQTT 5 acknowledgement details that are not errors, e.g. 0x10 No matching subscribers. */
export interface AckInfo {
  reasonCode: number;
  reasonName: string;
  properties?: Properties;
}

/** Options of one topic filter, or of all filters of one subscribe() call. */
export interface SubscribeOptions5 {
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandling?: 0 | 1 | 2;
}

const NEVER = 0xffffffff;
const PUBCOMP = 7;
/** Reason code: Packet Identifier not found. */
const PACKET_ID_NOT_FOUND = 0x92;

function limit(value: number | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) invalid(`mqtt5 ${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return value;
}

export class Mqtt5Protocol {
  readonly version = 5;
  readonly #o: Mqtt5Options;
  #host: ProtocolHost | undefined;
  #outbox: Outbox | undefined;
  /** QoS 2 packet ids received and not yet released (the client's exactly-once guard). */
  #pending: Set<number> | undefined;
  readonly #reader = new Reader();
  readonly #out = new OutgoingAliases();
  readonly #in = new IncomingAliases();
  readonly #receiveMaximum: number;
  readonly #aliases: number;
  #sessionExpiry = 0;
  #assignedId: string | undefined;
  #connected = false;
  #reauthenticating = false;

  // From the last CONNACK, with the defaults for absent properties.
  /** The CONNACK's properties, as the server sent them. */
  connack: Properties | undefined;
  sessionPresent = false;
  receiveMaximum = 65535;
  maximumPacketSize = 268435460;
  maximumQoS = 2;
  retainAvailable = true;
  /** Server Keep Alive, s, when the server overrode the client's. */
  serverKeepAlive: number | undefined;

  /** Properties of the last acknowledgement (PUBACK ... UNSUBACK) read. */
  ackProperties: Properties | undefined;

  constructor(options: Mqtt5Options = {}) {
    this.#o = options;
    this.#receiveMaximum = limit(options.receiveMaximum, 'receiveMaximum', 1, 65535, 65535);
    this.#in.max = limit(options.topicAliasMaximum, 'topicAliasMaximum', 0, 65535, 16);
    this.#aliases = limit(options.topicAliases, 'topicAliases', 0, 65535, 16);
    limit(options.sessionExpiryInterval, 'sessionExpiryInterval', 0, NEVER, 0);
    const auth = options.auth;
    if (auth && (!auth.method || typeof auth.challenge !== 'function')) invalid('mqtt5 auth needs a method name and a challenge() function');
  }

  /** The client identifier the server assigned when the client connected with an empty one. */
  get assignedClientIdentifier(): string | undefined {
    return this.#assignedId;
  }

  /** Called once by the MqttClient that uses this protocol. */
  attach(host: ProtocolHost): void {
    if (this.#host) invalid('this mqtt5() object already belongs to another client: make one per client');
    this.#host = host;
  }

  /** The client's outbox and inbound QoS 2 guard, once restored from storage. */
  use(outbox: Outbox, pending: Set<number>): void {
    this.#outbox = outbox;
    this.#pending = pending;
  }

  // ---- connecting ---------------------------------------------------------------------------

  /** CONNECT for a new network connection; forgets the last connection's aliases and limits. */
  connect(f: ConnectFields): Uint8Array {
    const o = this.#o;
    this.#connected = this.#reauthenticating = false;
    this.connack = undefined;
    this.#in.reset(this.#in.max);
    const expiry = (this.#sessionExpiry = o.sessionExpiryInterval ?? (f.cleanSession ? 0 : NEVER));
    const properties: Properties = {};
    if (expiry) properties.sessionExpiryInterval = expiry;
    if (this.#receiveMaximum !== 65535) properties.receiveMaximum = this.#receiveMaximum;
    const c = this.#host!.options;
    // the largest packet the client accepts
    properties.maximumPacketSize = c.maxPacketSize ?? 65536;
    if (this.#in.max) properties.topicAliasMaximum = this.#in.max;
    if (o.requestResponseInformation) properties.requestResponseInformation = true;
    if (o.requestProblemInformation === false) properties.requestProblemInformation = false;
    if (o.userProperties) properties.userProperties = o.userProperties;
    const auth = o.auth;
    if (auth) {
      properties.authenticationMethod = auth.method;
      const data = auth.start && auth.start(false);
      if (data) properties.authenticationData = data;
    }
    const will = f.will;
    return encodeConnect5({
      type: 1,
      // the identifier the server assigned last time, so a kept session is found again
      clientId: f.clientId || this.#assignedId || '',
      cleanStart: f.cleanSession,
      keepAlive: f.keepAlive,
      username: f.username,
      password: f.password,
      will: will && { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain, properties: c.will && c.will.properties },
      properties,
    });
  }

  /**
   * Reads CONNACK b[s, e): as MQTT 3.1.1's readConnack (session present << 8), with the server's limits
   * set; or -1 when the connection was refused or the authentication failed (the client is dropped).
   */
  onConnack(b: Uint8Array, s: number, e: number): number {
    const error = this.#connack(b, s, e);
    if (!error) return this.sessionPresent ? 256 : 0;
    this.#host!.drop(error);
    return -1;
  }

  #connack(b: Uint8Array, s: number, e: number): Error | undefined {
    const c = readConnack5(this.#reader.reset(b, s, e, 'CONNACK'));
    const p = (this.connack = c.properties || {});
    this.sessionPresent = c.sessionPresent;
    if (c.reasonCode) {
      if (c.sessionPresent) fail('protocol', 'CONNACK refuses the connection but says a session is present');
      return connectError(c.reasonCode, p);
    }
    this.receiveMaximum = p.receiveMaximum ?? 65535;
    this.maximumPacketSize = p.maximumPacketSize ?? 268435460;
    this.maximumQoS = p.maximumQoS ?? 2;
    this.retainAvailable = p.retainAvailable ?? true;
    this.serverKeepAlive = p.serverKeepAlive;
    if (p.sessionExpiryInterval !== undefined) this.#sessionExpiry = p.sessionExpiryInterval;
    if (p.assignedClientIdentifier) this.#assignedId = p.assignedClientIdentifier;
    this.#out.reset(Math.min(this.#aliases, p.topicAliasMaximum ?? 0));
    const auth = this.#o.auth;
    if (auth) {
      if (p.authenticationMethod !== auth.method) return this.#authFailed(`the server answered with authentication method "${p.authenticationMethod}", not "${auth.method}"`);
      const error = this.#authDone(p);
      if (error) return error;
    } else if (p.authenticationMethod) fail('protocol', `CONNACK names authentication method "${p.authenticationMethod}", which the client did not ask for`);
    this.#connected = true;
    return undefined;
  }

  // ---- publishing ---------------------------------------------------------------------------

  /** A message's properties, checked and encoded once when it is published. */
  publishProperties(p: PublishProperties): Uint8Array {
    const q = p as Properties;
    if (q.topicAlias !== undefined) invalid('topicAlias is chosen by the client (mqtt5 topicAliases option), not per message');
    if (q.subscriptionIdentifiers !== undefined) invalid('subscriptionIdentifiers are set by the server; a client may not publish them');
    if (p.responseTopic !== undefined) {
      const problem = topicNameProblem(p.responseTopic);
      if (problem) invalid(`responseTopic: ${problem}`);
    }
    return propertyContents(p, 3);
  }

  /**
   * PUBLISH bytes of message `m` (`t`: its topic as lengthPrefixed() encodes it) within the server's
   * limits (maximum QoS, retain, maximum packet size), with a topic alias when one fits. Undefined when
   * a limit keeps it from going: the message is then done, with the error.
   */
  publish(m: OutboxMessage, flags: number, t: Uint8Array): Uint8Array | undefined {
    const { topic, payload, props } = m;
    const qos = m.qos;
    let error: Error | undefined;
    const pl = props ? props.length : 0;
    const base = t.length + (qos ? 2 : 0) + payload.length;
    const max = this.maximumPacketSize;
    const size = packetSize(base, pl);
    if (qos > this.maximumQoS) error = reasonError('publish-failed', `message to ${topic} at QoS ${qos}: the server's maximum QoS is ${this.maximumQoS}`, 0x9b, 3);
    else if (m.retain && !this.retainAvailable) error = reasonError('publish-failed', `retained message to ${topic}: the server does not keep retained messages`, 0x9a, 3);
    else if (size > max) error = new MqttClientError('too-large', `message to ${topic} of ${size} bytes is over the server's maximum packet size of ${max} bytes`);
    if (error) {
      this.#settle(m, error);
      return undefined;
    }
    let alias = 0;
    // a new alias costs 3 bytes of properties beside the topic: use one only if those fit too
    if (this.#out.size && packetSize(base, pl + 3) <= max) alias = this.#out.alias(topic);
    return publishPacket5(flags, alias > 0 ? EMPTY_TOPIC : t, m.id || 0, alias < 0 ? -alias : alias, props, payload);
  }

  /** Takes message `m` out of the client (inflight, outbox) and tells its sender. */
  #settle(m: OutboxMessage, error: Error | undefined, info?: AckInfo): void {
    const host = this.#host!;
    if (m.id) host.inflight.delete(m.id);
    this.#outbox!.release(m);
    if (m.done) m.done(error, info);
    else if (error) {
      // as the client reports errors
      const o = host.options;
      if (o.log) o.log.log('warn', `mqtt: ${error.message}`);
      if (o.onError) o.onError(error);
    }
    host.pump();
  }

  /**
   * After CONNACK, before the client resends what is in flight: messages over the server's receive
   * maximum (`window`) go back to the head of the queue (they get new packet ids), except QoS 2
   * messages the server may already hold under their id, which go as they are.
   */
  trim(window: number): void {
    const inflight = this.#host!.inflight;
    const back: OutboxMessage[] = [];
    for (const m of inflight.values()) {
      if (m.state === 1 && window-- <= 0 && (m.qos === 1 || !m.sent)) {
        inflight.delete(m.id!);
        m.state = 0;
        m.id = undefined;
        m.sent = false;
        back.push(m);
      }
    }
    if (back.length) {
      // the queue's head: `room` stays -1 with MQTT 5, so nothing else needs updating
      const box = this.#outbox!;
      box.queue.unshift(...back);
      for (const m of back) box.save(m);
    }
  }

  /** A packet from the server: PUBLISH and acknowledgements with a reason code here, the rest as in 3.1.1. */
  handle(first: number, b: Uint8Array, s: number, e: number): void {
    const type = first >> 4;
    const host = this.#host!;
    if (type === 3) return this.#publishIn(first, b, s, e);
    // over AUTH: a PUBLISH read through for being over maxPacketSize (SKIPPED), which the client handles
    if (type >= 14) return type > AUTH ? host.handle(first, b, s, e) : this.#control(type, b, s, e);
    if (type >= 4 && type <= 7 && e - s !== 2) {
      const reason = this.ack(type, b, s, e);
      // Success; PUBREL "Packet Identifier not found" (PUBCOMP all the same); PUBREC "No matching
      // subscribers" (PUBREL follows): the usual path, on the packet id alone
      if (!reason || type === 6 || (type === 5 && reason < 0x80)) return host.handle(first, b, s, s + 2);
      const m = host.inflight.get((b[s] << 8) | b[s + 1]);
      if (m && m.qos === (type === 4 ? 1 : 2)) {
        const error = reason >= 0x80 && !this.#completedBefore(type, reason, m) ? this.ackError(type, reason, m.topic) : undefined;
        this.#settle(m, error, error ? undefined : this.ackInfo(type, reason));
      }
      return;
    }
    host.handle(first, b, s, e);
  }

  /**
   * PUBCOMP 0x92 Packet Identifier not found for a message the server took at PUBREC: the answer to a
   * PUBREL resent after a reconnect when the server had completed the exchange already. Section 3.7.2.1
   * says this is not an error during recovery, so the publish is done (with a note in the log).
   */
  #completedBefore(type: number, reason: number, m: OutboxMessage): boolean {
    if (type !== PUBCOMP || reason !== PACKET_ID_NOT_FOUND || m.state !== 2) return false;
    const log = this.#host!.options.log;
    if (log) log.log('info', `mqtt: PUBCOMP for the QoS 2 message to ${m.topic} says Packet Identifier not found (0x92): the server had completed the exchange before (a PUBREL sent again after a reconnect); it took the message at PUBREC, so it is delivered`);
    return true;
  }

  /** How the client reads through a PUBLISH over its maxPacketSize (see oversized()). */
  get readThrough(): typeof OversizedPublish5 {
    return OversizedPublish5;
  }

  /**
   * The topic, packet id and properties of a PUBLISH read through for being over maxPacketSize
   * (oversized.ts), as far as they were kept. A topic alias it sets is remembered. The topic is
   * undefined when it was too long to keep, or when it is an alias whose properties were not kept.
   * The server should never send one (it must not exceed the Maximum Packet Size of our CONNECT,
   * section 3.1.2.11.4); the client takes it as MQTT 3.1.1 does rather than disconnect, since a
   * disconnect would bring the same message back at every reconnect of a persistent session.
   */
  oversized(first: number, b: Uint8Array, s: number, e: number): { topic: string | undefined; id: number; properties: Properties | undefined } {
    const r = this.#reader.reset(b, s, e, 'PUBLISH');
    const name = readTopic5(r);
    let id = 0;
    if ((first >> 1) & 3) {
      id = readId5(r);
      const pending = this.#pending!;
      if (pending.size >= this.#receiveMaximum && !pending.has(id)) {
        fail('receive-maximum', `the server sent more than ${this.#receiveMaximum} unacknowledged QoS 1/2 messages (the receive maximum)`);
      }
    }
    const p = readProperties(r, 3);
    let topic: string | undefined;
    if (first & TOPIC_DROPPED) topic = undefined;
    else if (first & PROPERTIES_DROPPED) topic = name || undefined;
    else topic = this.#in.resolve(name, p && p.topicAlias ? p.topicAlias : 0);
    return { topic, id, properties: p };
  }

  /** Inbound PUBLISH: the client's QoS flow, with properties, topic aliases and our receive maximum. */
  #publishIn(first: number, b: Uint8Array, s: number, e: number): void {
    const host = this.#host!;
    const pending = this.#pending!;
    const r = this.#reader.reset(b, s, e, 'PUBLISH');
    let topic = r.string('topic');
    if (topic) {
      const problem = topicNameProblem(topic);
      if (problem) fail('bad-topic', `PUBLISH: ${problem}`);
    }
    const qos = (first >> 1) & 3;
    let id = 0;
    if (qos) {
      id = readId5(r);
      if (pending.size >= this.#receiveMaximum && !pending.has(id)) {
        fail('receive-maximum', `the server sent more than ${this.#receiveMaximum} unacknowledged QoS 1/2 messages (the receive maximum)`);
      }
    }
    const p = readProperties(r, 3);
    topic = this.#in.resolve(topic, p && p.topicAlias ? p.topicAlias : 0);
    if (qos === 2) {
      if (pending.has(id)) {
        host.stats.inboundDuplicates++;
        return host.send(encodeAck(5, id));
      }
      pending.add(id);
      this.#outbox!.saveInbound(pending);
    }
    this.#deliver(topic, new Uint8Array(b.buffer, b.byteOffset + r.at, e - r.at), first, p);
    if (qos) host.send(encodeAck(qos === 2 ? 5 : 4, id));
  }

  /** As MqttClient's own delivery: to the handlers of matching subscriptions, else to onMessage. */
  #deliver(topic: string, payload: Uint8Array, first: number, properties: Properties | undefined): void {
    const host = this.#host!;
    const info: MessageInfo = { qos: ((first >> 1) & 3) as 0 | 1 | 2, retain: (first & 1) === 1, dup: (first & 8) === 8 };
    if (properties) info.properties = properties;
    let handled = false;
    for (const [filter, s] of host.subscriptions) {
      if (s.handler && topicMatches(filter, topic)) {
        handled = true;
        s.handler(topic, payload, info);
      }
    }
    const fallback = host.options.onMessage;
    if (!handled && fallback) fallback(topic, payload, info);
  }

  // ---- acknowledgements ---------------------------------------------------------------------

  /** The reason code of PUBACK, PUBREC, PUBREL or PUBCOMP b[s, e) longer than a packet id. */
  ack(type: number, b: Uint8Array, s: number, e: number): number {
    const r = this.#reader.reset(b, s, e, ['PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP'][type - 4]);
    readId5(r);
    const code = checkReason(r.u8('reason code'), type);
    this.ackProperties = r.left ? readProperties(r, type) : undefined;
    r.done();
    return code;
  }

  /** The error for a message the server refused (PUBACK or PUBREC reason code 0x80 or more). */
  ackError(type: number, code: number, topic: string): Error {
    const p = this.ackProperties;
    return reasonError('publish-failed', `the server refused the message to ${topic}`, code, type, p && p.reasonString);
  }

  ackInfo(type: number, code: number): AckInfo {
    return { reasonCode: code, reasonName: reasonName(code, type), properties: this.ackProperties };
  }

  /**
   * SUBSCRIBE for `list`; each filter's options not given default to those of `o` (the client keeps the
   * completed list, to subscribe again the same way).
   */
  subscribe(id: number, list: Subscription5[], o: SubscribeOptions5 & { subscriptionIdentifier?: number; userProperties?: UserProperties }): Uint8Array {
    for (const f of list) {
      if (f.noLocal === undefined) f.noLocal = o.noLocal;
      if (f.retainAsPublished === undefined) f.retainAsPublished = o.retainAsPublished;
      if (f.retainHandling === undefined) f.retainHandling = o.retainHandling;
    }
    const properties: Properties = { userProperties: o.userProperties };
    if (o.subscriptionIdentifier !== undefined) properties.subscriptionIdentifiers = [o.subscriptionIdentifier];
    return encodeSubscribe5({ type: 8, packetId: id, subscriptions: list, properties });
  }

  unsubscribe(id: number, filters: string[]): Uint8Array {
    return encodeUnsubscribe5({ type: 10, packetId: id, filters });
  }

  /** SUBACK or UNSUBACK b[s, e): one reason code per filter. */
  codes(type: 9 | 11, b: Uint8Array, s: number, e: number): number[] {
    const r = readSubackCodes(type, this.#reader.reset(b, s, e, type === 9 ? 'SUBACK' : 'UNSUBACK'));
    this.ackProperties = r.properties;
    return r.reasonCodes;
  }

  /** The error for filters the server refused: the first refusal's reason, every filter with its own. */
  refusal(type: 9 | 11, filters: string[], codes: number[]): Error {
    const refused: string[] = [];
    let first = 0;
    filters.forEach((f, i) => {
      const c = codes[i];
      if (c < 0x80) return;
      refused.push(`${f} (${describeReason(c, type)})`);
      if (!first) first = c;
    });
    const reasonString = this.ackProperties && this.ackProperties.reasonString;
    let message = `the broker refused the ${type === 9 ? 'subscription to' : 'unsubscription from'} ${refused.join(', ')}`;
    if (reasonString) message += ` - server says "${reasonString}"`;
    return withReason(new MqttClientError(type === 9 ? 'subscribe-failed' : 'unsubscribe-failed', message), first, type, reasonString);
  }

  // ---- DISCONNECT and AUTH --------------------------------------------------------------------

  /** DISCONNECT with a reason, a new session expiry, a reason string. */
  disconnect(options: DisconnectOptions = {}): Uint8Array {
    const code = options.reasonCode || 0;
    if (!(code === 0 || code === 4 || (code >= 0x80 && code <= 0x83) || (code >= 0x90 && code <= 0x9b))) {
      invalid(`a client may not disconnect with reason code 0x${code.toString(16)}`);
    }
    const properties: Properties = { reasonString: options.reasonString, userProperties: options.userProperties };
    const expiry = options.sessionExpiryInterval;
    if (expiry !== undefined) {
      if (!this.#sessionExpiry && expiry) invalid('sessionExpiryInterval cannot be set at DISCONNECT when the connection started with 0: set mqtt5({ sessionExpiryInterval })');
      properties.sessionExpiryInterval = expiry;
    }
    return encodeDisconnect5({ type: 14, reasonCode: code, properties });
  }

  /** DISCONNECT that tells the server which protocol error ended the connection. */
  protocolError(error: MqttProtocolError): Uint8Array {
    return encodeDisconnect5({ type: 14, reasonCode: reasonForProtocolError(error.code), properties: { reasonString: error.message.slice(0, 200) } });
  }

  /** DISCONNECT or AUTH b[s, e) from the server. */
  #control(type: number, b: Uint8Array, s: number, e: number): void {
    const host = this.#host!;
    const p = readDisconnect5(type as 14 | 15, this.#reader.reset(b, s, e, type === AUTH ? 'AUTH' : 'DISCONNECT'));
    const props = p.properties || {};
    if (type === 14) {
      if (props.sessionExpiryInterval !== undefined) fail('protocol', 'the server sent DISCONNECT with a session expiry interval');
      return host.drop(reasonError('disconnected', 'the server disconnected', p.reasonCode, 14, props.reasonString, props.serverReference));
    }
    const auth = this.#o.auth;
    if (!auth) return fail('protocol', 'AUTH from the server, but the client did not ask for enhanced authentication');
    if (props.authenticationMethod !== auth.method) fail('protocol', `AUTH with authentication method "${props.authenticationMethod}", not "${auth.method}"`);
    if (p.reasonCode === 0x19 || (this.#connected && !this.#reauthenticating)) fail('protocol', `unexpected AUTH (${reasonName(p.reasonCode, 15)})`);
    if (!p.reasonCode) {
      if (!this.#reauthenticating) fail('protocol', 'AUTH Success before CONNACK');
      this.#reauthenticating = false;
      const error = this.#authDone(props);
      if (error) host.drop(error);
      return;
    }
    let data: Uint8Array | undefined;
    try {
      data = auth.challenge(props.authenticationData, props);
    } catch (error) {
      return host.drop(this.#authFailed((error as Error).message));
    }
    host.send(authPacket(0x18, auth.method, data));
  }

  /** Starts re-authentication (AUTH Re-authenticate) on the live connection. */
  reauthenticate(): void {
    const auth = this.#o.auth;
    if (!auth) invalid('reauthenticate() needs mqtt5({ auth })');
    if (!this.#connected) invalid('reauthenticate() needs a connection: wait for onConnect');
    if (this.#reauthenticating) return;
    this.#reauthenticating = true;
    this.#host!.send(authPacket(0x19, auth.method, auth.start && auth.start(true)));
  }

  #authDone(p: Properties): Error | undefined {
    const auth = this.#o.auth!;
    try {
      if (auth.done) auth.done(p.authenticationData, p);
    } catch (error) {
      return this.#authFailed(`the server's final authentication data was refused: ${(error as Error).message}`);
    }
    return undefined;
  }

  #authFailed(message: string): Error {
    // On a live connection, say why before closing (0x80: the client gives no more detail).
    if (this.#connected) this.#host!.send(encodeDisconnect5({ type: 14, reasonCode: 0x80 }));
    return new MqttClientError('auth-failed', `enhanced authentication (${this.#o.auth!.method}) failed: ${message}`);
  }
}

/** Bytes of a whole PUBLISH whose topic, packet id and payload take `base` bytes and properties `props`. */
function packetSize(base: number, props: number): number {
  const body = base + vbiSize(props) + props;
  return 1 + vbiSize(body) + body;
}

/** A PUBLISH topic field of length 0, for messages whose alias stands for the topic. */
const EMPTY_TOPIC = new Uint8Array(2);

function authPacket(code: number, method: string, data: Uint8Array | undefined): Uint8Array {
  const properties: Properties = { authenticationMethod: method };
  if (data) properties.authenticationData = data;
  return encodeDisconnect5({ type: AUTH, reasonCode: code, properties });
}

const CONNECT_ADVICE: Record<number, string> = {
  0x84: 'the broker does not speak MQTT 5: leave out the protocol option to use MQTT 3.1.1',
  0x85: 'try 1-23 letters and digits',
  0x86: 'check the user name and password',
  0x87: 'check the credentials and the ACL',
  0x8c: 'the broker does not support this authentication method',
  0x95: 'the CONNECT was over the broker\'s maximum packet size: a smaller will or properties',
};

function connectError(code: number, p: Properties): MqttConnectError {
  let message = `connection refused: ${describeReason(code, 2)}`;
  if (CONNECT_ADVICE[code]) message += `: ${CONNECT_ADVICE[code]}`;
  if (p.reasonString) message += ` - server says "${p.reasonString}"`;
  if (p.serverReference) message += `; the server suggests ${p.serverReference}`;
  return withReason(new MqttConnectError(code, message), code, 2, p.reasonString, p.serverReference);
}

/** Convenience: `protocol: mqtt5({...})`. One per client. */
export function mqtt5(options?: Mqtt5Options): Mqtt5Protocol {
  return new Mqtt5Protocol(options);
}
