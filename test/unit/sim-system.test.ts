// SimSystem and its seeded PRNG.
import { describe, expect, it } from 'vitest';
import { mulberry32, SimRestartError, SimSystem } from '../../hosts/sim/system';

/** mulberry32 straight from its C reference, in BigInt arithmetic mod 2^32. */
function referenceMulberry32(seed: number, count: number): number[] {
  const M = 2n ** 32n;
  let state = BigInt(seed >>> 0);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5n) % M;
    let z = state;
    z = ((z ^ (z >> 15n)) * (z | 1n)) % M;
    z ^= (z + ((z ^ (z >> 7n)) * (z | 61n)) % M) % M;
    z = z ^ (z >> 14n);
    out.push(Number(z) / 2 ** 32);
  }
  return out;
}

describe('mulberry32', () => {
  it('matches the C reference algorithm for several seeds', () => {
    for (const seed of [0, 1, 42, 0xdeadbeef, 2 ** 32 - 1]) {
      const next = mulberry32(seed);
      const ours = Array.from({ length: 20 }, next);
      expect(ours).toEqual(referenceMulberry32(seed, 20));
    }
  });

  it('stays in [0, 1) and spreads evenly over 10 buckets', () => {
    const next = mulberry32(7);
    const buckets = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]++;
    }
    // Chi-square with 9 degrees of freedom; 27.88 is the 0.1% critical value.
    const expected = n / 10;
    const chi2 = buckets.reduce((sum, b) => sum + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.88);
  });
});

describe('SimSystem', () => {
  it('gives the same random sequence for the same seed and a different one for another seed', () => {
    const a = new SimSystem({ deviceId: 'd1', seed: 1234 });
    const b = new SimSystem({ deviceId: 'd2', seed: 1234 });
    const c = new SimSystem({ deviceId: 'd1', seed: 1235 });
    const seq = (s: SimSystem) => Array.from({ length: 8 }, () => s.random());
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(seq(c)).not.toEqual(first);
    expect(first).toEqual(referenceMulberry32(1234, 8));
  });

  it('exposes a random seed when none is given, so a run can be replayed', () => {
    const s = new SimSystem({ deviceId: 'd' });
    const replay = new SimSystem({ deviceId: 'd', seed: s.seed });
    expect(Array.from({ length: 5 }, () => replay.random())).toEqual(Array.from({ length: 5 }, () => s.random()));
  });

  it('reports device id, reset reason and free memory as configured', () => {
    let free = 1000;
    const s = new SimSystem({ deviceId: 'abc', resetReason: 'watchdog', freeMemory: () => free });
    expect(s.deviceId()).toBe('abc');
    expect(s.resetReason()).toBe('watchdog');
    expect(s.freeMemory()).toBe(1000);
    free = 500;
    expect(s.freeMemory()).toBe(500);
    const d = new SimSystem({ deviceId: 'x' });
    expect(d.resetReason()).toBe('power-on');
    expect(d.freeMemory()).toBe(200_000);
  });

  it('hands restart to onRestart, or throws SimRestartError without one', () => {
    const reasons: string[] = [];
    const s = new SimSystem({ deviceId: 'r', onRestart: (r) => reasons.push(r) });
    s.restart('ota applied');
    expect(reasons).toEqual(['ota applied']);
    expect(s.restarts).toEqual(['ota applied']);
    const bare = new SimSystem({ deviceId: 'r' });
    expect(() => bare.restart('bye')).toThrow(SimRestartError);
    expect(bare.restarts).toEqual(['bye']);
  });

  it('refuses an empty device id', () => {
    expect(() => new SimSystem({ deviceId: '' })).toThrow(/non-empty deviceId/);
  });
});
