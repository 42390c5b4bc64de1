// Bosch BME280/BMP280 compensation in integer arithmetic, as given in the datasheets
// (BST-BME280-DS002 section 4.2.3; BST-BMP280-DS001 section 3.11.3): 32-bit temperature and
// humidity, 64-bit pressure. Math.imul, `| 0` and `>>` reproduce C's int32 arithmetic and BigInt
// its int64 arithmetic exactly, so results match the datasheet's reference code bit for bit.

export interface BoschCalibration {
  T1: number; T2: number; T3: number;
  P1: number; P2: number; P3: number; P4: number; P5: number; P6: number; P7: number; P8: number; P9: number;
  /** Humidity words; absent on a BMP280. */
  H?: { H1: number; H2: number; H3: number; H4: number; H5: number; H6: number };
}

const u16 = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const s16 = (b: Uint8Array, i: number) => (u16(b, i) << 16) >> 16;

/** Decodes calib00..calib25 (registers 0x88..0xA1, 26 bytes) and, for a BME280, calib26..32 (0xE1..0xE7). */
export const parseCalibration = (tp: Uint8Array, h?: Uint8Array): BoschCalibration => {
  // one literal with H in it (undefined for a BMP280): V8 keeps a property added later in a second array
  return {
    T1: u16(tp, 0), T2: s16(tp, 2), T3: s16(tp, 4),
    P1: u16(tp, 6), P2: s16(tp, 8), P3: s16(tp, 10), P4: s16(tp, 12), P5: s16(tp, 14),
    P6: s16(tp, 16), P7: s16(tp, 18), P8: s16(tp, 20), P9: s16(tp, 22),
    H: h
      ? {
          H1: tp[25],
          H2: s16(h, 0),
          H3: h[2],
          // dig_H4 = 0xE4[7:0] / 0xE5[3:0] and dig_H5 = 0xE5[7:4] / 0xE6[7:0]: signed 12-bit values.
          H4: (((h[3] << 24) >> 20) | (h[4] & 0x0f)),
          H5: (((h[5] << 24) >> 20) | (h[4] >> 4)),
          H6: (h[6] << 24) >> 24,
        }
      : undefined,
  };
};

/** Fine temperature (t_fine), the input of the pressure and humidity formulas. */
export const fineTemperature = (adcT: number, c: BoschCalibration): number => {
  const var1 = Math.imul((adcT >> 3) - (c.T1 << 1), c.T2) >> 11;
  const d = (adcT >> 4) - c.T1;
  const var2 = Math.imul(Math.imul(d, d) >> 12, c.T3) >> 14;
  return (var1 + var2) | 0;
};

/** Temperature in 0.01 °C ("5123" is 51.23 °C). */
export const compensateTemperature = (tFine: number): number => {
  return (Math.imul(tFine, 5) + 128) >> 8;
};

/**
 * Pressure in Q24.8 Pa ("24674867" is 24674867/256 = 96386.2 Pa), or 0 where the datasheet code
 * avoids a division by zero. This is the datasheet's 64-bit formula (the 32-bit one is off by
 * several Pa): BigInt keeps every intermediate exact, and runs on XS.
 */
export const compensatePressure = (adcP: number, tFine: number, c: BoschCalibration): number => {
  let var1 = BigInt(tFine) - 128000n;
  let var2 = var1 * var1 * BigInt(c.P6);
  var2 = var2 + ((var1 * BigInt(c.P5)) << 17n);
  var2 = var2 + (BigInt(c.P4) << 35n);
  var1 = ((var1 * var1 * BigInt(c.P3)) >> 8n) + ((var1 * BigInt(c.P2)) << 12n);
  var1 = (((1n << 47n) + var1) * BigInt(c.P1)) >> 33n;
  if (var1 === 0n) return 0;
  let p = 1048576n - BigInt(adcP);
  p = (((p << 31n) - var2) * 3125n) / var1;
  var1 = (BigInt(c.P9) * (p >> 13n) * (p >> 13n)) >> 25n;
  var2 = (BigInt(c.P8) * p) >> 19n;
  p = ((p + var1 + var2) >> 8n) + (BigInt(c.P7) << 4n);
  return Number(BigInt.asUintN(32, p));
};

/** Relative humidity in Q22.10 %RH ("47445" is 47445/1024 = 46.333 %RH), clamped to 0..100 %. */
export const compensateHumidity = (adcH: number, tFine: number, h: NonNullable<BoschCalibration['H']>): number => {
  let v = (tFine - 76800) | 0;
  const a = ((((adcH << 14) - (h.H4 << 20) - Math.imul(h.H5, v)) | 0) + 16384) >> 15;
  const b = (Math.imul(v, h.H6) >> 10) | 0;
  const c = ((Math.imul(v, h.H3) >> 11) + 32768) | 0;
  const d = (((Math.imul(b, c) >> 10) + 2097152) | 0);
  v = Math.imul(a, (Math.imul(d, h.H2) + 8192) >> 14);
  const e = Math.imul(v >> 15, v >> 15) >> 7;
  v = (v - (Math.imul(e, h.H1) >> 4)) | 0;
  if (v < 0) v = 0;
  if (v > 419430400) v = 419430400;
  return v >>> 12;
};
