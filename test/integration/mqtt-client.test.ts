// Our MQTT client against a real mosquitto: QoS both ways, retained, will, keep-alive death,
// persistent sessions, TLS, credentials, outbox limits, refused subscriptions, oversize packets.
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../hosts/sim/proxy';
import { MqttClientError, MqttConnectError } from '../../src/mqtt/errors';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { connected, published, sleep, subscribed, testClient, until, type TestClient } from '../helpers/mqtt';

let broker: MosquittoBroker;
const clients: TestClient[] = [];
let n = 0;

function client(options: Partial<Parameters<typeof testClient>[0]> = {}): TestClient {
  const t = testClient({ host: broker.host, port: broker.port, clientId: `t${process.pid}-${n++}`, ...options });
  clients.push(t);
  return t;
}

beforeAll(async () => {
  broker = await startMosquitto({ maxPacketSize: 1 << 20 });
});

afterAll(async () => {
  for (const t of clients) t.client.destroy();
  await broker?.stop();
});

describe('MQTT client against mosquitto', () => {
  it.each([0, 1, 2] as const)('publishes and receives at QoS %i in both directions', async (qos) => {
    const a = client();
    const b = client();
    await Promise.all([connected(a), connected(b)]);
    expect(await subscribed(a, `q${qos}/to-a/#`, qos)).toEqual([qos]);
    expect(await subscribed(b, `q${qos}/to-b/+`, qos)).toEqual([qos]);
    for (let i = 0; i < 20; i++) {
      await published(a, `q${qos}/to-b/x`, `from a ${i}`, qos);
      b.client.publish(`q${qos}/to-a/y/z`, `from b ${i}`, { qos });
    }
    await until(() => a.received.length === 20 && b.received.length === 20, 'all messages');
    expect(b.received.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `from a ${i}`));
    expect(a.received.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `from b ${i}`));
    expect(new Set(a.received.map((m) => m.qos))).toEqual(new Set([qos]));
    expect(a.client.outboxState.depth).toBe(0);
  });

  it('delivers a retained message to a late subscriber with the retain flag', async () => {
    const a = client();
    await connected(a);
    await published(a, 'retained/one', 'kept', 1, true);
    const late = client();
    await connected(late);
    await subscribed(late, 'retained/#', 1);
    await until(() => late.received.length === 1, 'the retained message');
    expect(late.received[0]).toMatchObject({ topic: 'retained/one', text: 'kept', retain: true });
  });

  it('the broker publishes the will when the connection ends without DISCONNECT', async () => {
    const watcher = client();
    await connected(watcher);
    await subscribed(watcher, 'will/+', 1);
    const dying = client({ will: { topic: 'will/dying', payload: 'gone', qos: 1, retain: false } });
    await connected(dying);
    dying.client.destroy();
    await until(() => watcher.received.length === 1, 'the will');
    expect(watcher.received[0]).toMatchObject({ topic: 'will/dying', text: 'gone' });
  });

  it('a clean end() sends DISCONNECT, so no will is published', async () => {
    const watcher = client();
    await connected(watcher);
    await subscribed(watcher, 'will2/+', 1);
    const leaving = client({ will: { topic: 'will2/leaving', payload: 'gone', qos: 1 } });
    await connected(leaving);
    leaving.client.end();
    await sleep(500);
    expect(watcher.received).toEqual([]);
  });

  it('detects a stalled connection by keep-alive and reconnects when the path recovers', async () => {
    const proxy = await FaultProxy.start({ targetHost: broker.host, targetPort: broker.port });
    try {
      const c = client({ port: proxy.port, keepAlive: 1, pingTimeout: 500 });
      await connected(c);
      const started = Date.now();
      proxy.stall(true);
      await until(() => c.disconnects.length === 1, 'dead-link detection', 5000);
      const detectedAfter = Date.now() - started;
      expect(c.disconnects[0]).toBeInstanceOf(MqttClientError);
      expect(c.disconnects[0]?.message).toMatch(/PINGREQ/);
      expect(detectedAfter).toBeLessThan(3000); // keep-alive 1 s: ping after 0.75-1 s, 0.5 s to answer
      const back = c.nextConnect();
      proxy.stall(false);
      await back;
    } finally {
      proxy.close();
    }
  });

  it('resumes a persistent session: messages published while offline arrive on reconnect', async () => {
    const id = `persist-${process.pid}`;
    const sub = client({ clientId: id, cleanSession: false });
    expect((await connected(sub)).sessionPresent).toBe(false);
    await subscribed(sub, 'offline/q1', 1);
    sub.client.end();
    const pub = client();
    await connected(pub);
    for (let i = 0; i < 5; i++) await published(pub, 'offline/q1', `m${i}`, 1);
    const again = client({ clientId: id, cleanSession: false });
    expect((await connected(again)).sessionPresent).toBe(true);
    await until(() => again.received.length === 5, 'queued messages');
    expect(again.received.map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('resubscribes by itself when the broker did not resume the session', async () => {
    const proxy = await FaultProxy.start({ targetHost: broker.host, targetPort: broker.port });
    try {
      const sub = client({ port: proxy.port });
      await connected(sub);
      await subscribed(sub, 'resub/+', 1);
      const back = sub.nextConnect();
      proxy.cutAll();
      expect((await back).sessionPresent).toBe(false);
      await sleep(100); // let the SUBACK of the automatic resubscription arrive
      const pub = client();
      await connected(pub);
      await published(pub, 'resub/a', 'after cut', 1);
      await until(() => sub.received.length === 1, 'message after resubscription');
    } finally {
      proxy.close();
    }
  });

  it('reports a refused connection with the return code and a clear message', async () => {
    const auth = await startMosquitto({ auth: { users: { alice: 'right' } } });
    try {
      const bad = testClient({ host: auth.host, port: auth.port, clientId: 'bad', username: 'alice', password: 'wrong', reconnect: false });
      bad.client.connect();
      await until(() => bad.errors.length > 0, 'the refusal');
      expect(bad.errors[0]).toBeInstanceOf(MqttConnectError);
      expect((bad.errors[0] as MqttConnectError).returnCode).toBe(5);
      expect(bad.errors[0].message).toMatch(/not authorized|credentials/);
      let calls = 0;
      const good = testClient({ host: auth.host, port: auth.port, clientId: 'good', username: 'alice', password: () => (calls++, 'right') });
      await connected(good);
      expect(calls).toBe(1);
      good.client.destroy();
    } finally {
      await auth.stop();
    }
  });

  it('connects over TLS with the right CA and refuses a server signed by another CA', async () => {
    const secure = await startMosquitto({ tls: true });
    try {
      const ok = testClient({ host: '127.0.0.1', port: secure.tlsPort!, clientId: 'tls-ok', tls: { ca: secure.ca } });
      await connected(ok);
      await subscribed(ok, 'tls/+', 1);
      await published(ok, 'tls/x', 'secret', 1);
      await until(() => ok.received.length === 1, 'message over TLS');
      ok.client.destroy();
      const wrong = testClient({ host: '127.0.0.1', port: secure.tlsPort!, clientId: 'tls-bad', tls: { ca: secure.wrongCa }, reconnect: false });
      wrong.client.connect();
      await until(() => wrong.errors.length > 0, 'the TLS failure');
      expect(wrong.errors[0].message).toMatch(/TLS|certificate/);
      expect(wrong.connects).toEqual([]);
    } finally {
      await secure.stop();
    }
  });

  it('keeps publishes made offline within the outbox limits and reports what it dropped', async () => {
    const drops: { topic: string; qos: number }[] = [];
    const c = client({ outbox: { maxMessages: 5, maxBytes: 10_000 }, onDrop: (d) => drops.push(...d) });
    const results: (string | undefined)[] = [];
    for (let i = 0; i < 8; i++) c.client.publish(`ob/${i}`, 'x', { qos: i % 2 ? 1 : 0 }, (e) => results.push(e?.message));
    expect(c.client.outboxState.depth).toBe(5);
    // QoS 0 goes first, oldest first: 0, 2, 4 dropped to make room for 5, 6, 7
    expect(drops.map((d) => d.topic)).toEqual(['ob/0', 'ob/2', 'ob/4']);
    expect(results.filter(Boolean)).toHaveLength(3);
    const watcher = client();
    await connected(watcher);
    await subscribed(watcher, 'ob/+', 1);
    await connected(c);
    await until(() => watcher.received.length === 5, 'the kept messages');
    expect(watcher.received.map((m) => m.topic)).toEqual(['ob/1', 'ob/3', 'ob/5', 'ob/6', 'ob/7']);
  });

  it('tells the caller when the broker refuses a subscription (0x80)', async () => {
    // mosquitto's acl_file never refuses a SUBSCRIBE; its dynamic-security plugin does.
    const dir = mkdtempSync(join(tmpdir(), 'dynsec-'));
    chmodSync(dir, 0o777);
    const file = join(dir, 'dynamic-security.json');
    writeFileSync(file, JSON.stringify({
      defaultACLAccess: { publishClientSend: true, publishClientReceive: true, subscribe: false, unsubscribe: true },
      clients: [],
      groups: [{ groupname: 'anon', roles: [{ rolename: 'sub-allowed' }], clients: [] }],
      roles: [{ rolename: 'sub-allowed', acls: [{ acltype: 'subscribePattern', topic: 'allowed/#', priority: 0, allow: true }] }],
      anonymousGroup: 'anon',
    }));
    chmodSync(file, 0o666);
    const plugin = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].map((d) => join(d, 'mosquitto_dynamic_security.so')).find(existsSync);
    expect(plugin, 'mosquitto_dynamic_security.so (Debian package mosquitto)').toBeTruthy();
    const acl = await startMosquitto({ extraConfig: `plugin ${plugin}\nplugin_opt_config_file ${file}\n` });
    try {
      const c = testClient({ host: acl.host, port: acl.port, clientId: 'acl' });
      await connected(c);
      const outcome = await new Promise<[Error | undefined, number[]]>((resolve) =>
        c.client.subscribe([{ filter: 'allowed/x', qos: 1 }, { filter: 'secret/x', qos: 1 }], {}, (e, g) => resolve([e, g])),
      );
      c.client.destroy();
      expect(outcome[1]).toEqual([1, 0x80]);
      expect(outcome[0]).toBeInstanceOf(MqttClientError);
      expect(outcome[0]?.message).toMatch(/refused the subscription to secret\/x/);
    } finally {
      await acl.stop();
    }
  });

  it('an inbound message over maxPacketSize is an error event, not a silent drop, and the connection stays', async () => {
    const small = client({ maxPacketSize: 200 });
    await connected(small);
    await subscribed(small, 'big/+', 1);
    const pub = client();
    await connected(pub);
    await published(pub, 'big/one', 'y'.repeat(500), 1);
    await published(pub, 'big/two', 'small', 1);
    await until(() => small.received.length > 0, 'the next message');
    expect(small.errors[0].message).toMatch(/"big\/one" of \d+ bytes is over maxPacketSize 200/);
    expect(small.received.map((m) => m.topic)).toEqual(['big/two']);
    expect(small.disconnects).toEqual([]);
    expect(small.client.stats.inboundTooLarge).toBe(1);
  });
});
