// The fault-injection toolkit against a real mosquitto, each fault on its own: the wire faults of the
// loopback proxy through our MQTT client (half-open detected, 1-byte fragments parsed, duplicated
// segments deduplicated), and the faults of a simulated device (Wi-Fi loss, cut, stall, restart,
// power cut, crash, failed sensor, images that cannot connect or are unhealthy), as a back end on
// the broker (MQTT.js) sees them.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimDeviceRunner, type BootLoader, type SimDeviceOptions } from '../../scripts/sim/device-runner';
import { BrokerStartError, EmbeddedBroker } from '../../scripts/sim/embedded-broker';
import { Environment } from '../../scripts/sim/environment';
import { createNodeNetwork } from '../../hosts/sim/net';
import { FaultProxy } from '../../hosts/sim/proxy';
import { TimerWheel } from '../../hosts/sim/shared-clock';
import { MqttClient } from '../../src/mqtt/client';
import { observer, type Observed } from '../helpers/device';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';
import { waitForTcp } from '../../scripts/broker/free-ports';

let broker: MosquittoBroker;
let wheel: TimerWheel;
let dir: string;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  broker = await startMosquitto({ extraConfig: 'max_queued_messages 1000\n' });
  wheel = new TimerWheel();
  dir = mkdtempSync(join(tmpdir(), 'sim-faults-'));
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(async () => {
  wheel?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function watch(filters: string[]): Promise<{ peer: mqtt.MqttClient; seen: Observed[] }> {
  const o = await observer(broker.url, filters);
  cleanup.push(() => o.peer.endAsync(true));
  return o;
}

// ---- wire faults through the client -------------------------------------------------------------

describe('proxy faults through our MQTT client', () => {
  function client(port: number, id: string, extra: Partial<ConstructorParameters<typeof MqttClient>[0]> = {}) {
    const events = { connects: 0, disconnects: [] as (Error | undefined)[], received: [] as { topic: string; text: string }[] };
    const c = new MqttClient({
      clock: wheel.clock(),
      network: createNodeNetwork(),
      host: '127.0.0.1',
      port,
      clientId: id,
      reconnect: false,
      onConnect: () => events.connects++,
      onDisconnect: (e) => events.disconnects.push(e),
      onMessage: (topic, payload) => events.received.push({ topic, text: new TextDecoder().decode(payload) }),
      ...extra,
    });
    cleanup.push(() => c.destroy());
    c.connect();
    return { c, events };
  }

  async function proxy(): Promise<FaultProxy> {
    const p = await FaultProxy.start({ targetHost: broker.host, targetPort: broker.port });
    cleanup.push(() => p.close());
    return p;
  }

  it('detects a half-open connection (stalled proxy, no FIN or RST) by its keep-alive', async () => {
    const p = await proxy();
    const keepAlive = 2;
    const { c, events } = client(p.port, 'halfopen-1', { keepAlive });
    await until(() => events.connects === 1, 'connect');
    const t0 = Date.now();
    p.stall(true);
    await until(() => events.disconnects.length === 1, 'the dead link noticed', 10_000);
    const after = Date.now() - t0;
    expect(events.disconnects[0]?.message).toMatch(/no answer to PINGREQ/);
    expect(c.connected).toBe(false);
    // a PINGREQ once the link is idle for 3/4 of the keep-alive, then half a keep-alive for the answer,
    // checked every quarter: at most 1.5 + 0.5 + 1 (+ 0.5) s
    expect(after).toBeLessThanOrEqual(3_500 + 500);
  });

  it('parses packets that arrive one byte per TCP segment, both ways', async () => {
    const p = await proxy();
    const { c, events } = client(p.port, 'fragment-1');
    await until(() => events.connects === 1, 'connect');
    p.fragment(true, 'both', 1);
    const peer = await watch(['frag/out']);
    await new Promise<void>((resolve, reject) => c.subscribe('frag/in', { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    const payloads = ['a', 'ü€😀 utf-8', 'x'.repeat(300)];
    for (const [i, text] of payloads.entries()) await peer.peer.publishAsync('frag/in', text, { qos: (i % 2) as 0 | 1 });
    await until(() => events.received.length === payloads.length, 'fragmented messages', 20_000);
    expect(events.received.map((r) => r.text)).toEqual(payloads);
    let acked = 0;
    c.publish('frag/out', 'from us, byte by byte', { qos: 1 }, (e) => !e && acked++);
    await until(() => acked === 1 && peer.seen.length === 1, 'our publish through the fragmenting proxy', 20_000);
    expect(peer.seen[0].text).toBe('from us, byte by byte');
    expect(c.stats.protocolErrors).toBe(0);
  });

  it('delivers a QoS 2 message once when every segment from the broker arrives twice', async () => {
    const p = await proxy();
    const { c, events } = client(p.port, 'dup-1');
    await until(() => events.connects === 1, 'connect');
    await new Promise<void>((resolve, reject) => c.subscribe('dup/in', { qos: 2 }, (e) => (e ? reject(e) : resolve())));
    p.duplicate(true, 'toClient');
    const peer = await mqtt.connectAsync(broker.url);
    cleanup.push(() => peer.endAsync(true));
    for (let i = 0; i < 5; i++) await peer.publishAsync('dup/in', `m${i}`, { qos: 2 });
    await until(() => events.received.length >= 5 && c.stats.inboundDuplicates >= 5, 'messages and their duplicates', 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(events.received.map((r) => r.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(c.stats.inboundDuplicates).toBeGreaterThanOrEqual(5);
    // our own QoS 1 publish completes once although its PUBACK comes twice
    let done = 0;
    c.publish('dup/out', 'once', { qos: 1 }, () => done++);
    await until(() => done === 1, 'acknowledged');
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(1);
    expect(c.connected).toBe(true);
  });
});

// ---- device faults --------------------------------------------------------------------------------

let serial = 0;

function device(options: Partial<SimDeviceOptions> & { name?: string } = {}): SimDeviceRunner {
  const index = serial++;
  const runner = new SimDeviceRunner({
    index,
    wheel,
    environment: new Environment({ seed: 77, utcOffsetMinutes: 0 }),
    network: createNodeNetwork(),
    stateDir: join(dir, options.name ?? `d${index}`),
    seed: 77,
    board: 'env',
    bootMs: 50,
    powerOffMs: 500,
    ...options,
    config: { prefix: 'flt', brokerHost: broker.host, brokerPort: broker.port, heartbeatInterval: 1, telemetryInterval: 1, discovery: false, ...options.config },
  });
  cleanup.push(() => runner.stop());
  return runner;
}

async function online(r: SimDeviceRunner, ms = 15_000): Promise<void> {
  await until(() => r.presence === 'ready', `device ${r.index} online`, ms);
}

const statuses = (seen: Observed[], id: string) => seen.filter((m) => m.topic === `flt/${id}/status`).map((m) => m.json);

describe('simulated device faults', () => {
  it('keeps id, boot counter and Wi-Fi settings in its state dir across a restart', async () => {
    const r = device({ name: 'persist' });
    const logs: string[] = [];
    r.options.log = (_r, _level, message) => logs.push(message);
    r.start();
    await online(r);
    const id = r.deviceId;
    expect(logs.some((l) => /first boot: joining "simnet"/.test(l))).toBe(true);
    expect(r.provisioning?.savedNetworks()).toEqual(['simnet']);
    const boot = r.device!.boot;
    const w = await watch([`flt/${id}/status`]);
    r.restart('test');
    await until(() => statuses(w.seen, id).some((s) => s.state === 'disconnected'), 'clean offline');
    await until(() => r.presence === 'ready' && r.device!.boot === boot + 1, 'rebooted and online');
    expect(r.deviceId).toBe(id);
    expect(r.lastResetReason).toBe('software');
    expect(logs.filter((l) => /first boot/.test(l))).toHaveLength(1);
    await until(() => statuses(w.seen, id).at(-1)?.boot === boot + 1, 'the birth of the new boot');
    expect(statuses(w.seen, id).at(-1)).toMatchObject({ status: 'online', state: 'ready', boot: boot + 1 });
    // a new runner on the same state dir is the same device
    await r.stop();
    const again = device({ name: 'persist' });
    again.start();
    await online(again);
    expect(again.deviceId).toBe(id);
    expect(again.device!.boot).toBe(boot + 2);
  });

  it('drop Wi-Fi: the broker publishes the will, and the device comes back on the same boot', async () => {
    const r = device();
    r.start();
    await online(r);
    const w = await watch([`flt/${r.deviceId}/status`]);
    await until(() => w.seen.length === 1, 'retained online');
    const boot = r.device!.boot;
    r.dropWifi(2000);
    expect(r.wifiDown).toBe(true);
    await until(() => statuses(w.seen, r.deviceId).some((s) => s.state === 'lost'), 'the will');
    expect(r.link.wifiUp).toBe(false);
    await until(() => !r.wifiDown, 'the network back', 5000);
    await online(r, 30_000);
    expect(r.device!.boot).toBe(boot);
    await until(() => statuses(w.seen, r.deviceId).at(-1)?.status === 'online', 'the birth after the outage');
    expect(statuses(w.seen, r.deviceId).at(-1)).toMatchObject({ status: 'online', boot });
  });

  it('cut the connection: the will, then a reconnect without a reboot', async () => {
    const r = device();
    r.start();
    await online(r);
    const w = await watch([`flt/${r.deviceId}/status`]);
    await until(() => w.seen.length === 1, 'retained online');
    expect(r.cutConnection()).toBe(1);
    await until(() => statuses(w.seen, r.deviceId).some((s) => s.state === 'lost'), 'the will');
    await until(() => statuses(w.seen, r.deviceId).at(-1)?.status === 'online', 'online again');
    expect(r.device!.client.stats.reconnects).toBe(1);
  });

  it('stall (half-open): the broker gives up after its keep-alive and publishes the will; the device recovers when it ends', async () => {
    const r = device({ config: { keepAlive: 5 } });
    r.start();
    await online(r);
    const w = await watch([`flt/${r.deviceId}/status`, `flt/${r.deviceId}/heartbeat`]);
    await until(() => w.seen.length >= 1, 'retained online');
    const t0 = Date.now();
    r.stall(true);
    await until(() => statuses(w.seen, r.deviceId).some((s) => s.state === 'lost'), 'the will', 20_000);
    // mosquitto: 1.5 x keep-alive, checked every few seconds
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5_000);
    const beatsDuringStall = w.seen.filter((m) => m.topic.endsWith('/heartbeat') && m.at > t0 + 500).length;
    expect(beatsDuringStall).toBe(0);
    r.stall(false);
    await until(() => statuses(w.seen, r.deviceId).at(-1)?.status === 'online', 'online again', 40_000);
  });

  it('power cut: no "offline" from the device, the will; then a new boot with reset reason power-on', async () => {
    const r = device();
    r.start();
    await online(r);
    const boot = r.device!.boot;
    const w = await watch([`flt/${r.deviceId}/status`, `flt/${r.deviceId}/heartbeat`]);
    await until(() => w.seen.length >= 1, 'retained online');
    r.powerCut(300);
    expect(r.power).toBe('off');
    await until(() => statuses(w.seen, r.deviceId).some((s) => s.state === 'lost'), 'the will');
    expect(statuses(w.seen, r.deviceId).some((s) => s.state === 'disconnected')).toBe(false);
    await until(() => statuses(w.seen, r.deviceId).at(-1)?.boot === boot + 1, 'the next boot online');
    await until(() => w.seen.some((m) => m.topic.endsWith('/heartbeat') && m.json.boot === boot + 1), 'a heartbeat of the new boot');
    expect(w.seen.filter((m) => m.topic.endsWith('/heartbeat')).at(-1)!.json.reset).toBe('power-on');
  });

  it('a crash-looping image panics a few seconds after every boot (reset reason panic)', async () => {
    const crashing: BootLoader = () => ({ image: { version: '9.9.9-bad', behaviour: 'crash-loop' } });
    const r = device({ bootLoader: crashing });
    r.start();
    await online(r);
    const boot = r.device!.boot;
    expect(r.version).toBe('9.9.9-bad');
    await until(() => r.device?.boot === boot + 1, 'a reboot after the crash', 10_000);
    expect(r.lastResetReason).toBe('panic');
  });

  it('an image that never reaches the broker: connections are refused, it stays offline', async () => {
    const r = device({ bootLoader: () => ({ image: { version: '2.0.0', behaviour: 'no-connect' } }) });
    const logs: string[] = [];
    r.options.log = (_r, _l, m) => logs.push(m);
    r.start();
    await until(() => logs.some((l) => /connection refused/.test(l)), 'a refused connection', 10_000);
    expect(r.presence).not.toBe('ready');
    expect(r.wifiState).toBe('connected');
  });

  it('an unhealthy image reports free memory below any floor in its heartbeat', async () => {
    const r = device({ bootLoader: () => ({ image: { version: '2.0.1', behaviour: 'fail-health' } }) });
    r.start();
    await online(r);
    const w = await watch([`flt/${r.deviceId}/heartbeat`]);
    await until(() => w.seen.length >= 1, 'a heartbeat');
    expect(w.seen[0].json).toMatchObject({ mem: 1024, version: '2.0.1' });
    expect(r.device!.health().freeMemory).toBe(1024);
  });

  it('a failed sensor is reported in telemetry and the heartbeat; repaired, values come back', async () => {
    const r = device();
    r.start();
    await online(r);
    const w = await watch([`flt/${r.deviceId}/telemetry/env`, `flt/${r.deviceId}/heartbeat`]);
    await until(() => w.seen.some((m) => typeof m.json.temperature === 'number'), 'values');
    expect(() => r.failSensor(true, 'nosuch')).toThrow(/device \d+ has no sensor "nosuch"; it has env/);
    expect(r.failSensor(true)).toEqual(['env']);
    await until(() => w.seen.some((m) => m.topic.endsWith('/telemetry/env') && m.json.error === 'absent'), 'the sensor error');
    await until(() => w.seen.some((m) => m.topic.endsWith('/heartbeat') && (m.json.sensors as Record<string, { state: string }>)?.env?.state === 'absent'), 'the heartbeat says so');
    const errorAt = w.seen.length;
    r.failSensor(false);
    await until(() => w.seen.slice(errorAt).some((m) => m.topic.endsWith('/telemetry/env') && typeof m.json.temperature === 'number'), 'values again');
  });

  it('a sensor broken before a boot stays broken after it and is reported, not left out', async () => {
    const r = device();
    r.failSensor(true, 'env');
    // the error is published once, when it starts: listen before the boot
    const w = await watch(['flt/+/telemetry/env']);
    r.start();
    await online(r);
    await until(() => w.seen.some((m) => m.topic === `flt/${r.deviceId}/telemetry/env` && m.json.error === 'absent'), 'the sensor error');
    expect(r.board!.chips.env.fault).toBe('absent');
  });

  it('values are plausible and move: BME280 readings of the site through the driver', async () => {
    const r = device();
    r.start();
    await online(r);
    const w = await watch([`flt/${r.deviceId}/telemetry/env`]);
    await until(() => w.seen.filter((m) => typeof m.json.temperature === 'number').length >= 2, 'two samples');
    const v = w.seen.find((m) => typeof m.json.temperature === 'number')!.json as Record<string, number>;
    // the site's values in the second the sample was taken (the environment changes once a second)
    const expected = r.site.values(Math.floor(v.ts / 1000) * 1000);
    // through the chip's ADC (16-bit at oversampling 1), the driver's compensation and the telemetry
    // rounding (2, 1 and 0 decimals); a sample taken just before a second boundary adds that second's noise
    expect(Math.abs(v.temperature - expected.temperature)).toBeLessThan(0.12);
    expect(Math.abs(v.humidity - expected.humidity)).toBeLessThan(0.8);
    expect(Math.abs(v.pressure - expected.pressure)).toBeLessThan(12);
  });
});

describe('embedded broker', () => {
  it('restart: connections drop, the port refuses while it is down, devices come back, retained messages survive', async () => {
    const embedded = await EmbeddedBroker.start({ port: 0 });
    cleanup.push(() => embedded.stop());
    const runners = [0, 1].map(() => device({ config: { brokerPort: embedded.port } }));
    for (const r of runners) r.start();
    for (const r of runners) await online(r);
    expect(embedded.clients).toBe(2);
    const restarting = embedded.restart(800);
    await until(() => !embedded.running, 'broker down');
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: embedded.port });
      s.once('connect', () => resolve('connected'));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await restarting;
    await waitForTcp('127.0.0.1', embedded.port);
    expect(embedded.restarts).toBe(1);
    for (const r of runners) await until(() => r.device!.client.stats.reconnects === 1 && r.presence === 'ready', `device ${r.index} back`, 15_000);
    // a subscriber arriving after the restart still gets each device's retained "online"
    const late = await observer(embedded.url, runners.map((r) => `flt/${r.deviceId}/status`));
    cleanup.push(() => late.peer.endAsync(true));
    await until(() => late.seen.length === 2, 'retained statuses');
    for (const m of late.seen) expect(m).toMatchObject({ retain: true, json: expect.objectContaining({ status: 'online' }) });
  });

  it('a port in use: a typed error that says what to do, or a free port when allowed', async () => {
    const first = await EmbeddedBroker.start({ port: 0 });
    cleanup.push(() => first.stop());
    const error = await EmbeddedBroker.start({ port: first.port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerStartError);
    expect(error).toMatchObject({ code: 'EADDRINUSE' });
    expect((error as Error).message).toMatch(/in use .*--port 0 .*--broker mqtt:\/\/127\.0\.0\.1:/);
    const second = await EmbeddedBroker.start({ port: first.port, fallbackToFreePort: true });
    cleanup.push(() => second.stop());
    expect(second.requestedPort).toBe(first.port);
    expect(second.port).not.toBe(first.port);
  });
});
