// A sensor whose driver is made on first use and made again after a failure to construct (an absent
// chip plugged in later). Construction errors surface through start(), like any sampling error.
import { SensorError } from './errors';
import type { Reading, Sensor } from './sensor';

/** Opens a driver: an object whose method this is, so a sensor keeps no closure in the heap. */
export interface SensorOpener {
  open(): Sensor;
}

export class RetryingSensor implements Sensor {
  private driver: Sensor | undefined;
  constructor(private readonly opener: SensorOpener) {}

  get conversionTime(): number {
    return this.driver?.conversionTime ?? 0;
  }

  start(): number {
    this.driver ??= this.opener.open();
    return this.driver.start();
  }

  sample(): Reading {
    if (!this.driver) throw new SensorError('not-ready', 'sample() before start()');
    return this.driver.sample();
  }

  close(): void {
    this.driver?.close();
    this.driver = undefined;
  }
}
