// A DS18B20 at 1-Wire time-slot level: ROM commands (Read, Match, Skip, Search, Alarm Search),
// function commands (Convert T, Read/Write/Copy Scratchpad, Recall E2, Read Power Supply),
// resolution-dependent conversion time, power-on 85 °C, undefined low bits, CRC-8/Maxim.
import { maximCrc } from './crc';
import type { SimOneWireDevice } from './onewire-bus';

export type SimDS18B20Fault =
  /** No presence pulse, never drives the line (unplugged). */
  | 'absent'
  /** The scratchpad CRC byte is wrong (noise on a long cable). */
  | 'crc'
  /** Conversions store 0x07FF (+127.94 °C), which no working DS18B20 reports. */
  | 'range';

export interface SimDS18B20Options {
  now: () => number;
  /** 48-bit serial number; give each simulated sensor its own. */
  serial: number;
  /** Family code (default 0x28). Other codes model other parts, e.g. 0x10 for a DS18S20. */
  family?: number;
}

/** A ROM code with a valid CRC: family, 48-bit serial LSB first, CRC-8/Maxim. */
export function makeRom(family: number, serial: number): Uint8Array {
  const rom = new Uint8Array(8);
  rom[0] = family;
  let s = serial;
  for (let i = 1; i <= 6; i++) {
    rom[i] = s % 256;
    s = Math.floor(s / 256);
  }
  rom[7] = maximCrc(rom.subarray(0, 7));
  return rom;
}

/** Maximum conversion times (datasheet Table 2) by resolution 9..12 bits. */
const CONVERSION_MS = [93.75, 187.5, 375, 750];

type State =
  | { kind: 'idle' }
  | { kind: 'receive'; bits: number; bytes: Uint8Array; then: (bytes: Uint8Array) => void }
  | { kind: 'send'; bits: number[]; at: number }
  | { kind: 'search'; bit: number; phase: 0 | 1 | 2 }
  | { kind: 'busy'; until: number };

export class SimDS18B20 implements SimOneWireDevice {
  readonly rom: Uint8Array;
  /** °C at the sensor. */
  temperature = 25;
  fault: SimDS18B20Fault | undefined;
  /** Below 12 bits the low bits of the temperature register are undefined; this chip sets them to 1. */
  undefinedBits: 0 | 1 = 1;
  conversions = 0;

  readonly #now: () => number;
  /** Bytes 0..7 (byte 8, the CRC, is computed on read). Power-on: +85 °C, TH/TL from EEPROM, 12 bits. */
  #scratchpad = Uint8Array.of(0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10);
  #eeprom = Uint8Array.of(0x4b, 0x46, 0x7f);
  #state: State = { kind: 'idle' };
  #conversionEnd = -1;

  constructor(options: SimDS18B20Options) {
    this.#now = options.now;
    this.rom = makeRom(options.family ?? 0x28, options.serial);
  }

