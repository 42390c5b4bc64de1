// Property tests of the client's own framing and packet building (it has fast paths for small packets
// and whole reads): random publishes go out as packets that an independent decoder (mqtt-packet)
// reads back; random inbound packets, cut at random points, arrive as the same messages.
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttClient, type MessageInfo } from '../../src/mqtt/client';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork } from '../../hosts/sim/fakes/network';

const clock = new ManualClock();

interface Seen {
  topic: string;
  payload: number[];
  info: MessageInfo;
}

function connectedClient(options: { inflightWindow?: number } = {}) {
  const net = new ScriptedNetwork();
  const seen: Seen[] = [];
  const errors: Error[] = [];
  const client = new MqttClient({
    clock,
    network: net,
    host: 'h',
    clientId: 'p',
    outbox: { maxMessages: 1000, maxBytes: 1 << 20 },
    onMessage: (topic, payload, info) => seen.push({ topic, payload: Array.from(payload), info }),
    onError: (e) => errors.push(e),
    ...options,
  });
  client.connect();
  const wire = net.last;
  wire.open(1);
  wire.receiveBytes(Uint8Array.from([0x20, 2, 0, 0]));
  wire.written.length = 0;
  return { client, wire, seen, errors };
}

/** Decodes everything written with mqtt-packet, an implementation independent of ours. */
function decodeWritten(written: Uint8Array[]): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (e) => {
    throw e;
  });
  for (const w of written) parser.parse(Buffer.from(w));
  return out;
}

// Topics: any Unicode but U+0000 and wildcards, 1-40 characters (UTF-8 up to 160 bytes).
const topic = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000+#]/.test(s));
const asciiTopic = fc.stringMatching(/^[a-z0-9/]{1,20}$/);
const publish = fc.record({
  topic: fc.oneof(topic, asciiTopic),
  payload: fc.uint8Array({ maxLength: 300 }),
  qos: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
  retain: fc.boolean(),
});

describe('mqtt client properties', () => {
  it('publishes go out as the packets an independent decoder expects, in order, with fresh ids', () => {
    fc.assert(
      fc.property(fc.array(publish, { minLength: 1, maxLength: 20 }), (list) => {
        const { client, wire } = connectedClient({ inflightWindow: 100 });
        for (const p of list) expect(client.publish(p.topic, p.payload, { qos: p.qos, retain: p.retain })).toBe(true);
        const packets = decodeWritten(wire.written);
        expect(packets.length).toBe(list.length);
        const ids = new Set<number>();
        packets.forEach((packet, i) => {
          const p = list[i];
          expect(packet.cmd).toBe('publish');
          const pub = packet as mqttPacket.IPublishPacket;
          expect(pub.topic).toBe(p.topic);
          expect(Array.from(pub.payload as Buffer)).toEqual(Array.from(p.payload));
          expect(pub.qos).toBe(p.qos);
          expect(pub.retain).toBe(p.retain);
          expect(pub.dup).toBe(false);
          if (p.qos) {
            expect(ids.has(pub.messageId!)).toBe(false);
            ids.add(pub.messageId!);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('inbound publishes cut at any points arrive whole, in order, with their flags; QoS 1 and 2 are acknowledged', () => {
    fc.assert(
      fc.property(fc.array(publish, { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 12 }), (list, cuts) => {
        const { wire, seen, errors } = connectedClient();
        const parts = list.map((p, i) =>
          mqttPacket.generate({ cmd: 'publish', topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos, retain: p.retain, dup: false, messageId: p.qos ? i + 1 : undefined }),
        );
        const all = Buffer.concat(parts);
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const to of [...points, all.length]) {
          if (to > from) wire.receiveBytes(new Uint8Array(all.subarray(from, to)));
          from = to;
        }
        expect(errors).toEqual([]);
        expect(seen).toEqual(list.map((p) => ({ topic: p.topic, payload: Array.from(p.payload), info: { qos: p.qos, retain: p.retain, dup: false } })));
        const acks = decodeWritten(wire.written).map((a) => `${a.cmd}:${(a as mqttPacket.IPubackPacket).messageId}`);
        expect(acks).toEqual(list.flatMap((p, i) => (p.qos === 1 ? [`puback:${i + 1}`] : p.qos === 2 ? [`pubrec:${i + 1}`] : [])));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes from the broker end in a protocol error or nothing, never an exception out of the socket callback', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 6 }), (reads) => {
        const { client, wire, errors } = connectedClient();
        for (const r of reads) {
          if (!client.connected) break;
          wire.receiveBytes(r);
        }
        for (const e of errors) expect(e.name).toBe('MqttProtocolError');
      }),
      { numRuns: 1000 },
    );
  });
});
