// Builds the telemetry sensors from the board description in the build-time configuration (the
// Moddable manifest's `config.sensors`, or the simulator's), through the platform's bus ports. The
// same code runs on the board and in the simulator: only the buses differ.
//
//   "i2c": { "data": 21, "clock": 22, "hz": 400000 },
//   "sensors": [
//     { "type": "bme280", "name": "climate", "address": 118, "interval": 60 },
//     { "type": "sht3x", "name": "air", "address": 68 },
//     { "type": "bh1750", "name": "light", "address": 35 },
//     { "type": "ds18b20", "name": "probe", "pin": 4, "resolution": 12 },
//     { "type": "analog", "name": "soil", "pin": 33, "unit": "%", "calibration": [{"raw": 3100, "value": 0}, {"raw": 1350, "value": 100}] }
//   ]
//
// A chip that is absent at boot does not stop the others: its entry reports the error in telemetry
// and the heartbeat, and is tried again at every interval.
import type { Platform } from '../ports';
import { AnalogSensor } from '../sensors/analog';
import { BH1750 } from '../sensors/bh1750';
import { BME280 } from '../sensors/bme280';
import { DS18B20 } from '../sensors/ds18b20';
import { SensorError } from '../sensors/errors';
import { romToHex, searchRoms } from '../sensors/onewire';
import type { Reading, Sensor } from '../sensors/sensor';
import { SHT3x } from '../sensors/sht3x';
import type { FilterOptions } from './filters';
import type { ReadingSpec, TelemetrySensor } from './telemetry';
import { isTopicLevel } from './topics';

export interface SensorEntry {
  type: 'bme280' | 'bmp280' | 'sht3x' | 'bh1750' | 'ds18b20' | 'analog';
  /** Topic level for the sensor; default: the type. */
  name?: string;
  address?: number;
  pin?: number;
  /** Seconds between samples; default: the telemetryInterval setting. */
  interval?: number;
  /** Filters applied to every reading of this sensor. */
  filter?: FilterOptions;
  /** Driver configuration, passed as is (oversampling, mode, resolution, calibration, ...). */
  configuration?: Record<string, unknown>;
  /** Analog only: unit and Home Assistant device class of the calibrated value. */
  unit?: string;
  deviceClass?: string;
}

export class HardwareConfigError extends Error {
  override name = 'HardwareConfigError';
}

const CLIMATE: Record<string, ReadingSpec> = {
  temperature: { path: 'thermometer.temperature', unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } },
  humidity: { path: 'hygrometer.humidity', unit: '%', deviceClass: 'humidity', filter: { decimals: 1 } },
  pressure: { path: 'barometer.pressure', unit: 'Pa', deviceClass: 'pressure', filter: { decimals: 0 } },
};

function readings(entry: SensorEntry): Record<string, ReadingSpec> {
  let specs: Record<string, ReadingSpec>;
  switch (entry.type) {
    case 'bme280':
      specs = CLIMATE;
      break;
    case 'bmp280':
      specs = { temperature: CLIMATE.temperature, pressure: CLIMATE.pressure };
      break;
    case 'sht3x':
      specs = { temperature: CLIMATE.temperature, humidity: CLIMATE.humidity };
      break;
    case 'bh1750':
      specs = { illuminance: { unit: 'lx', deviceClass: 'illuminance', filter: { decimals: 1 } } };
      break;
    case 'ds18b20':
      specs = { temperature: { unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } } };
      break;
    case 'analog':
      specs = { value: { unit: entry.unit, deviceClass: entry.deviceClass, filter: { decimals: 1 } } };
      break;
  }
  if (!entry.filter) return specs;
  const out: Record<string, ReadingSpec> = {};
  for (const [k, s] of Object.entries(specs)) out[k] = { ...s, filter: { ...s.filter, ...entry.filter } };
  return out;
}

/**
 * A sensor whose driver is made on first use and made again after a failure to construct (an absent
 * chip plugged in later). Construction errors surface through start(), like any sampling error.
 */
class RetryingSensor implements Sensor {
  private driver: Sensor | undefined;
  constructor(private readonly make: () => Sensor) {}

  get conversionTime(): number {
    return this.driver?.conversionTime ?? 0;
  }

