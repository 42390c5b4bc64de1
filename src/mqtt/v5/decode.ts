// Decoders for the MQTT 5 packets a server sends to a client, from a Reader on the packet: the
// fields the dialect reads in place, and the packets as objects (see packets.ts) for PacketParser.
// Each checks the fixed layout, the properties the packet may carry, and the reason codes it may use.
import { fail } from '../errors';
import { AUTH, CONNACK, DISCONNECT, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, UNSUBACK, type QoS } from '../packets';
import type { Properties } from '../properties';
import { expectEnd, packetOf, readId, readTopic, readU8, type Reader } from '../reader';
import type { Ack5, Connack5, Disconnect5, Packet5, Publish5 } from './packets';
import { readProperties } from './properties';
import { checkReason } from './reason-codes';

export function readConnack5(r: Reader): Connack5 {
  const flags = readU8(r, 'acknowledge flags');
  if (flags & 0xfe) fail('malformed', 'CONNACK reserved flags set');
  const reasonCode = checkReason(readU8(r, 'reason code'), CONNACK);
  const properties = readProperties(r, CONNACK);
  expectEnd(r);
  return { type: CONNACK, sessionPresent: flags === 1, reasonCode, properties };
}

export function readPublish5(r: Reader): Publish5 {
  const first = r.first;
  const qos = ((first >> 1) & 3) as QoS;
  const topic = readTopic(r);
  const packetId = qos ? readId(r) : undefined;
  const properties = readProperties(r, PUBLISH);
  if (!topic && !(properties && properties.topicAlias)) fail('protocol', 'PUBLISH with an empty topic and no topic alias');
  const payload = r.b.slice(r.at, r.end);
  return { type: PUBLISH, topic, payload, qos, retain: (first & 1) === 1, dup: (first & 8) === 8, packetId, properties };
}

/** Reason code and properties after a packet id (acks) or alone (DISCONNECT, AUTH); both optional. */
export function readReason(r: Reader, type: number): { reasonCode: number; properties?: Properties } {
  const reasonCode = r.at < r.end ? checkReason(readU8(r, 'reason code'), type) : 0;
  const properties = r.at < r.end ? readProperties(r, type) : undefined;
  expectEnd(r);
  return { reasonCode, properties };
}

export function readAck5(type: Ack5['type'], r: Reader): Ack5 {
  const packetId = readId(r);
  return { type, packetId, ...readReason(r, type) };
}

export function readDisconnect5(type: Disconnect5['type'], r: Reader): Disconnect5 {
  const t = readReason(r, type);
  if (type === AUTH && t.reasonCode && !(t.properties && t.properties.authenticationMethod)) {
    fail('protocol', `AUTH (${t.reasonCode === 0x18 ? 'Continue authentication' : 'Re-authenticate'}) without an Authentication Method`);
  }
  return { type, ...t };
}

/** SUBACK or UNSUBACK: packet id, properties, one reason code per topic filter. */
export function readSubackCodes(type: typeof SUBACK | typeof UNSUBACK, r: Reader): { packetId: number; reasonCodes: number[]; properties?: Properties } {
  const packetId = readId(r);
  const properties = readProperties(r, type);
  if (r.at === r.end) fail('malformed', `${packetOf(r)} without reason codes`);
  const reasonCodes: number[] = [];
  while (r.at < r.end) reasonCodes.push(checkReason(readU8(r, 'reason code'), type));
  return { packetId, reasonCodes, properties };
}

/** Decodes the packets a server sends to a client; use as PacketParser's `decode` (with mqtt5: true). */
export function decodeFromServer5(r: Reader): Packet5 {
  const type = r.first >> 4;
  switch (type) {
    case CONNACK:
      return readConnack5(r);
    case PUBLISH:
      return readPublish5(r);
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP:
      return readAck5(type, r);
    case SUBACK:
    case UNSUBACK:
      return { type, ...readSubackCodes(type, r) };
    case PINGRESP:
      expectEnd(r);
      return { type };
    case DISCONNECT:
    case AUTH:
      return readDisconnect5(type, r);
  }
  return fail('bad-packet-type', `${packetOf(r)} from a server`);
}
