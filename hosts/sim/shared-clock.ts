// Clock port for many simulated devices in one process: every device gets its own Clock (its own
// boot time for now()), but all their timers live in one timer wheel served by a single Node timer,
// armed for the next tick that holds one. Ten thousand devices cost one Node timer, not tens of
// thousands.
//
// - Timers due within the same tick (default 2 ms) fire in one Node callback, in due order, ties in
//   set order; none fires before its time.
// - A repeat keeps its phase (due += repeat), so heartbeats do not drift; when the process fell so
//   far behind that the next due time has passed too, missed beats are skipped, as Node's
//   setInterval does, instead of firing in a burst.
// - An exception from a callback is handed to the owning clock's onError (the device "panics");
//   the other devices' timers carry on.
// - halt() stops a clock's timers at once (a power cut): they are dropped when they come up.
//
// The wheel is hashed: a slot per tick, 2^15 of them (65 s at 2 ms), each timer in the slot of its
// tick; a timer further away waits in its slot for its round. Setting, clearing and firing a timer
// cost O(1), whatever the number of devices (a binary heap cost log2 of it on every firing).
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
const SLOT_BITS = 15;
const SLOTS = 1 << SLOT_BITS;
const SLOT_MASK = SLOTS - 1;
/** Entry.slot of a timer that is not in the wheel (fired, cleared, or never set). */
const UNSET = -1;
/** Entry.slot of a timer taken out of its slot to fire in this turn. */
const READY = -2;

class Entry {
  /** Slot index, or UNSET / READY. */
  slot = UNSET;
  /** Position in its slot's list. */
  pos = 0;
  /** The tick it fires at: the first tick boundary at or after `due`. */
  tick = 0;
  constructor(
    public due: number,
    public seq: number,
    readonly repeat: number,
    readonly callback: () => void,
    readonly owner: SharedClock,
  ) {}
}

const before = (a: Entry, b: Entry) => a.due - b.due || a.seq - b.seq;

