// One Wi-Fi scan at a time: callers during a running scan share its result, and a scan that never
// calls back ends after a timeout so nothing waits forever.
import type { Clock, Logger, TimerId, WiFi, WiFiNetwork } from '../ports';
import { strongestPerSsid } from './candidates';

/** No networks, shared: an empty result costs no memory. */
const NONE: WiFiNetwork[] = Object.freeze([]) as unknown as WiFiNetwork[];

export class Scanner {
  /** Last successful result: strongest first, one entry per SSID. Never changed in place. */
  last: WiFiNetwork[] = NONE;
  private waiters: Array<(networks: WiFiNetwork[] | undefined) => void> | undefined;
  private timer: TimerId | undefined;

  constructor(
    private readonly wifi: WiFi,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly timeoutMs = 15_000,
  ) {}

  get busy(): boolean {
    return this.waiters !== undefined;
  }

  /** Calls back with the raw scan (all access points), or undefined when the scan failed. */
  scan(callback: (networks: WiFiNetwork[] | undefined) => void): void {
    if (this.waiters) {
      this.waiters.push(callback);
      return;
    }
    this.waiters = [callback];
    this.timer = this.clock.set(() => {
      this.timer = undefined;
      this.log.log('warn', 'provisioning: scan did not finish in time');
      this.finish(undefined);
    }, this.timeoutMs);
    try {
      this.wifi.scan((networks, error) => {
        if (error) this.log.log('warn', `provisioning: scan failed: ${error.message}`);
        this.finish(error ? undefined : networks);
      });
    } catch (error) {
      this.log.log('warn', `provisioning: scan failed: ${(error as Error).message}`);
      this.finish(undefined);
    }
  }

  /** Drops the last result (nobody needs it now: the access point closed). */
  forget(): void {
    this.last = NONE;
  }

  /** Ends a running scan with no result (on stop). */
  cancel(): void {
    this.finish(undefined);
  }

  private finish(networks: WiFiNetwork[] | undefined): void {
    const waiters = this.waiters;
    if (!waiters) return;
    this.waiters = undefined;
    if (this.timer !== undefined) this.clock.clear(this.timer);
    this.timer = undefined;
    if (networks) this.last = strongestPerSsid(networks);
    for (const w of waiters) w(networks);
  }
}
