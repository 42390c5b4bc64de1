// Encoders for the MQTT 3.1.1 packets a client sends (OASIS mqtt-v3.1.1 section 3). One exact-size
// allocation per packet. The packets only a broker sends are in all-packets.ts.
import { invalid } from './errors';
import { CONNECT, PUBREL, SUBSCRIBE, UNSUBSCRIBE, type ConnectPacket, type PublishPacket, type QoS, type SubscribePacket, type Subscription, type UnsubscribePacket, type Will } from './packets';
import { encodeUtf8 } from './utf8';

export const PASSWORD_NEEDS_USER = 'a password needs a user name: set username too';

/**
 * A packet with its fixed header written; the `remaining` body bytes start at `out.length - remaining`.
 * In `scratch` when it fits (a view of it: for a port that copies what it writes), else new.
 */
export const packet = (first: number, remaining: number, scratch?: Uint8Array): Uint8Array => {
  if (remaining > 268435455) invalid(`a packet of ${remaining} bytes is over MQTT's 256 MB`);
  const size = remaining + (remaining < 128 ? 2 : remaining < 16384 ? 3 : remaining < 2097152 ? 4 : 5);
  const out = scratch && size <= scratch.length ? scratch.subarray(0, size) : new Uint8Array(size);
  out[0] = first;
  let i = 1;
  for (; remaining > 127; remaining >>>= 7) out[i++] = (remaining & 127) | 128;
  out[i] = remaining;
  return out;
};

/** A string or bytes field: 2-byte length, then the bytes (a string as UTF-8). */
export const lengthPrefixed = (value: string | Uint8Array, what: string): Uint8Array => {
  const b = typeof value === 'string' ? encodeUtf8(value) : value;
  if (b.length > 65535) invalid(`${what} is ${b.length} bytes, over 65535`);
  const out = new Uint8Array(b.length + 2);
  out[0] = b.length >> 8;
  out[1] = b.length & 255;
  out.set(b, 2);
  return out;
};

/** A packet from its body fields: a number is one byte, bytes go as they are. */
const build = (first: number, fields: (number | Uint8Array)[]): Uint8Array => {
  let n = 0;
  for (const f of fields) n += typeof f === 'number' ? 1 : f.length;
  const out = packet(first, n);
  let at = out.length - n;
  for (const f of fields) {
    if (typeof f === 'number') out[at++] = f;
    else {
      out.set(f, at);
      at += f.length;
    }
  }
  return out;
};

/** CONNECT fields, as a packet or as the session gives them (a string password or will payload goes as UTF-8; a will without QoS has QoS 0). */
type ConnectInput = Omit<ConnectPacket, 'type' | 'password' | 'will'> & {
  password?: string | Uint8Array;
  will?: Omit<Will, 'payload' | 'qos' | 'retain'> & { payload: string | Uint8Array; qos?: QoS; retain?: boolean };
};

/** CONNECT (its `type` is not read: the session's ConnectFields do as well). */
export const encodeConnect = (p: ConnectInput): Uint8Array => {
  if (p.password !== undefined && p.username === undefined) invalid(PASSWORD_NEEDS_USER);
  return connectPacket(p);
};

/** CONNECT without the check of encodeConnect(): the client's dialect refuses a password without a user name when it is made. */
export const connectPacket = (p: ConnectInput): Uint8Array => {
  const { will, username, password, keepAlive } = p;
  const flags =
    (p.cleanSession ? 2 : 0) | (will ? 4 | ((will.qos || 0) << 3) | (will.retain ? 32 : 0) : 0) | (password !== undefined ? 64 : 0) | (username !== undefined ? 128 : 0);
  // protocol name "MQTT", level 4
  const fields = [0, 4, 77, 81, 84, 84, 4, flags, keepAlive >> 8, keepAlive & 255, lengthPrefixed(p.clientId, 'client id')];
  if (will) fields.push(lengthPrefixed(will.topic, 'will topic'), lengthPrefixed(will.payload, 'will payload'));
  if (username !== undefined) fields.push(lengthPrefixed(username, 'user name'));
  if (password !== undefined) fields.push(lengthPrefixed(password, 'password'));
  return build(CONNECT << 4, fields);
};

/**
 * PUBLISH from its flags (DUP 8, QoS << 1, RETAIN 1), the topic as lengthPrefixed() encodes it, the
 * payload and, at QoS 1 and 2, the packet id. The client's hot path: no packet object.
 */
export const publishPacket = (flags: number, topic: Uint8Array, payload: Uint8Array, id?: number, scratch?: Uint8Array): Uint8Array => {
  const n = (flags & 6 ? topic.length + 2 : topic.length) + payload.length;
  const out = packet(0x30 | flags, n, scratch);
  let at = out.length - n;
  out.set(topic, at);
  at += topic.length;
  if (flags & 6) {
    out[at++] = id! >> 8;
    out[at++] = id! & 255;
  }
  out.set(payload, at);
  return out;
};

export const encodePublish = (p: PublishPacket): Uint8Array => {
  return publishPacket((p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0), lengthPrefixed(p.topic, 'topic'), p.payload, p.packetId);
};

/** PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK. */
export const encodeAck = (type: number, packetId: number): Uint8Array => {
  const out = new Uint8Array(4);
  out[0] = (type << 4) | (type === PUBREL ? 2 : 0);
  out[1] = 2;
  out[2] = packetId >> 8;
  out[3] = packetId & 255;
  return out;
};

export const encodeSubscribe = (p: SubscribePacket): Uint8Array => {
  return subscribePacket(p.packetId, p.subscriptions);
};

/** SUBSCRIBE from its packet id and filters: the client's encoder. */
export const subscribePacket = (id: number, subscriptions: Subscription[]): Uint8Array => {
  const fields: (number | Uint8Array)[] = [id >> 8, id & 255];
  for (const s of subscriptions) fields.push(lengthPrefixed(s.filter, 'a topic filter'), s.qos);
  return build((SUBSCRIBE << 4) | 2, fields);
};

export const encodeUnsubscribe = (p: UnsubscribePacket): Uint8Array => {
  return unsubscribePacket(p.packetId, p.filters);
};

/** UNSUBSCRIBE from its packet id and filters: the client's encoder. */
export const unsubscribePacket = (id: number, filters: string[]): Uint8Array => {
  const fields: (number | Uint8Array)[] = [id >> 8, id & 255];
  for (const f of filters) fields.push(lengthPrefixed(f, 'a topic filter'));
  return build((UNSUBSCRIBE << 4) | 2, fields);
};

/** PINGREQ, PINGRESP or DISCONNECT. */
export const encodeEmpty = (type: number): Uint8Array => {
  const out = new Uint8Array(2);
  out[0] = type << 4;
  return out;
};
