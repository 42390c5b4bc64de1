// Clock port for many simulated devices in one process: every device gets its own Clock (its own
// boot time for now()), but all their timers live in one heap served by a single Node timer, armed
// for the next tick boundary. Ten thousand devices cost one Node timer, not tens of thousands.
//
// - Timers due within the same tick (default 2 ms) fire in one Node callback, in due order, ties in
//   set order; none fires before its time.
// - A repeat keeps its phase (due += repeat), so heartbeats do not drift; when the process fell so
//   far behind that the next due time has passed too, missed beats are skipped, as Node's
//   setInterval does, instead of firing in a burst.
// - An exception from a callback is handed to the owning clock's onError (the device "panics");
//   the other devices' timers carry on.
// - halt() stops a clock's timers at once (a power cut): they are dropped when they come up.
import type { Clock, TimerId } from '../../src/ports';

export interface TimerWheelOptions {
  /** Timers due within one tick share a Node callback. Default 2 ms. */
  tickMs?: number;
  /** Most callbacks in one turn of the event loop before yielding to I/O. Default 5000. */
  maxPerTurn?: number;
  /** Most ms of callbacks in one turn before yielding to I/O. Default 20. */
  maxTurnMs?: number;
  /** Let the process exit while only these timers are pending. Default false. */
  unref?: boolean;
  /** Called when a callback throws and its clock has no onError. Default: print to stderr. */
  onError?: (error: unknown) => void;
}

export interface SharedClockOptions {
  /** false simulates a device without wall time yet (no SNTP). Default true. */
  wallTimeKnown?: boolean;
  /** An exception escaped one of this clock's callbacks. */
  onError?: (error: unknown) => void;
}

/** Lateness histogram: count of firings per whole millisecond late, the last bucket open-ended. */
const LATE_BUCKETS = 1001;

class Entry {
  heapIndex = -1;
  constructor(
    public due: number,
    public seq: number,
    readonly repeat: number,
    readonly callback: () => void,
    readonly owner: SharedClock,
  ) {}
}

const before = (a: Entry, b: Entry) => a.due < b.due || (a.due === b.due && a.seq < b.seq);

export class TimerWheel {
  readonly tickMs: number;
  readonly maxPerTurn: number;
  readonly maxTurnMs: number;
  private readonly heap: Entry[] = [];
  private handle: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private armedFor = Infinity;
  private seq = 0;
  private running = false;
  private closed = false;
  private host: SharedClock | undefined;
  /** Firings by whole ms of lateness (index 1000: 1000 ms or more). */
  readonly lateness = new Uint32Array(LATE_BUCKETS);
  fired = 0;
  /** Node callbacks that ran timers: with many devices, far fewer than `fired`. */
  turns = 0;

  constructor(private readonly options: TimerWheelOptions = {}) {
    this.tickMs = Math.max(1, options.tickMs ?? 2);
    this.maxPerTurn = Math.max(1, options.maxPerTurn ?? 5000);
    this.maxTurnMs = Math.max(1, options.maxTurnMs ?? 20);
  }

  now(): number {
    return performance.now();
  }

  /** A Clock for one device; now() counts from this call (the device's boot). */
  clock(options: SharedClockOptions = {}): SharedClock {
    return new SharedClock(this, options);
  }

  /** One clock for the host's own timers (the world around the devices), shared by everything that asks. */
  get hostClock(): SharedClock {
    return (this.host ??= new SharedClock(this));
  }

  /** Pending timers of all clocks (halted clocks' included until they come up). */
  get size(): number {
    return this.heap.length;
  }

  /** Stops the Node timer and forgets every pending timer. */
  close(): void {
    this.closed = true;
    clearTimeout(this.handle);
    clearImmediate(this.immediate);
    this.handle = undefined;
    this.immediate = undefined;
    for (const e of this.heap) e.heapIndex = -1;
    this.heap.length = 0;
  }

  /** Lateness of timer firings at quantile q (0..1), in whole ms; 0 when nothing fired. */
  latenessQuantile(q: number): number {
    let total = 0;
    for (const n of this.lateness) total += n;
    if (total === 0) return 0;
    let seen = 0;
    const want = Math.ceil(q * total);
    for (let ms = 0; ms < LATE_BUCKETS; ms++) {
      seen += this.lateness[ms];
      if (seen >= want) return ms;
    }
    return LATE_BUCKETS - 1;
  }

  resetStats(): void {
    this.lateness.fill(0);
    this.fired = 0;
    this.turns = 0;
  }