  get resolution(): number {
    return ((this.#scratchpad[4] >> 5) & 3) + 9;
  }

  /** The raw scratchpad as the chip would send it now, CRC included. */
  scratchpad(): Uint8Array {
    this.#sync();
    const out = new Uint8Array(9);
    out.set(this.#scratchpad);
    out[8] = maximCrc(this.#scratchpad) ^ (this.fault === 'crc' ? 0xa5 : 0);
    return out;
  }

  resetPulse(): boolean {
    if (this.fault === 'absent') return false;
    this.#sync();
    this.#receive(1, (command) => this.#romCommand(command[0]));
    return true;
  }

  drive(): 0 | 1 {
    if (this.fault === 'absent') return 1;
    const s = this.#state;
    if (s.kind === 'send') return s.at < s.bits.length ? (s.bits[s.at] as 0 | 1) : 1;
    if (s.kind === 'search') {
      const bit = (this.rom[s.bit >> 3] >> (s.bit & 7)) & 1;
      return s.phase === 0 ? (bit as 0 | 1) : s.phase === 1 ? ((bit ^ 1) as 0 | 1) : 1;
    }
    // While converting (or copying) the chip answers read slots with 0, then with 1 (Figure 9 note).
    if (s.kind === 'busy') return this.#now() < s.until ? 0 : 1;
    return 1;
  }

  sample(line: 0 | 1): void {
    if (this.fault === 'absent') return;
    const s = this.#state;
    if (s.kind === 'receive') {
      s.bytes[s.bits >> 3] |= line << (s.bits & 7);
      if (++s.bits === s.bytes.length * 8) s.then(s.bytes);
    } else if (s.kind === 'send') {
      s.at++;
    } else if (s.kind === 'search') {
      if (s.phase < 2) s.phase++;
      else {
        const bit = (this.rom[s.bit >> 3] >> (s.bit & 7)) & 1;
        if (line !== bit) this.#state = { kind: 'idle' };
        else if (++s.bit === 64) this.#receive(1, (command) => this.#functionCommand(command[0]));
        else s.phase = 0;
      }
    }
  }

  #receive(count: number, then: (bytes: Uint8Array) => void): void {
    this.#state = { kind: 'receive', bits: 0, bytes: new Uint8Array(count), then };
  }

  #send(bytes: ArrayLike<number>): void {
    const bits: number[] = [];
    for (let i = 0; i < bytes.length; i++) for (let b = 0; b < 8; b++) bits.push((bytes[i] >> b) & 1);
    this.#state = { kind: 'send', bits, at: 0 };
  }

  #romCommand(command: number): void {
    const selected = () => this.#receive(1, (c) => this.#functionCommand(c[0]));
    switch (command) {
      case 0x33: // Read ROM
        this.#send(this.rom);
        return;
      case 0x55: // Match ROM
        this.#receive(8, (rom) => {
          if (rom.every((b, i) => b === this.rom[i])) selected();
          else this.#state = { kind: 'idle' };
        });
        return;
      case 0xcc: // Skip ROM
        selected();
        return;
      case 0xf0: // Search ROM
        this.#state = { kind: 'search', bit: 0, phase: 0 };
        return;
      case 0xec: // Alarm Search: only with the alarm flag set
        this.#state = this.#alarm() ? { kind: 'search', bit: 0, phase: 0 } : { kind: 'idle' };
        return;
      default:
        this.#state = { kind: 'idle' };
    }
  }

  #functionCommand(command: number): void {
    switch (command) {
      case 0x44: // Convert T
        if (this.#conversionEnd < 0) this.#conversionEnd = this.#now() + CONVERSION_MS[this.resolution - 9];
        this.#state = { kind: 'busy', until: this.#conversionEnd };
        return;
      case 0xbe: // Read Scratchpad: the data as it is now (a running conversion has not updated it yet)
        this.#send(this.scratchpad());
        return;
      case 0x4e: // Write Scratchpad: TH, TL, configuration (only R1 R0 are writable)
        this.#receive(3, (data) => {
          this.#scratchpad[2] = data[0];
          this.#scratchpad[3] = data[1];
          this.#scratchpad[4] = (data[2] & 0x60) | 0x1f;
          this.#state = { kind: 'idle' };
        });
        return;
      case 0x48: // Copy Scratchpad to EEPROM (10 ms)
        this.#eeprom.set(this.#scratchpad.subarray(2, 5));
        this.#state = { kind: 'busy', until: this.#now() + 10 };
        return;
      case 0xb8: // Recall E2
        this.#scratchpad.set(this.#eeprom, 2);
        this.#state = { kind: 'busy', until: this.#now() };
        return;
      case 0xb4: // Read Power Supply: externally powered devices answer 1
        this.#send([0xff]);
        return;
      default:
        this.#state = { kind: 'idle' };
    }
  }

  #alarm(): boolean {
    const t = ((((this.#scratchpad[1] << 8) | this.#scratchpad[0]) << 16) >> 16) / 16;
    const th = (this.#scratchpad[2] << 24) >> 24;
    const tl = (this.#scratchpad[3] << 24) >> 24;
    return t >= th || t <= tl;
  }

  /** Finishes a conversion whose time has come: the temperature register takes the new value. */
  #sync(): void {
    if (this.#conversionEnd < 0 || this.#now() < this.#conversionEnd) return;
    this.#conversionEnd = -1;
    this.conversions++;
    let raw: number;
    if (this.fault === 'range') raw = 0x07ff;
    else {
      const undefinedLow = 12 - this.resolution;
      const t = Math.min(125, Math.max(-55, this.temperature));
      raw = Math.round((t * 16) / 2 ** undefinedLow) * 2 ** undefinedLow;
      if (this.undefinedBits) raw |= 2 ** undefinedLow - 1;
    }
    this.#scratchpad[0] = raw & 0xff;
    this.#scratchpad[1] = (raw >> 8) & 0xff;
  }
}
