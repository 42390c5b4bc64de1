// ROHM BH1750FVI ambient light sensor over I2C: the three resolution modes, one-time or continuous,
// and the measurement-time register (MTreg) for sensitivity. Opcodes, timing and the count-to-lux
// conversion (lx = count / 1.2, scaled by 69 / MTreg, halved in H-resolution mode 2) from the
// BH1750FVI datasheet (pages 5, 7 and 11).
import { SensorError } from '../errors';
import { I2CDevice } from '../i2c-device';
import type { I2CSensorOptions } from '../i2c-device';
import { ceilMs } from '../sensor';
import type { Reading, Sensor } from '../sensor';

/** ADDR to GND; 0x5C with ADDR high. */
export const BH1750_ADDRESS = 0x23;

type BH1750Mode = 'high' | 'high2' | 'low';

const POWER_ON = 0x01;
const CONTINUOUS: Record<BH1750Mode, number> = { high: 0x10, high2: 0x11, low: 0x13 };
const ONE_TIME: Record<BH1750Mode, number> = { high: 0x20, high2: 0x21, low: 0x23 };
const DEFAULT_MTREG = 69;
/** Maximum measurement time at the default MTreg, in ms. */
const MAX_TIME: Record<BH1750Mode, number> = { high: 180, high2: 180, low: 24 };

export interface BH1750Configuration {
  /** 'high' (1 lx, default), 'high2' (0.5 lx) or 'low' (4 lx, fast). */
  mode?: BH1750Mode;
  /** Measure continuously instead of once per start() (default false: the chip sleeps in between). */
  continuous?: boolean;
  /** MTreg, 31..254 (default 69); higher is more sensitive and slower. High-resolution modes only. */
  measurementTime?: number;
}

export interface BH1750Options {
  sensor: I2CSensorOptions;
  configuration?: BH1750Configuration;
}

export interface BH1750Reading extends Reading {
  /** lux */
  illuminance: number;
}

export class BH1750 implements Sensor<BH1750Reading> {
  #device: I2CDevice;
  #opcode = new Uint8Array(1);
  #settings: Required<BH1750Configuration> = { mode: 'high', continuous: false, measurementTime: DEFAULT_MTREG };
  #started = false;
  #firstResultPending = true;

  constructor(options: BH1750Options) {
    const device = (this.#device = new I2CDevice('BH1750', options?.sensor, { address: BH1750_ADDRESS, hz: 400_000 }));
    try {
      this.#send(POWER_ON);
      this.configure(options.configuration ?? {});
    } catch (error) {
      device.close();
      throw error;
    }
  }

  configure(options: BH1750Configuration): void {
    const next = { ...this.#settings, ...options };
    if (!(next.mode in CONTINUOUS)) throw new SensorError('config', `BH1750: mode ${JSON.stringify(next.mode)} is not supported; use 'high', 'high2' or 'low'`);
    if (next.mode === 'low') {
      if (options.measurementTime !== undefined && options.measurementTime !== DEFAULT_MTREG) {
        throw new SensorError('config', 'BH1750: measurementTime applies to the high-resolution modes only; leave it unset with mode "low"');
      }
      next.measurementTime = DEFAULT_MTREG;
    }
    const mt = next.measurementTime;
    if (!Number.isInteger(mt) || mt < 31 || mt > 254) {
      throw new SensorError('config', `BH1750: measurementTime ${JSON.stringify(mt)} is out of range; use an integer from 31 to 254 (69 is the default)`);
    }
    this.#send(0x40 | (mt >> 5));
    this.#send(0x60 | (mt & 0x1f));
    if (next.continuous) this.#send(CONTINUOUS[next.mode]);
    this.#settings = next;
    this.#started = false;
    this.#firstResultPending = true;
  }

  get configuration(): Readonly<Required<BH1750Configuration>> {
    return { ...this.#settings };
  }

  get conversionTime(): number {
    return ceilMs((MAX_TIME[this.#settings.mode] * this.#settings.measurementTime) / DEFAULT_MTREG);
  }

  start(): number {
    if (this.#settings.continuous) {
      const wait = this.#firstResultPending ? this.conversionTime : 0;
      this.#firstResultPending = false;
      this.#started = true;
      return wait;
    }
    this.#send(ONE_TIME[this.#settings.mode]);
    this.#started = true;
    return this.conversionTime;
  }

  sample(): BH1750Reading {
    if (!this.#started) throw new SensorError('not-ready', 'BH1750: call start(), wait conversionTime ms, then sample()');
    if (!this.#settings.continuous) this.#started = false;
    const data = this.#device.read(2);
    const count = (data[0] << 8) | data[1];
    const { mode, measurementTime } = this.#settings;
    const illuminance = ((count / 1.2) * (DEFAULT_MTREG / measurementTime)) / (mode === 'high2' ? 2 : 1);
    const reading: BH1750Reading = { illuminance };
    // A full-scale count means the light exceeds what this setting can measure.
    if (count === 0xffff) reading.outOfRange = ['illuminance'];
    return reading;
  }

  close(): void {
    this.#device.close();
  }

  #send(opcode: number): void {
    this.#opcode[0] = opcode;
    this.#device.write(this.#opcode);
  }
}
