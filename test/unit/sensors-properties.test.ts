// Property tests for the sensor drivers: random inputs against independent implementations (the
// simulated chips' CRCs, the datasheets' floating-point formulas) and random round trips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnalogSensor } from '../../src/sensors/analog/analog';
import { BH1750 } from '../../src/sensors/bh1750/bh1750';
import { BME280 } from '../../src/sensors/bme280/bme280';
import { compensateHumidity, compensatePressure, compensateTemperature, fineTemperature, parseCalibration } from '../../src/sensors/bme280/compensation';
import { crc8Maxim, crc8Sensirion } from '../../src/sensors/crc';
import { DS18B20 } from '../../src/sensors/ds18b20/ds18b20';
import { romToHex, searchRoms } from '../../src/sensors/ds18b20/onewire';
import { SHT3x } from '../../src/sensors/sht3x/sht3x';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import {
  DATASHEET_CALIBRATION,
  SimAnalogPins,
  SimBH1750,
  SimBME280,
  SimDS18B20,
  SimI2CBus,
  SimOneWireBus,
  SimSHT3x,
  humidityDouble,
  maximCrc,
  pressureDouble,
  sensirionCrc,
  temperatureDouble,
} from '../../hosts/sim/chips/index';
import type { SimBoschCalibration } from '../../hosts/sim/chips/index';

/** A second, production-like calibration set (signs differ from the datasheet's in P4, P5, T3). */
const OTHER_CALIBRATION: SimBoschCalibration = {
  T1: 28485, T2: 26735, T3: 50,
  P1: 36738, P2: -10635, P3: 3024, P4: 6957, P5: -4, P6: -7, P7: 9900, P8: -10230, P9: 4285,
  H1: 75, H2: 356, H3: 0, H4: 333, H5: 0, H6: 30,
};
const CALIBRATIONS = [DATASHEET_CALIBRATION, OTHER_CALIBRATION];

/** Registers 0x88..0xA1 and 0xE1..0xE7 for a calibration set, encoded from the datasheet's Table 16. */
function encode(c: SimBoschCalibration): { tp: Uint8Array; h: Uint8Array } {
  const tp = new Uint8Array(26);
  const view = new DataView(tp.buffer);
  [c.T1, c.T2, c.T3, c.P1, c.P2, c.P3, c.P4, c.P5, c.P6, c.P7, c.P8, c.P9].forEach((w, i) => view.setUint16(2 * i, w & 0xffff, true));
  tp[25] = c.H1;
  const h = new Uint8Array(7);
  new DataView(h.buffer).setInt16(0, c.H2, true);
  h[2] = c.H3;
  h[3] = (c.H4 >> 4) & 0xff;
  h[4] = (c.H4 & 0x0f) | ((c.H5 & 0x0f) << 4);
  h[5] = (c.H5 >> 4) & 0xff;
  h[6] = c.H6 & 0xff;
  return { tp, h };
}

const bytes = fc.uint8Array({ maxLength: 64 });

describe('sensor CRCs', () => {
  it('the drivers’ bitwise CRCs equal the simulated chips’ parametrised ones', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        expect(crc8Sensirion(data)).toBe(sensirionCrc(data));
        expect(crc8Maxim(data)).toBe(maximCrc(data));
      }),
    );
  });

  it('data followed by its CRC leaves no remainder', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        expect(crc8Maxim(Uint8Array.of(...data, crc8Maxim(data)))).toBe(0);
        // No final XOR: whatever the initial value, the CRC register ends at 0 after its own CRC.
        expect(crc8Sensirion(Uint8Array.of(...data, crc8Sensirion(data)))).toBe(0);
      }),
    );
  });

  it('any single flipped bit changes both CRCs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat(), (data, at) => {
        const bit = at % (data.length * 8);
        const flipped = Uint8Array.from(data);
        flipped[bit >> 3] ^= 1 << (bit & 7);
        expect(crc8Sensirion(flipped)).not.toBe(crc8Sensirion(data));
        expect(crc8Maxim(flipped)).not.toBe(crc8Maxim(data));
      }),
    );
  });
});

