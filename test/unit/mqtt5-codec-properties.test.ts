// Property tests of the MQTT 5 codec: random packets of every type, with random properties allowed in
// them (the table of spec section 2.2.2.2, written again here), round-trip through encode5 and the
// parser in any fragmentation; mqtt-packet (protocolVersion 5), an independent codec, reads what we
// write and we read what it writes; random and mutated bytes never escape as anything but
// MqttProtocolError.
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttProtocolError } from '../../src/mqtt/errors';
import type { QoS } from '../../src/mqtt/packets';
import { PacketParser } from '../../src/mqtt/parser';
import { decodeAnyPacket5, encode5 } from '../../src/mqtt/v5/all-packets';
import type { Packet5 } from '../../src/mqtt/v5/packets';
import type { Properties } from '../../src/mqtt/v5/properties';

const qos = fc.constantFrom<QoS>(0, 1, 2);
const id = fc.integer({ min: 1, max: 65535 });
const u16 = fc.integer({ min: 0, max: 65535 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const word = fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}$/);
// MQTT strings: any Unicode but U+0000 (and lone surrogates, which UTF-8 cannot carry)
const text = (min = 0, max = 20) => fc.string({ unit: 'grapheme', minLength: min, maxLength: max }).filter((s) => !s.includes('\u0000'));
const topicName = text(1, 30).filter((s) => !/[+#]/.test(s));
const filter = fc.oneof(topicName, fc.constant('#'), fc.constant('+/a/#'), fc.constant('a/+'));
const binary = fc.uint8Array({ maxLength: 24 });
const pairs = fc.array(fc.tuple(text(0, 8), text(0, 8)), { minLength: 1, maxLength: 3 });

// Spec 2.2.2.2: which packets carry which property. 0 stands for Will Properties.
const ALLOWED: Record<keyof Properties, number[]> = {
  payloadFormatIndicator: [3, 0],
  messageExpiryInterval: [3, 0],
  contentType: [3, 0],
  responseTopic: [3, 0],
  correlationData: [3, 0],
  subscriptionIdentifiers: [3, 8],
  sessionExpiryInterval: [1, 2, 14],
  assignedClientIdentifier: [2],
  serverKeepAlive: [2],
  authenticationMethod: [1, 2, 15],
  authenticationData: [1, 2, 15],
  requestProblemInformation: [1],
  willDelayInterval: [0],
  requestResponseInformation: [1],
  responseInformation: [2],
  serverReference: [2, 14],
  reasonString: [2, 4, 5, 6, 7, 9, 11, 14, 15],
  receiveMaximum: [1, 2],
  topicAliasMaximum: [1, 2],
  topicAlias: [3],
  maximumQoS: [2],
  retainAvailable: [2],
  userProperties: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15],
  maximumPacketSize: [1, 2],
  wildcardSubscriptionAvailable: [2],
  subscriptionIdentifiersAvailable: [2],
  sharedSubscriptionAvailable: [2],
};

function valueOf(name: keyof Properties, type: number): fc.Arbitrary<unknown> {
  switch (name) {
    case 'payloadFormatIndicator':
    case 'requestProblemInformation':
    case 'requestResponseInformation':
    case 'retainAvailable':
    case 'wildcardSubscriptionAvailable':
    case 'subscriptionIdentifiersAvailable':
    case 'sharedSubscriptionAvailable':
      return fc.boolean();
    case 'maximumQoS':
      return fc.constantFrom(0, 1);
    case 'messageExpiryInterval':
    case 'sessionExpiryInterval':
    case 'willDelayInterval':
      return u32;
    case 'maximumPacketSize':
      return fc.integer({ min: 1, max: 0xffffffff });
    case 'receiveMaximum':
    case 'topicAlias':
      return fc.integer({ min: 1, max: 65535 });
    case 'serverKeepAlive':
    case 'topicAliasMaximum':
      return u16;
    case 'subscriptionIdentifiers':
      return fc.array(fc.integer({ min: 1, max: 268435455 }), { minLength: 1, maxLength: type === 3 ? 3 : 1 });
    case 'correlationData':
    case 'authenticationData':
      return binary;
    case 'userProperties':
      return pairs;
    default:
      return text();
  }
}

/** Random properties allowed in packet `type` (undefined when none were drawn). */
function properties(type: number, leave: (keyof Properties)[] = []): fc.Arbitrary<Properties | undefined> {
  const names = (Object.keys(ALLOWED) as (keyof Properties)[]).filter((k) => ALLOWED[k].includes(type) && !leave.includes(k));
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) record[name] = valueOf(name, type);
  return fc.record(record, { requiredKeys: [] }).map((p) => (Object.keys(p).length ? (p as Properties) : undefined));
}

