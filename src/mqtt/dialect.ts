// The session and the dialect it speaks. The session (MqttClient, client.ts) keeps what both MQTT
// versions share: packet ids, messages in flight, the outbox, keep-alive, reconnects, delivery to
// subscriptions and the QoS 2 exactly-once guard. A dialect, MQTT 3.1.1 (v311/dialect.ts, the
// default) or MQTT 5 (v5/protocol.ts, `protocol: mqtt5()`), encodes the packets the client sends,
// decodes the ones the server sends into calls on SessionEvents, and holds the rules of its version.
// Types only: the session never loads a dialect it was not given.
import type { Logger } from '../ports';
import type { MqttProtocolError } from './errors';
import type { OutboxMessage } from './outbox';
import type { QoS } from './packets';
import type { PacketFramer } from './parser';
import type { AckInfo, DisconnectOptions, Properties, PublishProperties, SubscribeOptions5, Subscription5, UserProperties, WillProperties } from './properties';
import type { Reader } from './reader';

/** The client options a dialect checks (those its version has no place for) or uses. */
export interface DialectOptions {
  clientId: string;
  cleanSession?: boolean;
  username?: string;
  password?: unknown;
  will?: object;
  log?: Logger;
}

/** CONNECT, as the session asks for it. */
export interface ConnectFields {
  clientId: string;
  cleanSession: boolean;
  /** Seconds; 0 disables keep-alive. */
  keepAlive: number;
  username?: string;
  /** A string goes as UTF-8. */
  password?: string | Uint8Array;
  /** QoS 0 and no retain when left out. */
  will?: { topic: string; payload: string | Uint8Array; qos?: QoS; retain?: boolean; properties?: WillProperties };
  /** The largest packet the client accepts (MQTT 5 announces it). */
  maxPacketSize: number;
}

/** The subscribe() options a dialect encodes (MQTT 5 only; 3.1.1 refuses them). */
export interface SubscribeFields extends SubscribeOptions5 {
  subscriptionIdentifier?: number;
  userProperties?: UserProperties;
}

/** What a dialect tells its session: one call per packet from the server. */
export interface SessionEvents {
  /** CONNACK: the connection is accepted, or refused with `refusal` (the session then closes it). */
  connack(sessionPresent: boolean, refusal: Error | undefined): void;
  /**
   * An application message: `first` is its PUBLISH header byte (QoS, RETAIN, DUP), `id` its packet
   * id (at QoS 1 and 2), `properties` its MQTT 5 properties. (Arguments left out cost nothing.)
   */
  publish(topic: string, payload: Uint8Array, first: number, id?: number, properties?: Properties): void;
  /** A PUBLISH over maxPacketSize, read through: its topic (when it was kept) and packet id. */
  oversized(topic: string | undefined, id: number, first: number, properties?: Properties): void;
  /** PUBACK, PUBREC, PUBREL or PUBCOMP for packet `id`; no `reason` (or 0) is success, the only one MQTT 3.1.1 has. */
  ack(type: number, id: number, reason?: number, properties?: Properties): void;
  /** SUBACK or UNSUBACK: per filter a granted QoS or a reason code (MQTT 3.1.1's UNSUBACK has none). */
  subAck(type: number, id: number, codes: number[], properties?: Properties): void;
  pingResp(): void;
  /** The connection ends with this error: a DISCONNECT from the server, failed authentication. */
  close(error: Error): void;
  /** Bytes the dialect sends by itself (MQTT 5 AUTH); dropped when there is no connection. */
  send(bytes: Uint8Array): void;
  /**
   * QoS 2 messages received and not yet released that a message with packet `id` would come in
   * addition to: 0 when `id` is one of them (MQTT 5 limits them with its Receive Maximum).
   */
  unreleased(id: number): number;
}

export interface Dialect {
  /** Binds the dialect to its session (once: it holds that session's connection state); refuses options its version has no place for. */
  attach(session: SessionEvents, options: DialectOptions): void;
  /**
   * Every message goes through the outbox and message() (MQTT 5: properties, server limits). Without
   * it (MQTT 3.1.1), a publish may go from publish() straight to the socket, encoded by publish().
   */
  readonly outboxOnly?: boolean;

  // From the last CONNACK (MQTT 5; MQTT 3.1.1 has none of them).
  /** The server's Receive Maximum: QoS 1/2 messages it takes unacknowledged. */
  readonly receiveMaximum?: number;
  /** Seconds, when the server overrode the client's keep-alive. */
  readonly serverKeepAlive?: number;
  readonly connack?: Properties;
  /**
   * After CONNACK: how many messages awaiting PUBACK or PUBREC may go again under their packet ids
   * within an inflight `window`; the session queues the others again (MQTT 5: the server's Receive
   * Maximum bounds them). Without it, every one goes again (MQTT 3.1.1 section 4.4).
   */
  resendLimit?(window: number): number;

  // Decoding.
  /** The framer of a new connection. */
  framer(maxPacketSize: number): PacketFramer;
  /** Decodes the packet `r` is on and tells the session. Throws MqttProtocolError. */
  receive(r: Reader): void;
  /** What to tell the server before closing for a protocol error (MQTT 5: DISCONNECT with the reason). */
  protocolError?(error: MqttProtocolError): Uint8Array;

  // Encoding.
  connect(fields: ConnectFields): Uint8Array;
  /** A message's properties, checked and encoded once when it is published. */
  publishProperties(p: PublishProperties): Uint8Array;
  /**
   * PUBLISH from its flags (DUP 8, QoS << 1, RETAIN 1), the topic as lengthPrefixed() encodes it, the
   * payload and the packet id (at QoS 1 and 2), without properties: the fast path of publish().
   */
  publish(flags: number, topic: Uint8Array, payload: Uint8Array, id?: number): Uint8Array;
  /** PUBLISH of message `m` from the outbox, within the server's limits; or the error that keeps it from going. */
  message(m: OutboxMessage, flags: number, topic: Uint8Array): Uint8Array | Error;
  /** PUBACK, PUBREC, PUBREL or PUBCOMP (success). */
  ack(type: number, id: number): Uint8Array;
  /**
   * What an acknowledgement with a reason code means for message `m`: the error that refused it, or
   * the details of a success (MQTT 5; MQTT 3.1.1 acknowledgements carry no reason code).
   */
  ackOutcome?(type: number, reason: number, m: OutboxMessage, properties: Properties | undefined): Error | AckInfo;
  subscribe(id: number, list: Subscription5[], options: SubscribeFields): Uint8Array;
  unsubscribe(id: number, filters: string[]): Uint8Array;
  /** The error for the filters a SUBACK or UNSUBACK refused (codes from 0x80; `refused`: those filters, in order). */
  refusal(type: number, filters: string[], codes: number[], properties: Properties | undefined, refused: string[]): Error;
  ping(): Uint8Array;
  /** DISCONNECT; MQTT 5 with a reason code, a new session expiry, a reason string. */
  disconnect(options?: DisconnectOptions): Uint8Array;
}
