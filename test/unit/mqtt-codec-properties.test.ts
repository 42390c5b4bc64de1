// Property tests: random packets round-trip through encode and the parser in any fragmentation;
// random and mutated bytes never escape as anything but MqttProtocolError, and never hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAnyPacket, encode } from '../../src/mqtt/all-packets';
import { MqttProtocolError } from '../../src/mqtt/errors';
import type { Packet, QoS } from '../../src/mqtt/packets';
import { PacketParser } from '../../src/mqtt/parser';

const qos = fc.constantFrom<QoS>(0, 1, 2);
const id = fc.integer({ min: 1, max: 65535 });
const bytes = (max = 300) => fc.uint8Array({ maxLength: max });
// MQTT strings: any Unicode except U+0000 (and lone surrogates, which UTF-8 cannot carry).
const text = (min = 0, max = 40) => fc.string({ unit: 'grapheme', minLength: min, maxLength: max }).filter((s) => !s.includes('\u0000'));
const topicName = text(1, 40).filter((s) => !/[+#]/.test(s));
const filter = fc.oneof(topicName, fc.constant('#'), fc.constant('+/a/#'), fc.constant('a/+'));

const packet: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({
    type: fc.constant(1 as const),
    clientId: text(),
    cleanSession: fc.boolean(),
    keepAlive: fc.integer({ min: 0, max: 65535 }),
    will: fc.option(fc.record({ topic: topicName, payload: bytes(), qos, retain: fc.boolean() }), { nil: undefined }),
    username: fc.option(text(), { nil: undefined }),
  }).chain((p) => (p.username === undefined ? fc.constant(p) : fc.record({ ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, fc.constant(v)])), password: fc.option(bytes(), { nil: undefined }) }) as fc.Arbitrary<Packet>)),
  fc.record({ type: fc.constant(2 as const), sessionPresent: fc.boolean(), returnCode: fc.integer({ min: 0, max: 5 }) }),
  fc.tuple(topicName, bytes(2000), qos, fc.boolean(), fc.boolean(), id).map(([topic, payload, q, retain, dup, packetId]): Packet =>
    q === 0 ? { type: 3, topic, payload, qos: 0, retain, dup: false } : { type: 3, topic, payload, qos: q, retain, dup, packetId },
  ),
  fc.record({ type: fc.constantFrom(4 as const, 5 as const, 6 as const, 7 as const, 11 as const), packetId: id }),
  fc.record({ type: fc.constant(8 as const), packetId: id, subscriptions: fc.array(fc.record({ filter, qos }), { minLength: 1, maxLength: 5 }) }),
  fc.record({ type: fc.constant(9 as const), packetId: id, granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 5 }) }),
  fc.record({ type: fc.constant(10 as const), packetId: id, filters: fc.array(filter, { minLength: 1, maxLength: 5 }) }),
  fc.record({ type: fc.constantFrom(12 as const, 13 as const, 14 as const) }),
);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `data` cut at `cuts`; returns the packets, or the protocol error that stopped parsing. */
function feed(data: Uint8Array, cuts: number[], maxPacketSize?: number): { packets: Packet[]; error?: unknown } {
  const parser = new PacketParser({ maxPacketSize, decode: decodeAnyPacket });
  const packets: Packet[] = [];
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of [...points, data.length]) {
      parser.push(data.subarray(from, to));
      from = to;
      for (let p = parser.next(); p; p = parser.next()) packets.push(p);
    }
  } catch (error) {
    return { packets, error };
  }
  return { packets };
}

const normalize = (p: Packet) => JSON.parse(JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)));

describe('mqtt codec properties', () => {
  it('random packets round-trip, in any fragmentation', () => {
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (packets, cuts) => {
        const data = concat(packets.map(encode));
        const { packets: back, error } = feed(data, cuts);
        expect(error).toBeUndefined();
        expect(back.map(normalize)).toEqual(packets.map(normalize));
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes give packets or a MqttProtocolError, nothing else, and terminate', () => {
    fc.assert(
      fc.property(bytes(600), fc.array(fc.nat(), { maxLength: 10 }), (data, cuts) => {
        const { error } = feed(data, cuts, 4096);
        if (error !== undefined) expect(error).toBeInstanceOf(MqttProtocolError);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid packets give packets or a MqttProtocolError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.array(packet, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (packets, mutations, cuts) => {
          const data = concat(packets.map(encode));
          for (const [at, value] of mutations) data[at % data.length] = value;
          const { error } = feed(data, cuts, 1 << 20);
          if (error !== undefined) expect(error).toBeInstanceOf(MqttProtocolError);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
