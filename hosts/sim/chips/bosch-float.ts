// The Bosch datasheets' floating-point compensation formulas (BST-BME280-DS002 appendix 8.1,
// BST-BMP280-DS001 8.1), and their inverses. The simulated chip uses the inverses to turn physical
// values into raw ADC counts; tests use the forward formulas as expectations computed independently
// of the driver's integer code.

export interface SimBoschCalibration {
  T1: number; T2: number; T3: number;
  P1: number; P2: number; P3: number; P4: number; P5: number; P6: number; P7: number; P8: number; P9: number;
  H1: number; H2: number; H3: number; H4: number; H5: number; H6: number;
}

/**
 * Temperature and pressure words of the worked example in the BMP280 datasheet (section 3.12 of
 * BST-BMP280-DS001-11); the humidity words are those of a production BME280.
 */
export const DATASHEET_CALIBRATION: SimBoschCalibration = {
  T1: 27504, T2: 26435, T3: -1000,
  P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
  H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30,
};

/** Returns [temperature °C, t_fine]. */
export function temperatureDouble(adcT: number, c: SimBoschCalibration): [number, number] {
  const var1 = (adcT / 16384.0 - c.T1 / 1024.0) * c.T2;
  const x = adcT / 131072.0 - c.T1 / 8192.0;
  const var2 = x * x * c.T3;
  return [(var1 + var2) / 5120.0, Math.trunc(var1 + var2)];
}

export function pressureDouble(adcP: number, tFine: number, c: SimBoschCalibration): number {
  let var1 = tFine / 2.0 - 64000.0;
  let var2 = (var1 * var1 * c.P6) / 32768.0;
  var2 = var2 + var1 * c.P5 * 2.0;
  var2 = var2 / 4.0 + c.P4 * 65536.0;
  var1 = ((c.P3 * var1 * var1) / 524288.0 + c.P2 * var1) / 524288.0;
  var1 = (1.0 + var1 / 32768.0) * c.P1;
  if (var1 === 0) return 0;
  let p = 1048576.0 - adcP;
  p = ((p - var2 / 4096.0) * 6250.0) / var1;
  var1 = (c.P9 * p * p) / 2147483648.0;
  var2 = (p * c.P8) / 32768.0;
  return p + (var1 + var2 + c.P7) / 16.0;
}

/** Relative humidity in %, before the datasheet's clamp to 0..100 when `clamp` is false. */
export function humidityDouble(adcH: number, tFine: number, c: SimBoschCalibration, clamp = true): number {
  let h = tFine - 76800.0;
  h = (adcH - (c.H4 * 64.0 + (c.H5 / 16384.0) * h)) * ((c.H2 / 65536.0) * (1.0 + (c.H6 / 67108864.0) * h * (1.0 + (c.H3 / 67108864.0) * h)));
  h = h * (1.0 - (c.H1 * h) / 524288.0);
  if (!clamp) return h;
  return h > 100 ? 100 : h < 0 ? 0 : h;
}