export class TimerWheel {
  readonly tickMs: number;
  readonly maxPerTurn: number;
  readonly maxTurnMs: number;
  /** The timers of each tick's slot (made when first used). */
  private readonly slots: (Entry[] | undefined)[] = new Array(SLOTS);
  /** A bit per slot: set while the slot holds a timer (finds the next one without visiting empty slots). */
  private readonly occupied = new Uint32Array(SLOTS >> 5);
  private count = 0;
  /** The next tick to visit: every earlier tick's slot has been served. */
  private nextTick: number;
  /** Timers taken out of their slots, in firing order, from `readyAt` on. */
  private ready: Entry[] = [];
  private readyAt = 0;
  private handle: NodeJS.Timeout | undefined;
  /** Delay the Node timer was made with (refresh() re-arms it with the same). */
  private handleDelay = -1;
  private armedFor = Infinity;
  private immediate: NodeJS.Immediate | undefined;
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
    this.nextTick = Math.floor(this.now() / this.tickMs);
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
    return this.count;
  }

  /** Stops the Node timer and forgets every pending timer. */
  close(): void {
    this.closed = true;
    clearTimeout(this.handle);
    clearImmediate(this.immediate);
    this.handle = undefined;
    this.immediate = undefined;
    for (let i = 0; i < SLOTS; i++) {
      for (const e of this.slots[i] ?? []) e.slot = UNSET;
      this.slots[i] = undefined;
    }
    for (const e of this.ready) e.slot = UNSET;
    this.ready = [];
    this.readyAt = 0;
    this.occupied.fill(0);
    this.count = 0;
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
    if (this.closed) return entry;
    this.insert(entry);
    if (!this.running) this.arm();
    return entry;
  }

  /** @internal */
  remove(entry: Entry): void {
    const slot = entry.slot;
    if (slot === UNSET) return;
    entry.slot = UNSET;
    this.count--;
    if (slot === READY) return; // skipped when its turn comes
    const list = this.slots[slot]!;
    const last = list.pop()!;
    if (last !== entry) {
      list[entry.pos] = last;
      last.pos = entry.pos;
    } else if (list.length === 0) {
      this.occupied[slot >> 5] &= ~(1 << (slot & 31));
      this.slots[slot] = undefined;
    }
  }

  private insert(entry: Entry): void {
    // a timer already due fires at the next tick served, never at one that was
    entry.tick = Math.max(Math.ceil(entry.due / this.tickMs), this.nextTick);
    const slot = entry.tick & SLOT_MASK;
    const list = this.slots[slot];
    entry.slot = slot;
    // a list made for its first timer holds just it: most slots hold one or two of a fleet's timers
    if (list) {
      entry.pos = list.length;
      list.push(entry);
    } else {
      entry.pos = 0;
      this.slots[slot] = [entry];
    }
    this.occupied[slot >> 5] |= 1 << (slot & 31);
    this.count++;
  }

  /** The first tick from `from` whose slot holds a timer (perhaps of a later round), or -1 within a round. */
  private nextOccupied(from: number): number {
    const start = from & SLOT_MASK;
    for (let k = 0; k < SLOTS; ) {
      const slot = (start + k) & SLOT_MASK;
      const word = this.occupied[slot >> 5] >>> (slot & 31);
      if (word === 0) {
        k += 32 - (slot & 31);
        continue;
      }
      const skip = 31 - Math.clz32(word & -word);
      if (k + skip >= SLOTS) return -1;
      return from + k + skip;
    }
    return -1;
  }

  private arm(): void {
    if (this.immediate !== undefined) return; // a turn is already queued: it re-arms when done
    if (this.readyAt < this.ready.length) {
      this.immediate = setImmediate(() => this.turn());
      return;
    }
    const tick = this.count ? this.nextOccupied(this.nextTick) : -1;
    if (tick < 0) {
      clearTimeout(this.handle);
      this.handle = undefined;
      this.armedFor = Infinity;
      return;
    }
    // The timers of many devices due close together share one callback at the tick boundary.
    const at = tick * this.tickMs;
    if (this.handle !== undefined && at >= this.armedFor) return;
    this.armedFor = at;
    const delay = Math.max(0, Math.ceil(at - this.now()));
    // a dense wheel re-arms at the same short delay tick after tick: reuse the Node timer
    if (this.handle !== undefined && delay === this.handleDelay) {
      this.handle.refresh();
      return;
    }
    clearTimeout(this.handle);
    this.handleDelay = delay;
    this.handle = setTimeout(() => this.run(), delay);
    if (this.options.unref) this.handle.unref();
  }

  private turn(): void {
    this.immediate = undefined;
    if (!this.closed) this.run();
  }

  private run(): void {
    this.armedFor = Infinity;
    this.running = true;
    this.turns++;
    let budget = this.maxPerTurn;
    try {
      const start = this.now();
      const lastTick = Math.floor(start / this.tickMs);
      for (;;) {
        while (this.readyAt < this.ready.length) {
          if (--budget < 0 || ((budget & 15) === 0 && this.now() - start > this.maxTurnMs)) {
            // Let sockets breathe; the rest fires in the next turn, after pending I/O.
            this.immediate = setImmediate(() => this.turn());
            return;
          }
          const e = this.ready[this.readyAt++];
          if (e.slot !== READY) continue; // cleared after it was taken out
          e.slot = UNSET;
          this.count--;
          this.fire(e, start);
        }
        this.ready.length = 0;
        this.readyAt = 0;
        if (this.nextTick > lastTick) break;
        const tick = this.count ? this.nextOccupied(this.nextTick) : -1;
        if (tick < 0 || tick > lastTick) {
          this.nextTick = lastTick + 1;
          break;
        }
        this.take(tick);
        this.nextTick = tick + 1;
      }
    } finally {
      this.running = false;
      this.arm();
    }
  }

  /** Moves the timers of `tick` (not those of later rounds in the same slot) to the ready list, in firing order. */
  private take(tick: number): void {
    const slot = tick & SLOT_MASK;
    const list = this.slots[slot];
    if (!list) return;
    const ready = this.ready;
    for (let i = 0; i < list.length; ) {
      const e = list[i];
      if (e.tick > tick) {
        i++;
        continue;
      }
      e.slot = READY;
      ready.push(e);
      const last = list.pop()!;
      if (last !== e) {
        list[i] = last;
        last.pos = i;
      }
    }
    if (list.length === 0) {
      this.occupied[slot >> 5] &= ~(1 << (slot & 31));
      this.slots[slot] = undefined;
    }
    if (ready.length > 1) ready.sort(before);
  }

  private fire(e: Entry, now: number): void {
    if (e.owner.halted) return;
    const late = this.now() - e.due;
    if (e.repeat) {
      let next = e.due + e.repeat;
      if (next <= now) next = now + e.repeat;
      e.due = next;
      e.seq = ++this.seq;
      this.insert(e);
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
