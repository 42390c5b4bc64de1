// The sensor types a board description may name, in the order error messages list them. Adding a
// sensor adds its entry here; a build that carries fewer drivers maps this module to a shorter list.
import { analog } from './analog/entry';
import type { BoardEntry } from './board';
import { bh1750 } from './bh1750/entry';
import { bme280, bmp280 } from './bme280/entry';
import { ds18b20 } from './ds18b20/entry';
import { sht3x } from './sht3x/entry';

export const SENSOR_ENTRIES: readonly BoardEntry[] = [bme280, bmp280, sht3x, bh1750, ds18b20, analog];

/** The entry of a board description's `type`, or undefined when the build does not know it. */
export function entryFor(type: string, entries: readonly BoardEntry[] = SENSOR_ENTRIES): BoardEntry | undefined {
  for (const entry of entries) if (entry.type === type) return entry;
  return undefined;
}
