// MQTT 5 codec: generate + parse of a PUBLISH (16-byte topic, 64-byte payload), without properties
// and with a response topic, correlation data and a user property, ours against mqtt-packet
// (protocolVersion 5), interleaved in the same run like scripts/bench/codec.ts.
import mqttPacket from 'mqtt-packet';
import type { QoS } from '../../src/mqtt/packets';
import { PacketParser } from '../../src/mqtt/parser';
import { decodeFromServer5 } from '../../src/mqtt/v5/decode';
import { encodePublish5 } from '../../src/mqtt/v5/codec';
import type { Properties } from '../../src/mqtt/v5/properties';
import type { BenchResult } from './result';

const topic = 'sensors/dev01/tt'; // 16 bytes
const payload = new Uint8Array(64).fill(0x61);
const ourProperties: Properties = { responseTopic: 'replies/dev01', correlationData: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), userProperties: [['unit', 'C']] };
const peerProperties = { responseTopic: 'replies/dev01', correlationData: Buffer.from(ourProperties.correlationData!), userProperties: { unit: 'C' } };

function ours(qos: QoS, withProperties: boolean, n: number): number {
  const parser = new PacketParser({ decode: decodeFromServer5 as never, mqtt5: true });
  const properties = withProperties ? ourProperties : undefined;
  let seen = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    parser.push(encodePublish5({ type: 3, topic, payload, qos, retain: false, dup: false, packetId: qos ? (i % 65535) + 1 : undefined, properties }));
    const p = parser.next() as unknown as { type: number; payload: Uint8Array } | undefined;
    if (p && p.type === 3) seen += p.payload.length;
  }
  const ms = performance.now() - t0;
  if (seen !== n * 64) throw new Error('our MQTT 5 parser lost packets');
  return (n / ms) * 1000;
}

function peer(qos: QoS, withProperties: boolean, n: number): number {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  let seen = 0;
  parser.on('packet', (p: mqttPacket.Packet) => {
    if (p.cmd === 'publish') seen += (p.payload as Buffer).length;
  });
  const buf = Buffer.from(payload);
  const properties = withProperties ? peerProperties : undefined;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const bytes = mqttPacket.generate(
      { cmd: 'publish', topic, payload: buf, qos, retain: false, dup: false, messageId: qos ? (i % 65535) + 1 : undefined, properties } as mqttPacket.IPublishPacket,
      { protocolVersion: 5 },
    );
    parser.parse(bytes);
  }
  const ms = performance.now() - t0;
  if (seen !== n * 64) throw new Error('mqtt-packet lost packets');
  return (n / ms) * 1000;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

export async function codec5Bench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const [qos, withProperties] of [[0, false], [1, true]] as [QoS, boolean][]) {
    ours(qos, withProperties, 20000);
    peer(qos, withProperties, 20000); // warm-up
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < 7; round++) {
      a.push(ours(qos, withProperties, 50000));
      b.push(peer(qos, withProperties, 50000));
    }
    const value = median(a);
    const peerValue = median(b);
    results.push({
      name: `MQTT 5 codec generate+parse PUBLISH QoS ${qos} ${withProperties ? 'with response topic, correlation data, user property' : 'without properties'} (16 B topic, 64 B payload)`,
      value: Math.round(value),
      unit: 'packets/s',
      peer: 'mqtt-packet (protocolVersion 5)',
      peerValue: Math.round(peerValue),
      ratio: +(value / peerValue).toFixed(2),
    });
  }
  return results;
}
