// The health gate of a freshly installed image: it is committed (markValid) only when every check has
// held without a break for `settle` ms, within a window after boot; otherwise it is rolled back with
// the checks that failed. The settle time matters: an image that connects at once and crashes a few
// seconds later must not be committed in between (it would then crash-loop with nothing to go back to).
import type { Clock, TimerId } from '../ports';

export interface HealthReading {
  /** Station link up (a platform without a WiFi port counts as up: its network is wired or simulated). */
  wifi: boolean;
  mqtt: boolean;
  birthAcknowledged: boolean;
  sensorsSampled: boolean;
  /** Sensors not sampled yet, with their state (e.g. "env: i2c-nack"), for the report. */
  unsampled?: string[];
  freeMemory: number;
}

export interface HealthRules {
  /** Free heap below this many bytes fails the check. */
  memoryFloor: number;
  /** false skips the "every sensor sampled once" check (e.g. a board without sensors attached yet). */
  requireSensors: boolean;
}

/** The checks that do not pass, as phrases for a report; empty when healthy. */
export const failingChecks = (r: HealthReading, rules: HealthRules): string[] => {
  const failing: string[] = [];
  if (!r.wifi) failing.push('WiFi not connected');
  if (!r.mqtt) failing.push('MQTT not connected');
  else if (!r.birthAcknowledged) failing.push('birth message not acknowledged');
  if (rules.requireSensors && !r.sensorsSampled) failing.push(`not every sensor sampled${r.unsampled?.length ? ` (${r.unsampled.join(', ')})` : ''}`);
  if (!(r.freeMemory >= rules.memoryFloor)) failing.push(`free memory ${r.freeMemory} bytes, below the floor of ${rules.memoryFloor}`);
  return failing;
};

export interface HealthGateOptions extends HealthRules {
  clock: Clock;
  probe(): HealthReading;
  /** Ms from start() within which the checks must have passed for `settle` ms. */
  window: number;
  /** Ms the checks must hold without a break before the image is committed. Default 0. */
  settle?: number;
  /** Ms between checks. */
  poll: number;
  onPass(): void;
  onFail(reason: string): void;
}

export class HealthGate {
  private timer: TimerId | undefined;
  private started = 0;
  /** When the current unbroken run of passing checks began, or -1. */
  private passingSince = -1;

  constructor(private readonly o: HealthGateOptions) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    const clock = this.o.clock;
    this.started = clock.now();
    this.passingSince = -1;
    const poll = Math.max(10, Math.min(this.o.poll, this.o.window));
    this.timer = clock.set(() => this.check(), poll, poll);
  }

  stop(): void {
    if (this.timer !== undefined) this.o.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** Checks now (also called by the poll timer). */
  check(): void {
    if (this.timer === undefined) return;
    const now = this.o.clock.now();
    const failing = failingChecks(this.o.probe(), this.o);
    if (!failing.length) {
      if (this.passingSince < 0) this.passingSince = now;
      if (now - this.passingSince >= (this.o.settle ?? 0)) {
        this.stop();
        return this.o.onPass();
      }
    } else this.passingSince = -1;
    if (now - this.started >= this.o.window) {
      this.stop();
      const why = failing.length ? failing.join(', ') : `the checks held for only ${seconds(now - this.passingSince)} s of the ${seconds(this.o.settle ?? 0)} s required`;
      this.o.onFail(`health check not passed within ${seconds(this.o.window)} s: ${why}`);
    }
  }
}

const seconds = (ms: number): number => {
  return Math.round(ms / 100) / 10;
};
