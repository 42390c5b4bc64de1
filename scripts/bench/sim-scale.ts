// Scale of the simulator: simulated devices (the firmware from src/, each with Wi-Fi, sensors at
// register level behind their drivers, presence, heartbeat, telemetry and keep-alive) against mosquitto
// on this machine, with heartbeat lateness measured by an independent MQTT.js subscriber process
// against each heartbeat's schedule (so it includes the devices' event loops, the sockets and the
// broker, and nothing of ours measures itself).
//
//   heartbeat 60 s   telemetry 30 s, keep-alive 60 s: N steps up to 100,000 while p99 < 100 ms
//   heartbeat 1 s    telemetry 5 s: 10,000 devices, three runs in a row, each a fresh population,
//                    and MQTT.js clients doing the same loop (heap per device, CPU per message)
//
// Processes: this one (orchestration), the observer (sim-observer.ts), the population in shards of a
// process each (sim-population.ts, run from an esbuild bundle; at least one per core, more when one
// process may not open a socket per device), and mosquitto. Devices power on at a bounded rate.
//
// One mosquitto holds every device when it may open that many files: the harness raises its limit
// (prlimit, as root with CAP_SYS_RESOURCE) and spreads the devices over listeners of at most 25,000
// connections each (loopback connections to one port share about 28,000 ephemeral ports). Where the
// limit cannot be raised (a container without CAP_SYS_RESOURCE), the devices are split over as many
// mosquitto processes as the limit needs, each device on one of them (no bridging: independent brokers),
// and the output says so.
//
//   tsx scripts/bench/sim-scale.ts [--max 100000] [--rows 1s,60s] [--budget 3600]
//       quick look: [--steps 2000,4000] [--fast-devices 2000] [--fast-window 10] [--slow-window 60]
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openFileLimits, startMosquitto, type MosquittoBroker } from '../broker/mosquitto';
import type { BoardProfile } from '../sim/device-board';
import type { Shard } from '../sim/population';
import type { BenchResult } from './result';
import { bundleChild, type Bundle } from './sim-bundle';
import type { PopulationInit } from './sim-population';

const P99_LIMIT = 100;
/** A window fails when more beats than this are missing. */
const MISSING_LIMIT = 0.02;
/** Connections one listener port takes at most (Linux gives a loopback destination ~28,000 source ports). */
const PER_LISTENER = 25_000;
/** Files a process needs besides its devices' sockets. */
const PROCESS_MARGIN = 300;
/** Files mosquitto needs besides its clients. */
const BROKER_MARGIN = 1100;
/** Devices powered on per second, all shards together. */
const RAMP_PER_SECOND = 2000;

export const SLOW = { name: 'heartbeat 60 s', heartbeatMs: 60_000, telemetryMs: 30_000, keepAlive: 60, board: 'mixed' as BoardProfile, steps: [10_000, 25_000, 50_000, 75_000, 100_000], windowMs: 120_000, settleMs: 5_000 };
export const FAST = { name: 'heartbeat 1 s', heartbeatMs: 1000, telemetryMs: 5000, keepAlive: 60, board: 'env' as BoardProfile, devices: 10_000, runs: 3, windowMs: 15_000, settleMs: 3_000 };

