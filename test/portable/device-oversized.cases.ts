// The device application with a command over its MQTT client's maxPacketSize, on a scripted broker
// connection: the request is acknowledged and answered with an error on its default result topic,
// the connection stays, and the next command works. MQTT 3.1.1 and MQTT 5.
import { Device } from '../../src/device/device';
import { decodeAnyPacket } from '../../src/mqtt/all-packets';
import type { Packet, PublishPacket as Publish } from '../../src/mqtt/packets';
import { PacketParser } from '../../src/mqtt/parser';
import { decodeAnyPacket5 } from '../../src/mqtt/v5/all-packets';
import type { Publish5 } from '../../src/mqtt/v5/packets';
import { mqtt5 } from '../../src/mqtt/v5/protocol';
import type { Platform } from '../../src/ports';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork } from '../../hosts/sim/fakes/network';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { equal, hex, ok, suite } from '../../hosts/xs/harness';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** PUBLISH at QoS 1 to `topic` with packet id `id`, MQTT 5 properties when given, and `payload`. */
function publish(topic: string, id: number, payload: number[], properties?: number[]): Uint8Array {
  const t = ascii(topic);
  const body = [t.length >> 8, t.length & 255, ...t, id >> 8, id & 255];
  if (properties) body.push(properties.length, ...properties);
  body.push(...payload);
  const length = body.length;
  const fixed = [0x32];
  for (let n = length; ; ) {
    const b = n % 128;
    n = Math.floor(n / 128);
    fixed.push(n ? b | 128 : b);
    if (!n) break;
  }
  return Uint8Array.from([...fixed, ...body]);
}

function device(v5: boolean) {
  const clock = new ManualClock();
  const network = new ScriptedNetwork();
  const logs: string[] = [];
  const platform: Platform = {
    clock,
    network,
    storage: new MemoryStore(),
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    system: { deviceId: () => 'd1', restart() {}, freeMemory: () => 40000, resetReason: () => 'power-on', random: () => 0 },
  };
  const errors: Error[] = [];
  const d = new Device({
    platform,
    version: '1.0.0',
    config: { prefix: 'p', discovery: false },
    client: { maxPacketSize: 200, protocol: v5 ? mqtt5() : undefined, onError: (e) => errors.push(e) },
  });
  d.start();
  const s = network.last;
  s.open();
  s.sent();
  s.receive(v5 ? '20 03 00 00 00' : '20 02 00 00');
  const parser = new PacketParser({ decode: (v5 ? decodeAnyPacket5 : decodeAnyPacket) as typeof decodeAnyPacket, mqtt5: v5 });
  /** What the device wrote since the last call, decoded. */
  const sent = (): Packet[] => {
    const out: Packet[] = [];
    for (const h of s.sent()) {
      parser.push(hex(h));
      for (let p = parser.next(); p; p = parser.next()) out.push(p);
    }
    return out;
  };
  const replies = (packets: Packet[]) => packets.filter((p): p is Publish => p.type === 3 && p.topic.endsWith('/result'));
  return { d, s, sent, replies, errors, logs };
}

export default suite('device oversized commands', (test) => {
  for (const v5 of [false, true]) {
    const version = v5 ? 'MQTT 5' : 'MQTT 3.1.1';
    test(`${version}: a command over maxPacketSize gets an error reply with id null; the connection stays and the next command works`, () => {
      const t = device(v5);
      t.sent();
      // 1000 bytes of JSON-looking payload; MQTT 5 with Correlation Data 07
      const big = publish('p/d1/cmd/ping', 0x10, ascii(`{"id":"big","args":{"x":"${'y'.repeat(980)}"}}`), v5 ? [0x09, 0x00, 0x01, 0x07] : undefined);
      t.s.receiveBytes(big);
      const out = t.sent();
      equal(out.filter((p) => p.type === 4).map((p) => (p as { packetId: number }).packetId), [0x10], 'PUBACK');
      const [reply] = t.replies(out);
      ok(reply, 'an error reply');
      equal(reply.topic, 'p/d1/cmd/ping/result');
      const body = JSON.parse(String.fromCharCode(...reply.payload)) as Record<string, unknown>;
      equal([body.id, body.status], [null, 'error']);
      ok(String(body.error).includes(`request of ${big.length} bytes is over this device's limit of 200 bytes`), String(body.error));
      if (v5) equal((reply as unknown as Publish5).properties?.correlationData, Uint8Array.of(7));
      ok(t.d.client.connected, 'still connected');
      equal(t.d.client.stats.inboundTooLarge, 1);
      equal(t.errors.map((e) => e.name), ['MqttMessageTooLargeError']);
      // the next command is answered as usual
      t.s.receiveBytes(publish('p/d1/cmd/ping', 0x11, ascii('{"id":"n1"}'), v5 ? [] : undefined));
      const next = t.replies(t.sent());
      equal(next.length, 1);
      const ok1 = JSON.parse(String.fromCharCode(...next[0].payload)) as Record<string, unknown>;
      equal([ok1.id, ok1.status], ['n1', 'ok']);
    });
  }

  test('a message over maxPacketSize on a topic that is not a command gets no reply', () => {
    const t = device(false);
    t.sent();
    t.d.client.subscribe('p/other', { qos: 1, onMessage: () => {} });
    t.sent();
    t.s.receiveBytes(publish('p/other', 0x12, new Array<number>(500).fill(0x41)));
    const out = t.sent();
    equal(out.map((p) => p.type), [4]);
    equal(t.errors.length, 1);
  });
});
