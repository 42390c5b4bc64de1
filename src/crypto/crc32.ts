// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, as zlib and ESP-IDF's otadata use), bitwise:
// no 1 KB table in RAM for the few hundred bytes it checks.

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i];
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
