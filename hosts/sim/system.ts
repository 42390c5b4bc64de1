// System port for the simulator: a fixed device id, a seeded PRNG (reproducible runs), and a
// restart that is handed to the host.
import { randomInt } from 'node:crypto';
import type { ResetReason, System } from '../../src/ports';

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same sequence everywhere. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = Math.imul(state ^ (state >>> 15), state | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimRestartError extends Error {
  override name = 'SimRestartError';
  readonly code = 'ERESTART';
}

export interface SimSystemOptions {
  deviceId: string;
  /** PRNG seed (32-bit). Default: a random one, readable as `seed` to replay a run. */
  seed?: number;
  resetReason?: ResetReason;
  /** Free heap bytes to report, or a function for changing values. Default 200,000. */
  freeMemory?: number | (() => number);
  /**
   * Called by restart(reason); the host should tear the device down and boot it again. Without it
   * restart() throws SimRestartError, so no firmware code runs after a restart, as on hardware.
   */
  onRestart?: (reason: string) => void;
}

export class SimSystem implements System {
  readonly seed: number;
  /** Reasons passed to restart(), oldest first. */
  readonly restarts: string[] = [];
  private readonly id: string;
  private readonly reason: ResetReason;
  private readonly free: number | (() => number);
  private readonly onRestart: ((reason: string) => void) | undefined;
  /** mulberry32's state (inline: a simulator runs thousands of these). */
  private state: number;

  constructor(options: SimSystemOptions) {
    if (typeof options.deviceId !== 'string' || options.deviceId.length === 0) {
      throw new TypeError('SimSystem needs a non-empty deviceId');
    }
    this.id = options.deviceId;
    this.reason = options.resetReason ?? 'power-on';
    this.free = options.freeMemory ?? 200_000;
    this.onRestart = options.onRestart;
    this.seed = options.seed === undefined ? randomInt(0, 2 ** 32) : options.seed >>> 0;
    this.state = this.seed;
  }

  deviceId(): string {
    return this.id;
  }

  restart(reason: string): void {
    this.restarts.push(reason);
    if (!this.onRestart) {
      throw new SimRestartError(`device ${this.id} restarted (${reason}); pass onRestart to handle restarts in the simulator`);
    }
    this.onRestart(reason);
  }

  freeMemory(): number {
    const free = this.free;
    return typeof free === 'function' ? free() : free;
  }

  resetReason(): ResetReason {
    return this.reason;
  }

  random(): number {
    // mulberry32, as above
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = Math.imul(this.state ^ (this.state >>> 15), this.state | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }
}
