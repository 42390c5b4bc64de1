// An SHT3x-DIS at command level: single-shot measurements (with and without clock stretching) that
// take the datasheet's maximum duration, NACKs while measuring or when no data is present, data
// cleared once read, status register with heater and reset flags, CRC-8 on every word.
import { sensirionCrc } from './crc';
import { SimI2CError, nack } from './i2c-bus';
import type { SimI2CDevice } from './i2c-bus';

export type SimSHT3xFault =
  | 'absent'
  /** Every CRC byte the chip sends is wrong (as noise on SDA would make it). */
  | 'crc'
  /** Measurements deliver raw 0xFFFF for temperature (130 °C: outside the specified range). */
  | 'range';

export interface SimSHT3xOptions {
  now: () => number;
  address?: number;
  /** 'max' (default): measurements take the datasheet's maximum duration; 'typical' the typical. */
  timing?: 'max' | 'typical';
}

const SINGLE_SHOT: Record<number, { repeatability: 'high' | 'medium' | 'low'; stretch: boolean }> = {
  0x2c06: { repeatability: 'high', stretch: true },
  0x2c0d: { repeatability: 'medium', stretch: true },
  0x2c10: { repeatability: 'low', stretch: true },
  0x2400: { repeatability: 'high', stretch: false },
  0x240b: { repeatability: 'medium', stretch: false },
  0x2416: { repeatability: 'low', stretch: false },
};
const DURATION_MAX = { high: 15, medium: 6, low: 4 };
const DURATION_TYPICAL = { high: 12.5, medium: 4.5, low: 2.5 };

const STATUS_ALERT = 0x8000;
const STATUS_HEATER = 0x2000;
const STATUS_RESET = 0x0010;
const STATUS_COMMAND_FAILED = 0x0002;

export class SimSHT3x implements SimI2CDevice {
  readonly address: number;
  temperature = 25;
  humidity = 50;
  /** °C the heater adds to what the sensing element sees (the datasheet: "a few degrees"). */
  heaterRise = 3;
  fault: SimSHT3xFault | undefined;
  measurements = 0;

  readonly #now: () => number;
  readonly #timing: 'max' | 'typical';
  /** Power-on status: alert pending and reset detected (Table 17). */
  #status = STATUS_ALERT | STATUS_RESET;
  #measureEnd = -1;
  #stretch = false;
  #output: Uint8Array | undefined;

  constructor(options: SimSHT3xOptions) {
    this.#now = options.now;
    this.address = options.address ?? 0x44;
    this.#timing = options.timing ?? 'max';
  }

  get heater(): boolean {
    return !!(this.#status & STATUS_HEATER);
  }

  write(bytes: Uint8Array): void {
    if (this.fault === 'absent') nack('SHT3x absent');
    if (this.#busy()) nack('SHT3x is measuring and does not acknowledge');
    if (bytes.length !== 2) {
      this.#status |= STATUS_COMMAND_FAILED;
      return;
    }
    const command = (bytes[0] << 8) | bytes[1];
    this.#status &= ~STATUS_COMMAND_FAILED;
    const shot = SINGLE_SHOT[command];
    if (shot) {
      this.#output = undefined;
      this.#stretch = shot.stretch;
      this.#measureEnd = this.#now() + (this.#timing === 'max' ? DURATION_MAX : DURATION_TYPICAL)[shot.repeatability];
      return;
    }
    switch (command) {
      case 0xf32d:
        this.#output = this.#words([this.#status]);
        return;
      case 0x3041:
        this.#status &= ~(STATUS_ALERT | 0x0800 | 0x0400 | STATUS_RESET);
        return;
      case 0x306d:
        this.#status |= STATUS_HEATER;
        return;
      case 0x3066:
        this.#status &= ~STATUS_HEATER;
        return;
      case 0x30a2: // soft reset
        this.#status = STATUS_ALERT | STATUS_RESET;
        this.#output = undefined;
        return;
      default:
        this.#status |= STATUS_COMMAND_FAILED;
    }
  }

  read(count: number): Uint8Array {
    if (this.fault === 'absent') nack('SHT3x absent');
    if (this.#busy()) {
      // With clock stretching the chip holds SCL low until done; the host's I2C timeout fires first.
      if (this.#stretch) throw new SimI2CError('timeout', 'SHT3x stretched SCL beyond the host timeout');
      nack('SHT3x is measuring: read header NACKed');
    }
    if (this.#measureEnd >= 0) {
      this.#measureEnd = -1;
      this.#output = this.#measure();
    }
    const output = this.#output;
    if (!output) nack('SHT3x has no data to send');
    this.#output = undefined; // data is cleared once read out
    const out = new Uint8Array(count);
    out.set(output.subarray(0, Math.min(count, output.length)));
    if (count > output.length) out.fill(0xff, output.length);
    return out;
  }

  #busy(): boolean {
    return this.#measureEnd >= 0 && this.#now() < this.#measureEnd;
  }

  #measure(): Uint8Array {
    this.measurements++;
    if (this.fault === 'range') return this.#words([0xffff, Math.round((this.humidity * 65535) / 100)]);
    const t = this.temperature + (this.heater ? this.heaterRise : 0);
    const st = Math.min(65535, Math.max(0, Math.round(((t + 45) * 65535) / 175)));
    const srh = Math.min(65535, Math.max(0, Math.round((this.humidity * 65535) / 100)));
    return this.#words([st, srh]);
  }

  #words(words: number[]): Uint8Array {
    const out = new Uint8Array(words.length * 3);
    words.forEach((w, i) => {
      out[i * 3] = w >> 8;
      out[i * 3 + 1] = w & 0xff;
      out[i * 3 + 2] = sensirionCrc([w >> 8, w & 0xff]) ^ (this.fault === 'crc' ? 0x5a : 0);
    });
    return out;
  }
}
