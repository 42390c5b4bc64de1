// Every MQTT 5 packet type in both directions: `encode5` and `decodeAnyPacket5`, for brokers, tools
// and tests. A client needs only codec.ts, decode.ts and properties.ts.
import { invalid } from '../errors';
import type { QoS } from '../packets';
import { fail } from '../parser';
import { sharedFilterProblem, topicFilterProblem, topicNameProblem } from '../topic';
import { appendProperties, encodeAck5, encodeConnect5, encodeDisconnect5, encodePublish5, encodeSubscribe5, encodeUnsubscribe5 } from './codec';
import { decodeFromServer5, readId5 } from './decode';
import { AUTH, type Connect5, type Packet5, type Subscription5 } from './packets';
import { readProperties, WILL } from './properties';
import { Reader } from './reader';
import { Writer } from './writer';

export function encode5(p: Packet5): Uint8Array {
  switch (p.type) {
    case 1:
      return encodeConnect5(p);
    case 2: {
      const w = new Writer();
      w.byte(p.sessionPresent ? 1 : 0);
      w.byte(p.reasonCode);
      appendProperties(w, p.properties, 2);
      return w.packet(0x20);
    }
    case 3:
      return encodePublish5(p);
    case 8:
      return encodeSubscribe5(p);
    case 9:
    case 11: {
      if (!p.reasonCodes.length) invalid(`a ${p.type === 9 ? 'SUBACK' : 'UNSUBACK'} needs a reason code per topic filter`);
      const w = new Writer();
      w.u16(p.packetId);
      appendProperties(w, p.properties, p.type);
      for (const c of p.reasonCodes) w.byte(c);
      return w.packet(p.type << 4);
    }
    case 10:
      return encodeUnsubscribe5(p);
    case 12:
    case 13:
      return Uint8Array.of(p.type << 4, 0);
    case 14:
    case AUTH:
      return encodeDisconnect5(p);
    default:
      return encodeAck5(p);
  }
}

function readConnect5(r: Reader): Connect5 {
  const name = r.string('protocol name');
  if (name !== 'MQTT') fail('malformed', `protocol name "${name}" is not MQTT`);
  const version = r.u8('protocol version');
  if (version !== 5) fail('malformed', `protocol version ${version} is not 5 (MQTT 5.0)`);
  const flags = r.u8('connect flags');
  if (flags & 1) fail('malformed', 'CONNECT reserved flag is set');
  const willFlag = (flags & 4) !== 0;
  const willQos = (flags >> 3) & 3;
  if (willQos === 3 || (!willFlag && (willQos || flags & 32))) fail('malformed', 'CONNECT will flags are inconsistent');
  const keepAlive = r.u16('keep alive');
  const properties = readProperties(r, 1);
  const clientId = r.string('client id');
  const p: Connect5 = { type: 1, clientId, cleanStart: (flags & 2) !== 0, keepAlive, properties };
  if (willFlag) {
    const willProperties = readProperties(r, WILL);
    const topic = r.string('will topic');
    const problem = topicNameProblem(topic);
    if (problem) fail('bad-topic', `will: ${problem}`);
    p.will = { topic, payload: r.binary('will payload'), qos: willQos as QoS, retain: (flags & 32) !== 0, properties: willProperties };
  }
  if (flags & 128) p.username = r.string('user name');
  if (flags & 64) p.password = r.binary('password');
  r.done();
  return p;
}

function readFilter(r: Reader): string {
  const filter = r.string('topic filter');
  const problem = topicFilterProblem(filter) || sharedFilterProblem(filter);
  if (problem) fail('malformed', `${r.what}: ${problem}`);
  return filter;
}

/** Decodes any MQTT 5 packet type, including those only a client sends. Use as PacketParser's `decode`. */
export function decodeAnyPacket5(first: number, b: Uint8Array): Packet5 {
  const type = first >> 4;
  const r = new Reader().reset(b, 0, b.length, ['', 'CONNECT', '', '', '', '', '', '', 'SUBSCRIBE', '', 'UNSUBSCRIBE', '', 'PINGREQ'][type] || '');
  switch (type) {
    case 1:
      return readConnect5(r);
    case 8: {
      const packetId = readId5(r);
      const properties = readProperties(r, 8);
      const subscriptions: Subscription5[] = [];
      while (r.left) {
        const filter = readFilter(r);
        const o = r.u8('subscription options');
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
    case 10: {
      const packetId = readId5(r);
      const properties = readProperties(r, 10);
      const filters: string[] = [];
      while (r.left) filters.push(readFilter(r));
      if (!filters.length) fail('protocol', 'UNSUBSCRIBE without topic filters');
      return { type, packetId, filters, properties };
    }
    case 12:
      r.done();
      return { type };
  }
  return decodeFromServer5(first, b);
}

