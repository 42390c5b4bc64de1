// Heap per simulated device, quickly: one population process (the scale benchmark's child, from its
// esbuild bundle) of N devices against mosquitto, heartbeat 1 s and telemetry 5 s as in the scale
// benchmark's 1 s row, V8 heap used after GC minus the process's baseline, divided by N; MQTT.js
// clients doing the same loop beside it. With --snapshot, also a heap snapshot of our population
// and the objects it holds per device, by constructor (self size), largest first.
//
//   tsx scripts/bench/sim-heap.ts [--devices 2000] [--kinds ours,mqttjs] [--snapshot [--keep]] [--top 40]
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startMosquitto } from '../broker/mosquitto';
import { FAST } from './sim-scale';
import { bundleChild } from './sim-bundle';
import type { PopulationInit } from './sim-population';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Time the devices get, once all are online, to reach their running state (a telemetry round). */
const SETTLE_MS = 6_000;

interface HeapFigures {
  kind: string;
  devices: number;
  perDevice: number;
  /** Snapshots at half the devices and at all of them (with --snapshot). */
  snapshots: string[];
}

async function measure(kind: 'ours' | 'mqttjs', devices: number, ports: number[], bundle: string, snapshotDir?: string): Promise<HeapFigures> {
  const execArgv = ['--expose-gc', ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2'] : [])];
  const child = fork(bundle, [], { execArgv, cwd: snapshotDir, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (message: object, type: string) =>
    new Promise<Record<string, number>>((resolve, reject) => {
      const on = (m: { type: string }) => {
        if (m.type === type || m.type === 'failed') {
          child.off('message', on);
          if (m.type === 'failed') reject(new Error(JSON.stringify(m)));
          else resolve(m as unknown as Record<string, number>);
        }
      };
      child.on('message', on);
      child.send(message);
    });
  const snapshots: string[] = [];
  const snapshot = async () => {
    if (!snapshotDir) return;
    const known = new Set(readdirSync(snapshotDir));
    // the snapshot is written on the main thread: the next IPC reply comes after it
    child.kill('SIGUSR2');
    await sleep(500);
    await ask({ type: 'memory' }, 'memory');
    const file = readdirSync(snapshotDir).find((f) => f.endsWith('.heapsnapshot') && !known.has(f));
    if (file) snapshots.push(join(snapshotDir, file));
  };
  try {
    const init: PopulationInit = { type: 'init', kind, host: '127.0.0.1', ports, shard: { index: 0, count: 1 }, heartbeatMs: FAST.heartbeatMs, telemetryMs: FAST.telemetryMs, keepAlive: FAST.keepAlive, board: FAST.board, rate: 2000 };
    const base = await ask(init, 'ready');
    if (snapshotDir) {
      await ask({ type: 'grow', n: devices / 2 }, 'grown');
      await sleep(SETTLE_MS);
      await snapshot();
    }
    await ask({ type: 'grow', n: devices }, 'grown');
    await sleep(SETTLE_MS);
    const mem = await ask({ type: 'memory' }, 'memory');
    await snapshot();
    await Promise.race([ask({ type: 'stop' }, 'stopped'), sleep(30_000)]);
    return { kind, devices, perDevice: (mem.heap - base.heap) / devices, snapshots };
  } finally {
    child.kill('SIGKILL');
  }
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

type Tally = Map<string, { size: number; count: number }>;

/** Self size by (type, name) over the whole heap; plain objects also by their first property names. */
function tally(file: string): Tally {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const typeAt = f.indexOf('type');
  const nameAt = f.indexOf('name');
  const sizeAt = f.indexOf('self_size');
  const edgesAt = f.indexOf('edge_count');
  const ef = s.snapshot.meta.edge_fields;
  const ewidth = ef.length;
  const etypeAt = ef.indexOf('type');
  const enameAt = ef.indexOf('name_or_index');
  const etypes = s.snapshot.meta.edge_types[0];
  const types = s.snapshot.meta.node_types[0];
  const by: Tally = new Map();
  let edge = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]];
    const edges = s.nodes[i + edgesAt];
    let name = type.endsWith('string') ? '(string)' : type === 'code' || type === 'number' ? `(${type})` : s.strings[s.nodes[i + nameAt]];
    if (type === 'object' && (name === 'Object' || name === 'system / Context')) {
      const props: string[] = [];
      for (let e = edge; e < edge + edges * ewidth && props.length < 6; e += ewidth) {
        const et = etypes[s.edges[e + etypeAt]];
        if (et === 'property' || et === 'context') props.push(s.strings[s.edges[e + enameAt]]);
      }
      name += ` {${props.join(',')}}`;
    }
    edge += edges * ewidth;
    const key = `${type} ${name}`.slice(0, 110);
    const e = by.get(key) ?? { size: 0, count: 0 };
    e.size += s.nodes[i + sizeAt];
    e.count++;
    by.set(key, e);
  }
  return by;
}

/** What `devices` more devices added to the heap, per device, largest first. */
function diff(before: Tally, after: Tally, devices: number, top: number): string[] {
  const rows: [string, number, number][] = [];
  let total = 0;
  for (const [k, a] of after) {
    const b = before.get(k) ?? { size: 0, count: 0 };
    total += a.size - b.size;
    rows.push([k, (a.size - b.size) / devices, (a.count - b.count) / devices]);
  }
  for (const [k, b] of before) if (!after.has(k)) total -= b.size;
  rows.sort((x, y) => y[1] - x[1]);
  return [`snapshots differ by ${(total / devices).toFixed(0)} bytes per device`, ...rows.slice(0, top).map(([k, size, count]) => `${size.toFixed(0).padStart(7)} B ${count.toFixed(2).padStart(6)}x  ${k}`)];
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      devices: { type: 'string', default: '2000' },
      kinds: { type: 'string', default: 'ours,mqttjs' },
      snapshot: { type: 'boolean', default: false },
      top: { type: 'string', default: '40' },
      keep: { type: 'boolean', default: false },
    },
  });
  const devices = Number(v.devices);
  const broker = await startMosquitto({ logTypes: ['error', 'warning', 'notice', 'information'], extraConfig: 'connection_messages false\nmax_queued_messages 1000\n', maxConnections: 2 * devices + 16 });
  const bundle = await bundleChild('./sim-population.ts');
  const dir = v.snapshot ? mkdtempSync(join(tmpdir(), 'sim-heap-')) : undefined;
  try {
    for (const kind of v.kinds!.split(',') as ('ours' | 'mqttjs')[]) {
      const r = await measure(kind, devices, broker.ports, bundle.file, kind === 'ours' ? dir : undefined);
      console.log(`${kind}: ${devices} devices, heap ${(r.perDevice / 1024).toFixed(2)} KB per device (V8, after GC)`);
      if (r.snapshots.length === 2) for (const line of diff(tally(r.snapshots[0]), tally(r.snapshots[1]), devices / 2, Number(v.top))) console.log(`  ${line}`);
    }
  } finally {
    bundle.remove();
    if (dir && !v.keep) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log(`snapshots kept in ${dir}`);
    await broker.stop();
  }
}

void main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
