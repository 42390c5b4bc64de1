// Builds the telemetry sensors from the board description in the build-time configuration (the
// Moddable manifest's `config.sensors`, or the simulator's), through the platform's bus ports. The
// same code runs on the board and in the simulator: only the buses differ.
//
//   "i2c": { "data": 21, "clock": 22, "hz": 400000 },
//   "sensors": [
//     { "type": "bme280", "name": "climate", "address": 118, "interval": 60 },
//     { "type": "sht3x", "name": "air", "address": 68 },
//     { "type": "bh1750", "name": "light", "address": 35 },
//     { "type": "ds18b20", "name": "probe", "pin": 4, "configuration": { "resolution": 12 } },
//     { "type": "analog", "name": "soil", "pin": 33, "unit": "%",
//       "configuration": { "calibration": [{"raw": 3100, "value": 0}, {"raw": 1350, "value": 100}] } }
//   ]
//
// A chip that is absent at boot does not stop the others: its sensor reports the error in telemetry
// and the heartbeat, and is tried again at every interval.
//
// What each `type` means (its driver, default address, quantities, how it is built) is the chip's
// board entry in src/sensors/<chip>/entry.ts; src/sensors/registry.ts lists them.
import { HardwareConfigError, type BoardEntry, type BoardPorts, type I2CBusSettings, type Quantity, type SensorDescription } from '../sensors/board';
import { SENSOR_ENTRIES, entryFor } from '../sensors/registry';
import type { FilterOptions } from './filters';
import type { ReadingSpec, TelemetrySensor } from './telemetry';
import { isTopicLevel } from './topics';

export { HardwareConfigError };

/** One item of config.sensors. */
export interface SensorConfig extends Omit<SensorDescription, 'name'> {
  /** Topic level for the sensor; default: the type. */
  name?: string;
  /** Seconds between samples; default: the telemetryInterval setting. */
  interval?: number;
  /** Filters applied to every reading of this sensor. */
  filter?: FilterOptions;
}

/** The entry's quantities with the description's filters over their defaults. */
const readings = (quantities: Readonly<Record<string, Quantity>>, filter: FilterOptions | undefined): Record<string, ReadingSpec> => {
  if (!filter) return quantities;
  const out: Record<string, ReadingSpec> = {};
  for (const k of Object.keys(quantities)) {
    const q = quantities[k];
    out[k] = { ...q, filter: { ...q.filter, ...filter } };
  }
  return out;
};

/** No bus settings: the drivers' defaults (one object for every board; never changed). */
const NO_BUS_SETTINGS: Record<string, unknown> = {};

/**
 * Validates the board description and makes one telemetry sensor per item (per probe for DS18B20).
 * `entries` are the sensor types this build knows (default: every one in src/sensors/registry.ts).
 */
export const buildSensors = (
  ports: BoardPorts,
  descriptions: unknown,
  i2cOptions: Record<string, unknown> = NO_BUS_SETTINGS,
  entries: readonly BoardEntry[] = SENSOR_ENTRIES,
): TelemetrySensor[] => {
  if (descriptions === undefined) return [];
  if (!Array.isArray(descriptions)) throw new HardwareConfigError('config.sensors must be a list of sensor entries');
  const out: TelemetrySensor[] = [];
  const names = new Set<string>();
  for (const raw of descriptions as SensorConfig[]) {
    // the description as given when it names its sensor (no copy per device), else a copy named after its type
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new HardwareConfigError(`sensor entry ${JSON.stringify(raw)} must be an object such as {"type":"bme280"}`);
    }
    const config: SensorConfig = raw.name != null ? raw : { ...raw, name: raw.type };
    const name = config.name!;
    if (!isTopicLevel(name)) throw new HardwareConfigError(`sensor name "${name}" must be 1-64 characters without + # or /`);
    if (names.has(name)) throw new HardwareConfigError(`two sensors are named "${name}": give each a distinct name`);
    names.add(name);
    const interval = config.interval === undefined ? undefined : config.interval * 1000;
    if (interval !== undefined && !(interval >= 100)) throw new HardwareConfigError(`sensor "${name}": interval must be at least 0.1 s`);
    const entry = entryFor(config.type, entries);
    if (!entry) {
      throw new HardwareConfigError(`unknown sensor type "${config.type}"; known: ${entries.map((e) => e.type).join(', ')}`);
    }
    const description = config as SensorDescription;
    const specs = readings(entry.quantities(description), config.filter);
    for (const built of entry.build(description, ports, i2cOptions as I2CBusSettings)) {
      out.push({ name: built.name, sensor: built.sensor, interval, readings: specs });
    }
  }
  return out;
};
