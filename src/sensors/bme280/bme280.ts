// Bosch BME280 (temperature, humidity, pressure) and BMP280 (temperature, pressure) over I2C.
// Registers and timing from BST-BME280-DS002 sections 3.3-3.5, 5.3-5.4 and appendix B (9.1).
import { compensateHumidity, compensatePressure, compensateTemperature, fineTemperature, parseCalibration } from './compensation';
import type { BoschCalibration } from './compensation';
import { SensorError, hex2 } from '../errors';
import { I2CDevice } from '../i2c-device';
import type { I2CSensorOptions } from '../i2c-device';
import { ceilMs, checkRange } from '../sensor';
import type { Reading, Sensor } from '../sensor';

const REG_CALIB_TP = 0x88; // calib00..calib25
const REG_ID = 0xd0;
const REG_CALIB_H = 0xe1; // calib26..calib32
const REG_CTRL_HUM = 0xf2;
const REG_STATUS = 0xf3;
const REG_CTRL_MEAS = 0xf4;
const REG_CONFIG = 0xf5;
const REG_DATA = 0xf7;

/** SDO to GND; 0x77 with SDO to 3.3 V. */
export const BME280_ADDRESS = 0x76;

const ID_BME280 = 0x60;
/** 0x58 is the BMP280; 0x56 and 0x57 are its engineering samples (Bosch's own API accepts them). */
const IDS_BMP280 = [0x56, 0x57, 0x58];

const STATUS_MEASURING = 0x08;
const MODE_SLEEP = 0b00;
const MODE_FORCED = 0b01;
const MODE_NORMAL = 0b11;
/** Data registers after reset, or when a measurement is skipped. */
const SKIPPED_20 = 0x80000;
const SKIPPED_16 = 0x8000;

const OVERSAMPLING = [0, 1, 2, 4, 8, 16] as const;
const FILTER = [0, 2, 4, 8, 16] as const;
const STANDBY_BME280 = [0.5, 62.5, 125, 250, 500, 1000, 10, 20] as const;
const STANDBY_BMP280 = [0.5, 62.5, 125, 250, 500, 1000, 2000, 4000] as const;

type Oversampling = (typeof OVERSAMPLING)[number];

export interface BME280Configuration {
  /** 'forced' (default): one measurement per start(), then sleep. 'normal': the chip measures continuously. */
  mode?: 'forced' | 'normal';
  /** 1, 2, 4, 8 or 16 (default 1). Temperature is always measured: pressure and humidity need it. */
  temperatureOversampling?: Exclude<Oversampling, 0>;
  /** 0 (skip), 1, 2, 4, 8 or 16 (default 1). */
  pressureOversampling?: Oversampling;
  /** 0 (skip), 1, 2, 4, 8 or 16 (default 1 on a BME280; a BMP280 has no humidity). */
  humidityOversampling?: Oversampling;
  /** IIR filter coefficient: 0 (off, default), 2, 4, 8 or 16. */
  filter?: (typeof FILTER)[number];
  /** Normal mode: ms between measurements. BME280: 0.5, 10, 20, 62.5, 125, 250, 500, 1000; BMP280: 0.5 .. 4000. */
  standby?: number;
}

export interface BME280Options {
  sensor: I2CSensorOptions;
  configuration?: BME280Configuration;
}

export interface BME280Reading extends Reading {
  thermometer: { temperature: number };
  /** Pa, with 1/256 Pa resolution (the datasheet's 64-bit formula). */
  barometer?: { pressure: number };
  hygrometer?: { humidity: number };
}

const BME280_DEFAULTS: Readonly<Required<BME280Configuration>> = {
  mode: 'forced',
  temperatureOversampling: 1,
  pressureOversampling: 1,
  humidityOversampling: 1,
  filter: 0,
  standby: 1000,
};
const BMP280_DEFAULTS: Readonly<Required<BME280Configuration>> = { ...BME280_DEFAULTS, humidityOversampling: 0 };