const reason = (codes: number[]) => fc.constantFrom(...codes);

const packet: fc.Arbitrary<Packet5> = fc.oneof(
  fc
    .record({
      clientId: text(),
      cleanStart: fc.boolean(),
      keepAlive: u16,
      username: fc.option(text(), { nil: undefined }),
      password: fc.option(binary, { nil: undefined }),
      properties: properties(1),
      will: fc.option(fc.record({ topic: topicName, payload: binary, qos, retain: fc.boolean(), properties: properties(0) }), { nil: undefined }),
    })
    .map((p): Packet5 => ({ type: 1, ...p })),
  fc.record({ sessionPresent: fc.boolean(), properties: properties(2) }).map((p): Packet5 => ({ type: 2, reasonCode: 0, ...p })),
  fc.record({ reasonCode: reason([0x80, 0x81, 0x85, 0x86, 0x87, 0x8c, 0x9c, 0x9f]) }).map((p): Packet5 => ({ type: 2, sessionPresent: false, ...p })),
  fc
    .record({ topic: topicName, payload: fc.uint8Array({ maxLength: 600 }), qos, retain: fc.boolean(), dup: fc.boolean(), packetId: id, properties: properties(3) })
    .map((p): Packet5 => (p.qos ? { type: 3, ...p } : { type: 3, ...p, dup: false, packetId: undefined })),
  fc
    .record({ type: fc.constantFrom(4 as const, 5 as const), packetId: id, reasonCode: reason([0, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]), properties: properties(4) })
    .map((p): Packet5 => p),
  fc.record({ type: fc.constantFrom(6 as const, 7 as const), packetId: id, reasonCode: reason([0, 0x92]), properties: properties(6) }).map((p): Packet5 => p),
  fc
    .record({
      packetId: id,
      properties: properties(8),
      subscriptions: fc.array(
        fc.record({ filter, qos, noLocal: fc.constantFrom(true, undefined), retainAsPublished: fc.constantFrom(true, undefined), retainHandling: fc.constantFrom(1 as const, 2 as const, undefined) }, { requiredKeys: ['filter', 'qos'] }),
        { minLength: 1, maxLength: 4 },
      ),
    })
    .map((p): Packet5 => ({ type: 8, ...p })),
  fc.record({ packetId: id, properties: properties(9), reasonCodes: fc.array(reason([0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]), { minLength: 1, maxLength: 5 }) }).map((p): Packet5 => ({ type: 9, ...p })),
  fc.record({ packetId: id, properties: properties(10), filters: fc.array(filter, { minLength: 1, maxLength: 4 }) }).map((p): Packet5 => ({ type: 10, ...p })),
  fc.record({ packetId: id, properties: properties(11), reasonCodes: fc.array(reason([0, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]), { minLength: 1, maxLength: 5 }) }).map((p): Packet5 => ({ type: 11, ...p })),
  fc.record({ type: fc.constantFrom(12 as const, 13 as const) }).map((p): Packet5 => p),
  fc.record({ reasonCode: reason([0, 4, 0x80, 0x81, 0x82, 0x8e, 0x93, 0x9c]), properties: properties(14) }).map((p): Packet5 => ({ type: 14, ...p })),
  fc
    .record({ reasonCode: reason([0x18, 0x19]), method: text(1, 12), properties: properties(15, ['authenticationMethod']) })
    .map(({ method, ...p }): Packet5 => ({ type: 15, ...p, properties: { ...p.properties, authenticationMethod: method } })),
);

// noLocal on a shared subscription is a protocol error: leave those out
const valid = (p: Packet5) => p.type !== 8 || p.subscriptions.every((s) => !(s.noLocal && s.filter.startsWith('$share/')));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function feed(data: Uint8Array, cuts: number[], maxPacketSize?: number): { packets: Packet5[]; error?: unknown } {
  const parser = new PacketParser({ maxPacketSize, decode: decodeAnyPacket5 as never, mqtt5: true });
  const packets: Packet5[] = [];
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of [...points, data.length]) {
      parser.push(data.subarray(from, to));
      from = to;
      for (let p = parser.next(); p; p = parser.next()) packets.push(p as unknown as Packet5);
    }
  } catch (error) {
    return { packets, error };
  }
  return { packets };
}

