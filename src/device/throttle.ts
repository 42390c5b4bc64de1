// Runs an action at most once per interval. A request inside the interval is not dropped: all the
// requests that arrive meanwhile coalesce into one run when the interval ends. Used for discovery
// re-sends, which anyone able to publish on the discovery status topic can ask for.
import type { Clock, TimerId } from '../ports';

/** What a Throttle runs: an object with a method (a class's stays in flash; a closure would be copied into the heap). */
export interface ThrottledAction {
  run(): void;
}

export class Throttle {
  private lastRun = -Infinity;
  private pending: TimerId | undefined;

  constructor(private readonly clock: Clock, private readonly interval: number, private readonly action: ThrottledAction) {}

  /** Runs the action once the interval since the last run is over: always from a timer, on a fresh stack (requests come under the MQTT delivery). */
  request(): void {
    if (this.pending !== undefined) return;
    const wait = this.lastRun + this.interval - this.clock.now();
    this.pending = this.clock.set(
      () => {
        this.pending = undefined;
        this.run();
      },
      wait > 0 ? wait : 0,
    );
  }

  /** Drops a run that is waiting for its interval. */
  cancel(): void {
    if (this.pending !== undefined) this.clock.clear(this.pending);
    this.pending = undefined;
  }

  private run(): void {
    this.lastRun = this.clock.now();
    this.action.run();
  }
}
