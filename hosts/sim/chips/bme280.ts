// A BME280 (or BMP280) at register level: memory map, calibration NVM, ctrl_hum latching,
// forced/normal mode with the datasheet's measurement timing, oversampling resolution, IIR filter,
// data shadowing, soft reset. Physical values are settable; the chip turns them into ADC counts.
import { DATASHEET_CALIBRATION, rawFromPhysical } from './bosch-float';
import type { SimBoschCalibration } from './bosch-float';
import { nack } from './i2c-bus';
import type { SimI2CDevice } from './i2c-bus';

export type SimBME280Fault =
  /** The chip NACKs its address (unplugged, wrong address, no power). */
  | 'absent'
  /** The id register reads `wrongId` (another part at this address). */
  | 'wrong-id'
  /** Conversions deliver counts at the ends of the ADC span (a damaged sensing element). */
  | 'range';

export interface SimBME280Options {
  /** Milliseconds, monotonic: the Clock port's now(). */
  now: () => number;
  address?: number;
  variant?: 'bme280' | 'bmp280';
  calibration?: SimBoschCalibration;
  /** 'max' (default): conversions take the datasheet's maximum time; 'typical' the typical time. */
  timing?: 'max' | 'typical';
}

const OSRS = [0, 1, 2, 4, 8, 16, 16, 16];
const FILTER = [1, 2, 4, 8, 16, 16, 16, 16];
const STANDBY_BME = [0.5, 62.5, 125, 250, 500, 1000, 10, 20];
const STANDBY_BMP = [0.5, 62.5, 125, 250, 500, 1000, 2000, 4000];
const STARTUP_MS = 2;
/** Registers from here up change at run time (control, status, data); those below are the chip's NVM and id. */
const VOLATILE = 0xf0;

/**
 * The read-only registers (id, calibration NVM) of a variant with a calibration: the same bytes for
 * every chip with them, so a fleet of thousands of simulated boards keeps one copy. Made on first use, and a
 * Map: the desktop Moddable build preloads this module, so a collection made then would be read-only,
 * and so are the preloaded calibrations, which a WeakMap could not take as keys. (Calibrations are
 * few: the defaults and those a test gives.)
 */
let roms: Map<SimBoschCalibration, { bme280?: Uint8Array; bmp280?: Uint8Array }> | undefined;

function romOf(variant: 'bme280' | 'bmp280', c: SimBoschCalibration): Uint8Array {
  roms ??= new Map();
  let byVariant = roms.get(c);
  if (!byVariant) roms.set(c, (byVariant = {}));
  const cached = byVariant[variant];
  if (cached) return cached;
  const r = new Uint8Array(VOLATILE);
  const words = [c.T1, c.T2, c.T3, c.P1, c.P2, c.P3, c.P4, c.P5, c.P6, c.P7, c.P8, c.P9];
  words.forEach((w, i) => {
    r[0x88 + 2 * i] = w & 0xff;
    r[0x89 + 2 * i] = (w >> 8) & 0xff;
  });
  r[0xd0] = variant === 'bme280' ? 0x60 : 0x58;
  if (variant === 'bme280') {
    r[0xa1] = c.H1;
    r[0xe1] = c.H2 & 0xff;
    r[0xe2] = (c.H2 >> 8) & 0xff;
    r[0xe3] = c.H3;
    r[0xe4] = (c.H4 >> 4) & 0xff;
    r[0xe5] = (c.H4 & 0x0f) | ((c.H5 & 0x0f) << 4);
    r[0xe6] = (c.H5 >> 4) & 0xff;
    r[0xe7] = c.H6 & 0xff;
  }
  byVariant[variant] = r;
  return r;
}

export class SimBME280 implements SimI2CDevice {
  readonly address: number;
  readonly variant: 'bme280' | 'bmp280';
  /** °C, Pa, %RH: what the chip senses. */
  temperature = 25;
  pressure = 101_325;
  humidity = 50;
  fault: SimBME280Fault | undefined;
  wrongId = 0x61;
  /** Conversions completed since power-on. */
  conversions = 0;

