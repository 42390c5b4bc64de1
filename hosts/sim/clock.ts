// Clock port for the simulator on Node timers. Tests that move time by hand use the test kit's
// ManualClock (hosts/sim/fakes/clock.ts).
import type { Clock, TimerId } from '../../src/ports';

export interface RealClockOptions {
  /** false simulates a device that has no wall time yet (before SNTP). Default true. */
  wallTimeKnown?: boolean;
}

export class RealClock implements Clock {
  private readonly origin = performance.now();
  private wallKnown: boolean;

  constructor(options: RealClockOptions = {}) {
    this.wallKnown = options.wallTimeKnown ?? true;
  }

  now(): number {
    return performance.now() - this.origin;
  }

  wallTime(): number | undefined {
    return this.wallKnown ? Date.now() : undefined;
  }

  setWallTimeKnown(known: boolean): void {
    this.wallKnown = known;
  }

  /**
   * Node's timers run on a coarser clock than performance.now() and may fire up to a millisecond
   * early by now(); firmware that checks "has the conversion time passed?" must never see that, so a
   * timer that fires early waits out the remainder. Repeats are scheduled from the due time, without drift.
   */
  set(callback: () => void, ms: number, repeat?: number): TimerId {
    const timer: { handle?: NodeJS.Timeout; cleared: boolean } = { cleared: false };
    let due = this.now() + Math.max(0, ms);
    const fire = () => {
      if (timer.cleared) return;
      const early = due - this.now();
      if (early > 0) {
        timer.handle = setTimeout(fire, Math.ceil(early));
        return;
      }
      if (repeat !== undefined) {
        const every = Math.max(1, repeat);
        due += every;
        const late = this.now() - due;
        if (late > 0) due += Math.ceil(late / every) * every; // skip beats missed while blocked
        timer.handle = setTimeout(fire, Math.max(0, due - this.now()));
      }
      callback();
    };
    timer.handle = setTimeout(fire, Math.max(0, ms));
    return timer;
  }

  clear(id: TimerId): void {
    const timer = id as { handle?: NodeJS.Timeout; cleared: boolean } | undefined;
    if (!timer || typeof timer !== 'object') return;
    timer.cleared = true;
    clearTimeout(timer.handle);
  }
}
