// A command far over the device's maxPacketSize (a "poison message") against mosquitto, with a
// persistent session and a persisted outbox: the device reads it through, acknowledges it, answers
// with an error and stays online; the broker does not send it again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient as PeerClient } from 'mqtt';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { observer, simDevice, type Observed, type SimDevice } from '../helpers/device';
import { sleep, until } from '../helpers/mqtt';

let broker: MosquittoBroker;
let d: SimDevice;
let peer: PeerClient;
let seen: Observed[];
const errors: Error[] = [];

/** A 1 MB request that is valid JSON, so only its size is wrong. */
const POISON = JSON.stringify({ id: 'poison', args: { pad: 'x'.repeat(1 << 20) } });

beforeAll(async () => {
  broker = await startMosquitto();
  d = simDevice({
    id: `poison${process.pid}`,
    config: { brokerHost: broker.host, brokerPort: broker.port, prefix: 'lab', persistOutbox: true, discovery: false },
    client: { onError: (e) => errors.push(e) },
  });
  await until(() => d.device.presence.birthAcknowledged, 'device online');
  ({ peer, seen } = await observer(broker.url, ['lab/+/status', 'lab/+/cmd/+/result']));
  await until(() => seen.some((m) => m.topic === d.device.topics.status), 'the retained status');
});

afterAll(async () => {
  d?.device.client.destroy();
  await peer?.endAsync(true);
  await broker?.stop();
});

const result = (name: string) => d.device.topics.commandResult(name);
const offline = (from: number) => seen.slice(from).filter((m) => m.topic === d.device.topics.status && m.json.status === 'offline');

async function ping(id: string): Promise<Record<string, unknown>> {
  const before = seen.length;
  await peer.publishAsync(d.device.topics.command('ping'), JSON.stringify({ id }), { qos: 1 });
  await until(() => seen.slice(before).some((m) => m.topic === result('ping') && m.json.id === id), `reply to ping ${id}`);
  return seen.slice(before).find((m) => m.topic === result('ping') && m.json.id === id)!.json;
}

describe('a command over maxPacketSize', () => {
  it('a 1 MB publish to cmd/ping: no disconnect, no will, an error reply to the sender, and the next command works', async () => {
    const client = d.device.client;
    expect(client.connected).toBe(true);
    const connects = client.stats.connects;
    const before = seen.length;
    await peer.publishAsync(d.device.topics.command('ping'), POISON, { qos: 1 });
    await until(() => seen.slice(before).some((m) => m.topic === result('ping') && m.json.status === 'error'), 'the error reply');
    const reply = seen.slice(before).find((m) => m.topic === result('ping'))!.json;
    expect(reply).toMatchObject({ id: null, status: 'error' });
    expect(reply.error).toMatch(/request of \d{7} bytes is over this device's limit of 65536 bytes/);
    expect(errors.map((e) => e.name)).toContain('MqttMessageTooLargeError');
    expect((await ping('after')).status).toBe('ok');
    // time for a will or a reconnect to show, had the connection been dropped
    await sleep(500);
    expect(offline(before)).toEqual([]);
    expect(client.stats.connects).toBe(connects);
    expect(client.stats.protocolErrors).toBe(0);
    expect(client.stats.inboundTooLarge).toBe(1);
    expect(client.connected).toBe(true);
  });

  it('queued in the persistent session while the device was away: answered once at reconnect, and not sent again after', async () => {
    const client = d.device.client;
    const tooLarge = client.stats.inboundTooLarge;
    // a clean stop keeps the session (cleanSession false): the broker queues what comes meanwhile
    client.end();
    const before = seen.length;
    await peer.publishAsync(d.device.topics.command('ping'), POISON, { qos: 1 });
    const connects = client.stats.connects;
    client.connect();
    await until(() => client.stats.connects === connects + 1, 'reconnect');
    await until(() => seen.slice(before).some((m) => m.topic === result('ping') && m.json.status === 'error'), 'the error reply');
    expect(client.stats.inboundTooLarge).toBe(tooLarge + 1);
    // the reply is QoS 1: once the broker has it, a reconnect cannot resend it (a resend before its
    // PUBACK would be a legitimate duplicate)
    await until(() => client.outboxState.inflight === 0 && client.outboxState.depth === 0, 'the reply acknowledged');
    // the broker took the acknowledgement: after another reconnect with the session, nothing comes back
    client.reconnect();
    await until(() => client.stats.connects === connects + 2, 'second reconnect');
    expect((await ping('again')).status).toBe('ok');
    await sleep(500);
    expect(client.stats.inboundTooLarge).toBe(tooLarge + 1);
    expect(seen.slice(before).filter((m) => m.topic === result('ping') && m.json.status === 'error')).toHaveLength(1);
    expect(offline(before)).toEqual([]);
    expect(client.stats.protocolErrors).toBe(0);
  });
});