/** Comparable form: bytes as arrays, undefined fields and empty properties dropped. */
const normalize = (p: unknown) =>
  JSON.parse(JSON.stringify(p, (k, v) => (v instanceof Uint8Array ? Array.from(v) : k === 'properties' && v && !Object.keys(v).length ? undefined : v)));

// ---- mqtt-packet's shapes -----------------------------------------------------------------------

function toPeerProperties(p: Properties | undefined): Record<string, unknown> | undefined {
  if (!p) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'userProperties') {
      const o: Record<string, string | string[]> = Object.create(null);
      for (const [name, value] of v as [string, string][]) {
        const had = o[name];
        o[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
      }
      out.userProperties = o;
    } else if (k === 'subscriptionIdentifiers') out.subscriptionIdentifier = (v as number[]).length === 1 ? (v as number[])[0] : v;
    else if (v instanceof Uint8Array) out[k] = Buffer.from(v);
    else out[k] = v;
  }
  return out;
}

const peerNormalize = (x: unknown) => JSON.parse(JSON.stringify(x, (_k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? v.data : v)));

describe('mqtt5 codec properties', () => {
  it('random packets of every type round-trip, in any fragmentation', () => {
    fc.assert(
      fc.property(fc.array(packet.filter(valid), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (packets, cuts) => {
        const { packets: back, error } = feed(concat(packets.map(encode5)), cuts);
        expect(error).toBeUndefined();
        expect(back.map(normalize)).toEqual(packets.map(normalize));
      }),
      { numRuns: 600 },
    );
  });

  it('mqtt-packet reads what we write: PUBLISH with properties', () => {
    const publish = fc.record({
      topic: fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,3}$/),
      payload: fc.uint8Array({ maxLength: 200 }),
      qos,
      retain: fc.boolean(),
      packetId: id,
      properties: fc.record(
        {
          payloadFormatIndicator: fc.boolean(),
          messageExpiryInterval: u32,
          contentType: word,
          responseTopic: word,
          correlationData: fc.uint8Array({ minLength: 1, maxLength: 16 }),
          userProperties: fc.array(fc.tuple(word, word), { minLength: 1, maxLength: 3 }),
          subscriptionIdentifiers: fc.array(fc.integer({ min: 1, max: 268435455 }), { minLength: 1, maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
    });
    fc.assert(
      fc.property(publish, (p) => {
        const packetId = p.qos ? p.packetId : undefined;
        const ours: Packet5 = { type: 3, topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, dup: false, packetId, properties: p.properties as Properties };
        const parser = mqttPacket.parser({ protocolVersion: 5 });
        const got: mqttPacket.Packet[] = [];
        parser.on('packet', (x: mqttPacket.Packet) => got.push(x));
        parser.on('error', (e: Error) => {
          throw e;
        });
        parser.parse(Buffer.from(encode5(ours)));
        expect(got.length).toBe(1);
        const peer = got[0] as mqttPacket.IPublishPacket;
        expect([peer.topic, Array.from(peer.payload as Buffer), peer.qos, peer.retain, peer.messageId]).toEqual([p.topic, Array.from(p.payload), p.qos, p.retain, packetId]);
        expect(peerNormalize(peer.properties ?? {})).toEqual(peerNormalize(toPeerProperties(p.properties as Properties) ?? {}));
      }),
      { numRuns: 300 },
    );
  });

  it('we read what mqtt-packet writes: CONNECT with will properties, CONNACK, SUBSCRIBE options, DISCONNECT, AUTH', () => {
    const arbitrary = fc.oneof(
      fc.record({
        cmd: fc.constant('connect' as const),
        clientId: word,
        keepalive: u16,
        clean: fc.boolean(),
        properties: fc.record({ sessionExpiryInterval: u32, receiveMaximum: fc.integer({ min: 1, max: 65535 }), maximumPacketSize: fc.integer({ min: 1, max: 1 << 30 }), topicAliasMaximum: u16 }, { requiredKeys: [] }),
        will: fc.record({ topic: word, payload: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)), qos, retain: fc.boolean(), properties: fc.record({ willDelayInterval: u32, contentType: word }, { requiredKeys: [] }) }),
      }),
      fc.record({
        cmd: fc.constant('connack' as const),
        sessionPresent: fc.boolean(),
        reasonCode: fc.constant(0),
        properties: fc.record({ receiveMaximum: fc.integer({ min: 1, max: 65535 }), topicAliasMaximum: u16, assignedClientIdentifier: word, maximumQoS: fc.constantFrom(0, 1), serverKeepAlive: u16 }, { requiredKeys: [] }),
      }),
      fc.record({
        cmd: fc.constant('subscribe' as const),
        messageId: id,
        subscriptions: fc.array(fc.record({ topic: fc.stringMatching(/^[a-z]{1,6}(\/(\+|[a-z]{1,6})){0,2}$/), qos, nl: fc.boolean(), rap: fc.boolean(), rh: fc.constantFrom(0, 1, 2) }), { minLength: 1, maxLength: 3 }),
        properties: fc.record({ subscriptionIdentifier: fc.integer({ min: 1, max: 268435455 }) }, { requiredKeys: [] }),
      }),
      fc.record({ cmd: fc.constant('disconnect' as const), reasonCode: fc.constantFrom(0, 4, 0x80, 0x8e), properties: fc.record({ reasonString: word, serverReference: word }, { requiredKeys: [] }) }),
      fc.record({ cmd: fc.constant('auth' as const), reasonCode: fc.constantFrom(0x18, 0x19), properties: fc.record({ authenticationMethod: word, authenticationData: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)) }) }),
    );
    fc.assert(
      fc.property(arbitrary, (peer) => {
        const bytes = mqttPacket.generate({ ...peer, protocolVersion: 5, protocolId: 'MQTT' } as never, { protocolVersion: 5 } as never);
        const { packets, error } = feed(new Uint8Array(bytes), []);
        expect(error).toBeUndefined();
        const p = packets[0];
        const props = (x: unknown) => peerNormalize(toPeerProperties(x as Properties) ?? {});
        const expected = peerNormalize(peer.properties ?? {});
        switch (peer.cmd) {
          case 'connect': {
            expect(p).toMatchObject({ type: 1, clientId: peer.clientId, keepAlive: peer.keepalive, cleanStart: peer.clean });
            const q = p as Extract<Packet5, { type: 1 }>;
            expect(props(q.properties)).toEqual(expected);
            expect([q.will!.topic, Array.from(q.will!.payload), q.will!.qos, q.will!.retain]).toEqual([peer.will.topic, Array.from(peer.will.payload), peer.will.qos, peer.will.retain]);
            expect(props(q.will!.properties)).toEqual(peerNormalize(peer.will.properties));
            break;
          }
          case 'connack':
            expect(p).toMatchObject({ type: 2, sessionPresent: peer.sessionPresent, reasonCode: 0 });
            expect(props((p as Extract<Packet5, { type: 2 }>).properties)).toEqual(expected);
            break;
          case 'subscribe': {
            const q = p as Extract<Packet5, { type: 8 }>;
            expect(q.packetId).toBe(peer.messageId);
            expect(q.subscriptions.map((s) => [s.filter, s.qos, !!s.noLocal, !!s.retainAsPublished, s.retainHandling ?? 0])).toEqual(peer.subscriptions.map((s) => [s.topic, s.qos, s.nl, s.rap, s.rh]));
            expect(props(q.properties)).toEqual(expected);
            break;
          }
          default: {
            const q = p as Extract<Packet5, { type: 14 | 15 }>;
            expect([q.type, q.reasonCode]).toEqual([peer.cmd === 'auth' ? 15 : 14, peer.reasonCode]);
            expect(props(q.properties)).toEqual(expected);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes give packets or a MqttProtocolError, nothing else, and terminate', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 10 }), (data, cuts) => {
        const { error } = feed(data, cuts, 4096);
        if (error !== undefined) expect(error).toBeInstanceOf(MqttProtocolError);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid packets give packets or a MqttProtocolError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.array(packet.filter(valid), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (packets, mutations, cuts) => {
          const data = concat(packets.map(encode5));
          for (const [at, value] of mutations) data[at % data.length] = value;
          const { error } = feed(data, cuts, 1 << 20);
          if (error !== undefined) expect(error).toBeInstanceOf(MqttProtocolError);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
