// The chips' CRC-8s, written as the generic parametrised model (width 8, poly, init, refin/refout)
// so the simulated chips do not share code with the drivers they check.

function reflect8(value: number): number {
  let out = 0;
  for (let i = 0; i < 8; i++) if (value & (1 << i)) out |= 0x80 >> i;
  return out;
}

function crc8(bytes: ArrayLike<number>, poly: number, init: number, reflected: boolean): number {
  let crc = init;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= reflected ? reflect8(bytes[i]) : bytes[i];
    for (let bit = 0; bit < 8; bit++) crc = (crc << 1) ^ (crc & 0x80 ? poly : 0);
    crc &= 0xff;
  }
  return reflected ? reflect8(crc) : crc;
}

/** Sensirion: poly 0x31, init 0xFF, not reflected. */
export const sensirionCrc = (bytes: ArrayLike<number>) => crc8(bytes, 0x31, 0xff, false);

/** Maxim 1-Wire: poly 0x31 reflected (x^8+x^5+x^4+1), init 0. */
export const maximCrc = (bytes: ArrayLike<number>) => crc8(bytes, 0x31, 0x00, true);
