// The telemetry sensors a build has, from the manifest config `sensors`: a comma list of
// driver[@address], e.g. "bme280@0x76,bh1750". Unknown names and bad addresses are reported in
// the log and skipped, so one typo does not cost the other sensors.
import type { TelemetrySensor } from '../../src/device/telemetry';
import type { I2CConstructor, Logger } from '../../src/ports';
import type { Reading, Sensor } from '../../src/sensors/sensor';
import { BH1750 } from '../../src/sensors/bh1750';
import { BME280 } from '../../src/sensors/bme280';
import { SHT3x } from '../../src/sensors/sht3x';

type Builder = (io: I2CConstructor, address: number | undefined) => TelemetrySensor;

const BUILDERS: Record<string, Builder> = {
  bme280: (io, address) => ({
    name: 'env',
    sensor: flat(new BME280({ sensor: { io, address: address ?? 0x76 } })),
    readings: {
      temperature: { unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } },
      humidity: { unit: '%', deviceClass: 'humidity', filter: { decimals: 1 } },
      pressure: { unit: 'Pa', deviceClass: 'pressure', filter: { decimals: 0 } },
    },
  }),
  sht3x: (io, address) => ({
    name: 'climate',
    sensor: flat(new SHT3x({ sensor: { io, address: address ?? 0x44 } })),
    readings: {
      temperature: { unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } },
      humidity: { unit: '%', deviceClass: 'humidity', filter: { decimals: 1 } },
    },
  }),
  bh1750: (io, address) => ({
    name: 'light',
    sensor: new BH1750({ sensor: { io, address: address ?? 0x23 } }),
    readings: { illuminance: { unit: 'lx', deviceClass: 'illuminance', filter: { decimals: 0 } } },
  }),
};

export function buildSensors(list: string | undefined, io: I2CConstructor | undefined, log: Logger): TelemetrySensor[] {
  const sensors: TelemetrySensor[] = [];
  if (!list) return sensors;
  if (!io) {
    log.log('warn', `sensors "${list}" configured, but this build has no I2C bus`);
    return sensors;
  }
  for (const item of list.split(',')) {
    const [name, at] = item.trim().toLowerCase().split('@');
    if (!name) continue;
    const builder = BUILDERS[name];
    const address = at === undefined ? undefined : Number(at);
    if (!builder) {
      log.log('warn', `unknown sensor "${name}" in config sensors (known: ${Object.keys(BUILDERS).join(', ')})`);
      continue;
    }
    if (address !== undefined && !(Number.isInteger(address) && address >= 0x08 && address <= 0x77)) {
      log.log('warn', `sensor "${item.trim()}": address must be a 7-bit I2C address like 0x76`);
      continue;
    }
    try {
      sensors.push(builder(io, address));
    } catch (error) {
      log.log('warn', `sensor "${item.trim()}" left out: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return sensors;
}

/**
 * The drivers report ECMA-419 sample objects (thermometer.temperature, hygrometer.humidity,
 * barometer.pressure); telemetry picks top-level numbers by reading name. This adds those names.
 */
function flat<R extends Reading>(sensor: Sensor<R>): Sensor<R> {
  return {
    get conversionTime() {
      return sensor.conversionTime;
    },
    start: () => sensor.start(),
    close: () => sensor.close(),
    sample() {
      const reading = sensor.sample() as R & Record<string, unknown>;
      const out: Record<string, unknown> = { ...reading };
      for (const group of ['thermometer', 'hygrometer', 'barometer', 'lightmeter']) {
        const values = reading[group];
        if (values && typeof values === 'object') Object.assign(out, values);
      }
      return out as R;
    },
  };
}
