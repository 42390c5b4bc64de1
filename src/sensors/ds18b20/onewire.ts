// 1-Wire ROM search (Maxim application note 187) on the bit operations of the OneWire port, and
// ROM codes: 8 bytes in bus order (family code, 48-bit serial LSB first, CRC-8/Maxim).
import type { OneWire } from '../../ports';
import { crc8Maxim } from '../crc';
import { SensorError, hex2 } from '../errors';

const SEARCH_ROM = 0xf0;
const ALARM_SEARCH = 0xec;

export interface SearchOptions {
  /** Most devices to return (default 64): bounds the search on a bus that misbehaves. */
  limit?: number;
  /** Only devices whose alarm flag is set (Alarm Search, 0xEC). */
  alarms?: boolean;
}

/**
 * Every ROM code on the bus, in search order. An empty list when nothing answers the reset.
 * Throws SensorError: 'crc' for a ROM code that fails its CRC, 'bus' when the line is held low or
 * devices come and go during the search.
 */
export function searchRoms(bus: OneWire, options: SearchOptions = {}): Uint8Array[] {
  const limit = options.limit ?? 64;
  const found: Uint8Array[] = [];
  const rom = new Uint8Array(8);
  let lastDiscrepancy = 0;
  while (found.length < limit) {
    if (!bus.reset()) {
      if (found.length === 0) return found;
      throw new SensorError('bus', `1-Wire devices stopped answering during the ROM search (after ${found.length} found): check the wiring and pull-up`);
    }
    bus.write(Uint8Array.of(options.alarms ? ALARM_SEARCH : SEARCH_ROM));
    let lastZero = 0;
    for (let bitNumber = 1; bitNumber <= 64; bitNumber++) {
      const byte = (bitNumber - 1) >> 3;
      const mask = 1 << ((bitNumber - 1) & 7);
      const idBit = bus.readBit();
      const complement = bus.readBit();
      let direction: 0 | 1;
      if (idBit && complement) {
        // Nobody drove the line: no device (left) in the search.
        if (found.length === 0 && bitNumber === 1) return found;
        throw new SensorError('bus', `1-Wire ROM search lost every device at bit ${bitNumber}: a device left the bus or the line is noisy`);
      } else if (idBit !== complement) {
        direction = idBit;
      } else {
        // Discrepancy: devices differ here. Take the branch the previous pass did not finish.
        direction = bitNumber < lastDiscrepancy ? ((rom[byte] & mask ? 1 : 0) as 0 | 1) : bitNumber === lastDiscrepancy ? 1 : 0;
        if (direction === 0) lastZero = bitNumber;
      }
      if (direction) rom[byte] |= mask;
      else rom[byte] &= ~mask;
      bus.writeBit(direction);
    }
    checkRom(rom, 'ROM search');
    found.push(Uint8Array.from(rom));
    lastDiscrepancy = lastZero;
    if (lastDiscrepancy === 0) break;
  }
  return found;
}

/** Throws SensorError unless `rom` is 8 bytes with a valid CRC and a device behind it could exist. */
export function checkRom(rom: Uint8Array, where: string): void {
  if (!(rom instanceof Uint8Array) || rom.length !== 8) {
    throw new SensorError('config', `${where}: a 1-Wire ROM code is 8 bytes, e.g. "28ff641d8d160335"`);
  }
  if (rom.every((b) => b === 0)) {
    throw new SensorError('bus', `${where}: ROM code of all zeros: the 1-Wire line is held low (short, or a device stuck)`);
  }
  const crc = crc8Maxim(rom, 0, 7);
  if (crc !== rom[7]) {
    throw new SensorError('crc', `${where}: ROM ${romToHex(rom)} has CRC ${hex2(rom[7])}, expected ${hex2(crc)}: noise on the 1-Wire line or a mistyped ROM`);
  }
}

/** Hex text of a ROM code in bus order, family code first: "28ff641d8d160335". */
export function romToHex(rom: Uint8Array): string {
  let text = '';
  for (const b of rom) text += b.toString(16).padStart(2, '0');
  return text;
}

/** Parses romToHex's form (separators ':' '-' ' ' allowed) and checks the CRC. */
export function romFromHex(text: string): Uint8Array {
  const clean = String(text).replace(/[\s:-]/g, '');
  if (!/^[0-9a-fA-F]{16}$/.test(clean)) {
    throw new SensorError('config', `"${text}" is not a 1-Wire ROM code: expected 16 hex digits, family code first, e.g. "28ff641d8d160335"`);
  }
  const rom = new Uint8Array(8);
  for (let i = 0; i < 8; i++) rom[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  checkRom(rom, `ROM "${text}"`);
  return rom;
}
