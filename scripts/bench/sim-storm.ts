// Reconnect storm: 1,000 connected simulated devices, then mosquitto restarts. How fast do they come
// back, and how hard do they hit the broker while doing it? The firmware's client backs off with
// full jitter, so the reconnects should spread over the jitter window instead of arriving at once.
// "Resubscribed" is proven end to end: a ping command to each device is answered on its result
// topic. MQTT.js clients with their default fixed reconnect period are the reference.
//
//   tsx scripts/bench/sim-storm.ts [devices]
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { SimDeviceRunner } from '../sim/device-runner';
import { Environment } from '../sim/environment';
import { createNodeNetwork } from '../../hosts/sim/net';
import { TimerWheel } from '../../hosts/sim/shared-clock';
import { startMosquitto, type MosquittoBroker } from '../broker/mosquitto';
import type { BenchResult } from './result';

const ONLINE_TIMEOUT_MS = 60_000;
const BACK_TIMEOUT_MS = 120_000;
const PING_EVERY_MS = 250;

export interface StormResult {
  devices: number;
  /** Ms the broker was away (stop until it accepted connections again). */
  downMs: number;
  /** Most connections completed in any 1 s window after the restart. */
  peakPerSecond: number;
  /** Most connections completed in any 100 ms window. */
  peakPer100ms: number;
  /** Ms from the restart to the first and the last reconnect. */
  firstMs: number;
  lastMs: number;
  /** Ms from the restart until every device answered a command (subscriptions back). */
  resubscribedMs: number;
  /** Devices that did not answer in time. */
  missing: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Most events in any window of `width` ms. */
export function peakInWindow(times: number[], width: number): number {
  const t = times.slice().sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= width) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

interface Participant {
  /** Ids as used in topics. */
  ids(): string[];
  /** Wall times (performance.now) of connections completed since `since`. */
  connectsSince(since: number): number[];
  allConnected(): boolean;
  stop(): Promise<void>;
}

function ourDevices(broker: MosquittoBroker, n: number, prefix: string): Participant {
  const wheel = new TimerWheel();
  const environment = new Environment({ seed: 2, utcOffsetMinutes: 0 });
  const network = createNodeNetwork();
  const connects: number[] = [];
  const last = new Map<SimDeviceRunner, string>();
  const runners: SimDeviceRunner[] = [];
  for (let index = 0; index < n; index++) {
    const runner = new SimDeviceRunner({
      index,
      wheel,
      environment,
      network,
      seed: 2,
      board: 'env',
      config: { prefix, brokerHost: broker.host, brokerPort: broker.port, heartbeatInterval: 10, telemetryInterval: 30, discovery: false },
      onChange: (r) => {
        if (r.presence === 'ready' && last.get(r) !== 'ready') connects.push(performance.now());
        last.set(r, r.presence);
      },
    });
    runners.push(runner);
  }
  let started = 0;
  const ramp = setInterval(() => {
    for (const end = Math.min(n, started + 100); started < end; started++) runners[started].start();
    if (started >= n) clearInterval(ramp);
  }, 100);
  return {
    ids: () => runners.map((r) => r.deviceId),
    connectsSince: (since) => connects.filter((t) => t >= since),
    allConnected: () => started >= n && runners.every((r) => r.presence === 'ready'),
    async stop() {
      clearInterval(ramp);
      await Promise.all(runners.map((r) => r.stop('bench over')));
      wheel.close();
    },
  };
}

function mqttJsClients(broker: MosquittoBroker, n: number, prefix: string): Participant {
  const connects: number[] = [];
  const clients: mqtt.MqttClient[] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `m${String(i).padStart(4, '0')}`;
    ids.push(id);
    // MQTT.js defaults: reconnect every 1000 ms, no jitter; subscriptions restored on reconnect
    const client = mqtt.connect({ host: broker.host, port: broker.port, clientId: `${prefix}-${id}`, keepalive: 30, will: { topic: `${prefix}/${id}/status`, payload: Buffer.from('offline'), qos: 1, retain: true } });
    client.on('connect', () => {
      connects.push(performance.now());
      client.publish(`${prefix}/${id}/status`, 'online', { qos: 1, retain: true });
    });
    client.subscribe(`${prefix}/${id}/cmd/+`, { qos: 1 });
    client.on('message', (topic) => {
      if (topic.endsWith('/cmd/ping')) client.publish(`${topic}/result`, '{"ok":true,"pong":true}', { qos: 1 });
    });
    clients.push(client);
  }
  return {
    ids: () => ids,
    connectsSince: (since) => connects.filter((t) => t >= since),
    allConnected: () => clients.every((c) => c.connected),
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
    },
  };
}