  /** @internal */
  add(owner: SharedClock, callback: () => void, ms: number, repeat: number | undefined): Entry {
    if (typeof callback !== 'function') throw new TypeError('Clock.set needs a callback function');
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    // A repeat of 0 would fire forever at one instant; Node treats it as 1 ms too.
    const every = repeat === undefined ? 0 : Math.max(1, Number.isFinite(repeat) ? repeat : 1);
    const entry = new Entry(this.now() + delay, ++this.seq, every, callback, owner);
    this.push(entry);
    return entry;
  }

  /** @internal */
  remove(entry: Entry): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    const last = this.heap.pop()!;
    entry.heapIndex = -1;
    if (last !== entry) {
      this.heap[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  private push(entry: Entry): void {
    if (this.closed) return;
    entry.heapIndex = this.heap.length;
    this.heap.push(entry);
    this.up(entry.heapIndex);
    if (!this.running) this.arm();
  }

  private arm(): void {
    if (this.immediate !== undefined) return; // a turn is already queued: it re-arms when done
    const first = this.heap[0];
    if (!first) {
      clearTimeout(this.handle);
      this.handle = undefined;
      this.armedFor = Infinity;
      return;
    }
    // Round up to the tick, so the timers of many devices due close together share one callback.
    const at = Math.ceil(first.due / this.tickMs) * this.tickMs;
    if (this.handle !== undefined && at >= this.armedFor) return;
    clearTimeout(this.handle);
    this.armedFor = at;
    this.handle = setTimeout(() => this.run(), Math.max(0, at - this.now()));
    if (this.options.unref) this.handle.unref();
  }

  private run(): void {
    clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = Infinity;
    this.running = true;
    this.turns++;
    let budget = this.maxPerTurn;
    try {
      const now = this.now();
      while (this.heap.length && this.heap[0].due <= now) {
        if (--budget < 0 || ((budget & 15) === 0 && this.now() - now > this.maxTurnMs)) {
          // Let sockets breathe; the rest fires in the next turn, after pending I/O.
          this.immediate = setImmediate(() => {
            this.immediate = undefined;
            if (!this.closed) this.run();
          });
          return;
        }
        const e = this.heap[0];
        const late = this.now() - e.due;
        if (e.repeat) {
          let next = e.due + e.repeat;
          if (next <= now) next = now + e.repeat;
          e.due = next;
          e.seq = ++this.seq;
          this.down(0);
        } else this.remove(e);
        if (e.owner.halted) {
          if (e.heapIndex >= 0) this.remove(e);
          continue;
        }
        this.lateness[Math.min(LATE_BUCKETS - 1, Math.floor(late))]++;
        this.fired++;
        try {
          e.callback();
        } catch (error) {
          const report = e.owner.onError ?? this.options.onError ?? ((x: unknown) => process.stderr.write(`timer callback failed: ${(x as Error)?.stack ?? x}\n`));
          report(error);
        }
      }
    } finally {
      this.running = false;
      this.arm();
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p])) break;
      h[i] = h[p];
      h[i].heapIndex = i;
      i = p;
    }
    h[i] = e;
    e.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r], h[l]) ? r : l;
      if (!before(h[c], e)) break;
      h[i] = h[c];
      h[i].heapIndex = i;
      i = c;
    }
    h[i] = e;
    e.heapIndex = i;
  }
}

export class SharedClock implements Clock {
  /** Wheel time of this clock's zero (the device's boot). */
  readonly origin: number;
  halted = false;
  onError: ((error: unknown) => void) | undefined;
  private wallKnown: boolean;

  constructor(
    private readonly wheel: TimerWheel,
    options: SharedClockOptions = {},
  ) {
    this.origin = wheel.now();
    this.wallKnown = options.wallTimeKnown ?? true;
    this.onError = options.onError;
  }

  /** Epoch ms (with fractions) of this clock's zero, for comparing with other processes. */
  get originWall(): number {
    return performance.timeOrigin + this.origin;
  }

  now(): number {
    return this.wheel.now() - this.origin;
  }

  wallTime(): number | undefined {
    return this.wallKnown ? Date.now() : undefined;
  }

  setWallTimeKnown(known: boolean): void {
    this.wallKnown = known;
  }

  set(callback: () => void, ms: number, repeat?: number): TimerId {
    if (this.halted) return undefined;
    return this.wheel.add(this, callback, ms, repeat);
  }

  clear(id: TimerId): void {
    if (id instanceof Entry && id.owner === this) this.wheel.remove(id);
  }

  /** Power is gone: none of this clock's timers fires again, and new ones are ignored. */
  halt(): void {
    this.halted = true;
  }
}
