// Maxim DS18B20 temperature sensors on a 1-Wire bus: one driver instance per sensor (by ROM
// code), several sharing one bus, scratchpad CRC checked, 9-12 bit resolution with the matching
// conversion time. Commands and timing from the DS18B20 datasheet (19-7487; Tables 1-3, Figure 9).
// Wire the sensor's VDD: parasite power needs a strong pull-up the OneWire port cannot drive.
import type { OneWire, OneWireConstructor } from '../../ports';
import { crc8Maxim } from '../crc';
import { SensorError, hex2 } from '../errors';
import { checkRom, romFromHex, romToHex } from './onewire';
import { ceilMs, checkRange } from '../sensor';
import type { Reading, Sensor } from '../sensor';

/** The first byte of a DS18B20's ROM code. */
export const FAMILY_DS18B20 = 0x28;
const OTHER_FAMILIES: Record<number, string> = { 0x10: 'a DS18S20/DS1820', 0x22: 'a DS1822', 0x3b: 'a MAX31850', 0x42: 'a DS28EA00' };

const READ_ROM = 0x33;
const MATCH_ROM = 0x55;
const SKIP_ROM = 0xcc;
const CONVERT_T = 0x44;
const WRITE_SCRATCHPAD = 0x4e;
const READ_SCRATCHPAD = 0xbe;

export type Resolution = 9 | 10 | 11 | 12;

interface DS18B20SensorOptions {
  /** A OneWire bus already open (shared by several sensors), or the OneWire constructor to open one. */
  io: OneWire | OneWireConstructor;
  /** Data pin, when `io` is a constructor. */
  pin?: number;
  /** ROM code (bytes, or hex as from romToHex). Without it the bus must hold exactly one device. */
  rom?: Uint8Array | string;
}

export interface DS18B20Configuration {
  /** 9, 10, 11 or 12 bits (0.5 to 0.0625 °C); conversions take 94 to 750 ms. Default: as the chip is (12 from the factory). */
  resolution?: Resolution;
}

export interface DS18B20Options {
  sensor: DS18B20SensorOptions;
  configuration?: DS18B20Configuration;
}

export interface DS18B20Reading extends Reading {
  temperature: number;
}

export class DS18B20 implements Sensor<DS18B20Reading> {
  /** The sensor's ROM code, bus order. */
  readonly rom: Uint8Array;
  #bus: OneWire;
  #ownsBus: boolean;
  #resolution: Resolution = 12;
  #alarms = new Uint8Array(2);
  #started = false;

  /**
   * Starts a conversion on every DS18B20 of the bus at once (Skip ROM, Convert T) and marks the
   * given drivers started. Returns the ms to wait: the longest conversion time among them.
   */
  static startAll(bus: OneWire, sensors: DS18B20[]): number {
    if (!bus.reset()) throw new SensorError('absent', 'no 1-Wire device answered the reset: check the data line, its 4.7 kΩ pull-up and power');
    bus.write(Uint8Array.of(SKIP_ROM, CONVERT_T));
    let wait = 0;
    for (const sensor of sensors) {
      sensor.#started = true;
      wait = Math.max(wait, sensor.conversionTime);
    }
    return wait;
  }

