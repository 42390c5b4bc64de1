// Decoders for the MQTT 3.1.1 packets a broker sends to a client (OASIS mqtt-v3.1.1 section 3): the
// field layouts the dialect reads in place, and the same packets as objects (packets.ts) for
// PacketParser. The packets only a client sends are in ../all-packets.ts.
import { fail } from '../errors';
import { CONNACK, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, UNSUBACK, type Packet, type QoS } from '../packets';
import { expectLength, packetOf, readId, readTopic, type Reader } from '../reader';

/** CONNACK: session present << 8 | return code. */
export const readConnack = (r: Reader): number => {
  expectLength(r, 2);
  const b = r.b;
  const at = r.at;
  if (b[at] & 0xfe) fail('reserved-flags', 'CONNACK reserved flags set');
  r.at = at + 2;
  return (b[at] << 8) | b[at + 1];
};

/** SUBACK after the packet id: per filter, a granted QoS or 0x80 (refused). */
export const readGranted = (r: Reader): number[] => {
  if (r.at === r.end) fail('malformed', 'SUBACK without return codes');
  const granted: number[] = [];
  const b = r.b;
  for (; r.at < r.end; r.at++) {
    const g = b[r.at];
    if (g > 2 && g !== 0x80) fail('malformed', `bad SUBACK return code 0x${g.toString(16)}`);
    granted.push(g);
  }
  return granted;
};

/** Decodes the packets a broker sends to a client. Others are refused (see all-packets.ts for those). */
export const decodeFromBroker = (r: Reader): Packet => {
  const first = r.first;
  const type = first >> 4;
  switch (type) {
    case PUBLISH: {
      const topic = readTopic(r);
      if (!topic) fail('bad-topic', 'PUBLISH: empty topic name');
      const qos = ((first >> 1) & 3) as QoS;
      const packetId = qos ? readId(r) : undefined;
      return { type, topic, payload: r.b.subarray(r.at, r.end), qos, retain: (first & 1) === 1, dup: (first & 8) === 8, packetId };
    }
    case CONNACK: {
      const v = readConnack(r);
      return { type, sessionPresent: v > 255, returnCode: v & 255 };
    }
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP:
    case UNSUBACK:
      expectLength(r, 2);
      return { type, packetId: readId(r) };
    case SUBACK:
      return { type, packetId: readId(r), granted: readGranted(r) };
    case PINGRESP:
      expectLength(r, 0);
      return { type };
  }
  return fail('bad-packet-type', `${packetOf(r)} from a broker`);
};
