// A Clock whose time moves only when told to: simulated chips and drivers can be run through
// exact conversion times without waiting. Pure TypeScript (runs on XS too).
import type { Clock, TimerId } from '../../../src/ports';

interface Timer {
  id: number;
  at: number;
  repeat?: number;
  callback: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #timers: Timer[] = [];
  #nextId = 1;

  constructor(start = 0) {
    this.#now = start;
  }

  /** Bound, so it can be handed out as a chip's `now` option. */
  readonly now = (): number => this.#now;

  wallTime(): number | undefined {
    return undefined;
  }

  set(callback: () => void, ms: number, repeat?: number): TimerId {
    const timer: Timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), repeat, callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clear(id: TimerId): void {
    this.#timers = this.#timers.filter((t) => t.id !== id);
  }

  /** Pending timers. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order; at most `limit` callbacks. */
  advance(ms: number, limit = 100_000): void {
    const end = this.#now + ms;
    for (let fired = 0; fired < limit; fired++) {
      let next: Timer | undefined;
      for (const t of this.#timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (!next) break;
      this.#now = next.at;
      if (next.repeat !== undefined && next.repeat > 0) next.at += next.repeat;
      else this.#timers = this.#timers.filter((t) => t !== next);
      next.callback();
    }
    this.#now = end;
  }
}
