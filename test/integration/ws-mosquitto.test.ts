// MQTT over WebSocket: our client through src/transport/websocket.ts to mosquitto's websockets
// listener (ws:// and wss:// with the test CA), with MQTT.js over plain TCP as the independent peer.
// Then through a proxy built on the `ws` package (an independent RFC 6455 implementation) that cuts
// mosquitto's bytes into tiny fragments and pings in between, and closes with a code of its own.
import net from 'node:net';
import mqtt, { type MqttClient as PeerClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createNodeNetwork } from '../../hosts/sim/net';
import { mqtt5 } from '../../src/mqtt/v5/protocol';
import { WebSocketError } from '../../src/transport/websocket-errors';
import { webSocketNetwork, type WebSocketOptions } from '../../src/transport/websocket';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { connected, published, subscribed, testClient, until, type TestClient } from '../helpers/mqtt';

let broker: MosquittoBroker;
let peer: PeerClient;
const peerReceived: { topic: string; payload: string; qos: number }[] = [];
const clients: TestClient[] = [];
let n = 0;

function wsClient(port: number, options: Partial<Parameters<typeof testClient>[0]> = {}, ws: Partial<WebSocketOptions> = {}): TestClient {
  const t = testClient({
    host: '127.0.0.1',
    port,
    clientId: `ws-${process.pid}-${n++}`,
    network: webSocketNetwork(createNodeNetwork(), { random: Math.random, ...ws }),
    ...options,
  });
  clients.push(t);
  return t;
}

async function peerMessages(topic: string, count: number): Promise<{ payload: string; qos: number }[]> {
  await until(() => peerReceived.filter((m) => m.topic === topic).length >= count, `${count} on ${topic} at the peer`);
  return peerReceived.filter((m) => m.topic === topic);
}

beforeAll(async () => {
  broker = await startMosquitto({ websockets: true, tls: true });
  peer = await mqtt.connectAsync(broker.url, { clientId: `tcp-peer-${process.pid}`, reconnectPeriod: 0 });
  peer.on('message', (topic, payload, packet) => peerReceived.push({ topic, payload: String(payload), qos: packet.qos }));
  await peer.subscribeAsync('from-ws/#', { qos: 2 });
});

afterAll(async () => {
  for (const t of clients) t.client.destroy();
  await peer?.endAsync(true);
  await broker?.stop();
});

describe('MQTT over WebSocket against mosquitto', () => {
  for (const scheme of ['ws', 'wss'] as const) {
    it.each([0, 1, 2] as const)(`${scheme}://: QoS %i both ways with a TCP client`, async (qos) => {
      const t = scheme === 'ws' ? wsClient(broker.wsPort!) : wsClient(broker.wssPort!, { tls: { ca: broker.ca } });
      await connected(t);
      expect(await subscribed(t, `to-ws/${scheme}/q${qos}`, qos)).toEqual([qos]);
      for (let i = 0; i < 5; i++) await published(t, `from-ws/${scheme}/q${qos}`, `${scheme} ${i}`, qos);
      expect(await peerMessages(`from-ws/${scheme}/q${qos}`, 5)).toEqual(Array.from({ length: 5 }, (_, i) => ({ topic: `from-ws/${scheme}/q${qos}`, payload: `${scheme} ${i}`, qos })));
      for (let i = 0; i < 5; i++) await peer.publishAsync(`to-ws/${scheme}/q${qos}`, `tcp ${i}`, { qos });
      await until(() => t.received.length === 5, 'messages over the WebSocket');
      expect(t.received.map((m) => [m.text, m.qos])).toEqual(Array.from({ length: 5 }, (_, i) => [`tcp ${i}`, qos]));
      t.client.end();
    });
  }

  it('wss:// refuses a server signed by another CA', async () => {
    const t = wsClient(broker.wssPort!, { tls: { ca: broker.wrongCa }, reconnect: false });
    t.client.connect();
    await until(() => t.errors.length > 0, 'the TLS failure');
    expect(t.errors[0].message).toMatch(/TLS|certificate/);
    expect(t.connects).toEqual([]);
  });

  it('MQTT 5 over ws://', async () => {
    const t = wsClient(broker.wsPort!, { protocol: mqtt5() });
    await connected(t);
    await subscribed(t, 'v5ws/+', 1);
    await published(t, 'v5ws/a', 'five', 1);
    await until(() => t.received.length === 1, 'the message');
    expect(t.received[0]).toMatchObject({ topic: 'v5ws/a', text: 'five' });
    t.client.end();
  });

  it('a 100 KB message goes out in 512-byte fragments and comes back whole', async () => {
    const t = wsClient(broker.wsPort!, { maxPacketSize: 200_000, outbox: { maxBytes: 300_000 } }, { fragmentSize: 512, maxFrameSize: 200_000 });
    await connected(t);
    await subscribed(t, 'big-ws/+', 1);
    const body = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    await published(t, 'big-ws/x', body, 1);
    await until(() => t.received.length === 1, 'the big message');
    expect(t.received[0].text).toBe(body);
    t.client.end();
  });
});

