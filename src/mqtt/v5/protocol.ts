// The MQTT 5.0 dialect (OASIS mqtt-v5.0): `new MqttClient({ ..., protocol: mqtt5({...}) })`. The
// session (client.ts) keeps packet ids, the outbox, QoS flows, delivery and reconnects, as for MQTT
// 3.1.1; this dialect does what MQTT 5 adds: properties, reason codes, the server's limits (receive
// maximum, maximum packet size, maximum QoS, retain, server keep alive), topic aliases both ways,
// session expiry, DISCONNECT and AUTH. A firmware built without importing this module carries no
// MQTT 5 code.
import type { Logger } from '../../ports';
import { encodeAck, encodeEmpty } from '../codec';
import type { ConnectFields, Dialect, DialectOptions, SessionEvents, SubscribeFields } from '../dialect';
import { fail, invalid, MqttClientError, MqttConnectError, type MqttProtocolError } from '../errors';
import { AWAITING_PUBCOMP, type OutboxMessage } from '../outbox';
import { SKIPPED, TOPIC_DROPPED } from '../oversized';
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from '../packets';
import { PacketFramer } from '../parser';
import type { AckInfo, DisconnectOptions, Properties, PublishProperties, Subscription5, UserProperties } from '../properties';
import { expectEnd, expectLength, packetOf, readId, readTopic, readU8, type Reader } from '../reader';
import { topicNameProblem } from '../topic';
import type { EnhancedAuth } from './auth';
import { encodeConnect5, encodeDisconnect5, encodeSubscribe5, encodeUnsubscribe5, propertyContents, publishPacket5, vbiSize } from './codec';
import { readConnack5, readDisconnect5, readSubackCodes } from './decode';
import { OversizedPublish5, PROPERTIES_DROPPED } from './oversized';
import { readProperties } from './properties';
import { checkReason, describeReason, reasonError, reasonForProtocolError, reasonName, withReason } from './reason-codes';
import { IncomingAliases, OutgoingAliases } from './topic-alias';
import { encodeUtf8 } from '../utf8';

export type { AckInfo, DisconnectOptions, SubscribeOptions5 } from '../properties';

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

const NEVER = 0xffffffff;
/** Reason code: Packet Identifier not found. */
const PACKET_ID_NOT_FOUND = 0x92;
// AUTH reason codes
const CONTINUE_AUTHENTICATION = 0x18;
const REAUTHENTICATE = 0x19;

/** A string as UTF-8 (the session hands the password and will payload as given). */
function bytesOf(value: string | Uint8Array | undefined): Uint8Array | undefined {
  return typeof value === 'string' ? encodeUtf8(value) : value;
}

