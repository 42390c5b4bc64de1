// The device application against a real mosquitto, observed by MQTT.js as a back end would.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../hosts/sim/proxy';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { observer, simDevice, type SimDevice } from '../helpers/device';
import { sleep, until } from '../helpers/mqtt';

let broker: MosquittoBroker;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  broker = await startMosquitto({ persistence: true, extraConfig: 'max_queued_messages 0\n' });
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(async () => {
  await broker?.stop();
});

function device(options: Parameters<typeof simDevice>[0] = {}): SimDevice {
  const d = simDevice({ ...options, config: { brokerHost: broker.host, brokerPort: broker.port, prefix: 'test', discovery: false, ...options.config } });
  cleanup.push(() => d.device.client.destroy());
  return d;
}

async function watch(filters: string[], options = {}) {
  const o = await observer(broker.url, filters, options);
  cleanup.push(() => o.peer.endAsync(true));
  return o;
}

describe('presence', () => {
  it('publishes a retained birth; a late subscriber sees "online" with the current boot counter', async () => {
    const store = new MemoryStore();
    store.set('boot', '41');
    const d = device({ storage: store });
    await until(() => d.device.presence.birthAcknowledged, 'birth acknowledged');
    const late = await watch([d.device.topics.status]);
    await until(() => late.seen.length === 1, 'retained status');
    expect(late.seen[0].retain).toBe(true);
    expect(late.seen[0].json).toMatchObject({ status: 'online', state: 'ready', boot: 42, version: '0.1.0' });
  });

  it('a connection killed abruptly yields the retained "offline" will within 1.5 x keep-alive', async () => {
    const proxy = await FaultProxy.start({ targetHost: broker.host, targetPort: broker.port });
    cleanup.push(() => proxy.close());
    const keepAlive = 2;
    const d = device({ config: { brokerPort: proxy.port }, client: { keepAlive, reconnect: false } });
    await until(() => d.device.presence.birthAcknowledged, 'birth');
    const w = await watch([d.device.topics.status]);
    await until(() => w.seen.length === 1, 'retained online');
    const t0 = Date.now();
    proxy.cutAll(); // the TCP connection dies without DISCONNECT
    await until(() => w.seen.length === 2, 'the will', 10_000);
    const after = w.seen[1].at - t0;
    expect(w.seen[1].json).toMatchObject({ status: 'offline', state: 'lost', boot: d.device.boot, version: '0.1.0' });
    expect(after).toBeLessThanOrEqual(1.5 * keepAlive * 1000);
    const late = await watch([d.device.topics.status]);
    await until(() => late.seen.length === 1, 'retained will');
    expect(late.seen[0]).toMatchObject({ retain: true, json: expect.objectContaining({ status: 'offline', state: 'lost' }) });
  });

  it('a half-open connection (no FIN, no RST) yields the will after the keep-alive runs out', async () => {
    const proxy = await FaultProxy.start({ targetHost: broker.host, targetPort: broker.port });
    cleanup.push(() => proxy.close());
    const keepAlive = 2;
    const d = device({ config: { brokerPort: proxy.port }, client: { keepAlive, reconnect: false } });
    await until(() => d.device.presence.birthAcknowledged, 'birth');
    const w = await watch([d.device.topics.status]);
    await until(() => w.seen.length === 1, 'retained online');
    const t0 = Date.now();
    proxy.stall(true); // the broker hears nothing more and must rely on keep-alive
    await until(() => w.seen.length === 2, 'the will', 15_000);
    const after = w.seen[1].at - t0;
    expect(w.seen[1].json).toMatchObject({ status: 'offline', state: 'lost' });
    // mosquitto 2.0 sweeps keep-alives every 5 s on a 1-s clock, so allow that on top of 1.5 x keep-alive
    expect(after).toBeLessThanOrEqual(1.5 * keepAlive * 1000 + 6000);
    console.log(`half-open: will after ${after} ms with keep-alive ${keepAlive} s (mosquitto sweeps every 5 s)`);
  });

  it('a clean stop publishes "offline" before DISCONNECT (and no will follows)', async () => {
    const d = device();
    await until(() => d.device.presence.birthAcknowledged, 'birth');
    const w = await watch([d.device.topics.status]);
    await until(() => w.seen.length === 1, 'online');
    let stopped = false;
    d.device.stop('maintenance', () => (stopped = true));
    await until(() => stopped, 'stop completes');
    expect(d.device.client.connected).toBe(false);
    await sleep(300);
    expect(w.seen.map((m) => m.json.state)).toEqual(['ready', 'disconnected']);
    expect(w.seen[1].json).toMatchObject({ status: 'offline', reason: 'maintenance' });
  });

  it('a reboot increments the boot counter, so a stale "online" can be told apart', async () => {
    const store = new MemoryStore();
    const first = device({ storage: store, id: `reboot${process.pid}` });
    await until(() => first.device.presence.birthAcknowledged, 'first birth');
    first.device.client.destroy(); // power loss: no offline, the old "online" may linger
    const stale = first.device.boot;
    const second = device({ storage: store, id: `reboot${process.pid}` });
    await until(() => second.device.presence.birthAcknowledged, 'second birth');
    expect(second.device.boot).toBe(stale + 1);
    const w = await watch([second.device.topics.status]);
    await until(() => w.seen.length >= 1, 'status');
    expect(w.seen.at(-1)!.json).toMatchObject({ status: 'online', boot: stale + 1 });
  });
});

