// The shared timer wheel behind every simulated device's Clock: order, repeats without bursts, clear,
// halt (power cut), isolation of a throwing device, and one Node timer for thousands of device timers.
import { afterEach, describe, expect, it } from 'vitest';
import { TimerWheel, type SharedClock } from '../../hosts/sim/shared-clock';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wheels: TimerWheel[] = [];
function wheel(options?: ConstructorParameters<typeof TimerWheel>[0]): TimerWheel {
  const w = new TimerWheel(options);
  wheels.push(w);
  return w;
}
afterEach(() => {
  for (const w of wheels.splice(0)) w.close();
});

const nodeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('TimerWheel clocks', () => {
  it('fires in due order across clocks, ties in the order they were set, never before their time', async () => {
    const w = wheel();
    const a = w.clock();
    const b = w.clock();
    const fired: [string, number][] = [];
    const at = (clock: SharedClock, name: string, ms: number) => {
      const start = clock.now();
      clock.set(() => fired.push([name, clock.now() - start - ms]), ms);
    };
    at(a, 'a30', 30);
    at(b, 'b10', 10);
    at(a, 'a20', 20);
    at(b, 'b20', 20);
    at(a, 'a0', 0);
    await sleep(80);
    expect(fired.map((f) => f[0])).toEqual(['a0', 'b10', 'a20', 'b20', 'a30']);
    for (const [, early] of fired) expect(early).toBeGreaterThanOrEqual(0);
  });

  it('now() counts from each clock\'s creation (its boot); wall time can be unknown', async () => {
    const w = wheel();
    const first = w.clock();
    await sleep(30);
    const second = w.clock({ wallTimeKnown: false });
    expect(first.now()).toBeGreaterThanOrEqual(29);
    expect(second.now()).toBeLessThan(first.now());
    expect(second.wallTime()).toBeUndefined();
    expect(Math.abs(first.wallTime()! - Date.now())).toBeLessThan(5);
    second.setWallTimeKnown(true);
    expect(second.wallTime()).toBeDefined();
  });

  it('repeats like Moddable Timer.set(cb, ms, repeat): first after ms, then every repeat', async () => {
    const w = wheel();
    const c = w.clock();
    const times: number[] = [];
    const id = c.set(() => times.push(c.now()), 40, 20);
    await sleep(150);
    c.clear(id);
    const n = times.length;
    expect(n).toBeGreaterThanOrEqual(3);
    // firing k is due at 40 + 20k: never early
    times.forEach((t, k) => expect(t).toBeGreaterThanOrEqual(40 + 20 * k));
    await sleep(50);
    expect(times.length).toBe(n);
  });

  it('skips repeats missed while the process was blocked instead of firing them in a burst', async () => {
    const w = wheel();
    const c = w.clock();
    const times: number[] = [];
    let blockEnd = 0;
    c.set(() => {
      times.push(performance.now());
      if (!blockEnd) {
        const end = performance.now() + 120; // six periods of 20 ms pass without the event loop
        while (performance.now() < end);
        blockEnd = performance.now();
      }
    }, 10, 20);
    await sleep(200);
    // In the 60 ms after the block: the late beat, then beats on the 20 ms phase (no more than 4 in
    // all, however late any of them is), where a catch-up would fire the six missed ones at once.
    // Gaps are not checked: a beat kept on its phase comes less than 20 ms after a late one.
    const after = times.filter((t) => t >= blockEnd && t < blockEnd + 60);
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(after.length).toBeLessThanOrEqual(4);
  });

  it('clear() stops a timer; ids of other clocks and junk are ignored', async () => {
    const w = wheel();
    const a = w.clock();
    const b = w.clock();
    let fired = 0;
    const id = a.set(() => fired++, 10);
    b.clear(id); // not b's timer
    b.clear(undefined);
    b.clear(42);
    const gone = a.set(() => fired++, 10);
    a.clear(gone);
    a.clear(gone); // twice is harmless
    await sleep(40);
    expect(fired).toBe(1);
    expect(w.size).toBe(0);
  });

  it('halt() is a power cut: pending and repeating timers never fire again, new ones are ignored', async () => {
    const w = wheel();
    const c = w.clock();
    const other = w.clock();
    let fired = 0;
    let otherFired = 0;
    c.set(() => fired++, 5, 5);
    c.set(() => fired++, 30);
    other.set(() => otherFired++, 30);
    await sleep(20);
    const before = fired;
    expect(before).toBeGreaterThan(0);
    c.halt();
    expect(c.set(() => fired++, 1)).toBeUndefined();
    await sleep(50);
    expect(fired).toBe(before);
    expect(otherFired).toBe(1);
  });

  it('an exception in one device\'s callback goes to that clock\'s onError; the others keep running', async () => {
    const w = wheel();
    const errors: unknown[] = [];
    const bad = w.clock({ onError: (e) => errors.push(e) });
    const good = w.clock();
    let goodFired = 0;
    bad.set(() => {
      throw new Error('firmware bug');
    }, 5);
    good.set(() => goodFired++, 5, 5);
    await sleep(40);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('firmware bug');
    expect(goodFired).toBeGreaterThanOrEqual(3);
  });

  it('thousands of device timers use one Node timer', async () => {
    const w = wheel();
    const base = nodeTimers();
    let fired = 0;
    const clocks = Array.from({ length: 2000 }, () => w.clock());
    clocks.forEach((c, i) => c.set(() => fired++, 20 + (i % 50), 1000));
    expect(w.size).toBe(2000);
    expect(nodeTimers() - base).toBeLessThanOrEqual(1);
    await sleep(150);
    expect(fired).toBe(2000);
    expect(nodeTimers() - base).toBeLessThanOrEqual(1);
    // far fewer Node callbacks than firings: timers of many devices share a tick
    expect(w.turns).toBeLessThan(200);
  });

  it('yields to I/O during a long run of callbacks (at most maxTurnMs each turn)', async () => {
    const w = wheel({ maxTurnMs: 5 });
    const c = w.clock();
    let fired = 0;
    for (let i = 0; i < 200; i++) {
      c.set(() => {
        fired++;
        const end = performance.now() + 0.5;
        while (performance.now() < end);
      }, 1);
    }
    let immediates = 0;
    const tick = () => {
      immediates++;
      if (fired < 200) setImmediate(tick);
    };
    await sleep(3);
    setImmediate(tick);
    // 100 ms of busy callbacks; on a loaded machine they take longer, so wait (bounded) until all ran
    for (let waited = 0; fired < 200 && waited < 5000; waited += 50) await sleep(50);
    expect(fired).toBe(200);
    // 100 ms of callbacks in turns of about 5 to 8 ms: other work ran in between
    expect(w.turns).toBeGreaterThanOrEqual(8);
    expect(immediates).toBeGreaterThanOrEqual(5);
  });

  it('reports lateness quantiles of what fired', async () => {
    const w = wheel();
    const c = w.clock();
    for (let i = 0; i < 20; i++) c.set(() => {}, 5);
    await sleep(30);
    expect(w.fired).toBe(20);
    expect(w.latenessQuantile(0.5)).toBeGreaterThanOrEqual(0);
    expect(w.latenessQuantile(1)).toBeLessThan(1000);
    w.resetStats();
    expect(w.fired).toBe(0);
    expect(w.latenessQuantile(0.99)).toBe(0);
  });
});
