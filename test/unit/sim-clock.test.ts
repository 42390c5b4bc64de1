// The test kit's ManualClock (time order, nesting, repeats, settling, async progress) and RealClock basics.
import { describe, expect, it } from 'vitest';
import { RealClock } from '../../hosts/sim/clock';
import { ManualClock, TimerStormError } from '../../hosts/sim/fakes/clock';

describe('ManualClock', () => {
  it('fires timers in due order, each seeing now() equal to its due time', () => {
    const clock = new ManualClock();
    const fired: [string, number][] = [];
    clock.set(() => fired.push(['c', clock.now()]), 30);
    clock.set(() => fired.push(['a', clock.now()]), 10);
    clock.set(() => fired.push(['b', clock.now()]), 20);
    clock.advance(25);
    expect(fired).toEqual([['a', 10], ['b', 20]]);
    expect(clock.now()).toBe(25);
    expect(clock.pending).toBe(1);
    clock.advance(5);
    expect(fired.map((f) => f[0])).toEqual(['a', 'b', 'c']);
    expect(clock.pending).toBe(0);
  });

  it('fires timers due at the same instant in the order they were set', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) clock.set(() => fired.push(i), 10);
    clock.advance(10);
    expect(fired).toEqual([0, 1, 2, 3, 4]);
  });

  it('fires timers set by callbacks during advance when they fall due within it', () => {
    const clock = new ManualClock();
    const fired: [string, number][] = [];
    clock.set(() => {
      fired.push(['outer', clock.now()]);
      clock.set(() => fired.push(['inner+5', clock.now()]), 5);
      clock.set(() => fired.push(['inner+0', clock.now()]), 0);
      clock.set(() => fired.push(['inner+50', clock.now()]), 50);
    }, 10);
    clock.set(() => fired.push(['other', clock.now()]), 12);
    clock.advance(20);
    expect(fired).toEqual([['outer', 10], ['inner+0', 10], ['other', 12], ['inner+5', 15]]);
    expect(clock.pending).toBe(1);
    expect(clock.nextDue()).toBe(40);
  });

  it('repeats like Moddable Timer.set(cb, ms, repeat): first after ms, then every repeat', () => {
    const clock = new ManualClock();
    const at: number[] = [];
    clock.set(() => at.push(clock.now()), 10, 25);
    clock.advance(70);
    expect(at).toEqual([10, 35, 60]);
  });

  it('lets a repeating callback clear itself, and a callback clear another pending timer', () => {
    const clock = new ManualClock();
    let count = 0;
    const id = clock.set(() => {
      if (++count === 3) clock.clear(id);
    }, 1, 1);
    let victimFired = false;
    const victim = clock.set(() => (victimFired = true), 8);
    clock.set(() => clock.clear(victim), 5);
    clock.advance(100);
    expect(count).toBe(3);
    expect(victimFired).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('moves now() and wallTime() together, and can be told the wall time is unknown', () => {
    const clock = new ManualClock({ start: 1000, wallTime: Date.UTC(2025, 5, 1) });
    clock.advance(1500);
    expect(clock.now()).toBe(2500);
    expect(clock.wallTime()).toBe(Date.UTC(2025, 5, 1) + 1500);
    clock.setWallTime(undefined);
    expect(clock.wallTime()).toBeUndefined();
    expect(new ManualClock({ wallTime: undefined }).wallTime()).toBeUndefined();
    clock.setWallTime(Date.UTC(2030, 0, 1));
    clock.advance(10);
    expect(clock.wallTime()).toBe(Date.UTC(2030, 0, 1) + 10);
  });

  it('throws TimerStormError instead of looping forever on a timer that re-arms at the same instant', () => {
    const clock = new ManualClock({ maxFirings: 100 });
    const rearm = () => clock.set(rearm, 0);
    clock.set(rearm, 0);
    expect(() => clock.advance(1)).toThrow(TimerStormError);
  });

  it('treats a repeat of 0 as a one-shot timer, as Moddable\'s Timer.set does', () => {
    const clock = new ManualClock();
    let count = 0;
    clock.set(() => count++, 0, 0);
    clock.advance(10);
    expect(count).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('advanceAsync lets async code that awaits timers run to the end; advance alone does not', async () => {
    const sleep = (clock: ManualClock, ms: number) => new Promise<void>((resolve) => clock.set(resolve, ms));
    const run = (clock: ManualClock, steps: number[]) =>
      (async () => {
        await sleep(clock, 100);
        steps.push(clock.now());
        await Promise.resolve();
        await sleep(clock, 100);
        steps.push(clock.now());
      })();

    const syncClock = new ManualClock();
    const syncSteps: number[] = [];
    void run(syncClock, syncSteps);
    syncClock.advance(200);
    await new Promise((resolve) => setImmediate(resolve));
    // The first step ran only after advance returned, so it saw the end time, and its second
    // sleep was set too late to fire.
    expect(syncSteps).toEqual([200]);
    expect(syncClock.pending).toBe(1);

    const clock = new ManualClock();
    const steps: number[] = [];
    const done = run(clock, steps);
    await clock.advanceAsync(200);
    await done;
    expect(steps).toEqual([100, 200]);
    expect(clock.now()).toBe(200);
  });

  it('advanceAsync with stepMs lets other work observe intermediate times', async () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    let stop = false;
    const observer = (async () => {
      for (let i = 0; i < 100 && !stop; i++) {
        seen.push(clock.now());
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await clock.advanceAsync(30, 10);
    stop = true;
    await observer;
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen).toEqual(expect.arrayContaining([0, 10, 20, 30]));
    expect(clock.now()).toBe(30);
  });

  it('fires due timers in time order, ties in the order they were set, and reschedules repeating ones', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.set(() => fired.push(`b@${clock.now()}`), 20);
    clock.set(() => fired.push(`r@${clock.now()}`), 10, 10);
    clock.set(() => fired.push(`a@${clock.now()}`), 10);
    const gone = clock.set(() => fired.push('cleared'), 5);
    clock.clear(gone);
    clock.advance(25);
    expect(fired).toEqual(['r@10', 'a@10', 'b@20', 'r@20']);
    expect(clock.now()).toBe(25);
  });

  it('settle() follows one-shot timers, also those they set, and leaves repeating ones alone', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.set(() => fired.push('repeat'), 1, 1);
    clock.set(() => clock.set(() => fired.push(`second@${clock.now()}`), 5), 10);
    clock.settle();
    expect(fired).toEqual(['second@15']);
    clock.fireRepeating(1);
    expect(fired).toEqual(['second@15', 'repeat']);
  });

  it('stops a timer loop with an error that says so', () => {
    const clock = new ManualClock();
    const again = (): void => void clock.set(again, 0);
    clock.set(again, 0);
    expect(() => clock.settle(1000, 50)).toThrow(/timer loop/);
  });

  it('names the problem when fireRepeating cannot pick one timer', () => {
    const clock = new ManualClock();
    expect(() => clock.fireRepeating(30)).toThrow(/no repeating timer of 30 ms/);
    clock.set(() => {}, 30, 30);
    clock.set(() => {}, 30, 30);
    expect(() => clock.fireRepeating(30)).toThrow(/two repeating timers/);
  });
});

describe('RealClock', () => {
  it('fires once, repeats until cleared, and counts monotonic time from creation', async () => {
    const clock = new RealClock();
    const t0 = clock.now();
    expect(t0).toBeGreaterThanOrEqual(0);
    expect(t0).toBeLessThan(1000);
    let once = 0;
    let repeats = 0;
    clock.set(() => once++, 5);
    const id = clock.set(() => {
      if (++repeats === 3) clock.clear(id);
    }, 5, 5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(once).toBe(1);
    expect(repeats).toBe(3);
    expect(clock.now()).toBeGreaterThan(t0);
  });

  it('clears a repeating timer before its first firing', async () => {
    const clock = new RealClock();
    let fired = 0;
    const id = clock.set(() => fired++, 5, 5);
    clock.clear(id);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fired).toBe(0);
  });

  it('reports wall time, or undefined when configured as unknown', () => {
    const before = Date.now();
    const wall = new RealClock().wallTime()!;
    expect(wall).toBeGreaterThanOrEqual(before);
    expect(wall).toBeLessThanOrEqual(Date.now());
    const clock = new RealClock({ wallTimeKnown: false });
    expect(clock.wallTime()).toBeUndefined();
    clock.setWallTimeKnown(true);
    expect(clock.wallTime()).toBeTypeOf('number');
  });
});
