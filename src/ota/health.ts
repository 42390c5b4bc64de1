// The health gate of a freshly installed image: it is committed (markValid) only when every check
// passes within a window after boot; otherwise it is rolled back with the checks that failed.
import type { Clock, TimerId } from '../ports';

export interface HealthReading {
  /** Station link up (a platform without a WiFi port counts as up: its network is wired or simulated). */
  wifi: boolean;
  mqtt: boolean;
  birthAcknowledged: boolean;
  sensorsSampled: boolean;
  freeMemory: number;
}

export interface HealthRules {
  /** Free heap below this many bytes fails the check. */
  memoryFloor: number;
  /** false skips the "every sensor sampled once" check (e.g. a board without sensors attached yet). */
  requireSensors: boolean;
}

/** The checks that do not pass, as phrases for a report; empty when healthy. */
export function failingChecks(r: HealthReading, rules: HealthRules): string[] {
  const failing: string[] = [];
  if (!r.wifi) failing.push('WiFi not connected');
  if (!r.mqtt) failing.push('MQTT not connected');
  else if (!r.birthAcknowledged) failing.push('birth message not acknowledged');
  if (rules.requireSensors && !r.sensorsSampled) failing.push('not every sensor sampled');
  if (!(r.freeMemory >= rules.memoryFloor)) failing.push(`free memory ${r.freeMemory} bytes, below the floor of ${rules.memoryFloor}`);
  return failing;
}

export interface HealthGateOptions extends HealthRules {
  clock: Clock;
  probe(): HealthReading;
  /** Ms from start() within which all checks must pass. */
  window: number;
  /** Ms between checks. */
  poll: number;
  onPass(): void;
  onFail(reason: string): void;
}

export class HealthGate {
  private timer: TimerId | undefined;
  private started = 0;

  constructor(private readonly o: HealthGateOptions) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    const clock = this.o.clock;
    this.started = clock.now();
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
    const failing = failingChecks(this.o.probe(), this.o);
    if (!failing.length) {
      this.stop();
      return this.o.onPass();
    }
    const elapsed = this.o.clock.now() - this.started;
    if (elapsed >= this.o.window) {
      this.stop();
      this.o.onFail(`health check not passed within ${Math.round(this.o.window / 100) / 10} s: ${failing.join(', ')}`);
    }
  }
}
