// The hardware of one simulated NodeMCU: register-level chips on a simulated I2C bus and an ADC pin,
// their drivers from src/sensors as the firmware's telemetry sensors, and the chips' physical
// values bound to the device's Site in the environment (read when the chip converts, so no timer).
import { SimAnalogPins, type SimAnalogPin } from './chips/analog';
import { SimBH1750 } from './chips/bh1750';
import { SimBME280 } from './chips/bme280';
import { SimI2CBus } from './chips/i2c-bus';
import { SimSHT3x } from './chips/sht3x';
import type { TelemetrySensor, ReadingSpec } from '../../src/device/telemetry';
import type { Clock } from '../../src/ports';
import { AnalogSensor } from '../../src/sensors/analog';
import { BH1750 } from '../../src/sensors/bh1750';
import { BME280 } from '../../src/sensors/bme280';
import type { Reading, Sensor } from '../../src/sensors/sensor';
import { SHT3x } from '../../src/sensors/sht3x';
import type { Site, SiteValues } from './environment';

/** Which sensors a board carries. 'mixed' varies by device index: env / env+light / climate+soil. */
export type BoardProfile = 'env' | 'env+light' | 'climate+soil' | 'mixed';
export const BOARD_PROFILES: BoardProfile[] = ['env', 'env+light', 'climate+soil', 'mixed'];

// Reading specs are the same for every device: one copy per process.
const ENV: Record<string, ReadingSpec> = {
  temperature: { path: 'thermometer.temperature', unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } },
  humidity: { path: 'hygrometer.humidity', unit: '%', deviceClass: 'humidity', filter: { decimals: 1 } },
  pressure: { path: 'barometer.pressure', unit: 'Pa', deviceClass: 'pressure', filter: { decimals: 0 } },
};
const CLIMATE: Record<string, ReadingSpec> = {
  temperature: { path: 'thermometer.temperature', unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } },
  humidity: { path: 'hygrometer.humidity', unit: '%', deviceClass: 'humidity', filter: { decimals: 1 } },
};
const LIGHT: Record<string, ReadingSpec> = { illuminance: { unit: 'lx', deviceClass: 'illuminance', filter: { decimals: 0 } } };
const SOIL: Record<string, ReadingSpec> = { value: { unit: '%', deviceClass: 'moisture', filter: { decimals: 1 } } };

/** A capacitive soil probe on a 12-bit ADC: raw 3100 in dry air, 1350 in water. */
const SOIL_DRY_RAW = 3100;
const SOIL_WET_RAW = 1350;
const SOIL_PIN = 33;
const SOIL_CALIBRATION: [{ raw: number; value: number }, { raw: number; value: number }] = [
  { raw: SOIL_DRY_RAW, value: 0 },
  { raw: SOIL_WET_RAW, value: 100 },
];

// ---- physics: chips read their physical values from the site through shared getters -----------

const READER = Symbol('site reader');

/** The site's values for the current second, computed once per second per device. */
export class SiteReader {
  private second = NaN;
  private cached: SiteValues | undefined;

  constructor(
    readonly site: Site,
    private readonly wallTime: () => number,
  ) {}

  values(): SiteValues {
    const now = this.wallTime();
    const second = Math.floor(now / 1000);
    if (second !== this.second || !this.cached) {
      this.second = second;
      this.cached = this.site.values(second * 1000);
    }
    return this.cached;
  }
}

type Physical = 'temperature' | 'humidity' | 'pressure' | 'illuminance' | 'voltage';
interface Bound {
  [READER]: SiteReader;
}

/** Moisture in % of the probe's span, from the soil's volumetric water content (0..50 %). */
export function soilProbeVoltage(soilPercent: number, pin: SimAnalogPin): number {
  const moisture = Math.min(100, Math.max(0, (soilPercent / 50) * 100));
  const raw = SOIL_DRY_RAW + ((SOIL_WET_RAW - SOIL_DRY_RAW) * moisture) / 100;
  return (raw / pin.max) * pin.fullScale;
}

const GETTERS: Record<Physical, (this: Bound & { max?: number; fullScale?: number }) => number> = {
  temperature() {
    return this[READER].values().temperature;
  },
  humidity() {
    return this[READER].values().humidity;
  },
  pressure() {
    return this[READER].values().pressure;
  },
  illuminance() {
    return this[READER].values().illuminance;
  },
  voltage() {
    return soilProbeVoltage(this[READER].values().soil, this as unknown as SimAnalogPin);
  },
};