describe('BME280 compensation', () => {
  const words = fc.record({
    T1: fc.integer({ min: 0, max: 0xffff }), T2: fc.integer({ min: -32768, max: 32767 }), T3: fc.integer({ min: -32768, max: 32767 }),
    P1: fc.integer({ min: 0, max: 0xffff }), P2: fc.integer({ min: -32768, max: 32767 }), P3: fc.integer({ min: -32768, max: 32767 }),
    P4: fc.integer({ min: -32768, max: 32767 }), P5: fc.integer({ min: -32768, max: 32767 }), P6: fc.integer({ min: -32768, max: 32767 }),
    P7: fc.integer({ min: -32768, max: 32767 }), P8: fc.integer({ min: -32768, max: 32767 }), P9: fc.integer({ min: -32768, max: 32767 }),
    H1: fc.integer({ min: 0, max: 255 }), H2: fc.integer({ min: -32768, max: 32767 }), H3: fc.integer({ min: 0, max: 255 }),
    H4: fc.integer({ min: -2048, max: 2047 }), H5: fc.integer({ min: -2048, max: 2047 }), H6: fc.integer({ min: -128, max: 127 }),
  });

  it('every calibration word decodes from its registers, signs and 12-bit fields included', () => {
    fc.assert(
      fc.property(words, (c) => {
        const { tp, h } = encode(c);
        const parsed = parseCalibration(tp, h);
        const { H, ...tpWords } = parsed;
        const { H1, H2, H3, H4, H5, H6, ...expected } = c;
        expect(tpWords).toEqual(expected);
        expect(H).toEqual({ H1, H2, H3, H4, H5, H6 });
      }),
    );
  });

  it('integer formulas agree with the datasheet’s floating-point ones over the operating range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CALIBRATIONS),
        fc.double({ min: -40, max: 85, noNaN: true }),
        fc.double({ min: 30000, max: 110000, noNaN: true }),
        fc.integer({ min: 0, max: 0xffff }),
        (c, celsius, pascal, adcH) => {
          // Pick the counts a chip would give for these conditions, by bisection on the float formulas.
          let lo = 0;
          let hi = 0xfffff;
          while (hi - lo > 1) {
            const mid = (lo + hi) >> 1;
            if (temperatureDouble(mid, c)[0] < celsius) lo = mid;
            else hi = mid;
          }
          const adcT = hi;
          const [t, tFineDouble] = temperatureDouble(adcT, c);
          lo = 0;
          hi = 0xfffff;
          while (hi - lo > 1) {
            const mid = (lo + hi) >> 1;
            if (pressureDouble(mid, tFineDouble, c) > pascal) lo = mid;
            else hi = mid;
          }
          const adcP = hi;
          const cal = parseCalibration(encode(c).tp, encode(c).h);
          const tFine = fineTemperature(adcT, cal);
          // The integer code shifts adc_T right by 3 first: up to 7/8 of T2/2048 lost, plus truncation.
          expect(Math.abs(tFine - tFineDouble)).toBeLessThanOrEqual(c.T2 / 2048 + 2);
          expect(Math.abs(compensateTemperature(tFine) / 100 - t)).toBeLessThanOrEqual(0.0075);
          expect(Math.abs(compensatePressure(adcP, tFine, cal) / 256 - pressureDouble(adcP, tFineDouble, c))).toBeLessThanOrEqual(1);
          expect(Math.abs(compensateHumidity(adcH, tFine, cal.H!) / 1024 - humidityDouble(adcH, tFineDouble, c))).toBeLessThanOrEqual(0.01);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random conditions and settings round-trip through the simulated chip', () => {
    const oversampling = fc.constantFrom(1, 2, 4, 8, 16) as fc.Arbitrary<1 | 2 | 4 | 8 | 16>;
    fc.assert(
      fc.property(
        fc.constantFrom(...CALIBRATIONS),
        fc.constantFrom('bme280', 'bmp280') as fc.Arbitrary<'bme280' | 'bmp280'>,
        oversampling,
        oversampling,
        fc.double({ min: -40, max: 85, noNaN: true }),
        fc.double({ min: 30000, max: 110000, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (calibration, variant, osT, osP, temperature, pressure, humidity) => {
          const clock = new ManualClock();
          const bus = new SimI2CBus();
          const chip = bus.attach(new SimBME280({ now: () => clock.now(), variant, calibration }));
          Object.assign(chip, { temperature, pressure, humidity });
          const sensor = new BME280({ sensor: { io: bus.io }, configuration: { temperatureOversampling: osT, pressureOversampling: osP } });
          clock.advance(sensor.start());
          const r = sensor.sample();
          // ADC resolution per oversampling (16 bits at x1: 0.005 °C, 2.62 Pa) + output step / formula accuracy.
          expect(Math.abs(r.thermometer.temperature - temperature)).toBeLessThanOrEqual(0.005 / osT + 0.01);
          expect(Math.abs(r.barometer!.pressure - pressure)).toBeLessThanOrEqual(2.62 / osP + 1);
          if (variant === 'bme280') expect(Math.abs(r.hygrometer!.humidity - humidity)).toBeLessThanOrEqual(0.02);
          else expect(r.hygrometer).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('1-Wire and DS18B20', () => {
  it('ROM search finds exactly the ROMs on the bus, however many share prefixes', () => {
    const serial = fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }));
    fc.assert(
      fc.property(fc.uniqueArray(serial, { minLength: 0, maxLength: 16 }), (serials) => {
        const clock = new ManualClock();
        const bus = new SimOneWireBus();
        const chips = serials.map((s) => bus.attach(new SimDS18B20({ now: () => clock.now(), serial: s })));
        expect(searchRoms(bus).map(romToHex).sort()).toEqual(chips.map((c) => romToHex(c.rom)).sort());
      }),
      { numRuns: 200 },
    );
  });

  it('random temperatures at random resolutions come back within half a step, on the step grid', () => {
    fc.assert(
      fc.property(fc.constantFrom(9, 10, 11, 12) as fc.Arbitrary<9 | 10 | 11 | 12>, fc.double({ min: -55, max: 125, noNaN: true }), (resolution, t) => {
        const clock = new ManualClock();
        const bus = new SimOneWireBus();
        const chip = bus.attach(new SimDS18B20({ now: () => clock.now(), serial: 42 }));
        chip.temperature = t;
        const sensor = new DS18B20({ sensor: { io: bus, rom: chip.rom }, configuration: { resolution } });
        clock.advance(sensor.start());
        const step = 2 ** (8 - resolution); // 0.5 °C at 9 bits .. 0.0625 °C at 12
        const r = sensor.sample();
        expect(Math.abs(r.temperature - t)).toBeLessThanOrEqual(step / 2 + 1e-12);
        expect(Number.isInteger(r.temperature / step)).toBe(true);
        expect(r.outOfRange).toBeUndefined();
      }),
    );
  });
});

describe('SHT3x, BH1750, analog', () => {
  it('SHT3x: random conditions round-trip within one LSB', () => {
    fc.assert(
      fc.property(fc.double({ min: -40, max: 125, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (t, rh) => {
        const clock = new ManualClock();
        const bus = new SimI2CBus();
        const chip = bus.attach(new SimSHT3x({ now: () => clock.now() }));
        Object.assign(chip, { temperature: t, humidity: rh });
        const sensor = new SHT3x({ sensor: { io: bus.io } });
        clock.advance(sensor.start());
        const r = sensor.sample();
        expect(Math.abs(r.thermometer.temperature - t)).toBeLessThanOrEqual(175 / 65535);
        expect(Math.abs(r.hygrometer.humidity - rh)).toBeLessThanOrEqual(100 / 65535);
      }),
    );
  });

  it('BH1750: random light, mode and MTreg round-trip within one count', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('high', 'high2', 'low') as fc.Arbitrary<'high' | 'high2' | 'low'>,
        fc.integer({ min: 31, max: 254 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (mode, mt, fraction) => {
          const measurementTime = mode === 'low' ? 69 : mt;
          const countsPerLux = 1.2 * (measurementTime / 69) * (mode === 'high2' ? 2 : 1);
          const lux = (fraction * 65534) / countsPerLux; // below saturation
          const clock = new ManualClock();
          const bus = new SimI2CBus();
          const chip = bus.attach(new SimBH1750({ now: () => clock.now() }));
          chip.illuminance = lux;
          const sensor = new BH1750({ sensor: { io: bus.io }, configuration: { mode, measurementTime } });
          clock.advance(sensor.start());
          const r = sensor.sample();
          expect(Math.abs(r.illuminance - lux)).toBeLessThanOrEqual(1 / countsPerLux + 1e-9);
          expect(r.outOfRange).toBeUndefined();
        },
      ),
    );
  });

  it('analog: the value is the straight line through the two points, clamped and flagged outside', () => {
    const raw = fc.integer({ min: 1, max: 4094 });
    fc.assert(
      fc.property(raw, raw, fc.double({ min: -1000, max: 1000, noNaN: true }), fc.double({ min: -1000, max: 1000, noNaN: true }), raw, (r1, r2, v1, v2, reading) => {
        fc.pre(r1 !== r2 && v1 !== v2);
        const pins = new SimAnalogPins();
        pins.add({ pin: 1 }).setRaw(reading);
        const sensor = new AnalogSensor({ sensor: { io: pins.io, pin: 1 }, configuration: { calibration: [{ raw: r1, value: v1 }, { raw: r2, value: v2 }] } });
        const r = sensor.sample();
        const line = v1 + ((reading - r1) / (r2 - r1)) * (v2 - v1);
        const low = Math.min(v1, v2);
        const high = Math.max(v1, v2);
        expect(r.raw).toBe(reading);
        expect(r.value).toBeCloseTo(Math.min(high, Math.max(low, line)), 6);
        // Away from the span's ends (where rounding could go either way), flagged exactly when outside.
        if (Math.abs(line - low) > 1e-6 && Math.abs(line - high) > 1e-6) {
          expect(r.outOfRange).toEqual(line < low || line > high ? ['value'] : undefined);
        }
      }),
    );
  });
});