async function storm(name: string, make: (broker: MosquittoBroker, n: number, prefix: string) => Participant, n: number, log: (s: string) => void): Promise<StormResult> {
  const prefix = `storm-${name}`;
  const broker = await startMosquitto({ logTypes: ['error', 'warning', 'notice', 'information'], extraConfig: 'connection_messages false\n' });
  const who = make(broker, n, prefix);
  const observer = mqtt.connect(broker.url, { clientId: `${prefix}-observer`, reconnectPeriod: 100 });
  try {
    const start = Date.now();
    while (!who.allConnected()) {
      if (Date.now() - start > ONLINE_TIMEOUT_MS) throw new Error(`${name}: not all ${n} connected after ${ONLINE_TIMEOUT_MS / 1000} s`);
      await sleep(100);
    }
    log(`${name}: ${n} connected after ${((Date.now() - start) / 1000).toFixed(1)} s`);
    await sleep(2000);
    const answered = new Map<string, number>();
    await observer.subscribeAsync(`${prefix}/+/cmd/ping/result`, { qos: 1 });
    observer.on('message', (topic) => {
      const id = topic.split('/')[1];
      if (!answered.has(id)) answered.set(id, performance.now());
    });

    const t0 = performance.now();
    await broker.restart();
    const downMs = performance.now() - t0;
    log(`${name}: broker restarted in ${downMs.toFixed(0)} ms`);
    const ids = who.ids();
    while (answered.size < ids.length && performance.now() - t0 < BACK_TIMEOUT_MS) {
      // Pings before a device resubscribed are lost (QoS 1 to nobody): keep asking until it answers.
      if (observer.connected) for (const id of ids) if (!answered.has(id)) observer.publish(`${prefix}/${id}/cmd/ping`, '{}', { qos: 1 });
      await sleep(PING_EVERY_MS);
    }
    const connects = who.connectsSince(t0);
    const times = connects.map((t) => t - t0);
    const back = [...answered.values()].map((t) => t - t0);
    const result: StormResult = {
      devices: n,
      downMs: Math.round(downMs),
      peakPerSecond: peakInWindow(connects, 1000),
      peakPer100ms: peakInWindow(connects, 100),
      firstMs: Math.round(Math.min(...times)),
      lastMs: Math.round(Math.max(...times)),
      resubscribedMs: Math.round(Math.max(...back)),
      missing: ids.length - answered.size,
    };
    log(
      `${name}: ${connects.length} reconnects from ${result.firstMs} to ${result.lastMs} ms after the restart; peak ${result.peakPerSecond}/s ` +
        `(${result.peakPer100ms} in 100 ms); all answering commands after ${result.resubscribedMs} ms${result.missing ? `, ${result.missing} never did` : ''}`,
    );
    return result;
  } finally {
    observer.end(true);
    await who.stop();
    await broker.stop();
  }
}

export async function simStorm(n = 1000, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<{ ours: StormResult; reference: StormResult }> {
  const ours = await storm('sim', ourDevices, n, log);
  const reference = await storm('mqttjs', mqttJsClients, n, log);
  return { ours, reference };
}

export async function simStormBench(n = 1000): Promise<BenchResult[]> {
  const { ours, reference } = await simStorm(n);
  return [
    {
      name: `sim storm: peak reconnects per second after a broker restart (${n} devices)`,
      value: ours.peakPerSecond,
      unit: 'connects/s',
      lowerIsBetter: true,
      peer: 'MQTT.js (fixed 1 s reconnect period)',
      peerValue: reference.peakPerSecond,
      ratio: +(reference.peakPerSecond / ours.peakPerSecond).toFixed(2),
      target: 'spread by the backoff jitter',
    },
    { name: `sim storm: peak reconnects in 100 ms (${n} devices)`, value: ours.peakPer100ms, unit: 'connects', lowerIsBetter: true, peer: 'MQTT.js', peerValue: reference.peakPer100ms, ratio: +(reference.peakPer100ms / ours.peakPer100ms).toFixed(2) },
    { name: `sim storm: reconnects spread over (first to last, ${n} devices)`, value: ours.lastMs - ours.firstMs, unit: 'ms', peer: 'MQTT.js', peerValue: reference.lastMs - reference.firstMs },
    { name: `sim storm: time until all ${n} are back and resubscribed`, value: +(ours.resubscribedMs / 1000).toFixed(1), unit: 's', lowerIsBetter: true, peer: 'MQTT.js', peerValue: +(reference.resubscribedMs / 1000).toFixed(1), target: ours.missing ? `${ours.missing} never came back` : undefined },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await simStormBench(Number(process.argv[2] ?? 1000));
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