describe('heartbeat', () => {
  it('comes every interval of virtual time with the documented fields', async () => {
    const clock = new ManualClock({ wallTime: Date.UTC(2026, 0, 1) });
    const d = device({ clock, config: { heartbeatInterval: 10 } });
    const w = await watch([d.device.topics.heartbeat]);
    while (!d.device.client.connected) await clock.advanceAsync(10, 10);
    const start = clock.now();
    for (let i = 0; i < 35; i++) {
      await clock.advanceAsync(1000);
      await sleep(5);
    }
    await until(() => w.seen.length >= 3, 'three heartbeats');
    await sleep(100);
    expect(w.seen).toHaveLength(3);
    const ups = w.seen.map((m) => m.json.up as number);
    expect(ups[1] - ups[0]).toBe(10);
    expect(ups[2] - ups[1]).toBe(10);
    expect(ups[0]).toBeGreaterThanOrEqual(Math.floor(start / 1000) + 10);
    const hb = w.seen[0].json;
    expect(hb).toMatchObject({ mem: 40000, reconnects: 0, outbox: expect.any(Number), dropped: [0, 0, 0], version: '0.1.0', boot: d.device.boot, reset: 'power-on', interval: 10 });
    expect(hb.expires).toBe(2 * 10 + 30);
    expect(hb.sensors).toMatchObject({ env: { state: 'ok' } });
  });
});

describe('telemetry', () => {
  it('survives a broker outage within the outbox budget, and reports what it dropped beyond it', async () => {
    const outage = await startMosquitto({ persistence: true, extraConfig: 'max_queued_messages 0\n' });
    cleanup.push(() => outage.stop());
    const clock = new ManualClock({ wallTime: Date.UTC(2024, 0, 1) });
    const d = simDevice({
      clock,
      config: { brokerHost: outage.host, brokerPort: outage.port, prefix: 'out', discovery: false, telemetryInterval: 1, outboxMessages: 20, heartbeatInterval: 3600 },
      client: { reconnect: { minDelay: 500, maxDelay: 1000 } },
    });
    cleanup.push(() => d.device.client.destroy());
    const topic = d.device.topics.telemetry('env');
    const w = await observer(outage.url, [topic], { clean: false, clientId: `obs${process.pid}` });
    cleanup.push(() => w.peer.endAsync(true));
    while (!d.device.presence.birthAcknowledged) await clock.advanceAsync(20, 20);
    await clock.advanceAsync(5000, 100);
    await until(() => w.seen.length >= 5, 'telemetry before the outage');
    await outage.stop();
    await until(() => !d.device.client.connected, 'device notices');
    const before = w.seen.length;
    // 15 samples while the broker is down: all fit the outbox of 20
    await clock.advanceAsync(15_000, 1000);
    expect(d.device.client.outboxState.depth).toBe(15);
    await outage.restart();
    await until(() => w.peer.connected, 'observer back', 15_000);
    for (let i = 0; i < 400 && w.seen.length < before + 15; i++) {
      await clock.advanceAsync(100, 100);
      await sleep(10);
    }
    const afterOutage = w.seen.slice(before);
    const samples = afterOutage.filter((m) => typeof m.json.temperature === 'number');
    expect(samples.length).toBeGreaterThanOrEqual(15);
    expect(d.device.client.outboxState.dropped).toEqual([0, 0, 0]);
    // now an outage longer than the budget: 30 samples, room for 20
    await outage.stop();
    await until(() => !d.device.client.connected, 'device notices again');
    const queuedBefore = d.device.client.outboxState.depth;
    await clock.advanceAsync(30_000, 1000);
    expect(d.device.client.outboxState.depth).toBe(20);
    expect(d.device.heartbeat().dropped).toEqual([0, queuedBefore + 30 - 20, 0]);
  });
});
