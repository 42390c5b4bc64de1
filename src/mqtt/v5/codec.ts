// Encoders for the MQTT 5 packets a client sends (OASIS mqtt-v5.0 section 3). The packets only a
// server sends are in all-packets.ts, beside the decoders of every packet.
import { lengthPrefixed, packet } from '../codec';
import { invalid } from '../errors';
import { CONNECT, PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE } from '../packets';
import type { Properties } from '../properties';
import { sharedFilterProblem } from '../topic';
import type { Ack5, Connect5, Disconnect5, Publish5, Subscribe5, Subscription5, Unsubscribe5 } from './packets';
import { WILL, writeProperties } from './properties';
import { Writer } from './writer';

/** The Topic Alias property's identifier. */
const TOPIC_ALIAS = 0x23;

/** Bytes a Variable Byte Integer of `n` takes. */
export function vbiSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** Properties as the Property Length and the properties, appended to `w`. */
export function appendProperties(w: Writer, p: Properties | undefined, type: number): void {
  const body = new Writer();
  writeProperties(body, p, type);
  w.vbi(body.length);
  w.add(body.bytes());
}

/** The properties' contents without their length (the client keeps these per message). */
export function propertyContents(p: Properties | undefined, type: number): Uint8Array {
  const w = new Writer();
  writeProperties(w, p, type);
  return w.bytes();
}

export function encodeConnect5(p: Connect5): Uint8Array {
  const { will, username, password } = p;
  const w = new Writer();
  // protocol name "MQTT", version 5
  for (const b of [0, 4, 77, 81, 84, 84, 5]) w.byte(b);
  w.byte((p.cleanStart ? 2 : 0) | (will ? 4 | (will.qos << 3) | (will.retain ? 32 : 0) : 0) | (password ? 64 : 0) | (username !== undefined ? 128 : 0));
  w.u16(p.keepAlive);
  appendProperties(w, p.properties, CONNECT);
  w.string(p.clientId, 'client id');
  if (will) {
    appendProperties(w, will.properties, WILL);
    w.string(will.topic, 'will topic');
    w.binary(will.payload, 'will payload');
  }
  if (username !== undefined) w.string(username, 'user name');
  if (password) w.binary(password, 'password');
  return w.packet(CONNECT << 4);
}

/**
 * PUBLISH from its flags (DUP 8, QoS << 1, RETAIN 1), the topic as lengthPrefixed() encodes it (or
 * 00 00 when `alias` stands for it), the packet id at QoS 1 and 2, a Topic Alias when `alias` > 0, the
 * other properties' contents, and the payload. The client's path: one allocation.
 */
export function publishPacket5(flags: number, topic: Uint8Array, id: number, alias: number, props: Uint8Array | undefined, payload: Uint8Array): Uint8Array {
  const pl = (props ? props.length : 0) + (alias ? 3 : 0);
  const qos = flags & 6;
  const n = topic.length + (qos ? 2 : 0) + vbiSize(pl) + pl + payload.length;
  const out = packet((PUBLISH << 4) | flags, n);
  let at = out.length - n;
  out.set(topic, at);
  at += topic.length;
  if (qos) {
    out[at++] = id >> 8;
    out[at++] = id & 255;
  }
  for (let v = pl; ; ) {
    out[at++] = v > 127 ? (v & 127) | 128 : v;
    v >>>= 7;
    if (!v) break;
  }
  if (alias) {
    out[at++] = TOPIC_ALIAS;
    out[at++] = alias >> 8;
    out[at++] = alias & 255;
  }
  if (props) {
    out.set(props, at);
    at += props.length;
  }
  out.set(payload, at);
  return out;
}

export function encodePublish5(p: Publish5): Uint8Array {
  const props = p.properties;
  if (!p.topic && !(props && props.topicAlias)) invalid('a PUBLISH with an empty topic needs a topic alias');
  if (p.qos && !p.packetId) invalid('a QoS 1 or 2 PUBLISH needs a packet id');
  const flags = (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  return publishPacket5(flags, lengthPrefixed(p.topic, 'topic'), p.packetId || 0, 0, propertyContents(props, PUBLISH), p.payload);
}

/**
 * PUBACK, PUBREC, PUBREL or PUBCOMP. Success without properties takes the short form (the packet id
 * only); a reason code without properties leaves out the property length.
 */
export function encodeAck5(p: Ack5): Uint8Array {
  return reasonPacket((p.type << 4) | (p.type === PUBREL ? 2 : 0), p.packetId, p.reasonCode, p.properties, p.type);
}

/** DISCONNECT or AUTH; success without properties is an empty body. */
export function encodeDisconnect5(p: Disconnect5): Uint8Array {
  return reasonPacket(p.type << 4, 0, p.reasonCode, p.properties, p.type);
}

function reasonPacket(first: number, id: number, code: number, properties: Properties | undefined, type: number): Uint8Array {
  const w = new Writer();
  if (id) w.u16(id);
  const props = propertyContents(properties, type);
  if (code || props.length) {
    w.byte(code);
    if (props.length) {
      w.vbi(props.length);
      w.add(props);
    }
  }
  return w.packet(first);
}

/** The Subscription Options byte: QoS, No Local 4, Retain As Published 8, Retain Handling << 4. */
export function subscriptionOptions(s: Subscription5): number {
  const rh = s.retainHandling || 0;
  if (rh !== 0 && rh !== 1 && rh !== 2) invalid(`retainHandling must be 0, 1 or 2, not ${rh}`);
  return s.qos | (s.noLocal ? 4 : 0) | (s.retainAsPublished ? 8 : 0) | (rh << 4);
}

export function encodeSubscribe5(p: Subscribe5): Uint8Array {
  const w = new Writer();
  w.u16(p.packetId);
  appendProperties(w, p.properties, SUBSCRIBE);
  for (const s of p.subscriptions) {
    const problem = sharedFilterProblem(s.filter);
    if (problem) invalid(problem);
    if (s.noLocal && s.filter.startsWith('$share/')) invalid(`noLocal is not allowed on the shared subscription ${s.filter}`);
    w.string(s.filter, 'a topic filter');
    w.byte(subscriptionOptions(s));
  }
  return w.packet((SUBSCRIBE << 4) | 2);
}

export function encodeUnsubscribe5(p: Unsubscribe5): Uint8Array {
  const w = new Writer();
  w.u16(p.packetId);
  appendProperties(w, p.properties, UNSUBSCRIBE);
  for (const f of p.filters) w.string(f, 'a topic filter');
  return w.packet((UNSUBSCRIBE << 4) | 2);
}
