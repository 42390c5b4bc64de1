// The two CRC-8 variants our sensors use, bitwise (no table: saves 256 bytes of RAM per variant).

/** Sensirion CRC-8: polynomial 0x31 (x^8+x^5+x^4+1), init 0xFF, no reflection, no final XOR. */
export const crc8Sensirion = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  let crc = 0xff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i];
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
};

/** Maxim/Dallas 1-Wire CRC-8: polynomial x^8+x^5+x^4+1 reflected (0x8C), init 0, LSB first. */
export const crc8Maxim = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i];
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x8c : crc >>> 1;
  }
  return crc;
};
