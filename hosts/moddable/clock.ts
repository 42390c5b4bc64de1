// Clock port on Moddable's Timer and Time modules.
import type { Clock, TimerId } from '../../src/ports';
import Time from 'time';
import Timer from 'timer';
import { wallTime } from './native/sysinfo';
import type { Resources } from './resources';
import { TickCounter } from './ticks';

/** A wall time before this (2023-01-01) means the RTC was never set: no SNTP answer yet. */
const EARLIEST_VALID_TIME = 1_672_531_200_000;

export const createClock = (resources: Resources): Clock => {
  const ticks = new TickCounter();
  return {
    now: () => ticks.update(Time.ticks),
    wallTime() {
      const now = wallTime();
      return now >= EARLIEST_VALID_TIME ? now : undefined;
    },
    set(callback, ms, repeat) {
      const timer = Timer.set(
        () => {
          if (repeat === undefined) resources.forget(timer);
          callback();
        },
        Math.max(0, ms),
        repeat,
      );
      resources.track(timer, () => Timer.clear(timer));
      return timer;
    },
    clear(id: TimerId) {
      if (id === undefined || id === null) return;
      resources.release(id);
    },
  };
};
