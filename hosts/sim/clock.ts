// Clock port for the simulator: RealClock on Node timers, VirtualClock for tests that move time by hand.
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

export class TimerStormError extends Error {
  override name = 'TimerStormError';
  readonly code = 'ETIMERSTORM';
}

interface VirtualTimer {
  due: number;
  /** Tie-break among timers due at the same instant: set order, renewed when a repeat re-arms. */
  order: number;
  repeat?: number;
  callback: () => void;
}

export interface VirtualClockOptions {
  /** Starting monotonic time in ms. Default 0. */
  start?: number;
  /** Wall time (epoch ms) at the start, or undefined for "no SNTP yet". Default 2024-01-01T00:00:00Z. */
  wallTime?: number | undefined;
  /** Upper bound of timer firings in one advance, against runaway repeat loops. Default 1,000,000. */
  maxFirings?: number;
}

/** Time moves only through advance()/advanceAsync(). Timers fire in due order, ties in set order. */
export class VirtualClock implements Clock {
  private time: number;
  private wallOffset: number | undefined;
  private readonly timers = new Map<number, VirtualTimer>();
  private ids = 0;
  private orders = 0;
  private readonly maxFirings: number;

  constructor(options: VirtualClockOptions = {}) {
    this.time = options.start ?? 0;
    const wall = 'wallTime' in options ? options.wallTime : Date.UTC(2024, 0, 1);
    this.wallOffset = wall === undefined ? undefined : wall - this.time;
    this.maxFirings = options.maxFirings ?? 1_000_000;
  }

  now(): number {
    return this.time;
  }

  wallTime(): number | undefined {
    return this.wallOffset === undefined ? undefined : this.wallOffset + this.time;
  }

  /** Sets the wall time now (as SNTP would), or forgets it with undefined. */
  setWallTime(epochMs: number | undefined): void {
    this.wallOffset = epochMs === undefined ? undefined : epochMs - this.time;
  }

  set(callback: () => void, ms: number, repeat?: number): TimerId {
    const id = ++this.ids;
    // A repeat of 0 would fire forever at one instant; Node's timers treat it as 1 ms too.
    const every = repeat === undefined ? undefined : Math.max(1, repeat);
    this.timers.set(id, { due: this.time + Math.max(0, ms), order: ++this.orders, repeat: every, callback });
    return id;
  }

  clear(id: TimerId): void {
    this.timers.delete(id as number);
  }

  /** Number of active timers. */
  pending(): number {
    return this.timers.size;
  }

  /** Ms until the next timer is due (0 when due now), or undefined when none is set. */
  nextDue(): number | undefined {
    const next = this.earliest();
    return next === undefined ? undefined : Math.max(0, next[1].due - this.time);
  }

  private earliest(): [number, VirtualTimer] | undefined {
    let best: [number, VirtualTimer] | undefined;
    for (const entry of this.timers) {
      const t = entry[1];
      if (!best || t.due < best[1].due || (t.due === best[1].due && t.order < best[1].order)) best = entry;
    }
    return best;
  }

  /** Fires the earliest timer due at or before `limit`; false when there is none. */
  private fireNext(limit: number): boolean {
    const next = this.earliest();
    if (!next || next[1].due > limit) return false;
    const [id, timer] = next;
    this.time = Math.max(this.time, timer.due);
    if (timer.repeat === undefined) {
      this.timers.delete(id);
    } else {
      // Re-armed before the callback runs, so the callback may clear it.
      timer.due += timer.repeat;
      timer.order = ++this.orders;
    }
    timer.callback();
    return true;
  }

  private count(fired: number, what: string): number {
    if (fired > this.maxFirings) {
      throw new TimerStormError(`more than ${this.maxFirings} timer firings in ${what}: a timer keeps re-arming itself; raise maxFirings if this is intended`);
    }
    return fired;
  }

  /** Moves time forward by ms, firing every timer that falls due, including ones set meanwhile. */
  advance(ms: number): void {
    const target = this.time + Math.max(0, ms);
    let fired = 0;
    while (this.fireNext(target)) this.count(++fired, `advance(${ms})`);
    this.time = target;
  }

  /**
   * Like advance, but lets promise jobs and ready I/O callbacks run before and after each firing
   * (and every stepMs of virtual time when given), so async code driven by timers makes progress.
   */
  async advanceAsync(ms: number, stepMs?: number): Promise<void> {
    const target = this.time + Math.max(0, ms);
    let fired = 0;
    for (;;) {
      await settle();
      const stepEnd = stepMs !== undefined && stepMs > 0 ? Math.min(target, this.time + stepMs) : target;
      if (this.fireNext(stepEnd)) {
        this.count(++fired, `advanceAsync(${ms})`);
        continue;
      }
      this.time = stepEnd;
      if (stepEnd < target) continue;
      // Jobs run by the last settle may have set timers due right now; those belong to this advance.
      await settle();
      if (this.nextDue() !== 0) return;
    }
  }
}

/** Runs pending promise jobs and one turn of the event loop (macrotask boundary). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
