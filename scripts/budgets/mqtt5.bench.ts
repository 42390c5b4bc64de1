// Runs inside XS: MQTT 5 and WebSocket budgets, on the same fake socket and clock as mqtt.bench.ts and
// the same message (a 64-byte payload to a 16-byte topic), so the figures compare with MQTT 3.1.1's.
import { MqttClient } from '../../src/mqtt/client';
import { PacketParser } from '../../src/mqtt/parser';
import { decodeAnyPacket5, encode5 } from '../../src/mqtt/v5/all-packets';
import { mqtt5 } from '../../src/mqtt/v5/protocol';
import type { TcpSocket } from '../../src/ports';
import { acceptFor, webSocketKey } from '../../src/transport/websocket-handshake';
import { webSocketNetwork } from '../../src/transport/websocket';
import { serveBenchmarks } from '../../hosts/xs/in-xs/bench';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, type ScriptedSocket } from '../../hosts/sim/fakes/network';

const TOPIC = 'sensors/kitchen1'; // 16 bytes
const topicBytes = Array.from(TOPIC, (c) => c.charCodeAt(0));
const payload = new Uint8Array(64).map((_v, i) => i);
// PUBLISH QoS 0 without properties: topic, property length 0, payload
const qos0Publish5 = Uint8Array.from([0x30, 2 + 16 + 1 + 64, 0, 16, ...topicBytes, 0, ...payload]);
const qos0Publish = Uint8Array.from([0x30, 2 + 16 + 64, 0, 16, ...topicBytes, ...payload]);
// CONNACK with Topic Alias Maximum 10
const CONNACK5 = Uint8Array.from([0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x0a]);
const CONNACK = Uint8Array.from([0x20, 0x02, 0x00, 0x00]);
const puback = Uint8Array.from([0x40, 0x02, 0, 0]);
const properties = { responseTopic: 'replies/kitchen', correlationData: Uint8Array.of(1, 2, 3, 4) };
const withProperties = encode5({ type: 3, topic: TOPIC, payload, qos: 0, retain: false, dup: false, properties });
const parser = new PacketParser({ maxPacketSize: 1024, decode: decodeAnyPacket5 as never, mqtt5: true });

// The fakes are made before the heap is first measured: they are not the client's memory.
const network = new ScriptedNetwork({ keep: 'last' });
const wsNetwork = new ScriptedNetwork({ keep: 'last' });
const clock = new ManualClock({ start: 1000 });

let socket: ScriptedSocket;
let client: MqttClient | undefined;

function connected5(): MqttClient {
  if (client) return client;
  client = new MqttClient({ clock, network, system: { random: () => 0.5 }, host: '127.0.0.1', clientId: 'bench', keepAlive: 60, protocol: mqtt5(), onMessage() {} });
  client.connect();
  socket = network.last;
  socket.open(1024);
  socket.receiveBytes(CONNACK5);
  if (!client.connected) throw new Error('the MQTT 5 benchmark client did not connect');
  // the topic gets its alias once
  client.publish(TOPIC, payload, { qos: 0 });
  return client;
}

/** The packet id of the last PUBLISH written (1-byte remaining length). */
function lastId(): number {
  const sent = socket.lastWrite!;
  const at = 4 + ((sent[2] << 8) | sent[3]);
  return (sent[at] << 8) | sent[at + 1];
}

// ---- the 3.1.1 client over WebSocket ------------------------------------------------------------

let wsRaw: ScriptedSocket;
let wsClient: MqttClient | undefined;
let wsSocket: TcpSocket | undefined;
// server frame: binary, FIN, the 82-byte PUBLISH
const wsInbound = Uint8Array.from([0x82, qos0Publish.length, ...qos0Publish]);

function connectedWs(): MqttClient {
  if (wsClient) return wsClient;
  const random = () => 0.5;
  const ws = webSocketNetwork(wsNetwork, { random });
  const wrapped = {
    connect(options: Parameters<typeof ws.connect>[0]) {
      return (wsSocket = ws.connect(options));
    },
  };
  wsClient = new MqttClient({ clock, network: wrapped, system: { random }, host: '127.0.0.1', port: 8080, clientId: 'bench', keepAlive: 60, onMessage() {} });
  wsClient.connect();
  wsRaw = wsNetwork.last;
  wsRaw.open(1024);
  const accept = acceptFor(webSocketKey(random));
  const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
  wsRaw.receiveBytes(Uint8Array.from([...Array.from(head, (c) => c.charCodeAt(0)), 0x82, CONNACK.length, ...CONNACK]));
  if (!wsClient.connected || !wsSocket) throw new Error('the WebSocket benchmark client did not connect');
  return wsClient;
}

serveBenchmarks({
  'codec5.publish-props.encode': {
    run() {
      encode5({ type: 3, topic: TOPIC, payload, qos: 0, retain: false, dup: false, properties });
    },
  },
  'codec5.publish-props.parse': {
    run() {
      parser.push(withProperties);
      parser.next();
    },
  },
  'client5.connect': {
    setup: () => void connected5(),
    run() {},
  },
  'client5.publish-qos0': {
    setup: () => void connected5(),
    run() {
      client!.publish(TOPIC, payload, { qos: 0 });
    },
  },
  'client5.inbound-qos0': {
    setup: () => void connected5(),
    run() {
      socket.receiveBytes(qos0Publish5);
    },
  },
  'client5.qos1-round': {
    setup: () => void connected5(),
    run() {
      client!.publish(TOPIC, payload, { qos: 1 });
      const id = lastId();
      puback[2] = id >> 8;
      puback[3] = id & 255;
      socket.receiveBytes(puback);
    },
  },
  'ws.client.publish-qos0': {
    setup: () => void connectedWs(),
    run() {
      wsClient!.publish(TOPIC, payload, { qos: 0 });
    },
  },
  'ws.client.inbound-qos0': {
    setup: () => void connectedWs(),
    run() {
      wsRaw.receiveBytes(wsInbound);
    },
  },
});
