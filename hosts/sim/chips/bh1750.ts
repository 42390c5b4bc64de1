// A BH1750FVI at opcode level: power states, one-time and continuous modes with the datasheet's
// measurement times scaled by MTreg, the data register (0 after power-on and reset, stale until a
// measurement completes), saturation at 0xFFFF.
import { nack } from './i2c-bus';
import type { SimI2CDevice } from './i2c-bus';

export type SimBH1750Fault = 'absent' | /** the data register reads 0xFFFF (saturated) */ 'range';

export interface SimBH1750Options {
  now: () => number;
  address?: number;
  timing?: 'max' | 'typical';
}

type Mode = 'high' | 'high2' | 'low';
const OPCODES: Record<number, { mode: Mode; continuous: boolean }> = {
  0x10: { mode: 'high', continuous: true },
  0x11: { mode: 'high2', continuous: true },
  0x13: { mode: 'low', continuous: true },
  0x20: { mode: 'high', continuous: false },
  0x21: { mode: 'high2', continuous: false },
  0x23: { mode: 'low', continuous: false },
};
const TIME_MAX: Record<Mode, number> = { high: 180, high2: 180, low: 24 };
const TIME_TYPICAL: Record<Mode, number> = { high: 120, high2: 120, low: 16 };

export class SimBH1750 implements SimI2CDevice {
  readonly address: number;
  /** lux at the sensor */
  illuminance = 100;
  fault: SimBH1750Fault | undefined;
  measurements = 0;

  readonly #now: () => number;
  readonly #timing: 'max' | 'typical';
  #powered = false;
  #mtreg = 69;
  #data = 0;
  #measurement: { mode: Mode; continuous: boolean; start: number; mtreg: number; done: number } | undefined;

  constructor(options: SimBH1750Options) {
    this.#now = options.now;
    this.address = options.address ?? 0x23;
    this.#timing = options.timing ?? 'max';
  }

  get powered(): boolean {
    this.#sync();
    return this.#powered;
  }

  get mtreg(): number {
    return this.#mtreg;
  }

  write(bytes: Uint8Array): void {
    if (this.fault === 'absent') nack('BH1750 absent');
    this.#sync();
    for (const opcode of bytes) this.#execute(opcode);
  }

  read(count: number): Uint8Array {
    if (this.fault === 'absent') nack('BH1750 absent');
    this.#sync();
    const data = this.fault === 'range' ? 0xffff : this.#data;
    const out = new Uint8Array(count).fill(0xff);
    out.set([data >> 8, data & 0xff].slice(0, count));
    return out;
  }

  #execute(opcode: number): void {
    if (opcode === 0x00) {
      this.#powered = false;
      this.#measurement = undefined;
    } else if (opcode === 0x01) {
      this.#powered = true;
    } else if (opcode === 0x07) {
      if (this.#powered) this.#data = 0; // "not working in power down mode"
    } else if ((opcode & 0xf8) === 0x40) {
      this.#mtreg = ((opcode & 0x07) << 5) | (this.#mtreg & 0x1f);
    } else if ((opcode & 0xe0) === 0x60) {
      this.#mtreg = (this.#mtreg & 0xe0) | (opcode & 0x1f);
    } else if (OPCODES[opcode]) {
      this.#powered = true;
      this.#measurement = { ...OPCODES[opcode], start: this.#now(), mtreg: this.#mtreg, done: 0 };
    }
  }

  #duration(mode: Mode, mtreg: number): number {
    return ((this.#timing === 'max' ? TIME_MAX : TIME_TYPICAL)[mode] * mtreg) / 69;
  }

  #sync(): void {
    const m = this.#measurement;
    if (!m) return;
    const period = this.#duration(m.mode, m.mtreg);
    const completed = Math.floor((this.#now() - m.start) / period);
    if (completed <= m.done) return;
    m.done = m.continuous ? completed : 1;
    this.measurements++;
    const count = this.illuminance * 1.2 * (m.mtreg / 69) * (m.mode === 'high2' ? 2 : 1);
    this.#data = Math.min(0xffff, Math.max(0, Math.floor(count)));
    if (!m.continuous) {
      this.#measurement = undefined;
      this.#powered = false; // one-time modes power down after the measurement
    }
  }
}
