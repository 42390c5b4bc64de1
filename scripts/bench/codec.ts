// Codec: generate + parse of a PUBLISH (16-byte topic, 64-byte payload) at QoS 0 and 1, ours against
// mqtt-packet, interleaved in the same run.
import mqttPacket from 'mqtt-packet';
import { encodePublish } from '../../src/mqtt/codec';
import type { QoS } from '../../src/mqtt/packets';
import { PacketParser } from '../../src/mqtt/parser';
import type { BenchResult } from './result';

const topic = 'sensors/dev01/tt'; // 16 bytes
const payload = new Uint8Array(64).fill(0x61);

function ours(qos: QoS, n: number): number {
  const parser = new PacketParser();
  let seen = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const bytes = encodePublish({ type: 3, topic, payload, qos, retain: false, dup: false, packetId: qos ? (i % 65535) + 1 : undefined });
    parser.push(bytes);
    const p = parser.next();
    if (p && p.type === 3) seen += p.payload.length;
  }
  const ms = performance.now() - t0;
  if (seen !== n * 64) throw new Error('our parser lost packets');
  return (n / ms) * 1000;
}

function peer(qos: QoS, n: number): number {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let seen = 0;
  parser.on('packet', (p: mqttPacket.Packet) => {
    if (p.cmd === 'publish') seen += (p.payload as Buffer).length;
  });
  const buf = Buffer.from(payload);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const bytes = mqttPacket.generate({ cmd: 'publish', topic, payload: buf, qos, retain: false, dup: false, messageId: qos ? (i % 65535) + 1 : undefined } as mqttPacket.IPublishPacket);
    parser.parse(bytes);
  }
  const ms = performance.now() - t0;
  if (seen !== n * 64) throw new Error('mqtt-packet lost packets');
  return (n / ms) * 1000;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

export async function codecBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const qos of [0, 1] as QoS[]) {
    ours(qos, 20000);
    peer(qos, 20000); // warm-up
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < 7; round++) {
      a.push(ours(qos, 100000));
      b.push(peer(qos, 100000));
    }
    const value = median(a);
    const peerValue = median(b);
    results.push({ name: `codec generate+parse PUBLISH QoS ${qos} (16 B topic, 64 B payload)`, value: Math.round(value), unit: 'packets/s', peer: 'mqtt-packet', peerValue: Math.round(peerValue), ratio: +(value / peerValue).toFixed(2), target: '>= 2x' });
  }
  return results;
}
