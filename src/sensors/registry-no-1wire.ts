// The sensor types of a build whose host has no 1-Wire port (the Moddable ESP8266 build): every
// entry of registry.ts but DS18B20, whose driver could not reach its bus there. Such a build
// carries this file under the module name src/sensors/registry (src/sensors/manifest_no_1wire.json).
import { analog } from './analog/entry';
import type { BoardEntry } from './board';
import { bh1750 } from './bh1750/entry';
import { bme280, bmp280 } from './bme280/entry';
import { sht3x } from './sht3x/entry';

export const SENSOR_ENTRIES: readonly BoardEntry[] = [bme280, bmp280, sht3x, bh1750, analog];

/** The entry of a board description's `type`, or undefined when the build does not know it. */
export const entryFor = (type: string, entries: readonly BoardEntry[] = SENSOR_ENTRIES): BoardEntry | undefined => {
  for (const entry of entries) if (entry.type === type) return entry;
  return undefined;
};
