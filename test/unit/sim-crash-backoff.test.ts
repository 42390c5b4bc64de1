// A simulated board whose firmware panics at every boot backs off like a board with a crash counter:
// bootMs after the first panic, doubling with each panic in a row, capped; a boot that runs long
// enough without a panic starts the count over. Timers are faked, so the times are exact.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { CRASH_BACKOFF_MAX_MS, CRASH_LOOP_RESET_MS, crashRestartDelay, SimDeviceRunner } from '../../scripts/sim/device-runner';
import { Environment } from '../../scripts/sim/environment';
import { TimerWheel } from '../../hosts/sim/shared-clock';
import type { Device } from '../../src/device/device';
import { ScriptedNetwork } from '../../hosts/sim/fakes/network';

let wheel: TimerWheel;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
  wheel = new TimerWheel();
});
afterEach(() => {
  wheel.close();
  vi.useRealTimers();
});

const BOOT_MS = 100;
/** Connections that never open (nobody plays the peer): a firmware that starts stays up, offline. */
const silentNetwork = new ScriptedNetwork();

/** A runner whose firmware throws at start-up while `failing()` says so; boot times in wheel ms. */
function runner(failing: () => boolean) {
  const boots: number[] = [];
  const panics: string[] = [];
  const r = new SimDeviceRunner({
    index: 0,
    wheel,
    environment: new Environment({ seed: 1, utcOffsetMinutes: 0 }),
    network: silentNetwork,
    config: {},
    board: 'env',
    wifi: false,
    bootMs: BOOT_MS,
    extensions: () => {
      boots.push(wheel.now());
      return [
        (_device: Device) => {
          if (failing()) throw new Error('firmware fault');
        },
      ];
    },
    log: (_r, level, message) => {
      if (level === 'error' && message.includes('panic')) panics.push(message);
    },
  });
  return { r, boots, panics };
}

function run(ms: number): void {
  for (let t = 0; t < ms; t += 10) vi.advanceTimersByTime(10);
}

it('the delay doubles from bootMs with each panic in a row, up to the cap', () => {
  expect([0, 1, 2, 3].map((n) => crashRestartDelay(n, 150))).toEqual([150, 300, 600, 1200]);
  expect(crashRestartDelay(20, 150)).toBe(CRASH_BACKOFF_MAX_MS);
  expect(crashRestartDelay(1000, 150)).toBe(CRASH_BACKOFF_MAX_MS);
});

it('a firmware that fails at every boot is booted again later and later, not every bootMs', () => {
  const { r, boots, panics } = runner(() => true);
  r.start();
  run(4 * CRASH_BACKOFF_MAX_MS);
  const gaps = boots.slice(1).map((t, i) => t - boots[i]!);
  // each gap is the backoff after one more panic in a row (timer ticks add at most a few ms)
  const expected = gaps.map((_, i) => crashRestartDelay(i, BOOT_MS));
  expect(gaps.length).toBeGreaterThanOrEqual(10);
  gaps.forEach((gap, i) => {
    expect(gap).toBeGreaterThanOrEqual(expected[i]!);
    expect(gap).toBeLessThan(expected[i]! + 20);
  });
  expect(gaps.at(-1)).toBeGreaterThanOrEqual(CRASH_BACKOFF_MAX_MS);
  // 4 minutes at the old fixed 100 ms would have been about 2,400 boots
  expect(boots.length).toBeLessThan(20);
  expect(panics.at(-1)).toMatch(/panic: firmware failed to start: .*firmware fault \(panic \d+ in a row; booting again in 60 s\)/);
});

it('a boot that runs for CRASH_LOOP_RESET_MS without a panic starts the count over', () => {
  let failures = 4;
  const { r, boots } = runner(() => failures-- > 0);
  r.start();
  run(10_000);
  expect(boots.length).toBe(5); // four failed boots, then one that runs
  run(CRASH_LOOP_RESET_MS);
  const before = boots.length;
  r.crash('a later, unrelated fault');
  run(BOOT_MS + 20);
  expect(boots.length).toBe(before + 1);
  expect(boots.at(-1)! - boots.at(-2)!).toBeGreaterThan(CRASH_LOOP_RESET_MS);
});
