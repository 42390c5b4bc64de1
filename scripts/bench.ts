// npm run bench: every benchmark side by side with its peer, in one run. Prints a table and writes
// bench-results.json ([{name, value, unit, peer, peerValue, ratio}]) at the repository root.
import { writeFileSync } from 'node:fs';
import type { BenchResult } from './bench/result';

// Loaded one at a time, so one suite's imports cannot slow or break another.
const suites: [string, () => Promise<BenchResult[]>][] = [
  ['codec', async () => (await import('./bench/codec')).codecBench()],
  ['codec5', async () => (await import('./bench/codec5')).codec5Bench()],
  ['size', async () => (await import('./bench/size')).sizeBench()],
  ['e2e', async () => (await import('./bench/e2e')).e2eBench()],
  // the client's own CPU per message against MQTT.js (child processes at a fixed rate), beside e2e's row
  ['client-cpu', async () => (await import('./bench/client-cpu')).clientCpuBench()],
  ['xs', async () => (await import('./bench/xs')).xsBench()],
  ['sim-storm', async () => (await import('./bench/sim-storm')).simStormBench()],
  ['sim-scale', async () => (await import('./bench/sim-scale')).simScaleBench()],
  ['sim-rollout', async () => (await import('./bench/sim-rollout')).simRolloutBench()],
];

const only = process.argv.slice(2);
const results: BenchResult[] = [];
for (const [name, run] of suites) {
  if (only.length && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}...\n`);
  results.push(...(await run()));
}

const rows = results.map((r) => [r.name, `${r.value.toLocaleString('en-US')} ${r.unit}`, r.peer ? `${r.peer}: ${r.peerValue!.toLocaleString('en-US')}` : '', r.ratio !== undefined ? `${r.ratio}x` : '', r.target ?? '']);
const header = ['benchmark', 'ours', 'peer (same run)', 'ratio', 'target'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(line(r));
writeFileSync('bench-results.json', JSON.stringify(results.map(({ name, value, unit, peer, peerValue, ratio }) => ({ name, value, unit, peer: peer ?? null, peerValue: peerValue ?? null, ratio: ratio ?? null })), null, 2) + '\n');
console.log('\nwrote bench-results.json');
