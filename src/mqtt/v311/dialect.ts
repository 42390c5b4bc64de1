// MQTT 3.1.1 (OASIS mqtt-v3.1.1), the client's default dialect: fixed packet layouts, read in place
// from the framer. What MQTT 5 adds (properties, reason codes, the server's limits) is refused with a
// message that says how to get it.
import { connectPacket, encodeAck, encodeEmpty, PASSWORD_NEEDS_USER, publishPacket, subscribePacket, unsubscribePacket } from '../codec';
import type { ConnectFields, Dialect, DialectOptions, SessionEvents, SubscribeFields } from '../dialect';
import { fail, invalid, MqttClientError, MqttConnectError } from '../errors';
import type { OutboxMessage } from '../outbox';
import { OversizedPublish, SKIPPED, TOPIC_DROPPED } from '../oversized';
import { CONNACK, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, SUBACK, UNSUBACK } from '../packets';
import { PacketFramer } from '../parser';
import type { DisconnectOptions, PublishProperties, Subscription5 } from '../properties';
import { expectLength, packetOf, readId, readTopic, type Reader } from '../reader';
import { nativeText } from '../utf8';
import { readConnack, readGranted } from './decode';
import { indexOf } from '../topic';

/** A PUBLISH topic name: MQTT 3.1.1 has no empty one (MQTT 5 lets a topic alias stand for it). */
function topicOf(r: Reader): string {
  return readTopic(r) || fail('bad-topic', 'PUBLISH: empty topic name');
}

/** Refuses the MQTT 5 options: any key of `o` with a value that is not in `keys` (space-separated). */
const only311 = (o: object, keys: string): void => {
  for (const k in o) {
    if ((o as Record<string, unknown>)[k] !== undefined && keys.split(' ').indexOf(k) < 0) invalid(`${k} needs MQTT 5 (protocol: mqtt5())`);
  }
};

/**
 * XS's ArrayBuffer.prototype.concat (an XS extension; Node has none): joins whole buffers in one
 * native copy, where TypedArray.set costs XS about 2 computrons per byte.
 */
const join = (ArrayBuffer.prototype as { concat?: unknown }).concat;
/** A PUBLISH of up to 127 body bytes (one byte of remaining length), built without join. */
const SCRATCH = 129;
/** In place of the packet id at QoS 0. */
const NO_BUFFER = new ArrayBuffer(0);

interface Joinable {
  concat(...buffers: ArrayBufferLike[]): ArrayBuffer;
}

export class Mqtt311Dialect implements Dialect {

  #session: SessionEvents | undefined;
  /**
   * The fixed header and the packet id of a PUBLISH joined from buffers (XS): each its own 2-byte
   * buffer. Without join (Node), #head is where small packets are built instead: the TCP port copies
   * what it writes, and an engine such as V8 makes a new buffer of that size off its heap, slowly.
   */
  readonly #head = new Uint8Array(join ? 2 : SCRATCH);
  readonly #id = new Uint8Array(2);

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
      // topicUnsafe() inlined: its call costs XS 20 computrons per message, 40% of the check
      if (topic && indexOf.call(topic, '+') < 0 && indexOf.call(topic, '#') < 0 && indexOf.call(topic, '\u0000') < 0) r.at = end;
      else topic = topicOf(r);
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
      return session.subAck(type, id, type === SUBACK ? readGranted(r) : []);
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
      // (past the topic's length, 0, when it was dropped)
      const topic = first & TOPIC_DROPPED ? ((r.at += 2), undefined) : topicOf(r);
      return session.oversized(topic, first & 6 ? readId(r) : 0, first);
    }
    fail('bad-packet-type', `${packetOf(r)} from a broker`);
  }

  // a method, not a property holding connectPacket: a property is a slot in every client
  connect(f: ConnectFields): Uint8Array {
    return connectPacket(f);
  }

  publishProperties(properties: PublishProperties): never {
    return only311({ properties }, '') as never;
  }

  publish(flags: number, topic: Uint8Array, payload: Uint8Array, id?: number): Uint8Array {
    const n = payload.length;
    const body = (flags & 6 ? topic.length + 2 : topic.length) + n;
    // On XS, a packet with one byte of remaining length is joined from whole buffers: the header,
    // the topic as cached (its own buffer), the packet id, the payload when it fills its buffer.
    if (join && body < 128 && !payload.byteOffset && n === payload.buffer.byteLength) {
      const head = this.#head;
      const ids = this.#id;
      head[0] = 0x30 | flags;
      head[1] = body;
      ids[0] = id! >> 8;
      ids[1] = id!;
      return new Uint8Array((head.buffer as unknown as Joinable).concat(topic.buffer, flags & 6 ? ids.buffer : NO_BUFFER, payload.buffer));
    }
    return publishPacket(flags, topic, payload, id, join ? undefined : this.#head);
  }

  message(m: OutboxMessage, flags: number, topic: Uint8Array): Uint8Array {
    return this.publish(flags, topic, m.payload, m.id);
  }

  readonly ack = encodeAck;

  subscribe(id: number, list: Subscription5[], options: SubscribeFields): Uint8Array {
    for (const s of list) only311(s, 'filter qos');
    only311(options, 'qos onMessage');
    return subscribePacket(id, list);
  }

  unsubscribe(id: number, filters: string[]): Uint8Array {
    return unsubscribePacket(id, filters);
  }

  refusal(_type: number, _filters: string[], _codes: number[], _properties: undefined, refused: string[]): Error {
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
