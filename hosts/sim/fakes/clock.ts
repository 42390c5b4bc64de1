// The manual clock of the test kit: time moves only when a test or benchmark says so, so firmware,
// simulated chips and drivers run through exact timeouts without waiting. Timers fire in due order,
// ties in the order they were set (a repeat keeps its place). Pure TypeScript: portable cases and the
// XS budgets run it inside XS.
import type { Clock, TimerId } from '../../../src/ports';

export class TimerStormError extends Error {
  readonly code = 'ETIMERSTORM';
}
TimerStormError.prototype.name = 'TimerStormError';

interface Timer {
  /** The TimerId set() returns; also the tie-break among timers due at the same instant. A number, so
   * a handle the firmware keeps after its timer fired holds no memory. */
  id: number;
  at: number;
  /** Ms between firings; 0 for a one-shot timer. */
  repeat: number;
  callback: () => void;
}

export interface ManualClockOptions {
  /** Monotonic time at the start, ms. Default 0. */
  start?: number;
  /** Wall time (epoch ms) at the start, or undefined for a device without SNTP time yet. Default undefined. */
  wallTime?: number;
  /** Most timer firings in one advance() before it throws TimerStormError. Default 1,000,000. */
  maxFirings?: number;
}

/**
 * One-shot and repeating timers are kept apart, so following one event (settle) looks at few timers.
 * The XS budgets run the firmware on this clock, so what its methods cost is part of the firmware
 * figures: keep them as cheap as they are (scripts/budgets/baseline.json).
 */
export class ManualClock implements Clock {
  private time: number;
  /** Wall time minus monotonic time, while the wall time is known. */
  private wallOffset = 0;
  private readonly oneShots: Timer[] = [];
  private readonly repeating: Timer[] = [];
  private nextId = 1;
  private readonly maxFirings: number;

  constructor(options: ManualClockOptions = {}) {
    this.time = options.start ?? 0;
    this.maxFirings = options.maxFirings ?? 1_000_000;
    this.setWallTime(options.wallTime);
  }

  now(): number {
    return this.time;
  }

  /** The wall time, while known (see setWallTime). */
  wallTime(): number | undefined {
    return this.wallOffset + this.time;
  }

  /**
   * Sets the wall time now (as SNTP would), or forgets it with undefined. Unknown wall time is an
   * own wallTime() that answers undefined, so the known case costs no test on every call (the XS
   * budgets count it).
   */
  setWallTime(epochMs: number | undefined): void {
    if (epochMs === undefined) {
      this.wallTime = unknownWallTime;
      return;
    }
    this.wallOffset = epochMs - this.time;
    if (Object.prototype.hasOwnProperty.call(this, 'wallTime')) delete (this as { wallTime?: unknown }).wallTime;
  }

  /** Like Moddable's Timer.set: a repeat of 0 (or less) is a one-shot timer, as there. */
  set(callback: () => void, ms: number, repeat?: number): TimerId {
    const every = repeat !== undefined && repeat > 0 ? repeat : 0;
    const timer: Timer = { id: this.nextId++, at: this.time + Math.max(0, ms), repeat: every, callback };
    (every ? this.repeating : this.oneShots).push(timer);
    return timer.id;
  }

  clear(id: TimerId): void {
    if (!remove(this.oneShots, id)) remove(this.repeating, id);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.oneShots.length + this.repeating.length;
  }

  /** Ms until the next timer is due (0 when due now), or undefined when none is set. */
  nextDue(): number | undefined {
    const next = this.earliest(Infinity);
    return next === undefined ? undefined : Math.max(0, next.at - this.time);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order, including ones set meanwhile. */
  advance(ms: number): void {
    const end = this.time + (ms > 0 ? ms : 0);
    for (let fired = 0; ; fired++) {
      const next = this.earliest(end);
      if (!next) break;
      if (fired >= this.maxFirings) {
        throw new TimerStormError(`more than ${this.maxFirings} timer firings in advance(${ms}): a timer keeps re-arming itself; raise maxFirings if this is intended`);
      }
      this.fire(next);
    }
    this.time = end;
  }

  /**
   * Fires one-shot timers due within `horizon` ms, in order, moving time to each, until none is left;
   * repeating timers do not fire. What follows one event (a conversion, a broker's answers).
   */
  settle(horizon = 1000, limit = 1000): void {
    const end = this.time + horizon;
    for (let fired = 0; ; fired++) {
      const next = earliest(this.oneShots, end);
      if (!next) return;
      if (fired >= limit) throw new TimerStormError(`more than ${limit} one-shot timers fired while settling: a timer loop?`);
      this.fire(next);
    }
  }

  /** Calls the one repeating timer with this period now, as if it fell due (its schedule is kept). */
  fireRepeating(period: number): void {
    let found: Timer | undefined;
    const timers = this.repeating;
    for (let i = 0; i < timers.length; i++) {
      const t = timers[i]!;
      if (t.repeat !== period) continue;
      if (found) throw new Error(`two repeating timers of ${period} ms: cannot tell which one to fire`);
      found = t;
    }
    if (!found) throw new Error(`no repeating timer of ${period} ms is set`);
    found.callback();
  }

  /**
   * Like advance, but lets promise jobs (and, on Node, ready I/O callbacks) run before and after each
   * firing, and every stepMs of clock time when given, so async code driven by timers makes progress.
   */
  async advanceAsync(ms: number, stepMs?: number): Promise<void> {
    const target = this.time + Math.max(0, ms);
    let fired = 0;
    for (;;) {
      await settleJobs();
      const stepEnd = stepMs !== undefined && stepMs > 0 ? Math.min(target, this.time + stepMs) : target;
      const next = this.earliest(stepEnd);
      if (next) {
        if (++fired > this.maxFirings) throw new TimerStormError(`more than ${this.maxFirings} timer firings in advanceAsync(${ms}): a timer keeps re-arming itself; raise maxFirings if this is intended`);
        this.fire(next);
        continue;
      }
      this.time = stepEnd;
      if (stepEnd < target) continue;
      // Jobs run by the last settle may have set timers due right now; those belong to this advance.
      await settleJobs();
      if (this.nextDue() !== 0) return;
    }
  }

  /** The timer due first by `end` (the earlier set first on a tie). */
  private earliest(end: number): Timer | undefined {
    const next = earliest(this.oneShots, end);
    const r = earliest(this.repeating, end);
    return r && (!next || r.at < next.at || (r.at === next.at && r.id < next.id)) ? r : next;
  }

  private fire(t: Timer): void {
    if (t.at > this.time) this.time = t.at;
    // A repeat is re-armed before its callback runs, so the callback may clear it.
    if (t.repeat) t.at += t.repeat;
    else remove(this.oneShots, t.id);
    t.callback();
  }
}

function unknownWallTime(): number | undefined {
  return undefined;
}

function earliest(timers: Timer[], end: number): Timer | undefined {
  let next: Timer | undefined;
  for (let i = 0; i < timers.length; i++) {
    const t = timers[i]!;
    if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
  }
  return next;
}

function remove(timers: Timer[], id: TimerId): boolean {
  for (let i = 0; i < timers.length; i++) {
    if (timers[i]!.id === id) {
      timers.splice(i, 1);
      return true;
    }
  }
  return false;
}

/** Runs pending promise jobs, and one turn of the event loop where there is one (Node's setImmediate). */
function settleJobs(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => {
    if (immediate) immediate(resolve);
    else resolve();
  });
}