  start(): number {
    this.driver ??= this.make();
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

function need<T>(port: T | undefined, what: string, entry: SensorEntry): T {
  if (!port) throw new HardwareConfigError(`sensor "${entry.name ?? entry.type}" needs the ${what} port, which this platform lacks`);
  return port;
}

/** Validates the board description and makes one telemetry sensor per entry (per probe for DS18B20). */
export function buildSensors(platform: Platform, entries: unknown, i2cOptions: Record<string, unknown> = {}): TelemetrySensor[] {
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) throw new HardwareConfigError('config.sensors must be a list of sensor entries');
  const out: TelemetrySensor[] = [];
  const names = new Set<string>();
  for (const raw of entries as SensorEntry[]) {
    const entry = { ...raw };
    entry.name ??= entry.type;
    if (!isTopicLevel(entry.name)) throw new HardwareConfigError(`sensor name "${entry.name}" must be 1-64 characters without + # or /`);
    if (names.has(entry.name)) throw new HardwareConfigError(`two sensors are named "${entry.name}": give each a distinct name`);
    names.add(entry.name);
    const interval = entry.interval === undefined ? undefined : entry.interval * 1000;
    if (interval !== undefined && !(interval >= 100)) throw new HardwareConfigError(`sensor "${entry.name}": interval must be at least 0.1 s`);
    const configuration = entry.configuration as never;
    let make: () => Sensor;
    switch (entry.type) {
      case 'bme280':
      case 'bmp280': {
        const io = need(platform.i2c, 'I2C', entry);
        make = () => new BME280({ sensor: { ...i2cOptions, io, address: entry.address ?? 0x76 }, configuration });
        break;
      }
      case 'sht3x': {
        const io = need(platform.i2c, 'I2C', entry);
        make = () => new SHT3x({ sensor: { ...i2cOptions, io, address: entry.address ?? 0x44 }, configuration });
        break;
      }
      case 'bh1750': {
        const io = need(platform.i2c, 'I2C', entry);
        make = () => new BH1750({ sensor: { ...i2cOptions, io, address: entry.address ?? 0x23 }, configuration });
        break;
      }
      case 'analog': {
        const io = need(platform.analog, 'analog', entry);
        if (entry.pin === undefined) throw new HardwareConfigError(`analog sensor "${entry.name}" needs a pin`);
        make = () => new AnalogSensor({ sensor: { io, pin: entry.pin! }, configuration });
        break;
      }
      case 'ds18b20': {
        const OneWire = need(platform.oneWire, '1-Wire', entry);
        if (entry.pin === undefined) throw new HardwareConfigError(`DS18B20 "${entry.name}" needs the pin of its bus`);
        out.push(...probes(new OneWire({ pin: entry.pin }), entry, interval));
        continue;
      }
      default:
        throw new HardwareConfigError(`unknown sensor type "${(entry as SensorEntry).type}"; known: bme280, bmp280, sht3x, bh1750, ds18b20, analog`);
    }
    out.push({ name: entry.name, sensor: new RetryingSensor(make), interval, readings: readings(entry) });
  }
  return out;
}

/** One telemetry sensor per DS18B20 found on the bus ("<name>-<rom>"), or one that reports the failure. */
function probes(bus: InstanceType<NonNullable<Platform['oneWire']>>, entry: SensorEntry, interval: number | undefined): TelemetrySensor[] {
  const specs = readings(entry);
  let roms: Uint8Array[];
  try {
    roms = searchRoms(bus).filter((rom) => rom[0] === 0x28);
  } catch (error) {
    const failure = error instanceof SensorError ? error : new SensorError('bus', `1-Wire search failed: ${(error as Error).message}`);
    roms = [];
    return [{ name: entry.name!, sensor: new RetryingSensor(() => { throw failure; }), interval, readings: specs }];
  }
  if (!roms.length) {
    const absent = new SensorError('absent', `no DS18B20 answered on the 1-Wire bus at pin ${entry.pin}: check the 4.7 kΩ pull-up and VDD`);
    return [{ name: entry.name!, sensor: new RetryingSensor(() => { throw absent; }), interval, readings: specs }];
  }
  return roms.map((rom) => ({
    name: roms.length === 1 ? entry.name! : `${entry.name}-${romToHex(rom)}`,
    sensor: new DS18B20({ sensor: { io: bus, rom }, configuration: entry.configuration as never }),
    interval,
    readings: specs,
  }));
}
