// Simulated ADC pins: each holds a settable input voltage that reads as counts at the pin's
// resolution, like the ESP8266's 10-bit A0 or an ESP32 12-bit channel.
import type { Analog, AnalogConstructor, AnalogOptions } from '../../../src/ports';

export type SimAnalogFault =
  /** Input shorted to ground: reads 0. */
  | 'short-low'
  /** Input shorted to the supply, or a broken ground wire on a divider: reads full scale. */
  | 'short-high';

export interface SimAnalogPinOptions {
  pin: number;
  /** ADC bits (default 12, as on the ESP32; the ESP8266 has 10). */
  resolution?: number;
  /** Volts at full scale (default 3.3). */
  fullScale?: number;
}

export class SimAnalogPin {
  readonly pin: number;
  readonly resolution: number;
  readonly fullScale: number;
  voltage = 0;
  fault: SimAnalogFault | undefined;
  reads = 0;

  constructor(options: SimAnalogPinOptions) {
    this.pin = options.pin;
    this.resolution = options.resolution ?? 12;
    this.fullScale = options.fullScale ?? 3.3;
  }

  get max(): number {
    return 2 ** this.resolution - 1;
  }

  /** Sets the input so the ADC reads `raw` counts. */
  setRaw(raw: number): void {
    this.voltage = (raw / this.max) * this.fullScale;
  }

  read(): number {
    this.reads++;
    if (this.fault === 'short-low') return 0;
    if (this.fault === 'short-high') return this.max;
    return Math.min(this.max, Math.max(0, Math.round((this.voltage / this.fullScale) * this.max)));
  }
}

/** The ADC pins of one simulated board, with an ECMA-419 Analog constructor bound to them. */
export class SimAnalogPins {
  #pins = new Map<number, SimAnalogPin>();
  readonly io: AnalogConstructor;

  constructor() {
    const pins = this.#pins;
    this.io = class SimAnalog implements Analog {
      readonly resolution: number;
      #pin: SimAnalogPin | undefined;
      constructor(options: AnalogOptions) {
        const pin = pins.get(options?.pin);
        if (!pin) throw new RangeError(`no ADC on pin ${options?.pin}`);
        this.#pin = pin;
        this.resolution = pin.resolution;
      }
      read(): number {
        if (!this.#pin) throw new Error('Analog closed');
        return this.#pin.read();
      }
      close(): void {
        this.#pin = undefined;
      }
    };
  }

  add(options: SimAnalogPinOptions): SimAnalogPin {
    const pin = new SimAnalogPin(options);
    this.#pins.set(pin.pin, pin);
    return pin;
  }

  pin(number: number): SimAnalogPin | undefined {
    return this.#pins.get(number);
  }
}
