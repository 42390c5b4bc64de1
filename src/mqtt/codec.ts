// Encoders for the MQTT 3.1.1 packets a client sends (OASIS mqtt-v3.1.1 section 3). One exact-size
// allocation per packet. The packets only a broker sends are in all-packets.ts.
import { MqttClientError } from './errors';
import {
  CONNECT,
  PUBLISH,
  PUBREL,
  SUBSCRIBE,
  UNSUBSCRIBE,
  type ConnectPacket,
  type PublishPacket,
  type SubscribePacket,
  type UnsubscribePacket,
} from './packets';
import { utf8Length, writeUtf8 } from './utf8';

const MAX_REMAINING = 268435455;

function sizeOfLength(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** Allocates a packet with its fixed header written; returns it and the offset of the variable header. */
function start(firstByte: number, remaining: number): [Uint8Array, number] {
  if (remaining > MAX_REMAINING) throw new MqttClientError('invalid-argument', `packet of ${remaining} bytes exceeds the MQTT limit of 256 MB`);
  const out = new Uint8Array(1 + sizeOfLength(remaining) + remaining);
  out[0] = firstByte;
  let i = 1;
  do {
    let b = remaining & 127;
    remaining >>>= 7;
    if (remaining) b |= 128;
    out[i++] = b;
  } while (remaining);
  return [out, i];
}

function writeString(text: string, length: number, out: Uint8Array, at: number): number {
  out[at] = length >> 8;
  out[at + 1] = length & 255;
  return writeUtf8(text, out, at + 2);
}

function writeBytes(bytes: Uint8Array, out: Uint8Array, at: number): number {
  out[at] = bytes.length >> 8;
  out[at + 1] = bytes.length & 255;
  out.set(bytes, at + 2);
  return at + 2 + bytes.length;
}

function checkLength(n: number, what: string): number {
  if (n > 65535) throw new MqttClientError('invalid-argument', `${what} is ${n} bytes; MQTT allows at most 65535`);
  return n;
}

export function encodeConnect(p: ConnectPacket): Uint8Array {
  const idLength = checkLength(utf8Length(p.clientId), 'the client id');
  let remaining = 10 + 2 + idLength;
  let flags = p.cleanSession ? 2 : 0;
  let willTopicLength = 0;
  if (p.will) {
    willTopicLength = checkLength(utf8Length(p.will.topic), 'the will topic');
    remaining += 4 + willTopicLength + checkLength(p.will.payload.length, 'the will payload');
    flags |= 4 | (p.will.qos << 3) | (p.will.retain ? 32 : 0);
  }
  let userLength = 0;
  if (p.username !== undefined) {
    userLength = checkLength(utf8Length(p.username), 'the user name');
    remaining += 2 + userLength;
    flags |= 128;
  }
  if (p.password !== undefined) {
    if (p.username === undefined) {
      throw new MqttClientError('invalid-argument', 'MQTT 3.1.1 sends a password only with a user name: set username too');
    }
    remaining += 2 + checkLength(p.password.length, 'the password');
    flags |= 64;
  }
  const [out, i] = start(CONNECT << 4, remaining);
  // protocol name "MQTT", level 4
  out.set([0, 4, 77, 81, 84, 84, 4, flags, p.keepAlive >> 8, p.keepAlive & 255], i);
  let at = writeString(p.clientId, idLength, out, i + 10);
  if (p.will) {
    at = writeString(p.will.topic, willTopicLength, out, at);
    at = writeBytes(p.will.payload, out, at);
  }
  if (p.username !== undefined) at = writeString(p.username, userLength, out, at);
  if (p.password !== undefined) writeBytes(p.password, out, at);
  return out;
}

/** Encodes a PUBLISH. `topicBytes` may carry the topic already encoded (the client caches it). */
export function encodePublish(p: PublishPacket, topicBytes?: Uint8Array): Uint8Array {
  const topicLength = topicBytes ? topicBytes.length : checkLength(utf8Length(p.topic), 'the topic');
  const qos = p.qos;
  const remaining = 2 + topicLength + (qos ? 2 : 0) + p.payload.length;
  const [out, i] = start((PUBLISH << 4) | (p.dup ? 8 : 0) | (qos << 1) | (p.retain ? 1 : 0), remaining);
  out[i] = topicLength >> 8;
  out[i + 1] = topicLength & 255;
  let at = i + 2;
  if (topicBytes) {
    out.set(topicBytes, at);
    at += topicLength;
  } else at = writeUtf8(p.topic, out, at);
  if (qos) {
    const id = p.packetId!;
    out[at] = id >> 8;
    out[at + 1] = id & 255;
    at += 2;
  }
  out.set(p.payload, at);
  return out;
}

export function encodeAck(type: number, packetId: number): Uint8Array {
  return new Uint8Array([(type << 4) | (type === PUBREL ? 2 : 0), 2, packetId >> 8, packetId & 255]);
}

export function encodeSubscribe(p: SubscribePacket): Uint8Array {
  const lengths = p.subscriptions.map((s) => checkLength(utf8Length(s.filter), 'a topic filter'));
  let remaining = 2;
  for (const n of lengths) remaining += 3 + n;
  const [out, i] = start((SUBSCRIBE << 4) | 2, remaining);
  out[i] = p.packetId >> 8;
  out[i + 1] = p.packetId & 255;
  let at = i + 2;
  p.subscriptions.forEach((s, k) => {
    at = writeString(s.filter, lengths[k], out, at);
    out[at++] = s.qos;
  });
  return out;
}

export function encodeUnsubscribe(p: UnsubscribePacket): Uint8Array {
  const lengths = p.filters.map((f) => checkLength(utf8Length(f), 'a topic filter'));
  let remaining = 2;
  for (const n of lengths) remaining += 2 + n;
  const [out, i] = start((UNSUBSCRIBE << 4) | 2, remaining);
  out[i] = p.packetId >> 8;
  out[i + 1] = p.packetId & 255;
  let at = i + 2;
  p.filters.forEach((f, k) => (at = writeString(f, lengths[k], out, at)));
  return out;
}

/** PINGREQ, PINGRESP or DISCONNECT. */
export function encodeEmpty(type: number): Uint8Array {
  return new Uint8Array([type << 4, 0]);
}

/** Allocates a packet with its fixed header; for encoders of other packet sets (all-packets.ts). */
export { start as startPacket };
