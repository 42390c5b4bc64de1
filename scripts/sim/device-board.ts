// The hardware of one simulated NodeMCU: register-level chips on a simulated I2C bus and an ADC pin,
// the firmware's own board builder (src/device/hardware.ts, through the chips' board entries) making
// their telemetry sensors from a board description, and the chips' physical values bound to the
// device's Site in the environment (read when the chip converts, so no timer).
import { SimAnalogPins, type SimAnalogPin } from '../../hosts/sim/chips/analog';
import { SimBH1750 } from '../../hosts/sim/chips/bh1750';
import { SimBME280 } from '../../hosts/sim/chips/bme280';
import { SimI2CBus } from '../../hosts/sim/chips/i2c-bus';
import { SimSHT3x } from '../../hosts/sim/chips/sht3x';
import { buildSensors, type SensorConfig } from '../../src/device/hardware';
import type { TelemetrySensor } from '../../src/device/telemetry';
import { entryFor } from '../../src/sensors/registry';
import type { Reading, Sensor } from '../../src/sensors/sensor';
import type { SiteValues } from './environment';

/** Which sensors a board carries. 'mixed' varies by device index: env / env+light / climate+soil. */
export type BoardProfile = 'env' | 'env+light' | 'climate+soil' | 'mixed';
export const BOARD_PROFILES: BoardProfile[] = ['env', 'env+light', 'climate+soil', 'mixed'];

/** A capacitive soil probe on a 12-bit ADC: raw 3100 in dry air, 1350 in water. */
const SOIL_DRY_RAW = 3100;
const SOIL_WET_RAW = 1350;
const SOIL_PIN = 33;
const SOIL_CALIBRATION: [{ raw: number; value: number }, { raw: number; value: number }] = [
  { raw: SOIL_DRY_RAW, value: 0 },
  { raw: SOIL_WET_RAW, value: 100 },
];

// Each profile as the board description (config.sensors) a real device would carry; the same for
// every device: one copy per process.
const ENV: SensorConfig = { type: 'bme280', name: 'env' };
const PROFILES: Record<Exclude<BoardProfile, 'mixed'>, readonly SensorConfig[]> = {
  env: [ENV],
  'env+light': [ENV, { type: 'bh1750', name: 'light', filter: { decimals: 0 } }],
  'climate+soil': [
    { type: 'sht3x', name: 'climate' },
    { type: 'analog', name: 'soil', pin: SOIL_PIN, unit: '%', deviceClass: 'moisture', configuration: { calibration: SOIL_CALIBRATION, average: 4 } },
  ],
};

// ---- physics: when a measurement starts, the chip senses the site's values of that second ------

/**
 * Where a board's chips get the physical values of its site: the values of the current second (a
 * pure function of the seed, the device and the time, so nothing is cached per device).
 */
export interface SiteSource {
  siteValues(): SiteValues;
}

/** The clock of every simulated chip: monotonic ms, one function for all of them (a chip only measures intervals). */
const chipTime = () => performance.now();

/** Moisture in % of the probe's span, from the soil's volumetric water content (0..50 %). */
export function soilProbeVoltage(soilPercent: number, pin: SimAnalogPin): number {
  const moisture = Math.min(100, Math.max(0, (soilPercent / 50) * 100));
  const raw = SOIL_DRY_RAW + ((SOIL_WET_RAW - SOIL_DRY_RAW) * moisture) / 100;
  return (raw / pin.max) * pin.fullScale;
}

type FaultyChip = SimBME280 | SimSHT3x | SimBH1750;
type Chip = FaultyChip | SimAnalogPin;

interface Buses {
  i2c: SimI2CBus;
  analog?: SimAnalogPins;
}

/**
 * The simulated chip for each sensor type the profiles use: how it joins the board (at the address
 * the firmware looks at), and how it senses the site's values. One function per kind of chip, shared
 * by every device: no per-device closures.
 */