describe('MQTT over WebSocket through a fragmenting, pinging ws proxy', () => {
  let server: WebSocketServer;
  let port: number;
  const pongs: string[] = [];
  const closes: number[] = [];
  const live = new Set<WebSocket>();

  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    port = (server.address() as net.AddressInfo).port;
    server.on('connection', (ws) => {
      live.add(ws);
      const tcp = net.connect(broker.port, '127.0.0.1');
      ws.on('pong', (data) => pongs.push(String(data)));
      ws.on('close', (code) => {
        closes.push(code);
        tcp.destroy();
      });
      ws.on('message', (data: Buffer) => tcp.write(data));
      tcp.on('data', (chunk) => {
        // every chunk as one message of 5-byte fragments, with a ping before it
        ws.ping(`p${pongs.length}`);
        for (let i = 0; i < chunk.length; i += 5) ws.send(chunk.subarray(i, i + 5), { binary: true, fin: i + 5 >= chunk.length });
      });
      tcp.on('close', () => ws.close(4000, 'broker gone'));
    });
  });

  afterAll(async () => {
    for (const ws of live) ws.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('MQTT packets split over many fragments arrive whole; pings are answered', async () => {
    const t = wsClient(port);
    await connected(t);
    await subscribed(t, 'frag/+', 2);
    for (let i = 0; i < 3; i++) await published(t, 'frag/x', `fragmented ${i} ${'z'.repeat(40)}`, 2);
    await until(() => t.received.length === 3, 'the messages');
    expect(t.received.map((m) => m.text)).toEqual([0, 1, 2].map((i) => `fragmented ${i} ${'z'.repeat(40)}`));
    await until(() => pongs.length >= 3, 'pongs');
    expect(pongs.slice(0, 3)).toEqual(['p0', 'p1', 'p2']);
    t.client.end();
    await until(() => closes.includes(1000), 'the close frame of end()');
  });

  it('a close frame from the server reaches the application with its code and reason', async () => {
    const t = wsClient(port, { reconnect: false });
    await connected(t);
    const before = closes.length;
    for (const ws of live) if (ws.readyState === ws.OPEN) ws.close(4000, 'maintenance');
    await until(() => t.disconnects.length === 1, 'the disconnect');
    // the client's 'connection' error carries the transport's error as its cause
    const cause = t.errors.map((e) => e.cause).find((c) => c instanceof WebSocketError) as WebSocketError;
    expect(cause).toBeDefined();
    expect([cause.code, cause.closeCode, cause.reason]).toEqual(['closed', 4000, 'maintenance']);
    expect(t.errors.map((e) => e.message).join('\n')).toMatch(/closed the WebSocket: 4000 maintenance/);
    // the client echoed 4000 (RFC 6455 section 5.5.1)
    await until(() => closes.length > before, 'the close handshake');
    expect(closes.slice(before)).toContain(4000);
  });
});
