// Child process of the scale benchmark: one shard of a population (our simulated devices, or MQTT.js
// clients doing the same loop) in a process of its own, so that its memory and CPU are its own and
// several shards use several cores. Talks to the parent over IPC:
//   {type:'init', kind, ports, shard, heartbeatMs, telemetryMs, keepAlive, board, rate}
//                                                           -> {type:'ready', heap, rss}   (baseline after GC)
//   {type:'grow', n}   the whole fleet grows to n devices    -> {type:'grown', ms, devices} | {type:'failed', message}
//   {type:'cpu-start'} / {type:'cpu-end'}                    -> {type:'cpu', us, ms, wheelP99}
//   {type:'memory'}                                          -> {type:'memory', heap, rss, devices}   (after GC)
//   {type:'stop'}                                            -> {type:'stopped'}
// and sends {type:'schedule', entries:[[id, t0, every]]} as heartbeat schedules become known.
//
// The benchmark runs this file from an esbuild bundle (sim-bundle.ts), as a deployment would run
// compiled code: under tsx every function literal carries a name property (esbuild's keepNames),
// several KB per device that no built simulator pays.
import mqtt from 'mqtt';
import type { BoardProfile } from '../sim/device-board';
import { Fleet, type Shard } from '../sim/population';
import { TimerWheel } from '../../hosts/sim/shared-clock';

const ONLINE_TIMEOUT_MS = 180_000;

export interface PopulationInit {
  type: 'init';
  kind: 'ours' | 'mqttjs';
  host: string;
  /** Every listener port of every broker: device n connects to ports[n % length]. */
  ports: number[];
  shard: Shard;
  heartbeatMs: number;
  telemetryMs: number;
  /** Seconds. */
  keepAlive: number;
  board: BoardProfile;
  /** Devices this shard powers on per second. */
  rate: number;
}

type Message = { type: string; n?: number } & Partial<Omit<PopulationInit, 'type'>>;

const send = (m: object) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wallNow = () => performance.timeOrigin + performance.now();
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Population {
  /** Adds this shard's devices up to fleet size n and powers them on at the shard's rate. */
  grow(n: number): Promise<void>;
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

/** Our devices: the firmware with Wi-Fi, sensors at register level and their drivers, on one timer wheel. */
function ours(o: PopulationInit): Population {
  const wheel = new TimerWheel();
  const fleet = new Fleet({
    devices: 0,
    shard: o.shard,
    broker: { host: o.host, port: o.ports[0], ports: o.ports.slice(1) },
    prefix: 'bench-o',
    seed: 1,
    heartbeat: o.heartbeatMs / 1000,
    telemetry: o.telemetryMs / 1000,
    keepAlive: o.keepAlive,
    discovery: false,
    board: o.board,
    utcOffsetMinutes: 0,
    wheel,
    // the heartbeat timer is set inside the device's start(), right after this
    onStart: (r) => pending.push([r.deviceId, r.clock!.originWall + r.clock!.now(), o.heartbeatMs]),
  });
  return {
    async grow(n) {
      await fleet.start(fleet.grow(n), o.rate);
    },
    count: () => fleet.devices.length,
    online: () => {
      let online = 0;
      for (const r of fleet.devices) if (r.presence === 'ready') online++;
      return online;
    },
    async stop() {
      await fleet.stop('bench over');
      fleet.close();
    },
    wheelP99: () => wheel.latenessQuantile(0.99),
    resetWheel: () => wheel.resetStats(),
  };
}

/** MQTT.js clients running the same loop: will, retained birth, heartbeat (QoS 0), telemetry (QoS 1). */
function mqttJs(o: PopulationInit): Population {
  const clients: { client: mqtt.MqttClient; timers: NodeJS.Timeout[] }[] = [];
  let online = 0;
  let size = 0;
  const add = (index: number) => {
    const id = `p${String(index).padStart(6, '0')}`;
    const status = `bench-p/${id}/status`;
    const port = o.ports[index % o.ports.length];
    const client = mqtt.connect({ host: o.host, port, clientId: `bench-p-${id}`, keepalive: o.keepAlive, reconnectPeriod: 1000, will: { topic: status, payload: Buffer.from('{"status":"offline","state":"lost"}'), qos: 1, retain: true } });
    const entry = { client, timers: [] as NodeJS.Timeout[] };
    clients.push(entry);
    let up = 0;
    client.once('connect', () => {
      online++;
      client.publish(status, '{"status":"online","state":"ready","boot":1,"version":"0.1.0"}', { qos: 1, retain: true });
      pending.push([id, wallNow(), o.heartbeatMs]);
      // a schedule that does not drift (setInterval re-arms from each late callback)
      let due = performance.now() + o.heartbeatMs;
      const beat = () => {
        up++;
        if (client.connected) {
          const body = { up, mem: 180000, reconnects: 0, outbox: 0, outboxBytes: 0, dropped: [0, 0, 0], version: '0.1.0', boot: 1, reset: 'power-on', interval: o.heartbeatMs / 1000, expires: 2 * (o.heartbeatMs / 1000) + o.keepAlive, sensors: { env: { state: 'ok', errors: 0, samples: up } }, rssi: -60 };
          client.publish(`bench-p/${id}/heartbeat`, JSON.stringify(body), { qos: 0 });
        }
        due += o.heartbeatMs;
        const now = performance.now();
        while (due <= now) due += o.heartbeatMs;
        entry.timers[0] = setTimeout(beat, due - now);
      };
      entry.timers.push(
        setTimeout(beat, o.heartbeatMs),
        setInterval(() => {
          if (client.connected) client.publish(`bench-p/${id}/telemetry/env`, JSON.stringify({ ts: Date.now(), temperature: 21.37, humidity: 45.2, pressure: 101325 }), { qos: 1 });
        }, o.telemetryMs),
      );
    });
  };
  return {
    async grow(n) {
      const mine: number[] = [];
      for (let g = size + ((o.shard.index - (size % o.shard.count) + o.shard.count) % o.shard.count); g < n; g += o.shard.count) mine.push(g);
      size = n;
      const batch = Math.max(1, Math.ceil(o.rate / 20));
      for (let i = 0; i < mine.length; i += batch) {
        for (const g of mine.slice(i, i + batch)) add(g);
        await sleep(50);
      }
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
  const flusher = setInterval(flush, 100);
  try {
    await p.grow(n);
    while (p.online() < p.count()) {
      if (Date.now() - start > ONLINE_TIMEOUT_MS) throw new Error(`${p.count() - p.online()} of ${p.count()} devices of this shard not online after ${ONLINE_TIMEOUT_MS / 1000} s`);
      await sleep(100);
    }
  } finally {
    clearInterval(flusher);
    flush();
  }
  send({ type: 'grown', ms: Date.now() - start, devices: p.count() });
}

process.on('message', (m: Message) => {
  switch (m.type) {
    case 'init':
      population = m.kind === 'ours' ? ours(m as PopulationInit) : mqttJs(m as PopulationInit);
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
      send({ type: 'memory', heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, devices: population!.count() });
      return;
    case 'stop':
      void population!.stop().finally(() => {
        send({ type: 'stopped' });
        setTimeout(() => process.exit(0), 100);
      });
  }
});
process.on('disconnect', () => process.exit(0));
