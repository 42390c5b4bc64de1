// An open I2C device whose failures come out as SensorErrors with actionable messages.
import type { I2C, I2CConstructor } from '../ports';
import { SensorError, hex2, i2cFailure } from './errors';

export interface I2CSensorOptions {
  /** ECMA-419 I2C constructor (the host's, or SimI2CBus.io in the simulator). */
  io: I2CConstructor;
  address?: number;
  hz?: number;
  data?: number;
  clock?: number;
  port?: number;
}

export class I2CDevice {
  readonly address: number;
  readonly chip: string;
  #io: I2C | undefined;
  /** True once any transfer succeeded: a failure before that means nothing answers. */
  #answered = false;
  #register = new Uint8Array(1);

  constructor(chip: string, options: I2CSensorOptions, defaults: { address: number; hz: number }) {
    if (typeof options?.io !== 'function') {
      throw new SensorError('config', `${chip}: options.sensor.io must be an I2C constructor (e.g. device.io.I2C or platform.i2c)`);
    }
    this.chip = chip;
    this.address = options.address ?? defaults.address;
    const { io, ...rest } = options;
    this.#io = new io({ ...rest, address: this.address, hz: options.hz ?? defaults.hz });
  }

  write(bytes: Uint8Array, stop = true): void {
    try {
      this.#open().write(bytes, stop);
    } catch (error) {
      throw this.#failure(error, 'write');
    }
    this.#answered = true;
  }

  read(count: number, stop = true): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.#open().read(count, stop);
    } catch (error) {
      throw this.#failure(error, 'read');
    }
    this.#answered = true;
    return bytes;
  }

  /** Register read in the Bosch style: write the register address, then read `count` bytes. */
  readRegisters(register: number, count: number): Uint8Array {
    this.#register[0] = register;
    this.write(this.#register, false);
    return this.read(count);
  }

  writeRegister(register: number, value: number): void {
    const bytes = new Uint8Array(2);
    bytes[0] = register;
    bytes[1] = value;
    this.write(bytes);
  }

  close(): void {
    this.#io?.close();
    this.#io = undefined;
  }

  #open(): I2C {
    if (!this.#io) throw new SensorError('config', `${this.chip} at ${hex2(this.address)} is closed`);
    return this.#io;
  }

  #failure(error: unknown, what: string): SensorError {
    if (error instanceof SensorError) return error;
    const kind = i2cFailure(error);
    const detail = (error as Error)?.message ?? String(error);
    const where = `${this.chip} at I2C ${hex2(this.address)}`;
    if (kind === 'nack' || (kind === undefined && !this.#answered)) {
      return new SensorError(
        'absent',
        `${where} did not answer (${what}: ${detail}): check power, SDA/SCL wiring and the address pin`,
        { cause: error },
      );
    }
    return new SensorError('bus', `${where}: I2C ${what} failed (${detail}): check pull-ups and that no device holds SDA low`, {
      cause: error,
    });
  }
}
