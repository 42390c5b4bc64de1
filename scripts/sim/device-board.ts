// The hardware of one simulated NodeMCU: register-level chips on a simulated I2C bus and an ADC pin,
// their drivers from src/sensors as the firmware's telemetry sensors, and the chips' physical
// values bound to the device's Site in the environment (read when the chip converts, so no timer).
import { SimAnalogPins, type SimAnalogPin } from '../../hosts/sim/chips/analog';
import { SimBH1750 } from '../../hosts/sim/chips/bh1750';
import { SimBME280 } from '../../hosts/sim/chips/bme280';
import { SimI2CBus } from '../../hosts/sim/chips/i2c-bus';
import { SimSHT3x } from '../../hosts/sim/chips/sht3x';
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

// ---- physics: when a measurement starts, the chip senses the site's values of that second ------

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

/** Moisture in % of the probe's span, from the soil's volumetric water content (0..50 %). */
export function soilProbeVoltage(soilPercent: number, pin: SimAnalogPin): number {
  const moisture = Math.min(100, Math.max(0, (soilPercent / 50) * 100));
  const raw = SOIL_DRY_RAW + ((SOIL_WET_RAW - SOIL_DRY_RAW) * moisture) / 100;
  return (raw / pin.max) * pin.fullScale;
}

type FaultyChip = SimBME280 | SimSHT3x | SimBH1750;
type Chip = FaultyChip | SimAnalogPin;

// One function per kind of chip, shared by every device: no per-device closures.
const sense = {
  bme280(chip: Chip, v: SiteValues) {
    const c = chip as SimBME280;
    c.temperature = v.temperature;
    c.humidity = v.humidity;
    c.pressure = v.pressure;
  },
  sht3x(chip: Chip, v: SiteValues) {
    const c = chip as SimSHT3x;
    c.temperature = v.temperature;
    c.humidity = v.humidity;
  },
  bh1750(chip: Chip, v: SiteValues) {
    (chip as SimBH1750).illuminance = v.illuminance;
  },
  soil(chip: Chip, v: SiteValues) {
    const pin = chip as SimAnalogPin;
    pin.voltage = soilProbeVoltage(v.soil, pin);
  },
};

/**
 * A driver opened on first use and again after its chip failed to answer at open: a chip that is
 * absent at boot is reported in telemetry at every interval, and picked up once it answers. Before
 * each measurement the chip senses the site's current values.
 */
export class LazySensor implements Sensor {
  private driver: Sensor | undefined;

  constructor(
    private readonly open: () => Sensor,
    private readonly chip?: Chip,
    private readonly reader?: SiteReader,
    private readonly apply?: (chip: Chip, values: SiteValues) => void,
  ) {}

  get conversionTime(): number {
    return this.driver?.conversionTime ?? 0;
  }

  start(): number {
    if (this.chip && this.reader && this.apply) this.apply(this.chip, this.reader.values());
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

export interface BoardParts {
  sensors: TelemetrySensor[];
  /** Chips by telemetry sensor name. */
  chips: Record<string, Chip>;
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
  const add = (name: string, readings: Record<string, ReadingSpec>, chip: Chip, apply: (chip: Chip, values: SiteValues) => void, open: () => Sensor) => {
    parts.chips[name] = chip;
    if (options.broken?.has(name)) setChipBroken(chip, true);
    parts.sensors.push({ name, sensor: new LazySensor(open, chip, reader, apply), readings });
  };

  if (kind === 'env' || kind === 'env+light') {
    add('env', ENV, i2c.attach(new SimBME280({ now, address: 0x76 })), sense.bme280, () => new BME280({ sensor: { io: i2c.io, address: 0x76 } }));
  }
  if (kind === 'env+light') {
    add('light', LIGHT, i2c.attach(new SimBH1750({ now, address: 0x23 })), sense.bh1750, () => new BH1750({ sensor: { io: i2c.io, address: 0x23 } }));
  }
  if (kind === 'climate+soil') {
    add('climate', CLIMATE, i2c.attach(new SimSHT3x({ now, address: 0x44 })), sense.sht3x, () => new SHT3x({ sensor: { io: i2c.io, address: 0x44 } }));
    const analog = (parts.analog = new SimAnalogPins());
    const pin = analog.add({ pin: SOIL_PIN, resolution: 12, fullScale: 3.3 });
    add('soil', SOIL, pin, sense.soil, () => new AnalogSensor({ sensor: { io: analog.io, pin: SOIL_PIN }, configuration: { calibration: SOIL_CALIBRATION, average: 4 } }));
  }
  return parts;
}

/** Breaks (or repairs) a chip: I2C chips stop answering, the soil probe's pin reads as shorted. */
export function setChipBroken(chip: Chip, broken: boolean): void {
  if ('voltage' in chip) chip.fault = broken ? 'short-low' : undefined;
  else chip.fault = broken ? 'absent' : undefined;
}