const CHIP_MODELS: Record<string, { attach(buses: Buses, config: SensorConfig, now: () => number): Chip; sense(chip: Chip, v: SiteValues): void }> = {
  bme280: {
    attach: (buses, config, now) => buses.i2c.attach(new SimBME280({ now, address: addressOf(config) })),
    sense(chip, v) {
      const c = chip as SimBME280;
      c.temperature = v.temperature;
      c.humidity = v.humidity;
      c.pressure = v.pressure;
    },
  },
  sht3x: {
    attach: (buses, config, now) => buses.i2c.attach(new SimSHT3x({ now, address: addressOf(config) })),
    sense(chip, v) {
      const c = chip as SimSHT3x;
      c.temperature = v.temperature;
      c.humidity = v.humidity;
    },
  },
  bh1750: {
    attach: (buses, config, now) => buses.i2c.attach(new SimBH1750({ now, address: addressOf(config) })),
    sense(chip, v) {
      (chip as SimBH1750).illuminance = v.illuminance;
    },
  },
  // The simulator's analog sensor is a soil probe.
  analog: {
    attach: (buses, config) => (buses.analog ??= new SimAnalogPins()).add({ pin: config.pin!, resolution: 12, fullScale: 3.3 }),
    sense(chip, v) {
      const pin = chip as SimAnalogPin;
      pin.voltage = soilProbeVoltage(v.soil, pin);
    },
  },
};

/** The I2C address the firmware uses for this description: its own, or the chip's default. */
function addressOf(config: SensorConfig): number | undefined {
  return config.address ?? entryFor(config.type)?.address;
}

/** A sensor whose chip senses the site's current values before each measurement. */
class SiteSensor implements Sensor {
  constructor(
    private readonly driver: Sensor,
    private readonly chip: Chip,
    private readonly reader: SiteSource,
    private readonly sense: (chip: Chip, values: SiteValues) => void,
  ) {}

  get conversionTime(): number {
    return this.driver.conversionTime;
  }

  start(): number {
    this.sense(this.chip, this.reader.siteValues());
    return this.driver.start();
  }

  sample(): Reading {
    return this.driver.sample();
  }

  close(): void {
    this.driver.close();
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

/**
 * Builds the chips of the profile and, from its board description, their drivers as telemetry
 * sensors (each opened at its first sample, and again after a failure to open).
 */
export function buildBoard(options: {
  profile: BoardProfile;
  index: number;
  reader: SiteSource;
  /** Sensor names whose chips are broken (NACK, shorted pin). */
  broken?: ReadonlySet<string>;
}): BoardParts {
  const { reader } = options;
  const now = chipTime;
  const i2c = new SimI2CBus();
  // The transcript is for bus tests; a fleet keeps only the last transfer.
  i2c.transcriptLimit = 0;
  const buses: Buses = { i2c };
  const chips: Record<string, Chip> = {};
  const descriptions = PROFILES[profileFor(options.profile, options.index)];
  for (const config of descriptions) {
    const chip = (chips[config.name!] = CHIP_MODELS[config.type].attach(buses, config, now));
    if (options.broken?.has(config.name!)) setChipBroken(chip, true);
  }
  const sensors = buildSensors({ i2c: i2c.io, analog: buses.analog?.io }, descriptions);
  for (const sensor of sensors) {
    const config = descriptions.find((d) => d.name === sensor.name)!;
    sensor.sensor = new SiteSensor(sensor.sensor, chips[sensor.name], reader, CHIP_MODELS[config.type].sense);
  }
  // an exact copy: the builder's list grew by push (room for 17), and the device keeps this one
  return { sensors: sensors.slice(), chips, i2c, analog: buses.analog };
}

/** Breaks (or repairs) a chip: I2C chips stop answering, the soil probe's pin reads as shorted. */
export function setChipBroken(chip: Chip, broken: boolean): void {
  if ('voltage' in chip) chip.fault = broken ? 'short-low' : undefined;
  else chip.fault = broken ? 'absent' : undefined;
}
