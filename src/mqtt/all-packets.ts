// Every MQTT 3.1.1 packet type in both directions: `encode` and `decodeAnyPacket`, for brokers, tools
// and tests. A client needs only codec.ts and v311/decode.ts, which keeps it small.
import { encodeAck, encodeConnect, encodeEmpty, encodePublish, encodeSubscribe, encodeUnsubscribe, packet } from './codec';
import { fail } from './errors';
import { CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBLISH, SUBACK, SUBSCRIBE, UNSUBSCRIBE, type ConnectPacket, type Packet, type QoS, type Subscription } from './packets';
import { expectEnd, expectLength, readBinary, readId, readString, readU16, readU8, type Reader } from './reader';
import { decodeFromBroker } from './v311/decode';

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
    case PINGREQ:
    case PINGRESP:
    case DISCONNECT:
      return encodeEmpty(p.type);
    default:
      return encodeAck(p.type, p.packetId);
  }
}

/** Decodes any packet type, including those only a client sends. Use as PacketParser's `decode`. */
export function decodeAnyPacket(r: Reader): Packet {
  const type = r.first >> 4;
  switch (type) {
    case PINGREQ:
    case DISCONNECT:
      expectLength(r, 0);
      return { type };
    case SUBSCRIBE: {
      const packetId = readId(r);
      const subscriptions: Subscription[] = [];
      while (r.at < r.end) {
        const filter = readString(r, 'topic filter');
        if (r.at === r.end) fail('malformed', 'SUBSCRIBE filter without a QoS byte');
        const q = readU8(r, 'requested QoS');
        if (q > 2) fail('malformed', `SUBSCRIBE requested QoS byte 0x${q.toString(16)}`);
        subscriptions.push({ filter, qos: q as QoS });
      }
      if (!subscriptions.length) fail('malformed', 'SUBSCRIBE without topic filters');
      return { type, packetId, subscriptions };
    }
    case UNSUBSCRIBE: {
      const packetId = readId(r);
      const filters: string[] = [];
      while (r.at < r.end) filters.push(readString(r, 'topic filter'));
      if (!filters.length) fail('malformed', 'UNSUBSCRIBE without topic filters');
      return { type, packetId, filters };
    }
    case CONNECT: {
      const name = readString(r, 'protocol name');
      if (name !== 'MQTT') fail('malformed', `protocol name "${name}" is not MQTT`);
      const level = readU8(r, 'protocol level');
      if (level !== 4) fail('malformed', `protocol level ${level} is not 4 (MQTT 3.1.1)`);
      const flags = readU8(r, 'connect flags');
      if (flags & 1) fail('reserved-flags', 'CONNECT reserved flag is set');
      const willFlag = (flags & 4) !== 0;
      const willQos = (flags >> 3) & 3;
      if (willQos === 3 || (!willFlag && (willQos || flags & 32))) fail('malformed', 'CONNECT will flags are inconsistent');
      if (flags & 64 && !(flags & 128)) fail('malformed', 'CONNECT has a password without a user name');
      const keepAlive = readU16(r, 'keep alive');
      const p: ConnectPacket = { type, clientId: readString(r, 'client id'), cleanSession: (flags & 2) !== 0, keepAlive };
      if (willFlag) p.will = { topic: readString(r, 'will topic'), payload: readBinary(r, 'will payload'), qos: willQos as QoS, retain: (flags & 32) !== 0 };
      if (flags & 128) p.username = readString(r, 'user name');
      if (flags & 64) p.password = readBinary(r, 'password');
      expectEnd(r);
      return p;
    }
  }
  // the rest are the packets a broker sends
  return decodeFromBroker(r);
}
