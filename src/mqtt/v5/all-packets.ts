// Every MQTT 5 packet type in both directions: `encode5` and `decodeAnyPacket5`, for brokers, tools
// and tests. A client needs only codec.ts, decode.ts and properties.ts.
import { fail, invalid } from '../errors';
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBLISH, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, type QoS } from '../packets';
import { expectEnd, packetOf, readBinary, readId, readString, readU16, readU8, type Reader } from '../reader';
import { sharedFilterProblem, topicFilterProblem, topicNameProblem } from '../topic';
import { appendProperties, encodeAck5, encodeConnect5, encodeDisconnect5, encodePublish5, encodeSubscribe5, encodeUnsubscribe5 } from './codec';
import { decodeFromServer5 } from './decode';
import type { Connect5, Packet5, Subscription5 } from './packets';
import { readProperties, WILL } from './properties';
import { Writer } from './writer';

export function encode5(p: Packet5): Uint8Array {
  switch (p.type) {
    case CONNECT:
      return encodeConnect5(p);
    case CONNACK: {
      const w = new Writer();
      w.byte(p.sessionPresent ? 1 : 0);
      w.byte(p.reasonCode);
      appendProperties(w, p.properties, CONNACK);
      return w.packet(CONNACK << 4);
    }
    case PUBLISH:
      return encodePublish5(p);
    case SUBSCRIBE:
      return encodeSubscribe5(p);
    case SUBACK:
    case UNSUBACK: {
      if (!p.reasonCodes.length) invalid(`a ${p.type === SUBACK ? 'SUBACK' : 'UNSUBACK'} needs a reason code per topic filter`);
      const w = new Writer();
      w.u16(p.packetId);
      appendProperties(w, p.properties, p.type);
      for (const c of p.reasonCodes) w.byte(c);
      return w.packet(p.type << 4);
    }
    case UNSUBSCRIBE:
      return encodeUnsubscribe5(p);
    case PINGREQ:
    case PINGRESP:
      return Uint8Array.of(p.type << 4, 0);
    case DISCONNECT:
    case AUTH:
      return encodeDisconnect5(p);
    default:
      return encodeAck5(p);
  }
}

function readConnect5(r: Reader): Connect5 {
  const name = readString(r, 'protocol name');
  if (name !== 'MQTT') fail('malformed', `protocol name "${name}" is not MQTT`);
  const version = readU8(r, 'protocol version');
  if (version !== 5) fail('malformed', `protocol version ${version} is not 5 (MQTT 5.0)`);
  const flags = readU8(r, 'connect flags');
  if (flags & 1) fail('malformed', 'CONNECT reserved flag is set');
  const willFlag = (flags & 4) !== 0;
  const willQos = (flags >> 3) & 3;
  if (willQos === 3 || (!willFlag && (willQos || flags & 32))) fail('malformed', 'CONNECT will flags are inconsistent');
  const keepAlive = readU16(r, 'keep alive');
  const properties = readProperties(r, CONNECT);
  const clientId = readString(r, 'client id');
  const p: Connect5 = { type: CONNECT, clientId, cleanStart: (flags & 2) !== 0, keepAlive, properties };
  if (willFlag) {
    const willProperties = readProperties(r, WILL);
    const topic = readString(r, 'will topic');
    const problem = topicNameProblem(topic);
    if (problem) fail('bad-topic', `will: ${problem}`);
    p.will = { topic, payload: readBinary(r, 'will payload'), qos: willQos as QoS, retain: (flags & 32) !== 0, properties: willProperties };
  }
  if (flags & 128) p.username = readString(r, 'user name');
  if (flags & 64) p.password = readBinary(r, 'password');
  expectEnd(r);
  return p;
}

function readFilter(r: Reader): string {
  const filter = readString(r, 'topic filter');
  const problem = topicFilterProblem(filter) || sharedFilterProblem(filter);
  if (problem) fail('malformed', `${packetOf(r)}: ${problem}`);
  return filter;
}

/** Decodes any MQTT 5 packet type, including those only a client sends. Use as PacketParser's `decode`. */
export function decodeAnyPacket5(r: Reader): Packet5 {
  const type = r.first >> 4;
  switch (type) {
    case CONNECT:
      return readConnect5(r);
    case SUBSCRIBE: {
      const packetId = readId(r);
      const properties = readProperties(r, SUBSCRIBE);
      const subscriptions: Subscription5[] = [];
      while (r.at < r.end) {
        const filter = readFilter(r);
        const o = readU8(r, 'subscription options');
        if (o & 0xc0) fail('malformed', 'SUBSCRIBE options have reserved bits set');
        if ((o & 3) === 3) fail('malformed', 'SUBSCRIBE asks for QoS 3');
        if ((o & 0x30) === 0x30) fail('protocol', 'SUBSCRIBE has retain handling 3');
        const s: Subscription5 = { filter, qos: (o & 3) as QoS };
        if (o & 4) {
          if (filter.startsWith('$share/')) fail('protocol', `No Local on the shared subscription ${filter}`);
          s.noLocal = true;
        }
        if (o & 8) s.retainAsPublished = true;
        if (o & 0x30) s.retainHandling = ((o >> 4) & 3) as 1 | 2;
        subscriptions.push(s);
      }
      if (!subscriptions.length) fail('protocol', 'SUBSCRIBE without topic filters');
      return { type, packetId, subscriptions, properties };
    }
    case UNSUBSCRIBE: {
      const packetId = readId(r);
      const properties = readProperties(r, UNSUBSCRIBE);
      const filters: string[] = [];
      while (r.at < r.end) filters.push(readFilter(r));
      if (!filters.length) fail('protocol', 'UNSUBSCRIBE without topic filters');
      return { type, packetId, filters, properties };
    }
    case PINGREQ:
      expectEnd(r);
      return { type };
  }
  return decodeFromServer5(r);
}