export interface Window {
  n: number;
  ok: boolean;
  why?: string;
  p50: number;
  p99: number;
  max: number;
  missing: number;
  heapPerDevice: number;
  rssPerDevice: number;
  cpuPerMessageUs: number;
  /** Cores the population's processes used in the window (1 = one core busy). */
  cpu: number;
  messages: number;
  /** Worst in-process timer lateness p99 of the shards' timer wheels (ours only). */
  wheelP99?: number;
  /** 1-minute load average when the window ended. */
  load: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load1 = () => Math.round(os.loadavg()[0] * 100) / 100;

interface Child {
  child: ChildProcess;
  ask<T>(message: object, reply: string | string[], timeoutMs?: number): Promise<T & { type: string }>;
  post(message: object): void;
  close(stop?: object): Promise<void>;
}

function spawnChild(script: string, execArgv: string[], onMessage?: (m: { type: string }) => void): Child {
  const child = fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters: { types: string[]; resolve: (m: { type: string }) => void }[] = [];
  child.on('message', (m: { type: string }) => {
    const i = waiters.findIndex((w) => w.types.includes(m.type));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
    else onMessage?.(m);
  });
  child.once('exit', (code, signal) => {
    if (waiters.length) process.stderr.write(`${script} (pid ${child.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`} while asked for ${waiters.map((w) => w.types.join('/')).join(', ')}\n`);
  });
  return {
    child,
    post: (m) => child.send(m),
    ask<T>(message: object, reply: string | string[], timeoutMs = 300_000) {
      return new Promise<T & { type: string }>((resolve, reject) => {
        const types = Array.isArray(reply) ? reply : [reply];
        const timer = setTimeout(() => reject(new Error(`${script}: no ${types.join('/')} within ${timeoutMs / 1000} s`)), timeoutMs);
        waiters.push({
          types,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m as T & { type: string });
          },
        });
        child.send(message);
      });
    },
    close: (stop = { type: 'close' }) =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send(stop);
        setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
      }),
  };
}

/** The brokers of a run: every device on one of them, at most PER_LISTENER per listener port. */
interface Brokers {
  list: MosquittoBroker[];
  /** Every listener port, in the order devices are spread over them. */
  ports: number[];
  urls: string[];
  /** Why there is more than one, if there is. */
  note?: string;
}

async function startBrokers(devices: number, log: (s: string) => void): Promise<Brokers> {
  const config = (listeners: number, clients: number) => ({
    logTypes: ['error', 'warning', 'notice', 'information'],
    extraConfig: 'connection_messages false\nmax_queued_messages 1000\n',
    listeners,
    maxConnections: clients,
  });
  const clients = devices + 16; // the observer, and room
  const first = await startMosquitto(config(Math.max(1, Math.ceil(devices / PER_LISTENER)), clients));
  const limit = first.openFileLimit() ?? Infinity;
  const capacity = Math.max(1, limit - BROKER_MARGIN);
  if (capacity >= clients) return { list: [first], ports: first.ports, urls: [first.url] };
  // this process may not raise the broker's limit: independent brokers, each holding what its limit allows
  await first.stop();
  const count = Math.ceil(clients / capacity);
  const each = Math.ceil(devices / count);
  const list: MosquittoBroker[] = [];
  for (let i = 0; i < count; i++) list.push(await startMosquitto(config(Math.max(1, Math.ceil(each / PER_LISTENER)), each + 16)));
  const note = `mosquitto may open ${limit.toLocaleString('en-US')} files here (raising it needs CAP_SYS_RESOURCE): ${count} mosquitto processes of ${each.toLocaleString('en-US')} devices each`;
  log(`  ${note}`);
  // device n connects to ports[n % length]: interleave the brokers so each gets its share at every size
  const ports: number[] = [];
  const most = Math.max(...list.map((b) => b.ports.length));
  for (let k = 0; k < most; k++) for (const b of list) if (k < b.ports.length) ports.push(b.ports[k]);
  return { list, ports, urls: list.map((b) => b.url), note };
}

/** How many processes the population needs: one per core at least, and each within its open-file limit. */
export function shardCount(devices: number, cores = os.cpus().length, files = openFileLimits()?.soft ?? Infinity): number {
  return Math.max(cores, Math.ceil(devices / Math.max(1, files - PROCESS_MARGIN)));
}

/** One population (ours or MQTT.js) in `count` processes. */
class Population {
  readonly shards: Child[];

  constructor(
    readonly kind: 'ours' | 'mqttjs',
    bundle: Bundle,
    count: number,
    observer: Child,
  ) {
    this.shards = Array.from({ length: count }, () =>
      spawnChild(bundle.file, ['--expose-gc', '--max-old-space-size=8192'], (m) => {
        if (m.type === 'schedule') observer.post(m);
      }),
    );
  }

  async init(o: Omit<PopulationInit, 'type' | 'kind' | 'shard' | 'rate'>): Promise<{ heap: number; rss: number }> {
    const count = this.shards.length;
    const base = await Promise.all(
      this.shards.map((s, index) => s.ask<{ heap: number; rss: number }>({ ...o, type: 'init', kind: this.kind, shard: { index, count } satisfies Shard, rate: Math.ceil(RAMP_PER_SECOND / count) }, 'ready')),
    );
    return { heap: sum(base.map((b) => b.heap)), rss: sum(base.map((b) => b.rss)) };
  }

  /** Grows to n devices; resolves with the ms until every device was online, or the first failure. */
  async grow(n: number): Promise<{ ms: number } | { message: string }> {
    const replies = await Promise.all(this.shards.map((s) => s.ask<{ ms?: number; message?: string }>({ type: 'grow', n }, ['grown', 'failed'], 600_000)));
    const failed = replies.find((r) => r.type === 'failed');
    return failed ? { message: failed.message! } : { ms: Math.max(...replies.map((r) => r.ms!)) };
  }

  cpuStart(): void {
    for (const s of this.shards) s.post({ type: 'cpu-start' });
  }

  async cpuEnd(): Promise<{ us: number; ms: number; wheelP99?: number }> {
    const all = await Promise.all(this.shards.map((s) => s.ask<{ us: number; ms: number; wheelP99?: number }>({ type: 'cpu-end' }, 'cpu')));
    const wheel = all.map((c) => c.wheelP99).filter((x): x is number => x !== undefined);
    return { us: sum(all.map((c) => c.us)), ms: Math.max(...all.map((c) => c.ms)), wheelP99: wheel.length ? Math.max(...wheel) : undefined };
  }

  async memory(): Promise<{ heap: number; rss: number }> {
    // one at a time: a forced full collection stalls its process for a moment
    let heap = 0;
    let rss = 0;
    for (const s of this.shards) {
      const m = await s.ask<{ heap: number; rss: number }>({ type: 'memory' }, 'memory');
      heap += m.heap;
      rss += m.rss;
    }
    return { heap, rss };
  }

  close(): Promise<void[]> {
    return Promise.all(this.shards.map((s) => s.close({ type: 'stop' })));
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

interface WindowStats {
  beats: number;
  expected: number;
  messages: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
}

async function measure(population: Population, observer: Child, n: number, windowMs: number): Promise<Window> {
  population.cpuStart();
  observer.post({ type: 'window-start' });
  await sleep(windowMs);
  const stats = await observer.ask<WindowStats>({ type: 'window-end' }, 'stats');
  const cpu = await population.cpuEnd();
  const missing = stats.expected ? Math.max(0, 1 - stats.beats / stats.expected) : 1;
  const w: Window = {
    n,
    ok: stats.p99 < P99_LIMIT && missing <= MISSING_LIMIT,
    p50: Math.round(stats.p50 * 10) / 10,
    p99: Math.round(stats.p99 * 10) / 10,
    max: Math.round(stats.max),
    missing: Math.round(missing * 1000) / 1000,
    heapPerDevice: 0,
    rssPerDevice: 0,
    cpuPerMessageUs: stats.messages ? Math.round((cpu.us / stats.messages) * 10) / 10 : 0,
    cpu: Math.round((cpu.us / 1000 / cpu.ms) * 100) / 100,
    messages: stats.messages,
    wheelP99: cpu.wheelP99,
    load: load1(),
  };
  if (!w.ok) w.why = w.p99 >= P99_LIMIT ? `heartbeat p99 ${w.p99} ms >= ${P99_LIMIT} ms` : `${(missing * 100).toFixed(1)} % of heartbeats missing`;
  return w;
}

function describeWindow(w: Window): string {
  return (
    `p50 ${w.p50} ms, p99 ${w.p99} ms, max ${w.max} ms, missing ${(w.missing * 100).toFixed(1)} %, ` +
    `heap ${(w.heapPerDevice / 1024).toFixed(1)} KB/device, rss ${(w.rssPerDevice / 1024).toFixed(1)} KB/device, ` +
    `cpu ${(w.cpu * 100).toFixed(0)} % of a core, ${w.cpuPerMessageUs} us/message${w.wheelP99 !== undefined ? `, timer wheel p99 ${w.wheelP99} ms` : ''}, load ${w.load}`
  );
}

interface Setup {
  bundle: Bundle;
  observer: Child;
  brokers: Brokers;
  log: (s: string) => void;
}

type Loop = { heartbeatMs: number; telemetryMs: number; keepAlive: number; board: BoardProfile };

async function withPopulation<T>(s: Setup, kind: 'ours' | 'mqttjs', devices: number, loop: Loop, body: (p: Population, base: { heap: number; rss: number }) => Promise<T>): Promise<T> {
  s.observer.post({ type: 'forget' });
  const population = new Population(kind, s.bundle, shardCount(devices), s.observer);
  try {
    const base = await population.init({ host: '127.0.0.1', ports: s.brokers.ports, heartbeatMs: loop.heartbeatMs, telemetryMs: loop.telemetryMs, keepAlive: loop.keepAlive, board: loop.board });
    return await body(population, base);
  } finally {
    await population.close();
  }
}

/** Grows to n, settles, measures a window (once more when it fails: the cores are shared), then memory. */
async function step(s: Setup, p: Population, base: { heap: number; rss: number }, n: number, windowMs: number, settleMs: number, retry: boolean): Promise<Window> {
  const grown = await p.grow(n);
  if ('message' in grown) {
    s.log(`  ${grown.message}`);
    return { n, ok: false, why: grown.message, p50: 0, p99: 0, max: 0, missing: 1, heapPerDevice: 0, rssPerDevice: 0, cpuPerMessageUs: 0, cpu: 0, messages: 0, load: load1() };
  }
  s.log(`  ${n.toLocaleString('en-US')} online after ${(grown.ms / 1000).toFixed(1)} s (${p.shards.length} processes, load ${load1()})`);
  await sleep(settleMs);
  let w = await measure(p, s.observer, n, windowMs);
  if (!w.ok && retry) {
    s.log(`  N = ${n}: ${w.why} (load ${w.load}); measuring once more`);
    const again = await measure(p, s.observer, n, windowMs);
    if (again.ok || again.p99 < w.p99) w = again;
  }
  const mem = await p.memory();
  w.heapPerDevice = Math.round((mem.heap - base.heap) / n);
  w.rssPerDevice = Math.round((mem.rss - base.rss) / n);
  s.log(`  ${describeWindow(w)}`);
  return w;
}

export interface ScaleOptions {
  /** Largest N of the 60 s ramp. Default 100,000. */
  max?: number;
  rows?: ('60s' | '1s')[];
  /** Seconds for the whole benchmark; steps of the ramp that would start after it are skipped. Default 3600. */
  budgetSeconds?: number;
  /** Devices of the 1 s rows (default 10,000) and steps of the 60 s ramp (default up to `max`): smaller for a quick look. */
  fastDevices?: number;
  steps?: number[];
  /** Measurement windows, ms (default: 15 s at 1 s heartbeats, 120 s at 60 s). */
  fastWindowMs?: number;
  slowWindowMs?: number;
  log?: (line: string) => void;
}

export interface ScaleResult {
  slow: Window[];
  fast: Window[];
  peer?: Window;
  brokerNote?: string;
}

export async function simScale(options: ScaleOptions = {}): Promise<ScaleResult> {
  const log = options.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const rows = options.rows ?? ['1s', '60s'];
  const max = options.max ?? 100_000;
  const deadline = Date.now() + (options.budgetSeconds ?? 3600) * 1000;
  const steps = options.steps ?? SLOW.steps.filter((n) => n <= max);
  if (!options.steps && (!steps.length || max > steps[steps.length - 1]!)) steps.push(max);
  const fastDevices = options.fastDevices ?? FAST.devices;
  const fastWindow = options.fastWindowMs ?? FAST.windowMs;
  const slowWindow = options.slowWindowMs ?? SLOW.windowMs;
  const largest = Math.max(rows.includes('60s') ? Math.max(...steps) : 0, rows.includes('1s') ? fastDevices : 0);
  log(`sim-scale: ${os.cpus().length} cores, load ${load1()}; this process may open ${(openFileLimits()?.soft ?? Infinity).toLocaleString('en-US')} files`);
  const bundle = await bundleChild('./sim-population.ts');
  const brokers = await startBrokers(largest, log);
  const observer = spawnChild(fileURLToPath(new URL('./sim-observer.ts', import.meta.url)), ['--import', 'tsx']);
  const s: Setup = { bundle, observer, brokers, log };
  const result: ScaleResult = { slow: [], fast: [], brokerNote: brokers.note };
  try {
    await observer.ask({ type: 'connect', urls: brokers.urls, filters: ['bench-o/+/heartbeat', 'bench-o/+/telemetry/+', 'bench-p/+/heartbeat', 'bench-p/+/telemetry/+'] }, 'ready');
    if (rows.includes('1s')) {
      for (let run = 1; run <= FAST.runs; run++) {
        log(`simulated devices (${FAST.name}): run ${run}/${FAST.runs}, N = ${fastDevices.toLocaleString('en-US')}`);
        const w = await withPopulation(s, 'ours', fastDevices, FAST, (p, base) => step(s, p, base, fastDevices, fastWindow, FAST.settleMs, false));
        result.fast.push(w);
        await sleep(2000);
      }
      log(`MQTT.js clients (${FAST.name}): N = ${fastDevices.toLocaleString('en-US')}`);
      result.peer = await withPopulation(s, 'mqttjs', fastDevices, FAST, (p, base) => step(s, p, base, fastDevices, fastWindow, FAST.settleMs, false));
      await sleep(2000);
    }
    if (rows.includes('60s')) {
      log(`simulated devices (${SLOW.name}): N up to ${Math.max(...steps).toLocaleString('en-US')}`);
      await withPopulation(s, 'ours', Math.max(...steps), SLOW, async (p, base) => {
        for (const n of steps) {
          if (Date.now() > deadline) {
            log(`  time budget spent before N = ${n}`);
            break;
          }
          log(`simulated devices (${SLOW.name}): N = ${n.toLocaleString('en-US')}`);
          const w = await step(s, p, base, n, slowWindow, SLOW.settleMs, true);
          result.slow.push(w);
          if (!w.ok) break;
        }
      });
    }
    return result;
  } finally {
    await observer.close();
    for (const b of brokers.list) await b.stop();
    bundle.remove();
  }
}

const kb = (bytes: number) => +(bytes / 1024).toFixed(1);

/** Rows of bench-results.json. Ratios of costs are ours / MQTT.js: at most 1.0 means no dearer than it. */
export function scaleRows(r: ScaleResult): BenchResult[] {
  const rows: BenchResult[] = [];
  const lastOk = [...r.slow].reverse().find((w) => w.ok);
  if (r.slow.length) {
    rows.push({ name: `simulated devices (${SLOW.name})`, value: lastOk?.n ?? 0, unit: 'devices', target: '>= 100,000 with p99 < 100 ms' });
    if (lastOk) {
      const at = `at N = ${lastOk.n.toLocaleString('en-US')} (${SLOW.name})`;
      rows.push(
        { name: `simulated devices: heartbeat lateness p99 ${at}`, value: lastOk.p99, unit: 'ms', lowerIsBetter: true, target: `< ${P99_LIMIT} ms` },
        { name: `simulated devices: memory per device ${at} (V8 heap after GC)`, value: kb(lastOk.heapPerDevice), unit: 'KB', lowerIsBetter: true },
        { name: `simulated devices: resident memory per device ${at}`, value: kb(lastOk.rssPerDevice), unit: 'KB', lowerIsBetter: true },
        { name: `simulated devices: CPU per message ${at}`, value: lastOk.cpuPerMessageUs, unit: 'us', lowerIsBetter: true },
      );
    }
  }
  if (r.fast.length) {
    const n = r.fast[0].n;
    const all = r.fast.length === FAST.runs && r.fast.every((w) => w.ok);
    const worst = Math.max(...r.fast.map((w) => w.p99));
    const peer = r.peer;
    const at = `at N = ${n.toLocaleString('en-US')} (${FAST.name})`;
    rows.push(
      { name: `simulated devices (${FAST.name})`, value: all ? n : 0, unit: 'devices', target: `>= ${FAST.devices.toLocaleString('en-US')} with p99 < 100 ms in ${FAST.runs} consecutive runs` },
      { name: `simulated devices: worst heartbeat lateness p99 of ${r.fast.length} runs ${at}`, value: worst, unit: 'ms', lowerIsBetter: true, peer: peer ? 'MQTT.js clients' : undefined, peerValue: peer?.p99, target: `< ${P99_LIMIT} ms` },
    );
    const ours = r.fast[0];
    if (peer && ours.heapPerDevice > 0 && peer.heapPerDevice > 0) {
      rows.push(
        { name: `simulated devices: heap per device ${at}`, value: kb(ours.heapPerDevice), unit: 'KB', lowerIsBetter: true, peer: 'MQTT.js clients', peerValue: kb(peer.heapPerDevice), ratio: +(ours.heapPerDevice / peer.heapPerDevice).toFixed(2), target: 'ratio <= 1.0' },
        { name: `simulated devices: resident memory per device ${at}`, value: kb(ours.rssPerDevice), unit: 'KB', lowerIsBetter: true, peer: 'MQTT.js clients', peerValue: kb(peer.rssPerDevice), ratio: +(ours.rssPerDevice / peer.rssPerDevice).toFixed(2) },
      );
    }
    if (peer && ours.cpuPerMessageUs > 0 && peer.cpuPerMessageUs > 0) {
      // the median of our runs against the peer's one run
      const sorted = r.fast.map((w) => w.cpuPerMessageUs).sort((x, y) => x - y);
      const cpu = sorted[Math.floor((sorted.length - 1) / 2)];
      rows.push({ name: `simulated devices: CPU per message ${at}`, value: cpu, unit: 'us', lowerIsBetter: true, peer: 'MQTT.js clients', peerValue: peer.cpuPerMessageUs, ratio: +(cpu / peer.cpuPerMessageUs).toFixed(2), target: 'ratio <= 1.0' });
    }
  }
  return rows;
}

export async function simScaleBench(options: ScaleOptions = {}): Promise<BenchResult[]> {
  const r = await simScale(options);
  const log = (s: string) => process.stderr.write(s + '\n');
  const all = [...r.fast, ...(r.peer ? [r.peer] : []), ...r.slow];
  log(`sim-scale: load average ${os.loadavg().map((x) => x.toFixed(2)).join('/')} at the end; per window: ${all.map((w) => `${w.n}:${w.load}`).join(', ')}${r.brokerNote ? `; ${r.brokerNote}` : ''}`);
  return scaleRows(r);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values: v } = parseArgs({
    options: {
      max: { type: 'string', default: '100000' },
      rows: { type: 'string', default: '1s,60s' },
      budget: { type: 'string', default: '3600' },
      steps: { type: 'string' },
      'fast-devices': { type: 'string' },
      'fast-window': { type: 'string' },
      'slow-window': { type: 'string' },
    },
  });
  const num = (x: string | undefined) => (x === undefined ? undefined : Number(x));
  const results = await simScaleBench({
    max: Number(v.max),
    rows: v.rows!.split(',') as ('60s' | '1s')[],
    budgetSeconds: Number(v.budget),
    steps: v.steps?.split(',').map(Number),
    fastDevices: num(v['fast-devices']),
    fastWindowMs: v['fast-window'] === undefined ? undefined : Number(v['fast-window']) * 1000,
    slowWindowMs: v['slow-window'] === undefined ? undefined : Number(v['slow-window']) * 1000,
  });
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
