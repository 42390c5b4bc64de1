// The firmware's cost budgets on XS: bundle size, computrons per operation, heap slots. Figures are
// deterministic, so a baseline can be compared exactly; check() fails on growth over a tolerance.
import { measureFirmware } from './firmware';
import { measureFirmware32 } from './firmware32';
import { measureStack } from './stack';
import { measureMqtt5 } from './mqtt5';
import { measureEsp8266 } from './esp8266';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForXs } from '../../hosts/xs/bundle';
import { XsBench } from '../../hosts/xs/meter';
import type { Figure } from './figure';

export type { Figure } from './figure';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const budgets = join(root, 'scripts/budgets');
export const BASELINE_FILE = join(root, 'scripts/budgets/baseline.json');

/** Sizes of minified bundles: what the firmware pieces cost in flash (before XS compiles them). */
const BUNDLES: { name: string; entry: string }[] = [
  { name: 'bundle.mqtt-client.min', entry: 'src/mqtt/client.ts' },
  // the whole firmware: main() with the OTA extension, as hosts/moddable/firmware.ts boots it
  { name: 'bundle.firmware.min', entry: 'scripts/budgets/firmware.entry.ts' },
];

export async function measureBundles(): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const b of BUNDLES) {
    const { bytes } = await bundleForXs(join(root, b.entry), { minify: true });
    out.push({ name: b.name, value: bytes, unit: 'bytes' });
  }
  return out;
}

/** MQTT client figures (scripts/budgets/mqtt.bench.ts); compare with the goals in docs/xs.md. */
export async function measureMqtt(): Promise<Figure[]> {
  const bench = await XsBench.load(join(budgets, 'mqtt.bench.ts'));
  try {
    const out: Figure[] = [];
    const c = async (name: string, bench_: string) => out.push({ name, value: await bench.computrons(bench_), unit: 'computrons' });
    await c('mqtt.codec.publish-qos0.encode', 'codec.publish-qos0.encode');
    await c('mqtt.codec.publish-qos0.parse', 'codec.publish-qos0.parse');
    const empty = await bench.heap();
    await bench.exercise('client.connect', 1);
    out.push({ name: 'mqtt.client.heap-connected', value: (await bench.heap()) - empty, unit: 'slots' });
    await c('mqtt.client.publish-qos0', 'client.publish-qos0');
    await c('mqtt.client.inbound-qos0', 'client.inbound-qos0');
    await c('mqtt.client.qos1-round', 'client.qos1-round');
    for (const [name, benchName] of [
      ['publish-qos0', 'client.publish-qos0'],
      ['inbound-qos0', 'client.inbound-qos0'],
      ['qos1-round', 'client.qos1-round'],
    ] as const) {
      const use = await bench.slots(benchName);
      out.push({ name: `mqtt.client.garbage.${name}`, value: use.garbage, unit: 'slots' });
      out.push({ name: `mqtt.client.retained.${name}`, value: use.retained, unit: 'slots' });
    }
    out.push({ name: 'mqtt.client.heap-steady', value: (await bench.heap()) - empty, unit: 'slots' });
    return out;
  } finally {
    await bench.close();
  }
}

export async function measureCrypto(): Promise<Figure[]> {
  const bench = await XsBench.load(join(budgets, 'crypto.bench.ts'));
  try {
    return [{ name: 'crypto.sha256.1k', value: await bench.computrons('sha256.1k', 10, 1), unit: 'computrons' }];
  } finally {
    await bench.close();
  }
}

/** The whole firmware booted on a scripted platform: heap after boot and at steady state, cost per cycle (scripts/budgets/firmware.ts). */
export { measureFirmware };

export async function measureAll(): Promise<Figure[]> {
  return [
    ...(await measureBundles()),
    ...(await measureMqtt()),
    ...(await measureMqtt5()),
    ...(await measureCrypto()),
    ...(await measureFirmware()),
    ...(await measureFirmware32()),
    ...(await measureStack()),
    ...(await measureEsp8266()),
  ];
}

/**
 * The 64-bit estimates of 32-bit bytes (firmware.*.bytes32) next to the 32-bit worker's measurement
 * (firmware.*.live32), one line each: how far off the estimate is.
 */
export function estimateReport(figures: Figure[]): string[] {
  const byName = new Map(figures.map((f) => [f.name, f.value]));
  const out: string[] = [];
  for (const phase of ['boot', 'steady']) {
    const estimate = byName.get(`firmware.heap-${phase}.bytes32`);
    const measured = byName.get(`firmware.heap-${phase}.live32`);
    if (estimate === undefined || measured === undefined || !measured) continue;
    const off = ((estimate - measured) / measured) * 100;
    out.push(`firmware.heap-${phase}: 64-bit estimate ${estimate} bytes, 32-bit measured ${measured} bytes (the estimate is ${Math.abs(off).toFixed(1)}% ${off >= 0 ? 'high' : 'low'})`);
  }
  return out;
}

export interface Comparison {
  name: string;
  unit: string;
  baseline?: number;
  value?: number;
  /** value / baseline - 1 */
  change?: number;
  verdict: 'ok' | 'grew' | 'new' | 'missing' | 'over';
  /** The figure's hard limit, when it has one. */
  limit?: number;
  /** The figure's goal not reached yet (Figure.target), when it has one. */
  target?: number;
}

/**
 * Compares figures with a baseline. A figure fails when it grew more than `tolerance` (0.1 = 10%) over
 * its baseline, when a baseline figure is no longer measured, or, baseline or not, when it is over its
 * own hard limit ('over'). Other new figures pass (add them with --write-baseline).
 */
export function compare(figures: Figure[], baseline: Figure[], tolerance = 0.1): Comparison[] {
  const out: Comparison[] = [];
  const measured = new Map(figures.map((f) => [f.name, f]));
  for (const b of baseline) {
    const f = measured.get(b.name);
    if (!f) {
      out.push({ name: b.name, unit: b.unit, baseline: b.value, verdict: 'missing' });
      continue;
    }
    const change = b.value === 0 ? (f.value === 0 ? 0 : Infinity) : f.value / b.value - 1;
    // Compared without division, so 110 against 100 is exactly 10%. A zero baseline allows no growth.
    const grew = f.value > b.value + Math.abs(b.value) * Math.min(tolerance, f.tolerance ?? tolerance);
    out.push({ name: b.name, unit: f.unit, baseline: b.value, value: f.value, change, limit: f.limit, target: f.target, verdict: over(f) ? 'over' : grew ? 'grew' : 'ok' });
    measured.delete(b.name);
  }
  for (const f of measured.values()) out.push({ name: f.name, unit: f.unit, value: f.value, limit: f.limit, target: f.target, verdict: over(f) ? 'over' : 'new' });
  return out;
}

function over(f: Figure): boolean {
  return f.limit !== undefined && f.value > f.limit;
}

export function formatComparison(rows: Comparison[]): string {
  const lines = rows.map((r) => {
    const change = r.change === undefined ? '' : r.change === Infinity ? ' (from 0)' : ` (${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)}%)`;
    const values = `${r.baseline ?? '-'} -> ${r.value ?? '-'} ${r.unit}`;
    const limit = r.limit === undefined ? '' : ` (limit ${r.limit})`;
    const target = r.target === undefined || r.value === undefined ? '' : r.value > r.target ? ` (target ${r.target}: ${r.value - r.target} over)` : ` (target ${r.target} reached)`;
    return `${r.verdict.padEnd(7)} ${r.name.padEnd(36)} ${values}${change}${limit}${target}`;
  });
  return lines.join('\n');
}
