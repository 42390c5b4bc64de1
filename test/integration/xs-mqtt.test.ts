// The firmware's MQTT client running inside XS, reaching a real mosquitto through the port bridge.
// The other end is MQTT.js on Node, an independent implementation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient as PeerClient } from 'mqtt';
import { BridgeHost, type BridgeEvent } from '../../hosts/xs/bridge/host';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';

const entry = fileURLToPath(new URL('../xs/fixtures/mqtt-app.ts', import.meta.url));
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

let broker: MosquittoBroker;
let host: BridgeHost;
let peer: PeerClient;
const peerReceived: { topic: string; payload: string; qos: number; retain: boolean }[] = [];

async function peerMessage(topic: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = peerReceived.findIndex((m) => m.topic === topic);
    if (index >= 0) return peerReceived.splice(index, 1)[0]!;
    if (Date.now() > deadline) throw new Error(`MQTT.js peer got nothing on ${topic} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  broker = await startMosquitto();
  peer = await mqtt.connectAsync(broker.url, { clientId: 'node-peer', reconnectPeriod: 0 });
  peer.on('message', (topic, payload, packet) => peerReceived.push({ topic, payload: String(payload), qos: packet.qos, retain: packet.retain }));
  await peer.subscribeAsync('from-xs/#', { qos: 2 });
  host = await BridgeHost.start({ entry });
  await host.call('start', { host: '127.0.0.1', port: broker.port, clientId: 'xs-device-1' });
  expect((await host.next('connect')).data).toEqual({ sessionPresent: false });
});

afterAll(async () => {
  await host?.close();
  await peer?.endAsync();
  await broker?.stop();
});

describe('MQTT client inside XS against mosquitto', () => {
  it.each([0, 1, 2] as const)('publishes at QoS %i; the peer receives it once at that QoS', async (qos) => {
    const topic = `from-xs/q${qos}`;
    expect(await host.call('publish', { topic, qos, tag: `q${qos}` }, bytes(`hello ${qos}`))).toEqual({ accepted: true });
    const done: BridgeEvent = await host.next('published');
    expect(done.data).toEqual({ tag: `q${qos}`, error: null });
    expect(await peerMessage(topic)).toEqual({ topic, payload: `hello ${qos}`, qos, retain: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(peerReceived.filter((m) => m.topic === topic)).toEqual([]);
  });

  it('subscribes at QoS 0, 1 and 2 and gets the granted levels', async () => {
    await host.call('subscribe', [
      { filter: 'to-xs/q0', qos: 0 },
      { filter: 'to-xs/q1', qos: 1 },
      { filter: 'to-xs/q2', qos: 2 },
    ]);
    expect((await host.next('subscribed')).data).toEqual({ error: null, granted: [0, 1, 2] });
  });

  it.each([0, 1, 2] as const)('receives a QoS %i message from the peer exactly once, with its bytes', async (qos) => {
    const payload = Buffer.from([0, 1, 2, 0xfe, 0xff, ...bytes(`q${qos}`)]);
    await peer.publishAsync(`to-xs/q${qos}`, payload, { qos });
    const message = await host.next('message');
    expect(message.data).toEqual({ topic: `to-xs/q${qos}`, qos, retain: false, dup: false });
    expect([...message.body]).toEqual([...payload]);
    await expect(host.next('message', 150)).rejects.toMatchObject({ code: 'BRIDGE_TIMEOUT' });
  });

  it('gets a retained message with the retain flag when subscribing later', async () => {
    await peer.publishAsync('to-xs/retained', 'kept', { qos: 1, retain: true });
    await host.call('subscribe', [{ filter: 'to-xs/retained', qos: 1 }]);
    await host.next('subscribed');
    const message = await host.next('message');
    expect(message.data).toEqual({ topic: 'to-xs/retained', qos: 1, retain: true, dup: false });
    expect(text(message.body)).toBe('kept');
    await peer.publishAsync('to-xs/retained', '', { qos: 1, retain: true });
    await host.next('message');
  });

  it('keeps counts straight: nothing left in flight, no errors, no failures inside XS', async () => {
    const state = await host.call<{ connected: boolean; outbox: { depth: number; inflight: number } }>('state');
    expect(state.connected).toBe(true);
    expect(state.outbox).toMatchObject({ depth: 0, inflight: 0 });
    await expect(host.next('mqtt-error', 10)).rejects.toMatchObject({ code: 'BRIDGE_TIMEOUT' });
    expect(host.failures).toEqual([]);
  });

  it('ends gracefully with DISCONNECT', async () => {
    await host.call('end');
    await expect(host.next('mqtt-error', 100)).rejects.toMatchObject({ code: 'BRIDGE_TIMEOUT' });
    expect(await host.call<{ connected: boolean }>('state')).toMatchObject({ connected: false });
    await broker.waitForLog(/Client xs-device-1 disconnected\./, 5000);
  });
});