/** The settings with a configuration's over them; the same object when it names none (no copy per sensor). */
function merged(settings: Readonly<Required<BME280Configuration>>, options: BME280Configuration): Readonly<Required<BME280Configuration>> {
  for (const _ in options) return { ...settings, ...options };
  return settings;
}

export class BME280 implements Sensor<BME280Reading> {
  /** 'BME280' or 'BMP280', from the chip id register. */
  readonly model: 'BME280' | 'BMP280';
  readonly chipId: number;
  readonly calibration: BoschCalibration;
  #device: I2CDevice;
  /** The defaults (shared by every sensor) until a configuration changes them. */
  #settings: Readonly<Required<BME280Configuration>> = BME280_DEFAULTS;
  #started = false;
  #firstResultPending = true;

  constructor(options: BME280Options) {
    const device = (this.#device = new I2CDevice('BME280', options?.sensor, { address: BME280_ADDRESS, hz: 400_000 }));
    try {
      const id = device.readRegisters(REG_ID, 1)[0];
      if (id === ID_BME280) this.model = 'BME280';
      else if (IDS_BMP280.includes(id)) this.model = 'BMP280';
      else {
        throw new SensorError(
          'wrong-chip',
          `chip id ${hex2(id)} at I2C ${hex2(device.address)} is neither a BME280 (0x60) nor a BMP280 (0x58)` +
            (id === 0x61 ? ': 0x61 is a BME680, which needs its own driver' : ': check the address and the part on the board'),
        );
      }
      this.chipId = id;
      const tp = device.readRegisters(REG_CALIB_TP, 26);
      const h = this.model === 'BME280' ? device.readRegisters(REG_CALIB_H, 7) : undefined;
      this.calibration = parseCalibration(tp, h);
      if (this.calibration.T1 === 0 || this.calibration.P1 === 0 || this.calibration.T1 === 0xffff) {
        throw new SensorError('bus', `${this.model} at I2C ${hex2(device.address)}: calibration words read as ${hex2(tp[0])}..: the bus returns garbage`);
      }
      if (this.model === 'BMP280') this.#settings = BMP280_DEFAULTS;
      this.configure(options.configuration ?? {});
    } catch (error) {
      device.close();
      throw error;
    }
  }

  configure(options: BME280Configuration): void {
    const next = merged(this.#settings, options);
    const standbys: readonly number[] = this.model === 'BME280' ? STANDBY_BME280 : STANDBY_BMP280;
    if (next.mode !== 'forced' && next.mode !== 'normal') throw this.#badOption('mode', next.mode, "'forced' or 'normal'");
    if (!OVERSAMPLING.includes(next.temperatureOversampling) || (next.temperatureOversampling as number) === 0) {
      throw this.#badOption('temperatureOversampling', next.temperatureOversampling, '1, 2, 4, 8 or 16');
    }
    if (!OVERSAMPLING.includes(next.pressureOversampling)) throw this.#badOption('pressureOversampling', next.pressureOversampling, '0, 1, 2, 4, 8 or 16');
    if (!OVERSAMPLING.includes(next.humidityOversampling)) throw this.#badOption('humidityOversampling', next.humidityOversampling, '0, 1, 2, 4, 8 or 16');
    if (this.model === 'BMP280' && next.humidityOversampling !== 0) {
      throw new SensorError('config', 'a BMP280 has no humidity sensor: leave humidityOversampling unset or 0 (or fit a BME280)');
    }
    if (!FILTER.includes(next.filter)) throw this.#badOption('filter', next.filter, '0, 2, 4, 8 or 16');
    if (!standbys.includes(next.standby)) throw this.#badOption('standby', next.standby, standbys.join(', ') + ' ms');

    const device = this.#device;
    const osrsT = OVERSAMPLING.indexOf(next.temperatureOversampling);
    const osrsP = OVERSAMPLING.indexOf(next.pressureOversampling);
    // config is only reliably written in sleep mode (datasheet 5.4.6), so go to sleep first;
    // ctrl_hum takes effect only with the following ctrl_meas write (5.4.3).
    device.writeRegister(REG_CTRL_MEAS, MODE_SLEEP);
    device.writeRegister(REG_CONFIG, (standbys.indexOf(next.standby) << 5) | (FILTER.indexOf(next.filter) << 2));
    if (this.model === 'BME280') device.writeRegister(REG_CTRL_HUM, OVERSAMPLING.indexOf(next.humidityOversampling));
    device.writeRegister(REG_CTRL_MEAS, (osrsT << 5) | (osrsP << 2) | (next.mode === 'normal' ? MODE_NORMAL : MODE_SLEEP));
    this.#settings = next;
    this.#started = false;
    this.#firstResultPending = true;
  }

  get configuration(): Readonly<Required<BME280Configuration>> {
    return { ...this.#settings };
  }

  /** Datasheet maximum measurement time (appendix B): 1.25 + 2.3·osrs_t + (2.3·osrs_p + 0.575) + (2.3·osrs_h + 0.575) ms. */
  get conversionTime(): number {
    const s = this.#settings;
    let ms = 1.25 + 2.3 * s.temperatureOversampling;
    if (s.pressureOversampling) ms += 2.3 * s.pressureOversampling + 0.575;
    if (s.humidityOversampling) ms += 2.3 * s.humidityOversampling + 0.575;
    return ceilMs(ms);
  }

  start(): number {
    const s = this.#settings;
    if (s.mode === 'normal') {
      const wait = this.#firstResultPending ? this.conversionTime : 0;
      this.#firstResultPending = false;
      return wait;
    }
    const osrsT = OVERSAMPLING.indexOf(s.temperatureOversampling);
    const osrsP = OVERSAMPLING.indexOf(s.pressureOversampling);
    this.#device.writeRegister(REG_CTRL_MEAS, (osrsT << 5) | (osrsP << 2) | MODE_FORCED);
    this.#started = true;
    return this.conversionTime;
  }

  sample(): BME280Reading {
    const s = this.#settings;
    const device = this.#device;
    if (s.mode === 'forced') {
      if (!this.#started) throw new SensorError('not-ready', `${this.model}: forced mode needs start(), then a wait of conversionTime ms, before sample()`);
      if (device.readRegisters(REG_STATUS, 1)[0] & STATUS_MEASURING) {
        throw new SensorError('not-ready', `${this.model}: still measuring; wait conversionTime (${this.conversionTime} ms) after start()`);
      }
      this.#started = false;
    }
    const hasHumidity = this.model === 'BME280';
    const d = device.readRegisters(REG_DATA, hasHumidity ? 8 : 6);
    const adcP = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
    const adcT = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4);
    const adcH = hasHumidity ? (d[6] << 8) | d[7] : SKIPPED_16;
    // After reset every data register holds its "skipped" value; a real conversion can give
    // 0x80000 for one quantity, but not for all of them at once.
    if (adcT === SKIPPED_20 && (!s.pressureOversampling || adcP === SKIPPED_20) && (!s.humidityOversampling || adcH === SKIPPED_16)) {
      throw new SensorError('not-ready', `${this.model}: no measurement has completed since reset; call start() and wait conversionTime ms`);
    }
    const tFine = fineTemperature(adcT, this.calibration);
    const temperature = compensateTemperature(tFine) / 100;
    const reading: BME280Reading = { thermometer: { temperature } };
    // Operating range -40..85 °C and 300..1100 hPa, widened by the absolute accuracy (±1 °C, ±1 hPa).
    checkRange(reading, 'temperature', temperature, -41, 86);
    if (s.pressureOversampling) {
      const pressure = compensatePressure(adcP, tFine, this.calibration) / 256;
      reading.barometer = { pressure };
      checkRange(reading, 'pressure', pressure, 29900, 110100);
    }
    if (s.humidityOversampling && this.calibration.H) {
      reading.hygrometer = { humidity: compensateHumidity(adcH, tFine, this.calibration.H) / 1024 };
    }
    return reading;
  }

  close(): void {
    this.#device.close();
  }

  #badOption(name: string, value: unknown, allowed: string): SensorError {
    return new SensorError('config', `${this.model}: ${name} ${JSON.stringify(value)} is not supported; use ${allowed}`);
  }
}
