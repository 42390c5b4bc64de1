// Child process of the scale benchmark: runs one population (our simulated devices, or MQTT.js
// clients doing the same loop) in a fresh process, so its memory and CPU are its own. Talks to the
// parent over IPC:
//   {type:'init', kind:'ours'|'mqttjs', host, port}        -> {type:'ready', heap, rss}   (baseline after GC)
//   {type:'grow', n}                                         -> {type:'grown', ms} | {type:'failed', message}
//   {type:'cpu-start'} / {type:'cpu-end'}                    -> {type:'cpu', us, ms, wheelP99}
//   {type:'memory'}                                          -> {type:'memory', heap, rss}   (after GC)
//   {type:'stop'}                                            -> {type:'stopped'}
// and sends {type:'schedule', entries:[[id, t0, every]]} as heartbeat schedules become known.
import mqtt from 'mqtt';
import { SimDeviceRunner } from '../sim/device-runner';
import { Environment } from '../sim/environment';
import { createNodeNetwork } from '../../hosts/sim/net';
import { TimerWheel } from '../../hosts/sim/shared-clock';

export const HEARTBEAT_MS = 1000;
export const TELEMETRY_MS = 5000;
const RAMP_PER_SECOND = 1000;
const ONLINE_TIMEOUT_MS = 60_000;

type Message = { type: string; kind?: 'ours' | 'mqttjs'; host?: string; port?: number; n?: number };

const send = (m: object) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wallNow = () => performance.timeOrigin + performance.now();
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Population {
  add(): void;
  count(): number;
  online(): number;
  stop(): Promise<void>;
  wheelP99?(): number;
  resetWheel?(): void;
}

let pending: [string, number, number][] = [];
const flush = () => {
  if (pending.length) send({ type: 'schedule', entries: pending.splice(0) });
};

/** Our devices: the firmware with Wi-Fi, a BME280 and its driver, on one timer wheel. */
function ours(host: string, port: number): Population {
  const wheel = new TimerWheel();
  const environment = new Environment({ seed: 1, utcOffsetMinutes: 0 });
  const network = createNodeNetwork();
  const runners: SimDeviceRunner[] = [];
  const config = { prefix: 'bench-o', brokerHost: host, brokerPort: port, heartbeatInterval: HEARTBEAT_MS / 1000, telemetryInterval: TELEMETRY_MS / 1000, discovery: false };
  return {
    add() {
      const runner = new SimDeviceRunner({
        index: runners.length,
        wheel,
        environment,
        network,
        seed: 1,
        config,
        board: 'env',
        // the heartbeat timer is set inside the device's start(), right after this
        onStart: (r) => pending.push([r.deviceId, r.clock!.originWall + r.clock!.now(), HEARTBEAT_MS]),
      });
      runners.push(runner);
      runner.start();
    },
    count: () => runners.length,
    online: () => runners.filter((r) => r.presence === 'ready').length,
    async stop() {
      await Promise.all(runners.map((r) => r.stop('bench over')));
      wheel.close();
    },
    wheelP99: () => wheel.latenessQuantile(0.99),
    resetWheel: () => wheel.resetStats(),
  };
}

/** MQTT.js clients running the same loop: will, retained birth, 1 s heartbeat (QoS 0), 5 s telemetry (QoS 1). */
function mqttJs(host: string, port: number): Population {
  const clients: { client: mqtt.MqttClient; timers: NodeJS.Timeout[] }[] = [];
  let online = 0;
  return {
    add() {
      const id = `p${String(clients.length).padStart(5, '0')}`;
      const status = `bench-p/${id}/status`;
      const client = mqtt.connect({ host, port, clientId: `bench-p-${id}`, keepalive: 30, reconnectPeriod: 1000, will: { topic: status, payload: Buffer.from('{"status":"offline","state":"lost"}'), qos: 1, retain: true } });
      const entry = { client, timers: [] as NodeJS.Timeout[] };
      clients.push(entry);
      let up = 0;
      client.once('connect', () => {
        online++;
        client.publish(status, '{"status":"online","state":"ready","boot":1,"version":"0.1.0"}', { qos: 1, retain: true });
        pending.push([id, wallNow(), HEARTBEAT_MS]);
        // a schedule that does not drift (setInterval re-arms from each late callback)
        let due = performance.now() + HEARTBEAT_MS;
        const beat = () => {
          up++;
          if (client.connected) {
            const body = { up, mem: 180000, reconnects: 0, outbox: 0, outboxBytes: 0, dropped: [0, 0, 0], version: '0.1.0', boot: 1, reset: 'power-on', interval: 1, expires: 32, sensors: { env: { state: 'ok', errors: 0, samples: up } }, rssi: -60 };
            client.publish(`bench-p/${id}/heartbeat`, JSON.stringify(body), { qos: 0 });
          }
          due += HEARTBEAT_MS;
          const now = performance.now();
          while (due <= now) due += HEARTBEAT_MS;
          entry.timers[0] = setTimeout(beat, due - now);
        };
        entry.timers.push(
          setTimeout(beat, HEARTBEAT_MS),
          setInterval(() => {
            if (client.connected) client.publish(`bench-p/${id}/telemetry/env`, JSON.stringify({ ts: Date.now(), temperature: 21.37, humidity: 45.2, pressure: 101325 }), { qos: 1 });
          }, TELEMETRY_MS),
        );
      });
    },
    count: () => clients.length,
    online: () => online,
    async stop() {
      for (const c of clients) for (const t of c.timers) clearTimeout(t);
      await Promise.all(clients.map((c) => c.client.endAsync(true)));
    },
  };
}

let population: Population | undefined;
let cpu0: NodeJS.CpuUsage | undefined;
let t0 = 0;

async function grow(n: number): Promise<void> {
  const p = population!;
  const start = Date.now();
  while (p.count() < n) {
    const batch = Math.min(n - p.count(), RAMP_PER_SECOND / 10);
    for (let i = 0; i < batch; i++) p.add();
    flush();
    await sleep(100);
  }
  while (p.online() < n) {
    flush();
    if (Date.now() - start > ONLINE_TIMEOUT_MS) throw new Error(`${n - p.online()} of ${n} not online after ${ONLINE_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
  flush();
  send({ type: 'grown', ms: Date.now() - start });
}

process.on('message', (m: Message) => {
  switch (m.type) {
    case 'init':
      population = m.kind === 'ours' ? ours(m.host!, m.port!) : mqttJs(m.host!, m.port!);
      gc();
      send({ type: 'ready', heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
      return;
    case 'grow':
      grow(m.n!).catch((error: Error) => send({ type: 'failed', message: error.message }));
      return;
    case 'cpu-start':
      population!.resetWheel?.();
      cpu0 = process.cpuUsage();
      t0 = performance.now();
      return;
    case 'cpu-end': {
      const c = process.cpuUsage(cpu0);
      send({ type: 'cpu', us: c.user + c.system, ms: performance.now() - t0, wheelP99: population!.wheelP99?.() });
      return;
    }
    case 'memory':
      gc();
      send({ type: 'memory', heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
      return;
    case 'stop':
      void population!.stop().finally(() => {
        send({ type: 'stopped' });
        setTimeout(() => process.exit(0), 100);
      });
  }
});
process.on('disconnect', () => process.exit(0));
