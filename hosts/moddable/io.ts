// I2C, Digital and Analog ports on ECMA-419 embedded:io (ESP32 and ESP8266 builds only; the
// desktop build has no pins). Default I2C pins come from the manifest config (the nodemcu targets'
// provider.js values), so a board with other wiring needs only i2cData=/i2cClock= at build time.
import type { Analog, AnalogConstructor, AnalogOptions, Digital, DigitalConstructor, DigitalOptions, I2C, I2CConstructor, I2COptions } from '../../src/ports';
import I2CBus from 'embedded:io/i2c';
import DigitalPin from 'embedded:io/digital';
import AnalogPin from 'embedded:io/analog';
import { ModdableHostError, describe } from './errors';
import { closeIo } from './io-close';

export interface I2CDefaults {
  data: number;
  clock: number;
  hz: number;
}

export const createI2C = (defaults: I2CDefaults): I2CConstructor => {
  return class ModdableI2C implements I2C {
    private readonly bus: I2CBus;

    constructor(options: I2COptions) {
      const settings = {
        address: options.address,
        data: options.data ?? defaults.data,
        clock: options.clock ?? defaults.clock,
        hz: options.hz ?? defaults.hz,
        ...(options.port !== undefined ? { port: options.port } : {}),
      };
      try {
        this.bus = new I2CBus(settings);
      } catch (error) {
        throw new ModdableHostError(
          'IO_UNAVAILABLE',
          `cannot open I2C device 0x${options.address.toString(16)} on SDA ${settings.data} / SCL ${settings.clock}: ${describe(error)}`,
        );
      }
    }

    read(count: number, stop?: boolean): Uint8Array;
    read(buffer: Uint8Array, stop?: boolean): void;
    read(what: number | Uint8Array, stop?: boolean): Uint8Array | void {
      if (typeof what === 'number') return new Uint8Array(this.bus.read(what, stop) as ArrayBuffer);
      this.bus.read(what, stop);
    }

    write(bytes: Uint8Array, stop?: boolean): void {
      this.bus.write(bytes, stop);
    }

    close(): void {
      closeIo(this.bus);
    }
  };
};

export const createDigital = (): DigitalConstructor => {
  const modes: Record<DigitalOptions['mode'], number> = {
    input: DigitalPin.Input,
    'input-pull-up': DigitalPin.InputPullUp,
    'input-pull-down': DigitalPin.InputPullDown,
    output: DigitalPin.Output,
    'output-open-drain': DigitalPin.OutputOpenDrain,
  };
  return class ModdableDigital implements Digital {
    private readonly pin: DigitalPin;

    constructor(options: DigitalOptions) {
      const mode = modes[options.mode];
      if (mode === undefined) throw new ModdableHostError('IO_UNAVAILABLE', `unknown digital mode "${options.mode}"`);
      try {
        this.pin = new DigitalPin({ pin: options.pin, mode });
      } catch (error) {
        throw new ModdableHostError('IO_UNAVAILABLE', `cannot open GPIO ${options.pin} as ${options.mode}: ${describe(error)}`);
      }
    }

    read(): 0 | 1 {
      return this.pin.read();
    }

    write(value: 0 | 1): void {
      this.pin.write(value);
    }

    close(): void {
      this.pin.close();
    }
  };
};

export const createAnalog = (): AnalogConstructor => {
  return class ModdableAnalog implements Analog {
    private readonly input: AnalogPin;

    constructor(options: AnalogOptions) {
      try {
        this.input = new AnalogPin({ pin: options.pin, ...(options.resolution ? { resolution: options.resolution } : {}) });
      } catch (error) {
        throw new ModdableHostError('IO_UNAVAILABLE', `cannot open analog input on pin ${options.pin}: ${describe(error)}`);
      }
    }

    get resolution(): number {
      return this.input.resolution;
    }

    read(): number {
      return this.input.read();
    }

    close(): void {
      closeIo(this.input);
    }
  };
};