/** The real x in [lo, hi] where the monotonic f crosses target (bisection; f may rise or fall). */
function invert(f: (x: number) => number, target: number, lo: number, hi: number): number {
  const rising = f(hi) > f(lo);
  for (let i = 0; i < 64; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target === rising) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The root of a·x² + b·x + c = 0 nearest to the linear solution -c/b (the branch a compensation
 * formula's small quadratic term bends), computed without cancellation; NaN when there is none.
 */
function nearRoot(a: number, b: number, c: number): number {
  if (a === 0) return -c / b;
  const d = b * b - 4 * a * c;
  if (d < 0) return NaN;
  const q = -0.5 * (b + (b < 0 ? -1 : 1) * Math.sqrt(d));
  return c / q;
}

/**
 * The count the forward formula maps to `target`, solved in closed form (each formula is a quadratic in
 * a linear function of its count) and checked against the formula; where that does not hold (a value
 * beyond the ADC's span), what bisection over the span converges to.
 */
function solved(count: number, hi: number, f: (x: number) => number, target: number): number {
  if (count >= 0 && count <= hi && Math.abs(f(count) - target) <= 1e-6 * Math.max(1, Math.abs(target))) return count;
  return invert(f, clampedTarget(target, f, hi), 0, hi);
}

/** adc_T whose temperature is `celsius`: 5120·T = 8·T2·x + T3·x², x = adc_T/131072 - T1/8192. */
function adcTFor(celsius: number, c: SimBoschCalibration): number {
  const x = nearRoot(c.T3, 8 * c.T2, -5120 * celsius);
  return solved(131072 * (x + c.T1 / 8192), 0xfffff, (v) => temperatureDouble(v, c)[0], celsius);
}

/** The target, or the formula's value at the end of the count's span it lies beyond (what bisection converges to). */
function clampedTarget(target: number, f: (x: number) => number, hi: number): number {
  const a = f(0);
  const b = f(hi);
  const lo = Math.min(a, b);
  const up = Math.max(a, b);
  return target < lo ? lo : target > up ? up : target;
}

/** adc_P whose pressure is `pascal` at t_fine (the datasheet's double-precision formula, backwards). */
function adcPFor(pascal: number, tFine: number, c: SimBoschCalibration): number {
  let var1 = tFine / 2.0 - 64000.0;
  let var2 = (var1 * var1 * c.P6) / 32768.0;
  var2 = var2 + var1 * c.P5 * 2.0;
  var2 = var2 / 4.0 + c.P4 * 65536.0;
  var1 = ((c.P3 * var1 * var1) / 524288.0 + c.P2 * var1) / 524288.0;
  var1 = (1.0 + var1 / 32768.0) * c.P1;
  const f = (x: number) => pressureDouble(x, tFine, c);
  if (var1 === 0) return invert(f, pascal, 0, 0xfffff);
  // P = p + (P9·p²/2^31 + P8·p/2^15 + P7)/16, p = ((1048576 - adc) - var2/4096)·6250/var1
  const p = nearRoot(c.P9 / 2 ** 35, 1 + c.P8 / 2 ** 19, c.P7 / 16 - pascal);
  return solved(1048576 - ((p * var1) / 6250 + var2 / 4096), 0xfffff, f, pascal);
}

/** adc_H whose relative humidity (unclamped) is `percent` at t_fine. */
function adcHFor(percent: number, tFine: number, c: SimBoschCalibration): number {
  const f = (x: number) => humidityDouble(x, tFine, c, false);
  const h0 = tFine - 76800.0;
  const offset = c.H4 * 64.0 + (c.H5 / 16384.0) * h0;
  const gain = (c.H2 / 65536.0) * (1.0 + (c.H6 / 67108864.0) * h0 * (1.0 + (c.H3 / 67108864.0) * h0));
  // H = h·(1 - H1·h/524288), h = (adc - offset)·gain
  const h = nearRoot(-c.H1 / 524288.0, 1, -percent);
  return solved(h / gain + offset, 0xffff, f, percent);
}

/**
 * Raw counts a perfect chip reads for these physical values, unquantized and clamped to the ADC span.
 * `quantizeT` is the chip's temperature ADC: pressure and humidity are compensated with the t_fine
 * of the temperature count the chip actually reports. Solved in closed form (a fleet of simulated
 * chips converts thousands of times a second); bisection where the closed form does not hold.
 */
export function rawFromPhysical(
  physical: { temperature: number; pressure: number; humidity: number },
  c: SimBoschCalibration,
  quantizeT: (adcT: number) => number = (x) => x,
): { adcT: number; adcP: number; adcH: number } {
  const adcT = quantizeT(adcTFor(physical.temperature, c));
  const tFine = temperatureDouble(adcT, c)[1];
  const adcP = adcPFor(physical.pressure, tFine, c);
  const adcH = adcHFor(physical.humidity, tFine, c);
  return { adcT, adcP, adcH };
}
