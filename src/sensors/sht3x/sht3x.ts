// Sensirion SHT30/31/35 (SHT3x-DIS) temperature and humidity over I2C: single-shot measurements
// without clock stretching, every word CRC-checked, heater control. Commands, timing and
// conversion formulas from the SHT3x-DIS datasheet (sections 2.2, 4.3, 4.11-4.13).
import { crc8Sensirion } from '../crc';
import { SensorError, hex2, i2cFailure } from '../errors';
import { I2CDevice } from '../i2c-device';
import type { I2CSensorOptions } from '../i2c-device';
import { checkRange } from '../sensor';
import type { Reading, Sensor } from '../sensor';

/** ADDR to GND; 0x45 with ADDR to 3.3 V. */
export const SHT3X_ADDRESS = 0x44;

export type Repeatability = 'high' | 'medium' | 'low';

/** Single shot, clock stretching disabled (Table 9): the chip NACKs reads until it is done. */
const MEASURE: Record<Repeatability, number> = { high: 0x2400, medium: 0x240b, low: 0x2416 };
/** Maximum measurement duration in ms (Table 4). */
const DURATION: Record<Repeatability, number> = { high: 15, medium: 6, low: 4 };
const READ_STATUS = 0xf32d;
const CLEAR_STATUS = 0x3041;
const HEATER_ON = 0x306d;
const HEATER_OFF = 0x3066;

export interface SHT3xConfiguration {
  /** 'high' (default), 'medium' or 'low': longer measurements repeat better. */
  repeatability?: Repeatability;
  /** The built-in heater, to drive off condensation or check the sensor (default off). */
  heater?: boolean;
}

export interface SHT3xOptions {
  sensor: I2CSensorOptions;
  configuration?: SHT3xConfiguration;
}

export interface SHT3xReading extends Reading {
  thermometer: { temperature: number };
  hygrometer: { humidity: number };
}

export interface SHT3xStatus {
  alertPending: boolean;
  heater: boolean;
  humidityAlert: boolean;
  temperatureAlert: boolean;
  resetDetected: boolean;
  commandFailed: boolean;
  writeChecksumFailed: boolean;
  raw: number;
}

export class SHT3x implements Sensor<SHT3xReading> {
  #device: I2CDevice;
  #command = new Uint8Array(2);
  #repeatability: Repeatability = 'high';
  #heater = false;
  #started = false;

  constructor(options: SHT3xOptions) {
    const device = (this.#device = new I2CDevice('SHT3x', options?.sensor, { address: SHT3X_ADDRESS, hz: 400_000 }));
    try {
      // The status register is the only thing to read back: a valid CRC says an SHT3x answers. The
      // heater may still be on from before a restart of ours (the chip keeps it until reset).
      this.#heater = this.status().heater;
      this.configure(options.configuration ?? {});
    } catch (error) {
      device.close();
      throw error;
    }
  }

  configure(options: SHT3xConfiguration): void {
    const repeatability = options.repeatability ?? this.#repeatability;
    if (!(repeatability in MEASURE)) {
      throw new SensorError('config', `SHT3x: repeatability ${JSON.stringify(repeatability)} is not supported; use 'high', 'medium' or 'low'`);
    }
    this.#repeatability = repeatability;
    if (options.heater !== undefined) {
      this.#send(options.heater ? HEATER_ON : HEATER_OFF);
      this.#heater = options.heater;
    }
  }

  get configuration(): Readonly<Required<SHT3xConfiguration>> {
    return { repeatability: this.#repeatability, heater: this.#heater };
  }

  get conversionTime(): number {
    return DURATION[this.#repeatability];
  }

  start(): number {
    this.#send(MEASURE[this.#repeatability]);
    this.#started = true;
    return this.conversionTime;
  }

  sample(): SHT3xReading {
    if (!this.#started) throw new SensorError('not-ready', 'SHT3x: call start(), wait conversionTime ms, then sample()');
    let data: Uint8Array;
    try {
      data = this.#device.read(6);
    } catch (error) {
      // Right after a measurement command was ACKed, a failed read is the chip NACKing because it
      // is still measuring, unless the host says the bus timed out.
      if (error instanceof SensorError && error.code !== 'config' && i2cFailure(error.cause) !== 'timeout') {
        throw new SensorError('not-ready', `SHT3x NACKed the result read: the measurement is not done; wait ${this.conversionTime} ms after start()`, { cause: error });
      }
      throw error;
    }
    this.#started = false;
    const st = this.#word(data, 0, 'temperature');
    const srh = this.#word(data, 3, 'humidity');
    const temperature = -45 + (175 * st) / 65535;
    const reading: SHT3xReading = { thermometer: { temperature }, hygrometer: { humidity: (100 * srh) / 65535 } };
    // Specified range -40..125 °C, widened by the worst-case accuracy at its ends (±1 °C).
    checkRange(reading, 'temperature', temperature, -41, 126);
    return reading;
  }

  /** Reads the status register (Table 17). */
  status(): SHT3xStatus {
    this.#send(READ_STATUS);
    const raw = this.#word(this.#device.read(3), 0, 'status');
    return {
      alertPending: !!(raw & 0x8000),
      heater: !!(raw & 0x2000),
      humidityAlert: !!(raw & 0x0800),
      temperatureAlert: !!(raw & 0x0400),
      resetDetected: !!(raw & 0x0010),
      commandFailed: !!(raw & 0x0002),
      writeChecksumFailed: !!(raw & 0x0001),
      raw,
    };
  }

  clearStatus(): void {
    this.#send(CLEAR_STATUS);
  }

  close(): void {
    this.#device.close();
  }

  #send(command: number): void {
    this.#command[0] = command >> 8;
    this.#command[1] = command & 0xff;
    this.#device.write(this.#command);
  }

  #word(data: Uint8Array, at: number, what: string): number {
    const crc = crc8Sensirion(data, at, at + 2);
    if (crc !== data[at + 2]) {
      throw new SensorError(
        'crc',
        `SHT3x at I2C ${hex2(this.#device.address)}: ${what} CRC ${hex2(data[at + 2])} should be ${hex2(crc)}: noise on the bus (long wires, missing pull-ups)`,
      );
    }
    return (data[at] << 8) | data[at + 1];
  }
}
