// Runs inside XS: the MQTT budgets (docs/xs.md). Sizes follow the Moddable comparison: a 64-byte
// payload to a 16-byte topic.
import { encodePublish } from '../../src/mqtt/codec';
import { MqttClient } from '../../src/mqtt/client';
import { PacketParser } from '../../src/mqtt/parser';
import { PUBLISH } from '../../src/mqtt/packets';
import { serveBenchmarks } from '../../hosts/xs/in-xs/bench';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, type ScriptedSocket } from '../../hosts/sim/fakes/network';

const TOPIC = 'sensors/kitchen1'; // 16 bytes
const payload = new Uint8Array(64).map((_v, i) => i);
const qos0Publish = Uint8Array.from([0x30, 2 + 16 + 64, 0, 16, ...Array.from(TOPIC, (c) => c.charCodeAt(0)), ...payload]);
const CONNACK = Uint8Array.from([0x20, 0x02, 0x00, 0x00]);

let socket: ScriptedSocket;
let client: MqttClient | undefined;
const parser = new PacketParser({ maxPacketSize: 1024 });
const puback = Uint8Array.from([0x40, 0x02, 0, 0]);

// Made before the heap is first measured: the fakes are not the client's memory.
const network = new ScriptedNetwork({ keep: 'last' });
const clock = new ManualClock({ start: 1000 });

function connectedClient(): MqttClient {
  if (client) return client;
  client = new MqttClient({
    clock,
    network,
    system: { random: () => 0.5 },
    host: '127.0.0.1',
    clientId: 'bench',
    keepAlive: 60,
    onMessage() {},
  });
  client.connect();
  socket = network.last;
  socket.open(1024);
  socket.receiveBytes(CONNACK);
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
      socket.receiveBytes(qos0Publish);
    },
  },
  'client.qos1-round': {
    setup: () => void connectedClient(),
    run() {
      client!.publish(TOPIC, payload, { qos: 1 });
      // The packet id follows the 2-byte fixed header, the topic length and the topic.
      const sent = socket.lastWrite!;
      puback[2] = sent[20]!;
      puback[3] = sent[21]!;
      socket.receiveBytes(puback);
    },
  },
});