/** Makes `chip`'s physical fields follow the site. */
function bind(chip: object, reader: SiteReader, fields: Physical[]): void {
  (chip as Bound)[READER] = reader;
  for (const f of fields) Object.defineProperty(chip, f, { get: GETTERS[f], configurable: true, enumerable: true });
}

/**
 * A driver opened on first use and again after its chip failed to answer at open: a chip that is
 * absent at boot is reported in telemetry at every interval, and picked up once it answers.
 */
export class LazySensor implements Sensor {
  private driver: Sensor | undefined;

  constructor(private readonly open: () => Sensor) {}

  get conversionTime(): number {
    return this.driver?.conversionTime ?? 0;
  }

  start(): number {
    this.driver ??= this.open();
    return this.driver.start();
  }

  sample(): Reading {
    if (!this.driver) throw new Error('sample() before start()');
    return this.driver.sample();
  }

  close(): void {
    this.driver?.close();
    this.driver = undefined;
  }
}

// ---- the board -----------------------------------------------------------------------------------

type FaultyChip = SimBME280 | SimSHT3x | SimBH1750;

export interface BoardParts {
  sensors: TelemetrySensor[];
  /** Chips by telemetry sensor name. */
  chips: Record<string, FaultyChip | SimAnalogPin>;
  i2c: SimI2CBus;
  analog?: SimAnalogPins;
}

export function profileFor(profile: BoardProfile, index: number): Exclude<BoardProfile, 'mixed'> {
  if (profile !== 'mixed') return profile;
  return (['env', 'env+light', 'climate+soil'] as const)[index % 3];
}

/** Builds the chips and, for each, its driver as a telemetry sensor (opened at the first sample). */
export function buildBoard(options: {
  profile: BoardProfile;
  index: number;
  clock: Clock;
  reader: SiteReader;
  /** Sensor names whose chips are broken (NACK, shorted pin). */
  broken?: ReadonlySet<string>;
}): BoardParts {
  const { clock, reader } = options;
  const now = () => clock.now();
  const i2c = new SimI2CBus();
  // The transcript is for bus tests; a fleet keeps only the last transfer.
  i2c.transcriptLimit = 0;
  const parts: BoardParts = { sensors: [], chips: {}, i2c };
  const kind = profileFor(options.profile, options.index);
  const add = (name: string, readings: Record<string, ReadingSpec>, open: () => Sensor) => {
    parts.sensors.push({ name, sensor: new LazySensor(open), readings });
  };
  const chip = <C extends FaultyChip>(name: string, c: C, fields: Physical[]): C => {
    bind(c, reader, fields);
    if (options.broken?.has(name)) c.fault = 'absent';
    parts.chips[name] = c;
    return i2c.attach(c);
  };

  if (kind === 'env' || kind === 'env+light') {
    chip('env', new SimBME280({ now, address: 0x76 }), ['temperature', 'humidity', 'pressure']);
    add('env', ENV, () => new BME280({ sensor: { io: i2c.io, address: 0x76 } }));
  }
  if (kind === 'env+light') {
    chip('light', new SimBH1750({ now, address: 0x23 }), ['illuminance']);
    add('light', LIGHT, () => new BH1750({ sensor: { io: i2c.io, address: 0x23 } }));
  }
  if (kind === 'climate+soil') {
    chip('climate', new SimSHT3x({ now, address: 0x44 }), ['temperature', 'humidity']);
    add('climate', CLIMATE, () => new SHT3x({ sensor: { io: i2c.io, address: 0x44 } }));
    const analog = (parts.analog = new SimAnalogPins());
    const pin = analog.add({ pin: SOIL_PIN, resolution: 12, fullScale: 3.3 });
    bind(pin, reader, ['voltage']);
    if (options.broken?.has('soil')) pin.fault = 'short-low';
    parts.chips.soil = pin;
    add('soil', SOIL, () => new AnalogSensor({ sensor: { io: analog.io, pin: SOIL_PIN }, configuration: { calibration: SOIL_CALIBRATION, average: 4 } }));
  }
  return parts;
}

/** Breaks (or repairs) a chip: I2C chips stop answering, the soil probe's pin reads as shorted. */
export function setChipBroken(chip: FaultyChip | SimAnalogPin, broken: boolean): void {
  if ('voltage' in chip) chip.fault = broken ? 'short-low' : undefined;
  else chip.fault = broken ? 'absent' : undefined;
}
