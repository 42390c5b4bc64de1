// A rollout across 10,000 simulated devices with the fleet tool, as an operator runs it: the devices
// (the firmware with OTA, two flash slots each, the sim bootloader) in shards of a process each
// against mosquitto, and `fleet rollout` in stages of 1 %, 10 % and 100 %, its image server serving
// every device (a bounded number at once, Range for resumed downloads). Measured: the campaign's time,
// the fleet tool's peak RSS and CPU (its own report), the image server's throughput, and how many
// lines of progress the tool printed.
//
// Then again on a fresh fleet with 2 % of the devices losing power half way through their download:
// every device must end updated or rolled back (none lost: all online, on one of the two versions),
// and the tool's status must agree with each device (the version it runs and its retained OTA report).
//
//   tsx scripts/bench/sim-rollout.ts [--devices 10000] [--size 256k] [--power-cut 2] [--concurrency 64]
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { buildSimImage } from '../../hosts/sim/bootloader';
import { FIRMWARE_VERSION } from '../../src/version';
import { startMosquitto, type MosquittoBroker } from '../broker/mosquitto';
import type { Campaign } from '../fleet/campaign';
import { generateKey } from '../fleet/keys';
import type { Report } from '../fleet/view';
import type { BenchResult } from './result';
import { bundleChild, type Bundle } from './sim-bundle';
import { shardCount } from './sim-scale';

const NEW_VERSION = '0.2.0';
const START_RATE = 1000;
/** The tool gets this long for a campaign before the run is called failed. */
const CAMPAIGN_LIMIT_MS = 40 * 60_000;

export interface RolloutRun {
  devices: number;
  /** Share of the devices that lost power mid-download (0..1). */
  powerCut: number;
  /** Devices the simulator saw lose power during a download. */
  cut: number;
  seconds: number;
  stageSeconds: (number | undefined)[];
  status: string;
  succeeded: number;
  failed: number;
  toolPeakRssMb: number;
  toolCpuSeconds: number;
  serverMbPerSecond: number;
  serverMegabytes: number;
  serverRequests: number;
  serverRanges: number;
  serverBusy: number;
  /** Lines the tool printed for the whole campaign. */
  lines: number;
  /** Devices not online at the end, or on neither version. */
  lost: string[];
  /** Devices whose state in the tool differs from what they run or report. */
  disagree: string[];
  load: number;
}