  constructor(options: DS18B20Options) {
    const { io, pin, rom } = options?.sensor ?? ({} as DS18B20SensorOptions);
    if (typeof io === 'function') {
      if (!Number.isInteger(pin)) throw new SensorError('config', 'DS18B20: give sensor.pin (the 1-Wire data pin) with a OneWire constructor');
      this.#bus = new io({ pin: pin! });
      this.#ownsBus = true;
    } else if (io && typeof io.reset === 'function') {
      this.#bus = io;
      this.#ownsBus = false;
    } else {
      throw new SensorError('config', 'DS18B20: sensor.io must be a OneWire bus or constructor (platform.oneWire)');
    }
    try {
      const code = rom === undefined ? this.#readRom() : typeof rom === 'string' ? romFromHex(rom) : Uint8Array.from(rom);
      checkRom(code, 'DS18B20 sensor.rom');
      this.rom = code;
      if (code[0] !== FAMILY_DS18B20) throw wrongFamily(code);
      const scratchpad = this.#readScratchpad();
      this.#alarms.set(scratchpad.subarray(2, 4));
      this.#resolution = (((scratchpad[4] >> 5) & 3) + 9) as Resolution;
      this.configure(options.configuration ?? {});
    } catch (error) {
      if (this.#ownsBus) this.#bus.close();
      throw error;
    }
  }

  configure(options: DS18B20Configuration): void {
    const resolution = options.resolution ?? this.#resolution;
    if (![9, 10, 11, 12].includes(resolution)) {
      throw new SensorError('config', `DS18B20: resolution ${JSON.stringify(resolution)} is not supported; use 9, 10, 11 or 12 bits`);
    }
    if (resolution === this.#resolution && options.resolution === undefined) return;
    this.#select();
    // The scratchpad write takes TH, TL and the configuration byte; the alarms are kept as read.
    this.#bus.write(Uint8Array.of(WRITE_SCRATCHPAD, this.#alarms[0], this.#alarms[1], ((resolution - 9) << 5) | 0x1f));
    this.#resolution = resolution;
    this.#started = false;
  }

  get configuration(): Readonly<Required<DS18B20Configuration>> {
    return { resolution: this.#resolution };
  }

  /** Maximum conversion time (Table 2): 93.75 ms at 9 bits, doubling per bit to 750 ms at 12. */
  get conversionTime(): number {
    return ceilMs(93.75 * (1 << (this.#resolution - 9)));
  }

  start(): number {
    this.#select();
    this.#bus.write(Uint8Array.of(CONVERT_T));
    this.#started = true;
    return this.conversionTime;
  }

  sample(): DS18B20Reading {
    if (!this.#started) {
      throw new SensorError('not-ready', `DS18B20 ${romToHex(this.rom)}: call start(), wait conversionTime ms, then sample() (before that it reads its power-on 85 °C)`);
    }
    const scratchpad = this.#readScratchpad();
    this.#started = false;
    const resolution = ((scratchpad[4] >> 5) & 3) + 9;
    // Below 12 bits the low bits of the temperature register are undefined (datasheet Table 1 notes).
    const raw = (((scratchpad[1] << 8) | scratchpad[0]) << 16) >> 16;
    const temperature = (raw & ~((1 << (12 - resolution)) - 1)) / 16;
    const reading: DS18B20Reading = { temperature };
    // Measuring range -55..+125 °C; 127.9 °C (0x07FF) or below -55 °C is no real reading.
    checkRange(reading, 'temperature', temperature, -55, 125);
    return reading;
  }

  close(): void {
    if (this.#ownsBus) this.#bus.close();
  }

  #reset(): void {
    if (!this.#bus.reset()) {
      throw new SensorError('absent', `DS18B20${this.rom ? ' ' + romToHex(this.rom) : ''}: no presence pulse: check the data line, its 4.7 kΩ pull-up and power`);
    }
  }

  #select(): void {
    this.#reset();
    const command = new Uint8Array(9);
    command[0] = MATCH_ROM;
    command.set(this.rom, 1);
    this.#bus.write(command);
  }

  #readRom(): Uint8Array {
    this.#reset();
    this.#bus.write(Uint8Array.of(READ_ROM));
    const rom = this.#bus.read(8);
    try {
      checkRom(rom, 'DS18B20 Read ROM');
    } catch (error) {
      if ((error as SensorError).code === 'crc') {
        throw new SensorError(
          'crc',
          `${(error as Error).message}; with several devices on the bus, Read ROM collides: pass sensor.rom (find them with searchRoms)`,
          { cause: error },
        );
      }
      throw error;
    }
    return rom;
  }

  #readScratchpad(): Uint8Array {
    this.#select();
    this.#bus.write(Uint8Array.of(READ_SCRATCHPAD));
    const data = this.#bus.read(9);
    const who = `DS18B20 ${romToHex(this.rom)}`;
    if (data.every((b) => b === 0xff)) {
      throw new SensorError('absent', `${who} did not answer (scratchpad reads all 1s): is this ROM on this bus?`);
    }
    if (data.every((b) => b === 0)) {
      throw new SensorError('bus', `${who}: scratchpad reads all 0s: the 1-Wire line is held low (short, or a device stuck)`);
    }
    const crc = crc8Maxim(data, 0, 8);
    if (crc !== data[8]) {
      throw new SensorError('crc', `${who}: scratchpad CRC ${hex2(data[8])} should be ${hex2(crc)}: noise on the line (long cable? try a stronger pull-up)`);
    }
    return data;
  }
}

function wrongFamily(rom: Uint8Array): SensorError {
  const family = rom[0];
  return new SensorError(
    'wrong-chip',
    `1-Wire ROM ${romToHex(rom)} has family code ${hex2(family)}, ${OTHER_FAMILIES[family] ?? 'not a DS18B20'}; this driver needs family 0x28`,
  );
}
