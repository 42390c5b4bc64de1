// The device application over MQTT 5: command requests carry Response Topic and Correlation Data as
// properties (no JSON id needed), and replies come back with them. The requester is MQTT.js with
// protocolVersion 5, an independent implementation; mosquitto in between.
import mqtt, { type MqttClient as PeerClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqtt5 } from '../../src/mqtt/v5/protocol';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { simDevice, type SimDevice } from '../helpers/device';
import { until } from '../helpers/mqtt';

let broker: MosquittoBroker;
let d: SimDevice;
let requester: PeerClient;
const replies: { topic: string; json: Record<string, unknown>; properties: mqtt.IPublishPacket['properties'] }[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  d = simDevice({
    id: `v5cmd${process.pid}`,
    // the application's reply topics are allowed next to the default ones
    config: { brokerHost: broker.host, brokerPort: broker.port, prefix: 'lab5', replyTopics: '{prefix}/{id}/#,{prefix}/reply/#,app/replies/#' },
    client: { protocol: mqtt5() },
  });
  await until(() => d.device.presence.birthAcknowledged, 'device online');
  requester = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `requester-${process.pid}`, reconnectPeriod: 0 });
  requester.on('message', (topic, payload, packet) => replies.push({ topic, json: JSON.parse(String(payload)), properties: packet.properties }));
  await requester.subscribeAsync(['app/replies/#', 'lab5/+/cmd/+/result'], { qos: 1 });
});

afterAll(async () => {
  d?.device.client.destroy();
  await requester?.endAsync(true);
  await broker?.stop();
});

async function request(name: string, body: object, properties: mqtt.IClientPublishOptions['properties'], replyTopic: string) {
  const before = replies.length;
  await requester.publishAsync(d.device.topics.command(name), JSON.stringify(body), { qos: 1, properties });
  await until(() => replies.slice(before).some((r) => r.topic === replyTopic), `the reply on ${replyTopic}`);
  return replies.slice(before).find((r) => r.topic === replyTopic)!;
}

describe('device commands over MQTT 5', () => {
  it('the device client speaks MQTT 5', () => {
    expect(d.device.client.connected).toBe(true);
    expect(broker.logs()).toMatch(new RegExp(`as lab5-v5cmd${process.pid} \\(p5`));
  });

  it('replies on the Response Topic with the Correlation Data, as JSON with its content type', async () => {
    const correlation = Buffer.from([0x00, 0xff, 0x10, 0x42]);
    const r = await request('ping', {}, { responseTopic: 'app/replies/1', correlationData: correlation }, 'app/replies/1');
    expect(r.json).toMatchObject({ id: null, status: 'ok', result: { pong: true } });
    expect(Buffer.from(r.properties!.correlationData!)).toEqual(correlation);
    expect(r.properties!.contentType).toBe('application/json');
    expect(r.properties!.payloadFormatIndicator).toBe(true);
  });

  it('each request gets its own correlation data back, replies interleaved', async () => {
    const before = replies.length;
    for (let k = 0; k < 5; k++) {
      await requester.publishAsync(d.device.topics.command('ping'), '{}', { qos: 1, properties: { responseTopic: 'app/replies/many', correlationData: Buffer.from(`req-${k}`) } });
    }
    await until(() => replies.slice(before).filter((r) => r.topic === 'app/replies/many').length === 5, 'five replies');
    const got = replies.slice(before).filter((r) => r.topic === 'app/replies/many').map((r) => String(r.properties!.correlationData));
    expect(got.sort()).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
  });

  it('without a Response Topic the reply goes to the result topic, still with the correlation data', async () => {
    const topic = d.device.topics.commandResult('get-config');
    const r = await request('get-config', { id: 'j1' }, { correlationData: Buffer.from('c1') }, topic);
    expect(r.json).toMatchObject({ id: 'j1', status: 'ok' });
    expect(String(r.properties!.correlationData)).toBe('c1');
  });

  it('errors come back the same way', async () => {
    const r = await request('identify', { args: { seconds: 'long' } }, { responseTopic: 'app/replies/err', correlationData: Buffer.from('e') }, 'app/replies/err');
    expect(r.json).toMatchObject({ status: 'error' });
    expect(r.json.error).toMatch(/seconds/);
    expect(String(r.properties!.correlationData)).toBe('e');
  });

  it('a Response Topic on a command topic or outside the reply topics: the error goes to the result topic, with the Correlation Data', async () => {
    const topic = d.device.topics.commandResult('identify');
    for (const target of ['lab5/other/cmd/identify', 'elsewhere/replies']) {
      const r = await request('identify', {}, { responseTopic: target, correlationData: Buffer.from(target) }, topic);
      expect(r.json).toMatchObject({ id: null, status: 'error' });
      expect(r.json.error).toMatch(new RegExp(`^the Response Topic property "${target}" is (a command topic|outside the reply topics)`));
      expect(String(r.properties!.correlationData)).toBe(target);
    }
    expect(d.logs.filter((l) => l.includes('identify'))).toEqual([]);
  });

  it('the JSON id scheme still works from a 3.1.1 requester', async () => {
    const old = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: `old-${process.pid}`, reconnectPeriod: 0 });
    try {
      await old.publishAsync(d.device.topics.command('ping'), JSON.stringify({ id: 'legacy', responseTopic: 'app/replies/legacy', correlationData: 'abc' }), { qos: 1 });
      await until(() => replies.some((r) => r.topic === 'app/replies/legacy'), 'the reply');
      const r = replies.find((x) => x.topic === 'app/replies/legacy')!;
      expect(r.json).toMatchObject({ id: 'legacy', correlationData: 'abc', status: 'ok' });
      // a request without MQTT 5 properties gets a reply without them
      expect(r.properties?.correlationData).toBeUndefined();
    } finally {
      await old.endAsync(true);
    }
  });
});