interface DeviceState {
  id: string;
  number: number;
  version?: string;
  pending: boolean;
  presence: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load1 = () => Math.round(os.loadavg()[0] * 100) / 100;
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Shard {
  child: ChildProcess;
  next(type: string): Promise<Record<string, unknown>>;
}

function spawnShard(bundle: Bundle): Shard {
  const child = fork(bundle.file, [], { execArgv: ['--max-old-space-size=8192'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: { type: string; resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m: Record<string, unknown>) => {
    if (m.type === 'failed') return waiting.splice(0).forEach((w) => w.reject(new Error(String(m.message))));
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m);
  });
  child.on('error', (error) => process.stderr.write(`device shard (pid ${child.pid}): ${error.message}\n`));
  // a shard that dies says how, instead of leaving the run waiting for it
  child.once('exit', (code, signal) => {
    const why = new Error(`a device shard (pid ${child.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`}`);
    for (const w of waiting.splice(0)) w.reject(why);
  });
  return {
    child,
    next: (type) =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`a device shard (pid ${child.pid}) is gone (${child.signalCode ?? child.exitCode})`));
        waiting.push({ type, resolve, reject });
      }),
  };
}

/** The retained OTA reports under `prefix`: what every device says about its last job. */
async function otaReports(url: string, prefix: string): Promise<Map<string, { state?: string; version?: string; job?: string }>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const reports = new Map<string, { state?: string; version?: string; job?: string }>();
  client.on('message', (topic, payload) => {
    try {
      reports.set(topic.split('/')[1], JSON.parse(payload.toString()));
    } catch {
      // not a report
    }
  });
  await client.subscribeAsync(`${prefix}/+/ota`, { qos: 1 });
  let size = -1;
  while (size !== reports.size) {
    size = reports.size;
    await sleep(1000);
  }
  await client.endAsync();
  return reports;
}

async function campaign(o: { broker: MosquittoBroker; bundle: Bundle; devices: number; powerCut: number; imageSize: number; concurrency: number; prefix: string; log: (s: string) => void }): Promise<RolloutRun> {
  const dir = mkdtempSync(join(os.tmpdir(), 'sim-rollout-'));
  const shards: Shard[] = [];
  try {
    const key = generateKey();
    const keyFile = join(dir, 'fleet-key.pem');
    writeFileSync(keyFile, key.privatePem, { mode: 0o600 });
    const imageFile = join(dir, `fw-${NEW_VERSION}.bin`);
    writeFileSync(imageFile, buildSimImage({ version: NEW_VERSION, behaviour: 'ok' }, o.imageSize));

    const count = shardCount(o.devices);
    o.log(`  ${o.devices.toLocaleString('en-US')} devices in ${count} processes, starting at ${START_RATE}/s (load ${load1()})`);
    for (let index = 0; index < count; index++) shards.push(spawnShard(o.bundle));
    const online = await Promise.all(
      shards.map((s, index) => {
        const reply = s.next('online');
        s.child.send({ type: 'init', host: o.broker.host, port: o.broker.port, shard: { index, count }, devices: o.devices, seed: 17, prefix: o.prefix, stateDir: join(dir, 'devices'), publicKey: key.publicHex, rate: Math.ceil(START_RATE / count), heartbeat: 15, telemetry: 60 });
        return reply;
      }),
    );
    o.log(`  all online after ${(Math.max(...online.map((m) => Number(m.ms))) / 1000).toFixed(1)} s`);
    if (o.powerCut > 0) {
      const every = Math.round(1 / o.powerCut);
      const numbers = Array.from({ length: Math.floor(o.devices / every) }, (_, k) => (k + 1) * every);
      await Promise.all(shards.map((s) => {
        const reply = s.next('armed');
        s.child.send({ type: 'arm', numbers });
        return reply;
      }));
      o.log(`  ${numbers.length} devices (every ${every}th) lose power half way through their download`);
    }

    const state = join(dir, 'campaign');
    const args = ['--import', 'tsx', join(root, 'scripts/fleet.ts'), 'rollout', '--state', state, '--broker', o.broker.url, '--prefix', o.prefix, '--key', keyFile, '--image', imageFile, '--version', NEW_VERSION];
    args.push('--stages', '1,10,100', '--discover', '5s', '--heartbeat-wait', '60s', '--device-timeout', '20m', '--http-concurrency', String(o.concurrency));
    o.log(`  fleet rollout --stages 1,10,100 --http-concurrency ${o.concurrency}`);
    const started = Date.now();
    const tool = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let partial = '';
    tool.stdout!.setEncoding('utf8').on('data', (text: string) => {
      const all = (partial + text).split('\n');
      partial = all.pop()!;
      for (const line of all) {
        lines++;
        o.log(`    | ${line}`);
      }
    });
    tool.stderr!.setEncoding('utf8').on('data', (text: string) => o.log(`    ! ${text.trimEnd()}`));
    const limit = setTimeout(() => tool.kill('SIGINT'), CAMPAIGN_LIMIT_MS);
    const code = await new Promise<number | null>((resolve) => tool.once('exit', resolve));
    clearTimeout(limit);
    const wall = (Date.now() - started) / 1000;
    const report = JSON.parse(readFileSync(join(state, 'report.json'), 'utf8')) as Report;
    const c = JSON.parse(readFileSync(join(state, 'campaign.json'), 'utf8')) as Campaign;
    o.log(`  the tool exited with ${code} after ${wall.toFixed(1)} s`);

    // what the devices run, and what they report
    await sleep(3000);
    const states: DeviceState[] = [];
    let cut = 0;
    for (const s of shards) {
      const reply = s.next('state');
      s.child.send({ type: 'state' });
      const m = await reply;
      states.push(...(m.devices as DeviceState[]));
      cut += Number(m.powerCuts);
    }
    const reports = await otaReports(o.broker.url, o.prefix);
    const lost: string[] = [];
    const disagree: string[] = [];
    for (const d of states) {
      const updated = d.version === NEW_VERSION && !d.pending;
      const old = d.version === FIRMWARE_VERSION;
      if (d.presence !== 'ready' || (!updated && !old)) lost.push(`${d.id} (${d.presence}, ${d.version ?? 'no version'}${d.pending ? ' on trial' : ''})`);
      const run = c.devices[d.id];
      const said = reports.get(d.id);
      // the tool's state of the device against what it runs and what it reports
      const ours = said?.job === c.id;
      const agrees =
        run?.state === 'succeeded'
          ? updated && ours && said?.state === 'success' && said.version === NEW_VERSION
          : run?.state === 'failed'
            ? old && ours && (said?.state === 'failed' || said?.state === 'rolled-back' || said?.state === 'rejected')
            : // never sent a job (not touched, skipped) or withdrawn before it started
              (run?.state === 'waiting' || run?.state === 'cancelled') && old && !(ours && said?.state === 'success');
      if (!agrees) disagree.push(`${d.id}: tool ${run?.state ?? 'never planned'}, device runs ${d.version}${d.pending ? ' (on trial)' : ''}, reports ${said?.state ?? 'nothing'}`);
    }
    const cost = report.cost!;
    return {
      devices: o.devices,
      powerCut: o.powerCut,
      cut,
      seconds: report.durationSeconds ?? wall,
      stageSeconds: report.stages.map((s) => s.seconds),
      status: report.status,
      succeeded: report.succeeded,
      failed: report.failed,
      toolPeakRssMb: cost.tool.peakRssMb,
      toolCpuSeconds: cost.tool.cpuSeconds,
      serverMbPerSecond: cost.imageServer.megabytesPerSecond,
      serverMegabytes: cost.imageServer.megabytes,
      serverRequests: cost.imageServer.requests,
      serverRanges: cost.imageServer.ranges,
      serverBusy: cost.imageServer.busy,
      lines,
      lost,
      disagree,
      load: load1(),
    };
  } finally {
    await Promise.all(
      shards.map(async (s) => {
        if (s.child.exitCode !== null) return;
        const stopped = s.next('stopped');
        s.child.send({ type: 'stop' });
        await Promise.race([stopped, sleep(30_000)]);
        s.child.kill('SIGKILL');
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RolloutOptions {
  devices?: number;
  imageSize?: number;
  /** Share losing power mid-download in the second run (0..1). Default 0.02; 0 skips that run. */
  powerCut?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export async function simRollout(options: RolloutOptions = {}): Promise<RolloutRun[]> {
  const log = options.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const devices = options.devices ?? 10_000;
  const broker = await startMosquitto({ logTypes: ['error', 'warning', 'notice', 'information'], extraConfig: 'connection_messages false\nmax_queued_messages 10000\n', maxConnections: devices + 100, listeners: Math.max(1, Math.ceil(devices / 25_000)) });
  const bundle = await bundleChild('./sim-rollout-devices.ts');
  const runs: RolloutRun[] = [];
  try {
    const shared = { broker, bundle, devices, imageSize: options.imageSize ?? 256 * 1024, concurrency: options.concurrency ?? 64, log };
    log(`rollout to ${devices.toLocaleString('en-US')} devices`);
    runs.push(await campaign({ ...shared, powerCut: 0, prefix: 'roll-a' }));
    describeRun(runs[runs.length - 1], log);
    const cut = options.powerCut ?? 0.02;
    if (cut > 0) {
      log(`rollout to ${devices.toLocaleString('en-US')} devices, ${cut * 100} % losing power mid-download`);
      runs.push(await campaign({ ...shared, powerCut: cut, prefix: 'roll-b' }));
      describeRun(runs[runs.length - 1], log);
    }
    return runs;
  } finally {
    bundle.remove();
    await broker.stop();
  }
}

function describeRun(r: RolloutRun, log: (s: string) => void): void {
  log(
    `  ${r.status}: ${r.succeeded} updated, ${r.failed} failed in ${r.seconds} s (stages ${r.stageSeconds.map((s) => `${s} s`).join(', ')}); ` +
      `tool peak RSS ${r.toolPeakRssMb} MB, CPU ${r.toolCpuSeconds} s; image server ${r.serverMegabytes} MB at ${r.serverMbPerSecond} MB/s, ${r.serverRequests} requests, ${r.serverRanges} with Range, ${r.serverBusy} told to come back; ` +
      `${r.lines} lines of output; ${r.cut} power cuts; ${r.lost.length} lost, ${r.disagree.length} disagreeing; load ${r.load}`,
  );
  for (const x of [...r.lost.slice(0, 5), ...r.disagree.slice(0, 5)]) log(`    ${x}`);
}

export function rolloutRows(runs: RolloutRun[]): BenchResult[] {
  const rows: BenchResult[] = [];
  const [clean, cut] = runs;
  const n = (clean ?? cut)?.devices.toLocaleString('en-US');
  if (clean) {
    rows.push(
      { name: `rollout to ${n} devices`, value: clean.status === 'succeeded' ? clean.seconds : 0, unit: 's', lowerIsBetter: true, target: 'stages 1 %, 10 %, 100 %; every device updated' },
      { name: `rollout to ${n} devices: fleet tool peak RSS`, value: clean.toolPeakRssMb, unit: 'MB', lowerIsBetter: true },
      { name: `rollout to ${n} devices: fleet tool CPU`, value: clean.toolCpuSeconds, unit: 's', lowerIsBetter: true },
      { name: `rollout to ${n} devices: image server throughput`, value: clean.serverMbPerSecond, unit: 'MB/s' },
      { name: `rollout to ${n} devices: lines of progress output`, value: clean.lines, unit: 'lines', lowerIsBetter: true },
    );
  }
  if (cut) {
    rows.push(
      { name: `rollout to ${n} devices, ${cut.powerCut * 100} % losing power mid-download`, value: cut.seconds, unit: 's', lowerIsBetter: true },
      { name: `rollout to ${n} devices, ${cut.powerCut * 100} % losing power mid-download: devices lost, or whose state the tool gets wrong`, value: cut.lost.length + cut.disagree.length, unit: 'devices', lowerIsBetter: true, target: '0' },
    );
  }
  return rows;
}

export async function simRolloutBench(options: RolloutOptions = {}): Promise<BenchResult[]> {
  const runs = await simRollout(options);
  process.stderr.write(`sim-rollout: load average ${os.loadavg().map((x) => x.toFixed(2)).join('/')} at the end\n`);
  return rolloutRows(runs);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values: v } = parseArgs({ options: { devices: { type: 'string', default: '10000' }, size: { type: 'string', default: '256' }, 'power-cut': { type: 'string', default: '2' }, concurrency: { type: 'string', default: '64' } } });
  const results = await simRolloutBench({ devices: Number(v.devices), imageSize: Number(v.size!.replace(/k$/i, '')) * 1024, powerCut: Number(v['power-cut']) / 100, concurrency: Number(v.concurrency) });
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
