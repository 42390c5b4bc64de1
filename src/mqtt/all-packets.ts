// Every MQTT 3.1.1 packet type in both directions: `encode` and `decodeAnyPacket`, for brokers, tools
// and tests. A client needs only codec.ts and the parser's field readers, which keeps it small.
import { encodeAck, encodeConnect, encodeEmpty, encodePublish, encodeSubscribe, encodeUnsubscribe, packet } from './codec';
import { CONNACK, CONNECT, PUBLISH, SUBACK, SUBSCRIBE, UNSUBSCRIBE, type ConnectPacket, type Packet, type QoS, type Subscription } from './packets';
import { decodeFromBroker, exact, fail, readId } from './parser';
import { decodeUtf8 } from './utf8';

export function encode(p: Packet): Uint8Array {
  switch (p.type) {
    case CONNECT:
      return encodeConnect(p);
    case CONNACK: {
      const out = packet(CONNACK << 4, 2);
      out[2] = p.sessionPresent ? 1 : 0;
      out[3] = p.returnCode;
      return out;
    }
    case PUBLISH:
      return encodePublish(p);
    case SUBSCRIBE:
      return encodeSubscribe(p);
    case SUBACK: {
      const out = packet(SUBACK << 4, 2 + p.granted.length);
      const i = out.length - p.granted.length - 2;
      out[i] = p.packetId >> 8;
      out[i + 1] = p.packetId & 255;
      out.set(p.granted, i + 2);
      return out;
    }
    case UNSUBSCRIBE:
      return encodeUnsubscribe(p);
    case 12:
    case 13:
    case 14:
      return encodeEmpty(p.type);
    default:
      return encodeAck(p.type, p.packetId);
  }
}

/** A length-prefixed field at `at`: its start and end in `b`. */
function field(b: Uint8Array, at: number, what: string): [number, number] {
  if (at + 2 > b.length) fail('malformed', `${what} is truncated`);
  const end = at + 2 + ((b[at] << 8) | b[at + 1]);
  if (end > b.length) fail('malformed', `${what} runs past the end of the packet`);
  return [at + 2, end];
}

function str(b: Uint8Array, at: number, what: string): [string, number] {
  const [start, end] = field(b, at, what);
  return [decodeUtf8(b, start, end, what), end];
}

function bin(b: Uint8Array, at: number, what: string): [Uint8Array, number] {
  const [start, end] = field(b, at, what);
  return [b.slice(start, end), end];
}

/** Decodes any packet type, including those only a client sends. Use as PacketParser's `decode`. */
export function decodeAnyPacket(first: number, b: Uint8Array): Packet {
  const type = first >> 4;
  switch (type) {
    case 12:
    case 14:
      exact(type, 0, b.length, 0);
      return { type };
    case SUBSCRIBE: {
      const id = readId(b, 0, b.length, type);
      const subscriptions: Subscription[] = [];
      let at = 2;
      while (at < b.length) {
        const [filter, end] = str(b, at, 'SUBSCRIBE topic filter');
        if (end >= b.length) fail('malformed', 'SUBSCRIBE filter without a QoS byte');
        const q = b[end];
        if (q > 2) fail('malformed', `SUBSCRIBE requested QoS byte 0x${q.toString(16)}`);
        subscriptions.push({ filter, qos: q as QoS });
        at = end + 1;
      }
      if (!subscriptions.length) fail('malformed', 'SUBSCRIBE without topic filters');
      return { type, packetId: id, subscriptions };
    }
    case UNSUBSCRIBE: {
      const id = readId(b, 0, b.length, type);
      const filters: string[] = [];
      let at = 2;
      while (at < b.length) {
        const [filter, end] = str(b, at, 'UNSUBSCRIBE topic filter');
        filters.push(filter);
        at = end;
      }
      if (!filters.length) fail('malformed', 'UNSUBSCRIBE without topic filters');
      return { type, packetId: id, filters };
    }
    case CONNECT: {
      const [name, at0] = str(b, 0, 'protocol name');
      if (name !== 'MQTT') fail('malformed', `protocol name "${name}" is not MQTT`);
      if (at0 + 4 > b.length) fail('malformed', 'CONNECT variable header is truncated');
      if (b[at0] !== 4) fail('malformed', `protocol level ${b[at0]} is not 4 (MQTT 3.1.1)`);
      const flags = b[at0 + 1];
      if (flags & 1) fail('reserved-flags', 'CONNECT reserved flag is set');
      const willFlag = (flags & 4) !== 0;
      const willQos = (flags >> 3) & 3;
      if (willQos === 3 || (!willFlag && (willQos || flags & 32))) fail('malformed', 'CONNECT will flags are inconsistent');
      if (flags & 64 && !(flags & 128)) fail('malformed', 'CONNECT has a password without a user name');
      const keepAlive = (b[at0 + 2] << 8) | b[at0 + 3];
      let [clientId, at] = str(b, at0 + 4, 'client id');
      const p: ConnectPacket = { type, clientId, cleanSession: (flags & 2) !== 0, keepAlive };
      if (willFlag) {
        const [topic, a1] = str(b, at, 'will topic');
        const [payload, a2] = bin(b, a1, 'will payload');
        p.will = { topic, payload, qos: willQos as QoS, retain: (flags & 32) !== 0 };
        at = a2;
      }
      if (flags & 128) [p.username, at] = str(b, at, 'user name');
      if (flags & 64) [p.password, at] = bin(b, at, 'password');
      if (at !== b.length) fail('malformed', 'CONNECT has trailing bytes');
      return p;
    }
  }
  // the rest are the packets a broker sends
  return decodeFromBroker(first, b);
}