function limit(value: number | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) invalid(`mqtt5 ${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return value;
}

export class Mqtt5Protocol implements Dialect {
  readonly version = 5;
  /** Every publish goes through the outbox: message() checks it against the server's limits. */
  get outboxOnly(): boolean {
    return true;
  }
  readonly #o: Mqtt5Options;
  #session: SessionEvents | undefined;
  #log: Logger | undefined;
  readonly #out = new OutgoingAliases();
  readonly #in = new IncomingAliases();
  readonly #aliases: number;
  /** Our Receive Maximum: unreleased QoS 2 messages the server may send us. */
  readonly #receiveMaximum: number;
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

  /** Called once by the MqttClient that speaks it. */
  attach(session: SessionEvents, options: DialectOptions): void {
    if (this.#session) invalid('this mqtt5() object already belongs to another client: make one per client');
    this.#session = session;
    this.#log = options.log;
  }

  /** The server's Receive Maximum bounds the messages sent again too (the window is within it). */
  resendLimit(window: number): number {
    return window;
  }

  framer(maxPacketSize: number): PacketFramer {
    // a PUBLISH over maxPacketSize is read through with its properties (v5/oversized.ts)
    return new PacketFramer(maxPacketSize, true, OversizedPublish5);
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
    // the largest packet the client accepts
    properties.maximumPacketSize = f.maxPacketSize;
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
    return encodeConnect5({
      type: CONNECT,
      // the identifier the server assigned last time, so a kept session is found again
      clientId: f.clientId || this.#assignedId || '',
      cleanStart: f.cleanSession,
      keepAlive: f.keepAlive,
      username: f.username,
      password: bytesOf(f.password),
      will: f.will && { ...f.will, payload: bytesOf(f.will.payload)!, qos: f.will.qos || 0, retain: !!f.will.retain },
      properties,
    });
  }

  /** CONNACK: the server's limits for this connection, and the end of enhanced authentication. */
  #connack(r: Reader): void {
    const c = readConnack5(r);
    const p = (this.connack = c.properties || {});
    this.sessionPresent = c.sessionPresent;
    let refusal: Error | undefined;
    if (c.reasonCode) {
      if (c.sessionPresent) fail('protocol', 'CONNACK refuses the connection but says a session is present');
      refusal = connectError(c.reasonCode, p);
    } else refusal = this.#accepted(p);
    this.#session!.connack(c.sessionPresent, refusal);
  }

  /** A CONNACK that accepts the connection: its limits apply; the error when authentication failed. */
  #accepted(p: Properties): Error | undefined {
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
    return propertyContents(p, PUBLISH);
  }

  /** PUBLISH without properties or alias (the session's fast path, which MQTT 5 messages do not take). */
  publish(flags: number, topic: Uint8Array, payload: Uint8Array, id: number): Uint8Array {
    return publishPacket5(flags, topic, id, 0, undefined, payload);
  }

  /**
   * PUBLISH bytes of message `m` (`t`: its topic as lengthPrefixed() encodes it) within the server's
   * limits (maximum QoS, retain, maximum packet size), with a topic alias when one fits; or the error
   * when a limit keeps it from going.
   */
  message(m: OutboxMessage, flags: number, t: Uint8Array): Uint8Array | Error {
    const { topic, payload, props } = m;
    const qos = m.qos;
    const pl = props ? props.length : 0;
    const base = t.length + (qos ? 2 : 0) + payload.length;
    const max = this.maximumPacketSize;
    const size = packetSize(base, pl);
    if (qos > this.maximumQoS) return reasonError('publish-failed', `message to ${topic} at QoS ${qos}: the server's maximum QoS is ${this.maximumQoS}`, 0x9b, PUBLISH);
    if (m.retain && !this.retainAvailable) return reasonError('publish-failed', `retained message to ${topic}: the server does not keep retained messages`, 0x9a, PUBLISH);
    if (size > max) return new MqttClientError('too-large', `message to ${topic} of ${size} bytes is over the server's maximum packet size of ${max} bytes`);
    let alias = 0;
    // a new alias costs 3 bytes of properties beside the topic: use one only if those fit too
    if (this.#out.size && packetSize(base, pl + 3) <= max) alias = this.#out.alias(topic);
    return publishPacket5(flags, alias > 0 ? EMPTY_TOPIC : t, m.id || 0, alias < 0 ? -alias : alias, props, payload);
  }

  // ---- receiving ----------------------------------------------------------------------------

  receive(r: Reader): void {
    const first = r.first;
    const type = first >> 4;
    const session = this.#session!;
    if (type === PUBLISH) return this.#publish(r);
    if (type >= PUBACK && type <= PUBCOMP) {
      const id = readId(r);
      if (r.at === r.end) return session.ack(type, id);
      const reason = checkReason(readU8(r, 'reason code'), type);
      const properties = r.at < r.end ? readProperties(r, type) : undefined;
      expectEnd(r);
      return session.ack(type, id, reason, properties);
    }
    if (type === SUBACK || type === UNSUBACK) {
      const a = readSubackCodes(type, r);
      return session.subAck(type, a.packetId, a.reasonCodes, a.properties);
    }
    if (type === PINGRESP) {
      expectLength(r, 0);
      return session.pingResp();
    }
    if (type === CONNACK) return this.#connack(r);
    if (type === DISCONNECT || type === AUTH) return this.#control(type, r);
    if (first & SKIPPED) return this.#oversized(r);
    fail('bad-packet-type', `${packetOf(r)} from a broker`);
  }

  /** Inbound PUBLISH: with properties, topic aliases and our receive maximum. */
  #publish(r: Reader): void {
    const first = r.first;
    const name = readTopic(r);
    const id = first & 6 ? this.#id(r) : 0;
    const p = readProperties(r, PUBLISH);
    const topic = this.#in.resolve(name, p && p.topicAlias ? p.topicAlias : 0);
    const b = r.b;
    this.#session!.publish(topic, new Uint8Array(b.buffer, b.byteOffset + r.at, r.end - r.at), first, id, p);
  }

  /**
   * The header of a PUBLISH read through for being over maxPacketSize (oversized.ts), as far as it was
   * kept: a topic alias it sets is remembered. The topic is undefined when it was too long to keep, or
   * when it is an alias whose properties were not kept. The server should never send one (it must not
   * exceed the Maximum Packet Size of our CONNECT, section 3.1.2.11.4); the client takes it as MQTT
   * 3.1.1 does rather than disconnect, since a disconnect would bring the same message back at every
   * reconnect of a persistent session.
   */
  #oversized(r: Reader): void {
    const first = r.first;
    const name = readTopic(r);
    const id = first & 6 ? this.#id(r) : 0;
    const p = readProperties(r, PUBLISH);
    let topic: string | undefined;
    if (first & TOPIC_DROPPED) topic = undefined;
    else if (first & PROPERTIES_DROPPED) topic = name || undefined;
    else topic = this.#in.resolve(name, p && p.topicAlias ? p.topicAlias : 0);
    this.#session!.oversized(topic, id, first, p);
  }

  /** The packet id of a QoS 1 or 2 PUBLISH, within our receive maximum. */
  #id(r: Reader): number {
    const id = readId(r);
    const max = this.#receiveMaximum;
    if (this.#session!.unreleased(id) >= max) fail('receive-maximum', `the server sent more than ${max} unacknowledged QoS 1/2 messages (the receive maximum)`);
    return id;
  }

  // ---- acknowledgements ---------------------------------------------------------------------

  readonly ack = encodeAck;

  /**
   * A success with a reason code (e.g. 0x10 No matching subscribers), or the error for a message the
   * server refused (PUBACK or PUBREC reason code 0x80 or more). Except PUBCOMP 0x92 Packet Identifier
   * not found for a message the server took at PUBREC: the answer to a PUBREL resent after a
   * reconnect when the server had completed the exchange already. Section 3.7.2.1 says this is not an
   * error during recovery, so the publish is done (with a note in the log).
   */
  ackOutcome(type: number, reason: number, m: OutboxMessage, properties: Properties | undefined): Error | AckInfo {
    if (reason < 0x80) return { reasonCode: reason, reasonName: reasonName(reason, type), properties };
    if (type === PUBCOMP && reason === PACKET_ID_NOT_FOUND && m.state === AWAITING_PUBCOMP) {
      const log = this.#log;
      if (log) log.log('info', `mqtt: PUBCOMP for the QoS 2 message to ${m.topic} says Packet Identifier not found (0x92): the server had completed the exchange before (a PUBREL sent again after a reconnect); it took the message at PUBREC, so it is delivered`);
      return { reasonCode: reason, reasonName: reasonName(reason, type), properties };
    }
    return reasonError('publish-failed', `the server refused the message to ${m.topic}`, reason, type, properties && properties.reasonString);
  }

  // ---- subscriptions ------------------------------------------------------------------------

  /**
   * SUBSCRIBE for `list`; each filter's options not given default to those of `o` (the client keeps the
   * completed list, to subscribe again the same way).
   */
  subscribe(id: number, list: Subscription5[], o: SubscribeFields): Uint8Array {
    for (const f of list) {
      if (f.noLocal === undefined) f.noLocal = o.noLocal;
      if (f.retainAsPublished === undefined) f.retainAsPublished = o.retainAsPublished;
      if (f.retainHandling === undefined) f.retainHandling = o.retainHandling;
    }
    const properties: Properties = { userProperties: o.userProperties };
    if (o.subscriptionIdentifier !== undefined) properties.subscriptionIdentifiers = [o.subscriptionIdentifier];
    return encodeSubscribe5({ type: SUBSCRIBE, packetId: id, subscriptions: list, properties });
  }

  unsubscribe(id: number, filters: string[]): Uint8Array {
    return encodeUnsubscribe5({ type: UNSUBSCRIBE, packetId: id, filters });
  }

  /** The error for filters the server refused: the first refusal's reason, every filter with its own. */
  refusal(type: number, filters: string[], codes: number[], properties: Properties | undefined): Error {
    const refused: string[] = [];
    let first = 0;
    filters.forEach((f, i) => {
      const c = codes[i];
      if (c < 0x80) return;
      refused.push(`${f} (${describeReason(c, type)})`);
      if (!first) first = c;
    });
    const reasonString = properties && properties.reasonString;
    let message = `the broker refused the ${type === SUBACK ? 'subscription to' : 'unsubscription from'} ${refused.join(', ')}`;
    if (reasonString) message += ` - server says "${reasonString}"`;
    return withReason(new MqttClientError(type === SUBACK ? 'subscribe-failed' : 'unsubscribe-failed', message), first, type, reasonString);
  }

  // ---- PINGREQ, DISCONNECT and AUTH -----------------------------------------------------------

  ping(): Uint8Array {
    return encodeEmpty(PINGREQ);
  }

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
    return encodeDisconnect5({ type: DISCONNECT, reasonCode: code, properties });
  }

  /** DISCONNECT that tells the server which protocol error ended the connection. */
  protocolError(error: MqttProtocolError): Uint8Array {
    return encodeDisconnect5({ type: DISCONNECT, reasonCode: reasonForProtocolError(error.code), properties: { reasonString: error.message.slice(0, 200) } });
  }

  /** DISCONNECT or AUTH from the server. */
  #control(type: typeof DISCONNECT | typeof AUTH, r: Reader): void {
    const session = this.#session!;
    const p = readDisconnect5(type, r);
    const props = p.properties || {};
    if (type === DISCONNECT) {
      if (props.sessionExpiryInterval !== undefined) fail('protocol', 'the server sent DISCONNECT with a session expiry interval');
      return session.close(reasonError('disconnected', 'the server disconnected', p.reasonCode, DISCONNECT, props.reasonString, props.serverReference));
    }
    const auth = this.#o.auth;
    if (!auth) return fail('protocol', 'AUTH from the server, but the client did not ask for enhanced authentication');
    if (props.authenticationMethod !== auth.method) fail('protocol', `AUTH with authentication method "${props.authenticationMethod}", not "${auth.method}"`);
    if (p.reasonCode === REAUTHENTICATE || (this.#connected && !this.#reauthenticating)) fail('protocol', `unexpected AUTH (${reasonName(p.reasonCode, AUTH)})`);
    if (!p.reasonCode) {
      if (!this.#reauthenticating) fail('protocol', 'AUTH Success before CONNACK');
      this.#reauthenticating = false;
      const error = this.#authDone(props);
      if (error) session.close(error);
      return;
    }
    let data: Uint8Array | undefined;
    try {
      data = auth.challenge(props.authenticationData, props);
    } catch (error) {
      return session.close(this.#authFailed((error as Error).message));
    }
    session.send(authPacket(CONTINUE_AUTHENTICATION, auth.method, data));
  }

  /** Starts re-authentication (AUTH Re-authenticate) on the live connection. */
  reauthenticate(): void {
    const auth = this.#o.auth;
    if (!auth) invalid('reauthenticate() needs mqtt5({ auth })');
    if (!this.#connected) invalid('reauthenticate() needs a connection: wait for onConnect');
    if (this.#reauthenticating) return;
    this.#reauthenticating = true;
    this.#session!.send(authPacket(REAUTHENTICATE, auth.method, auth.start && auth.start(true)));
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
    if (this.#connected) this.#session!.send(encodeDisconnect5({ type: DISCONNECT, reasonCode: 0x80 }));
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
  let message = `connection refused: ${describeReason(code, CONNACK)}`;
  if (CONNECT_ADVICE[code]) message += `: ${CONNECT_ADVICE[code]}`;
  if (p.reasonString) message += ` - server says "${p.reasonString}"`;
  if (p.serverReference) message += `; the server suggests ${p.serverReference}`;
  return withReason(new MqttConnectError(code, message), code, CONNACK, p.reasonString, p.serverReference);
}

/** Convenience: `protocol: mqtt5({...})`. One per client. */
export function mqtt5(options?: Mqtt5Options): Mqtt5Protocol {
  return new Mqtt5Protocol(options);
}
