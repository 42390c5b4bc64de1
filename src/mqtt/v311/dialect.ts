// MQTT 3.1.1 (OASIS mqtt-v3.1.1), the client's default dialect: fixed packet layouts, read in place
// from the framer. What MQTT 5 adds (properties, reason codes, the server's limits) is refused with a
// message that says how to get it.
import { encodeAck, encodeConnect, encodeEmpty, encodeSubscribe, encodeUnsubscribe, packet, PASSWORD_NEEDS_USER } from '../codec';
import type { ConnectFields, Dialect, DialectOptions, SessionEvents, SubscribeFields } from '../dialect';
import { fail, invalid, MqttClientError, MqttConnectError } from '../errors';
import type { OutboxMessage } from '../outbox';
import { OversizedPublish, SKIPPED, TOPIC_DROPPED } from '../oversized';
import { CONNACK, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from '../packets';
import { PacketFramer } from '../parser';
import type { DisconnectOptions, Subscription5 } from '../properties';
import { expectLength, packetOf, readId, readTopic, topicUnsafe, type Reader } from '../reader';
import { nativeText } from '../utf8';
import { readConnack, readGranted } from './decode';

/** Refuses the MQTT 5 options: any key of `o` with a value that is not in `keys` (space-separated). */
const only311 = (o: object, keys: string): void => {
  for (const k in o) {
    if ((o as Record<string, unknown>)[k] !== undefined && keys.split(' ').indexOf(k) < 0) invalid(`${k} needs MQTT 5 (protocol: mqtt5())`);
  }
};

/** Bytes of the PUBLISH buffer each client reuses: packets of up to 127 body bytes (one byte of remaining length) are built in it. */
const SCRATCH = 129;

export class Mqtt311Dialect implements Dialect {
  get fastPublish(): boolean {
    return true;
  }

  #session: SessionEvents | undefined;
  /**
   * Small PUBLISH packets are built here and written at once (the TCP port copies what it keeps), so
   * a publish allocates only a view; `#topic` is the topic field left at [2, ...) by the last one, not
   * copied again for the next publish to the same topic.
   */
  readonly #out = new Uint8Array(SCRATCH);
  #topic: Uint8Array | undefined;

  attach(session: SessionEvents, options: DialectOptions): void {
    // MQTT 5 lets the server assign a client id, and sends a password without a user name
    if (!options.clientId && options.cleanSession === false) invalid('cleanSession: false needs a client id');
    if (options.password !== undefined && options.username === undefined) invalid(PASSWORD_NEEDS_USER);
    if (options.will) only311(options.will, 'topic payload qos retain');
    this.#session = session;
  }

  framer(maxPacketSize: number): PacketFramer {
    // a PUBLISH over maxPacketSize is read through and reported, not a reason to disconnect
    return new PacketFramer(maxPacketSize, false, OversizedPublish);
  }

  receive(r: Reader): void {
    const first = r.first;
    const type = first >> 4;
    const session = this.#session!;
    if (type === PUBLISH) {
      const b = r.b;
      // readTopic() inlined for ASCII topics, the common case
      const start = r.at + 2;
      const end = start + ((b[start - 2] << 8) | b[start - 1]);
      let topic = end <= r.end ? nativeText(b, start, end) : undefined;
      if (topic && !topicUnsafe(topic)) r.at = end;
      else if (!(topic = readTopic(r))) fail('bad-topic', 'PUBLISH: empty topic name');
      const id = first & 6 ? readId(r) : 0;
      const payload = new Uint8Array(b.buffer, b.byteOffset + r.at, r.end - r.at);
      // XS charges every argument passed: at QoS 0 the id is left out
      return id ? session.publish(topic, payload, first, id) : session.publish(topic, payload, first);
    }
    if (type >= PUBACK && type <= PUBCOMP) {
      const b = r.b;
      const at = r.at;
      if (r.end - at !== 2) expectLength(r, 2);
      const id = (b[at] << 8) | b[at + 1];
      return session.ack(type, id || readId(r));
    }
    if (type === SUBACK || type === UNSUBACK) {
      if (type === UNSUBACK) expectLength(r, 2);
      const id = readId(r);
      return session.subAck(type, id, type === SUBACK ? readGranted(r) : [], undefined);
    }
    if (type === PINGRESP) {
      expectLength(r, 0);
      return session.pingResp();
    }
    if (type === CONNACK) {
      const v = readConnack(r);
      return session.connack(v > 255, v & 255 ? new MqttConnectError(v & 255) : undefined);
    }
    if (first & SKIPPED) {
      // the header of a PUBLISH over maxPacketSize (oversized.ts): its topic length is 0 when the topic was not kept
      const topic = readTopic(r);
      if (!topic && !(first & TOPIC_DROPPED)) fail('bad-topic', 'PUBLISH: empty topic name');
      return session.oversized(topic || undefined, first & 6 ? readId(r) : 0, first, undefined);
    }
    fail('bad-packet-type', `${packetOf(r)} from a broker`);
  }

  readonly connect: (f: ConnectFields) => Uint8Array = encodeConnect;

  publishProperties(): never {
    return invalid('properties needs MQTT 5 (protocol: mqtt5())');
  }

  publish(flags: number, topic: Uint8Array, payload: Uint8Array, id?: number): Uint8Array {
    const body = (flags & 6 ? topic.length + 2 : topic.length) + payload.length;
    let out: Uint8Array = this.#out;
    let at = topic.length + 2;
    if (body < 128) {
      // one byte of remaining length: built in #out, the topic left in place from the last time
      out[0] = 0x30 | flags;
      out[1] = body;
      if (topic !== this.#topic) {
        out.set(topic, 2);
        this.#topic = topic;
      }
    } else {
      out = packet(0x30 | flags, body);
      at = out.length - body;
      out.set(topic, at);
      at += topic.length;
    }
    if (flags & 6) {
      out[at++] = id! >> 8;
      out[at++] = id! & 255;
    }
    out.set(payload, at);
    return body < 128 ? new Uint8Array(out.buffer, 0, body + 2) : out;
  }

  message(m: OutboxMessage, flags: number, topic: Uint8Array): Uint8Array {
    return this.publish(flags, topic, m.payload, m.id);
  }

  readonly ack = encodeAck;

  subscribe(id: number, list: Subscription5[], options: SubscribeFields): Uint8Array {
    for (const s of list) only311(s, 'filter qos');
    only311(options, 'qos onMessage');
    return encodeSubscribe({ type: SUBSCRIBE, packetId: id, subscriptions: list });
  }

  unsubscribe(id: number, filters: string[]): Uint8Array {
    return encodeUnsubscribe({ type: UNSUBSCRIBE, packetId: id, filters });
  }

  refusal(_type: number, filters: string[], codes: number[]): Error {
    const refused = filters.filter((_f, i) => codes[i] >= 0x80);
    return new MqttClientError('subscribe-failed', `the broker refused the subscription to ${refused.join(', ')} (0x80)`);
  }

  ping(): Uint8Array {
    return encodeEmpty(PINGREQ);
  }

  disconnect(options?: DisconnectOptions): Uint8Array {
    if (options) only311(options, '');
    return encodeEmpty(DISCONNECT);
  }
}
