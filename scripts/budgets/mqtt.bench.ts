// Runs inside XS: the MQTT budgets (docs/xs.md). Sizes follow the Moddable comparison: a 64-byte
// payload to a 16-byte topic.
import { encodePublish } from '../../src/mqtt/codec';
import { MqttClient } from '../../src/mqtt/client';
import { PacketParser } from '../../src/mqtt/parser';
import { PUBLISH } from '../../src/mqtt/packets';
import { serveBenchmarks } from '../../hosts/xs/in-xs/bench';
import { FakeClock, FakeNetwork } from './fake-platform';

const TOPIC = 'sensors/kitchen1'; // 16 bytes
const payload = new Uint8Array(64).map((_v, i) => i);
const qos0Publish = Uint8Array.from([0x30, 2 + 16 + 64, 0, 16, ...Array.from(TOPIC, (c) => c.charCodeAt(0)), ...payload]);
const CONNACK = Uint8Array.from([0x20, 0x02, 0x00, 0x00]);

let network: FakeNetwork;
let client: MqttClient | undefined;
const parser = new PacketParser({ maxPacketSize: 1024 });
const puback = Uint8Array.from([0x40, 0x02, 0, 0]);

function connectedClient(): MqttClient {
  if (client) return client;
  network = new FakeNetwork();
  client = new MqttClient({
    clock: new FakeClock(),
    network,
    system: { random: () => 0.5 },
    host: '127.0.0.1',
    clientId: 'bench',
    keepAlive: 60,
    onMessage() {},
  });
  client.connect();
  network.handlers!.onWritable!(1024);
  network.deliver(CONNACK);
  if (!client.connected) throw new Error('the benchmark client did not connect');
  return client;
}

serveBenchmarks({
  'codec.publish-qos0.encode': {
    run() {
      encodePublish({ type: PUBLISH, topic: TOPIC, payload, qos: 0, retain: false, dup: false });
    },
  },
  'codec.publish-qos0.parse': {
    run() {
      parser.push(qos0Publish);
      parser.next();
    },
  },
  'client.connect': {
    setup: () => void connectedClient(),
    run() {},
  },
  'client.publish-qos0': {
    setup: () => void connectedClient(),
    run() {
      client!.publish(TOPIC, payload, { qos: 0 });
    },
  },
  'client.inbound-qos0': {
    setup: () => void connectedClient(),
    run() {
      network.deliver(qos0Publish);
    },
  },
  'client.qos1-round': {
    setup: () => void connectedClient(),
    run() {
      client!.publish(TOPIC, payload, { qos: 1 });
      // The packet id follows the 2-byte fixed header, the topic length and the topic.
      const sent = network.lastWrite!;
      puback[2] = sent[20]!;
      puback[3] = sent[21]!;
      network.deliver(puback);
    },
  },
});
