// Decoders for the MQTT 5 packets a server sends to a client, as objects (see packets.ts). Each
// checks the fixed layout, the properties the packet may carry, and the reason codes it may use.
import type { QoS } from '../packets';
import { fail, NAMES } from '../parser';
import { topicNameProblem } from '../topic';
import { AUTH, type Ack5, type Connack5, type Disconnect5, type Packet5, type Publish5 } from './packets';
import { readProperties } from './properties';
import { Reader } from './reader';
import { checkReason } from './reason-codes';

const NAME = (type: number) => (type === AUTH ? 'AUTH' : NAMES[type]);

export function readConnack5(r: Reader): Connack5 {
  const flags = r.u8('acknowledge flags');
  if (flags & 0xfe) fail('malformed', 'CONNACK reserved flags set');
  const reasonCode = checkReason(r.u8('reason code'), 2);
  const properties = readProperties(r, 2);
  r.done();
  return { type: 2, sessionPresent: flags === 1, reasonCode, properties };
}

/** A PUBLISH topic: may be empty (a Topic Alias stands for it), else a valid topic name. */
export function readTopic5(r: Reader): string {
  const topic = r.string('topic');
  if (topic) {
    const problem = topicNameProblem(topic);
    if (problem) fail('bad-topic', `PUBLISH: ${problem}`);
  }
  return topic;
}

export function readPublish5(first: number, r: Reader): Publish5 {
  const qos = ((first >> 1) & 3) as QoS;
  const topic = readTopic5(r);
  const packetId = qos ? readId5(r) : undefined;
  const properties = readProperties(r, 3);
  if (!topic && !(properties && properties.topicAlias)) fail('protocol', 'PUBLISH with an empty topic and no topic alias');
  const payload = r.b.slice(r.at, r.end);
  return { type: 3, topic, payload, qos, retain: (first & 1) === 1, dup: (first & 8) === 8, packetId, properties };
}

export function readId5(r: Reader): number {
  const id = r.u16('packet id');
  if (!id) fail('malformed', `${r.what} has packet id 0`);
  return id;
}

/** Reason code and properties after a packet id (acks) or alone (DISCONNECT, AUTH); both optional. */
function tail(r: Reader, type: number): { reasonCode: number; properties?: ReturnType<typeof readProperties> } {
  const reasonCode = r.left ? checkReason(r.u8('reason code'), type) : 0;
  const properties = r.left ? readProperties(r, type) : undefined;
  r.done();
  return { reasonCode, properties };
}

export function readAck5(type: 4 | 5 | 6 | 7, r: Reader): Ack5 {
  const packetId = readId5(r);
  return { type, packetId, ...tail(r, type) };
}

export function readDisconnect5(type: 14 | 15, r: Reader): Disconnect5 {
  const t = tail(r, type);
  if (type === AUTH && t.reasonCode && !(t.properties && t.properties.authenticationMethod)) {
    fail('protocol', `AUTH (${t.reasonCode === 0x18 ? 'Continue authentication' : 'Re-authenticate'}) without an Authentication Method`);
  }
  return { type, ...t };
}

/** SUBACK or UNSUBACK: packet id, properties, one reason code per topic filter. */
export function readSubackCodes(type: 9 | 11, r: Reader): { packetId: number; reasonCodes: number[]; properties?: ReturnType<typeof readProperties> } {
  const packetId = readId5(r);
  const properties = readProperties(r, type);
  if (!r.left) fail('malformed', `${NAMES[type]} without reason codes`);
  const reasonCodes: number[] = [];
  while (r.left) reasonCodes.push(checkReason(r.u8('reason code'), type));
  return { packetId, reasonCodes, properties };
}

/** Decodes the packets a server sends to a client; use as PacketParser's `decode` (with AUTH allowed). */
export function decodeFromServer5(first: number, b: Uint8Array): Packet5 {
  const type = first >> 4;
  const r = new Reader().reset(b, 0, b.length, NAME(type));
  switch (type) {
    case 2:
      return readConnack5(r);
    case 3:
      return readPublish5(first, r);
    case 4:
    case 5:
    case 6:
    case 7:
      return readAck5(type, r);
    case 9:
    case 11:
      return { type, ...readSubackCodes(type, r) };
    case 13:
      r.done();
      return { type };
    case 14:
    case 15:
      return readDisconnect5(type, r);
  }
  return fail('bad-packet-type', `${NAME(type)} from a server`);
}
