// The measuring mechanism on the real engine: exact, repeatable figures from known workloads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { XsBench } from '../../hosts/xs/meter';

const root = fileURLToPath(new URL('../..', import.meta.url));
const contents = `
import { serveBenchmarks } from './hosts/xs/in-xs/bench';
const kept: object[] = [];
let n = 0;
serveBenchmarks({
  empty: { run() {} },
  add: { run() { n += 1; } },
  addTwice: { run() { n += 1; n += 1; } },
  garbage: { run() { void [{}, {}]; } },
  keep: { run() { kept.push({}); } },
});
`;

describe('XsBench', () => {
  let bench: XsBench;
  beforeAll(async () => {
    bench = await XsBench.load({ contents, resolveDir: root });
  });
  afterAll(() => bench.close());

  it('lists the benchmarks', async () => {
    expect(await bench.names()).toEqual(['empty', 'add', 'addTwice', 'garbage', 'keep']);
  });

  it('gives 0 computrons for an empty function and twice the cost for twice the work', async () => {
    expect(await bench.computrons('empty')).toBe(0);
    const one = await bench.computrons('add');
    expect(one).toBeGreaterThan(0);
    expect(Number.isInteger(one)).toBe(true);
    expect(await bench.computrons('addTwice')).toBe(2 * one);
  });

  it('separates short-lived slots from retained ones', async () => {
    const garbage = await bench.slots('garbage');
    expect(garbage.retained).toBe(0);
    expect(garbage.garbage).toBeGreaterThanOrEqual(3); // an array and two objects
    const keep = await bench.slots('keep');
    expect(keep.retained).toBeGreaterThanOrEqual(1);
  });

  it('measures the same figures in a second worker', async () => {
    const other = await XsBench.load({ contents, resolveDir: root });
    try {
      for (const name of ['add', 'garbage']) expect(await other.computrons(name)).toBe(await bench.computrons(name));
      expect(await other.slots('garbage')).toEqual(await bench.slots('garbage'));
    } finally {
      await other.close();
    }
  });

  it('names an unknown benchmark', async () => {
    await expect(bench.computrons('nope')).rejects.toThrow(/no benchmark named "nope"/);
  });
});
