// Places where XS (13.3, in @agoric/xsnap 0.15.0) departs from the spec and firmware must work
// around. If one of these starts failing, the engine was fixed: update docs/xs.md.
import { afterAll, describe, expect, it } from 'vitest';
import { XsWorker } from '../../hosts/xs/worker';

const worker = new XsWorker();
afterAll(() => worker.close());

async function onXs(expression: string): Promise<string> {
  const { reply } = await worker.evaluate(`new TextEncoder().encode(String(${expression})).buffer`);
  return new TextDecoder().decode(reply);
}

describe('XS quirks', () => {
  it('toFixed(0) of |x| <= 0.5 gives "0." instead of the spec\'s "0" or "1"', async () => {
    // ECMA-262 Number.prototype.toFixed: n is the integer nearest x, the larger on a tie; no "." when f = 0.
    expect((0.4).toFixed(0)).toBe('0');
    expect((0.5).toFixed(0)).toBe('1');
    expect(await onXs('(0.4).toFixed(0)')).toBe('0.');
    expect(await onXs('(0.5).toFixed(0)')).toBe('0.');
    expect(await onXs('(-0.5).toFixed(0)')).toBe('-0.');
    // Values above one half, and any fraction digits, are right:
    expect(await onXs('(0.6).toFixed(0)')).toBe('1');
    expect(await onXs('(2.5).toFixed(0)')).toBe('3');
    expect(await onXs('(0.05).toFixed(1)')).toBe('0.1');
  });

  it('the workaround, String(Math.round(x)), agrees with Node', async () => {
    for (const x of [0.4, 0.5, -0.5, 2.5, -2.5]) expect(await onXs(`Math.round(${x})`)).toBe(String(Math.round(x)));
  });

  it('BigInt remainder with a shorter dividend moves the meter backwards (it can wrap around)', async () => {
    // xsBigInt.c meters (a.size - b.size) * (a.size + b.size) for a % b: negative when a has fewer
    // 32-bit words than b. 0n % p (p of 8 words) subtracts 64, below zero, so the unsigned meter wraps.
    const plain = (await worker.evaluate('0n + 1n')).meter.compute;
    const remainder = (await worker.evaluate('0n % (2n ** 255n - 19n)')).meter.compute;
    expect(plain).toBeLessThan(1000);
    expect(remainder).toBeGreaterThan(2 ** 31);
  });

  it('Math.random gives the same sequence in every new worker', async () => {
    const first = new XsWorker();
    const second = new XsWorker();
    try {
      const draw = 'new TextEncoder().encode([Math.random(), Math.random()].join()).buffer';
      const a = new TextDecoder().decode((await first.evaluate(draw)).reply);
      const b = new TextDecoder().decode((await second.evaluate(draw)).reply);
      expect(a).toBe(b);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