  readonly #now: () => number;
  readonly #calibration: SimBoschCalibration;
  readonly #timing: 'max' | 'typical';
  /** Registers below VOLATILE, shared by every chip of this variant and calibration. */
  readonly #rom: Uint8Array;
  /** Registers VOLATILE..0xFF of this chip. */
  #regs = new Uint8Array(256 - VOLATILE);
  #pointer = 0;
  /** Humidity oversampling in effect (ctrl_hum is latched by a ctrl_meas write). */
  #osrsH = 0;
  #measureEnd = -1;
  #normalStart = -1;
  #normalCycles = 0;
  #resetUntil = -Infinity;
  #filtered: { t: number; p: number } | undefined;

  constructor(options: SimBME280Options) {
    this.#now = options.now;
    this.address = options.address ?? 0x76;
    this.variant = options.variant ?? 'bme280';
    this.#calibration = options.calibration ?? DATASHEET_CALIBRATION;
    this.#timing = options.timing ?? 'max';
    this.#rom = romOf(this.variant, this.#calibration);
    this.#powerOn();
  }

  /** Current measurement duration for the latched oversampling settings, in ms. */
  get measurementTime(): number {
    const t = OSRS[this.#regs[0xf4 - VOLATILE] >> 5];
    const p = OSRS[(this.#regs[0xf4 - VOLATILE] >> 2) & 7];
    const h = this.variant === 'bme280' ? OSRS[this.#osrsH] : 0;
    if (this.#timing === 'typical') return 1 + 2 * t + (p ? 2 * p + 0.5 : 0) + (h ? 2 * h + 0.5 : 0);
    return 1.25 + 2.3 * t + (p ? 2.3 * p + 0.575 : 0) + (h ? 2.3 * h + 0.575 : 0);
  }

  /** A register as the master would read it now (for tests; does not move the read pointer). */
  peek(register: number): number {
    this.#sync();
    return this.#readRegister(register & 0xff);
  }

  write(bytes: Uint8Array): void {
    if (this.fault === 'absent') nack('BME280 absent');
    this.#sync();
    if (!bytes.length) return;
    // Bosch I2C writes are (register, value) pairs, without auto-increment; a lone register byte
    // only sets the read pointer.
    for (let i = 0; i + 1 < bytes.length; i += 2) this.#writeRegister(bytes[i], bytes[i + 1]);
    this.#pointer = bytes[bytes.length % 2 ? bytes.length - 1 : 0];
  }

  read(count: number): Uint8Array {
    if (this.fault === 'absent') nack('BME280 absent');
    this.#sync();
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.#readRegister((this.#pointer + i) & 0xff);
    this.#pointer = (this.#pointer + count) & 0xff;
    return out;
  }

  #powerOn(): void {
    const r = this.#regs;
    r.fill(0);
    // Data registers hold their "skipped" values until the first conversion.
    r.set([0x80, 0, 0, 0x80, 0, 0], 0xf7 - VOLATILE);
    if (this.variant === 'bme280') r.set([0x80, 0], 0xfd - VOLATILE);
    this.#osrsH = 0;
    this.#measureEnd = -1;
    this.#normalStart = -1;
    this.#filtered = undefined;
  }

  /** Control and data register `register` (VOLATILE..0xFF). */
  #reg(register: number): number {
    return this.#regs[register - VOLATILE];
  }

  #readRegister(register: number): number {
    if (register === 0xd0 && this.fault === 'wrong-id') return this.wrongId;
    if (register === 0xf3) return (this.#measuring() ? 0x08 : 0) | (this.#now() < this.#resetUntil ? 0x01 : 0);
    if (this.variant === 'bmp280' && (register === 0xf2 || register >= 0xfd || (register >= 0xe1 && register <= 0xf0))) return 0;
    return register < VOLATILE ? this.#rom[register] : this.#reg(register);
  }

  #writeRegister(register: number, value: number): void {
    const r = this.#regs;
    switch (register) {
      case 0xe0:
        if (value === 0xb6) {
          this.#powerOn();
          this.#resetUntil = this.#now() + STARTUP_MS;
        }
        return;
      case 0xf2:
        if (this.variant === 'bme280') r[0xf2 - VOLATILE] = value & 0x07;
        return;
      case 0xf5:
        // "Writes to the config register in normal mode may be ignored" (datasheet 5.4.6).
        if ((r[0xf4 - VOLATILE] & 3) !== 3) r[0xf5 - VOLATILE] = value & 0xfd;
        return;
      case 0xf4: {
        r[0xf4 - VOLATILE] = value;
        this.#osrsH = r[0xf2 - VOLATILE] & 7;
        const mode = value & 3;
        if (mode === 1 || mode === 2) {
          if (!this.#measuring()) this.#measureEnd = this.#now() + this.measurementTime;
          this.#normalStart = -1;
        } else if (mode === 3) {
          this.#normalStart = this.#now();
          this.#normalCycles = 0;
        } else {
          this.#normalStart = -1;
        }
        return;
      }
      default:
        return; // read-only or reserved
    }
  }

  #period(): number {
    const standby = (this.variant === 'bme280' ? STANDBY_BME : STANDBY_BMP)[this.#regs[0xf5 - VOLATILE] >> 5];
    return this.measurementTime + standby;
  }

  #measuring(): boolean {
    const now = this.#now();
    if (this.#measureEnd >= 0 && now < this.#measureEnd) return true;
    if (this.#normalStart >= 0) return (now - this.#normalStart) % this.#period() < this.measurementTime;
    return false;
  }

  /** Brings the data registers up to the present: completes conversions whose time has come. */
  #sync(): void {
    const now = this.#now();
    if (this.#measureEnd >= 0 && now >= this.#measureEnd) {
      this.#measureEnd = -1;
      this.#convert();
      this.#regs[0xf4 - VOLATILE] &= 0xfc; // forced mode returns to sleep
    }
    if (this.#normalStart >= 0) {
      const elapsed = now - this.#normalStart;
      const done = elapsed < this.measurementTime ? 0 : Math.floor((elapsed - this.measurementTime) / this.#period()) + 1;
      // Only the last few conversions matter, even through the IIR filter.
      for (let n = Math.max(this.#normalCycles, done - 64); n < done; n++) this.#convert();
      this.#normalCycles = done;
    }
  }

  #convert(): void {
    this.conversions++;
    const r = this.#regs;
    const osrsT = OSRS[r[0xf4 - VOLATILE] >> 5];
    const osrsP = OSRS[(r[0xf4 - VOLATILE] >> 2) & 7];
    const osrsH = this.variant === 'bme280' ? OSRS[this.#osrsH] : 0;
    const filter = FILTER[(r[0xf5 - VOLATILE] >> 2) & 7];
    // Resolution: 16 bits at x1 plus one per doubling; the IIR filter output always has 20 bits.
    const quantize = (adc: number, osrs: number) => {
      const step = filter > 1 ? 1 : 16 / osrs;
      return Math.min(0xfffff - step + 1, Math.max(0, Math.round(adc / step) * step));
    };
    let adcT: number;
    let adcP: number;
    let adcH: number;
    if (this.fault === 'range') {
      [adcT, adcP, adcH] = [0xffff0, 0x00010, 0xffff];
    } else {
      const raw = rawFromPhysical(this, this.#calibration, (x) => quantize(x, osrsT || 1));
      adcT = raw.adcT;
      adcP = quantize(raw.adcP, osrsP || 1);
      adcH = Math.min(0xffff, Math.max(0, Math.round(raw.adcH)));
      if (filter > 1) {
        const prev = this.#filtered ?? { t: adcT, p: adcP };
        adcT = Math.round((prev.t * (filter - 1) + adcT) / filter);
        adcP = Math.round((prev.p * (filter - 1) + adcP) / filter);
        this.#filtered = { t: adcT, p: adcP };
      }
    }
    const put20 = (at: number, v: number) => r.set([(v >> 12) & 0xff, (v >> 4) & 0xff, (v << 4) & 0xf0], at - VOLATILE);
    put20(0xfa, osrsT ? adcT : 0x80000);
    put20(0xf7, osrsP ? adcP : 0x80000);
    if (this.variant === 'bme280') r.set(osrsH ? [adcH >> 8, adcH & 0xff] : [0x80, 0], 0xfd - VOLATILE);
  }
}
