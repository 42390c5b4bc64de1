// RealClock never fires a timer before its due time by its own now(), and repeats do not drift.
import { describe, expect, it } from 'vitest';
import { RealClock } from '../../hosts/sim/clock';

describe('RealClock', () => {
  it('fires no timer early by now()', async () => {
    const clock = new RealClock();
    const early: number[] = [];
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const ms = (i % 17) + 0.3 * (i % 3);
        const due = clock.now() + ms;
        return new Promise<void>((resolve) =>
          clock.set(() => {
            if (clock.now() < due) early.push(due - clock.now());
            resolve();
          }, ms),
        );
      }),
    );
    expect(early).toEqual([]);
  });

  it('a repeating timer keeps its cadence and stops when cleared', async () => {
    const clock = new RealClock();
    const start = clock.now();
    const at: number[] = [];
    const id = clock.set(() => at.push(clock.now() - start), 20, 20);
    await new Promise((r) => setTimeout(r, 215));
    clock.clear(id);
    const n = at.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(at.length).toBe(n);
    expect(n).toBeGreaterThanOrEqual(9);
    at.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(20 * (i + 1)));
    expect(at[n - 1]).toBeLessThan(20 * n + 40); // no drift accumulating beyond scheduling jitter
  });
});
