// BME280/BMP280 driver: the datasheet's worked example, its floating-point formulas as independent
// expectations, round trips through the register-level simulated chip, faults, and the bus transcript.
import { equal, hex, near, ok, suite, throws } from '../../../hosts/xs/harness';
import { BME280 } from './bme280';
import { compensatePressure, compensateTemperature, fineTemperature, parseCalibration } from './compensation';
import { SensorError } from '../errors';
import { DATASHEET_CALIBRATION, humidityDouble, pressureDouble, temperatureDouble } from '../../../hosts/sim/chips/bosch-float';
import { SimBME280 } from '../../../hosts/sim/chips/bme280';
import { ManualClock } from '../../../hosts/sim/fakes/clock';
import { SimI2CBus } from '../../../hosts/sim/chips/i2c-bus';

/** calib00..calib25 holding the datasheet example words, little-endian, written out by hand. */
const DATASHEET_TP = hex('70 6b 43 67 18 fc 7d 8e 43 d6 d0 0b 27 0b 8c 00 f9 ff 8c 3c f8 c6 70 17 00 4b');
/** calib26..32 for H2=362, H3=0, H4=313, H5=50, H6=30 (H4/H5 share register 0xE5). */
const DATASHEET_H = hex('6a 01 00 13 29 03 1e');

/** Resolution of the 20-bit ADC by oversampling (datasheet Tables 5 and 6: 16 bits at x1, +1 bit per doubling). */
const T_RESOLUTION: Record<number, number> = { 1: 0.005, 2: 0.0025, 4: 0.0012, 8: 0.0006, 16: 0.0003 };
const P_RESOLUTION: Record<number, number> = { 1: 2.62, 2: 1.31, 4: 0.66, 8: 0.33, 16: 0.16 };

function rig(variant: 'bme280' | 'bmp280' = 'bme280') {
  const clock = new ManualClock();
  const bus = new SimI2CBus();
  const chip = bus.attach(new SimBME280({ now: () => clock.now(), variant }));
  return { clock, bus, chip };
}

function code(fn: () => unknown): string {
  return (throws(fn, SensorError) as SensorError).code;
}

export default suite('BME280 / BMP280', (test) => {
  test('datasheet example: calibration words decode from their registers', () => {
    const c = parseCalibration(DATASHEET_TP, DATASHEET_H);
    equal([c.T1, c.T2, c.T3], [27504, 26435, -1000]);
    equal([c.P1, c.P2, c.P3, c.P4, c.P5, c.P6, c.P7, c.P8, c.P9], [36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000]);
    equal(c.H, { H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30 });
  });

  test('humidity words with negative H4, H5 and H6 keep their signs (12-bit and 8-bit two’s complement)', () => {
    // H4 = -5 (0xFFB), H5 = -2 (0xFFE), H6 = -3 (0xFD)
    const c = parseCalibration(DATASHEET_TP, hex('00 00 00 ff eb ff fd'));
    equal([c.H!.H4, c.H!.H5, c.H!.H6], [-5, -2, -3]);
  });

  test('datasheet example: adc_T 519888 gives t_fine 128422 and 25.08 °C', () => {
    const c = parseCalibration(DATASHEET_TP);
    const tFine = fineTemperature(519888, c);
    equal(tFine, 128422);
    equal(compensateTemperature(tFine), 2508);
  });

  test('datasheet example: adc_P 415148 gives 100653.27 Pa', () => {
    const c = parseCalibration(DATASHEET_TP);
    const pressure = compensatePressure(415148, fineTemperature(519888, c), c) / 256;
    near(pressure, 100653.27, 0.02);
    near(pressure, pressureDouble(415148, 128422, DATASHEET_CALIBRATION), 0.02, 'floating-point formula');
  });

  test('the datasheet example through the simulated chip: exact registers, exact bus transcript', () => {
    const { clock, bus, chip } = rig();
    // Physical values the datasheet's floating-point formulas assign to its example counts.
    const [temperature, tFine] = temperatureDouble(519888, DATASHEET_CALIBRATION);
    chip.temperature = temperature;
    chip.pressure = pressureDouble(415148, tFine, DATASHEET_CALIBRATION);
    chip.humidity = humidityDouble(0x6ff0, tFine, DATASHEET_CALIBRATION);
    const sensor = new BME280({ sensor: { io: bus.io }, configuration: { pressureOversampling: 16 } });
    const construction = bus.transcript.map((e) => [e.op, e.bytes, e.stop]);
    equal(construction, [
      ['write', hex('d0'), false], ['read', hex('60'), true], // chip id
      ['write', hex('88'), false], ['read', DATASHEET_TP, true], // calib00..25
      ['write', hex('e1'), false], ['read', DATASHEET_H, true], // calib26..32
      ['write', hex('f4 00'), true], // sleep, so that config is taken
      ['write', hex('f5 a0'), true], // t_sb 1000 ms (normal mode only), filter off
      ['write', hex('f2 01'), true], // humidity x1 (latched by the next ctrl_meas)
      ['write', hex('f4 34'), true], // temperature x1, pressure x16, sleep
    ]);
    bus.clearTranscript();
    const wait = sensor.start();
    equal(wait, 44, '1.25 + 2.3 + (2.3·16 + 0.575) + (2.3 + 0.575) ms, rounded up');
    clock.advance(wait);
    const reading = sensor.sample();
    equal(bus.transcript.map((e) => [e.op, e.bytes, e.stop]), [
      ['write', hex('f4 35'), true], // forced mode
      ['write', hex('f3'), false], ['read', hex('00'), true], // status: not measuring
      ['write', hex('f7'), false], ['read', hex('65 5a c0 7e ed 00 6f f0'), true], // press, temp, hum
    ]);
    equal(bus.transcript.every((e) => e.address === 0x76), true, 'all at 0x76');
    equal(reading.thermometer.temperature, 25.08);
    near(reading.barometer!.pressure, 100653.27, 0.02);
    near(reading.hygrometer!.humidity, humidityDouble(0x6ff0, tFine, DATASHEET_CALIBRATION), 0.01);
    equal(reading.outOfRange, undefined);
  });

  test('round trips across -40..85 °C, 300..1100 hPa, 0..100 %RH at every oversampling', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BME280({ sensor: { io: bus.io } });
    for (const os of [1, 2, 4, 8, 16] as const) {
      sensor.configure({ temperatureOversampling: os, pressureOversampling: os, humidityOversampling: os });
      for (let i = 0; i <= 10; i++) {
        chip.temperature = -40 + 12.5 * i;
        chip.pressure = 30000 + 8000 * ((i * 7) % 11);
        chip.humidity = 10 * ((i * 3) % 11);
        clock.advance(sensor.start());
        const r = sensor.sample();
        const where = `x${os} T=${chip.temperature} P=${chip.pressure} H=${chip.humidity}`;
        // ADC resolution (datasheet) + the 0.01 °C output step.
        near(r.thermometer.temperature, chip.temperature, T_RESOLUTION[os] + 0.01, where);
        // ADC resolution + 1 Pa, the datasheet's stated accuracy of integer compensation.
        near(r.barometer!.pressure, chip.pressure, P_RESOLUTION[os] + 1, where);
        // 16-bit humidity ADC (0.008 %RH) + the integer formula's step and its difference from the float one.
        near(r.hygrometer!.humidity, chip.humidity, 0.02, where);
        equal(r.outOfRange, undefined, where);
      }
    }
  });

  test('IIR filter: a step settles at the new value, and the output has 20-bit resolution', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BME280({ sensor: { io: bus.io }, configuration: { filter: 16 } });
    chip.temperature = 20;
    clock.advance(sensor.start());
    sensor.sample();
    chip.temperature = 30;
    clock.advance(sensor.start());
    const first = sensor.sample().thermometer.temperature;
    ok(first > 20 && first < 21, `one step of coefficient 16 moves 1/16 of the way: ${first}`);
    for (let i = 0; i < 200; i++) {
      clock.advance(sensor.start());
      sensor.sample();
    }
    clock.advance(sensor.start());
    near(sensor.sample().thermometer.temperature, 30, 0.01);
  });

  test('normal mode: the chip measures on its own; start() waits only for the first result', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BME280({ sensor: { io: bus.io }, configuration: { mode: 'normal', standby: 62.5 } });
    equal(chip.peek(0xf4) & 3, 3, 'ctrl_meas mode = normal');
    equal(chip.peek(0xf5) >> 5, 1, 't_sb = 62.5 ms');
    chip.temperature = 10;
    const wait = sensor.start();
    equal(wait, sensor.conversionTime);
    clock.advance(wait);
    near(sensor.sample().thermometer.temperature, 10, 0.02);
    equal(sensor.start(), 0);
    chip.temperature = 15;
    clock.advance(62.5 + sensor.conversionTime);
    near(sensor.sample().thermometer.temperature, 15, 0.02);
    // Reconfiguring in normal mode: the driver goes through sleep, so the config write is taken.
    sensor.configure({ standby: 1000, filter: 4 });
    equal(chip.peek(0xf5), (5 << 5) | (2 << 2));
  });

  test('reading too early: forced mode reports the chip still measuring; a fresh chip reports no data', () => {
    const { clock, bus } = rig();
    const sensor = new BME280({ sensor: { io: bus.io } });
    equal(code(() => sensor.sample()), 'not-ready', 'no start()');
    const wait = sensor.start();
    clock.advance(wait - 1);
    equal(code(() => sensor.sample()), 'not-ready', 'status.measuring still set');
    clock.advance(1);
    sensor.sample();

    const fresh = rig();
    const normal = new BME280({ sensor: { io: fresh.bus.io }, configuration: { mode: 'normal' } });
    const error = throws(() => normal.sample(), SensorError, 'no measurement') as SensorError;
    equal(error.code, 'not-ready');
  });

  test('BMP280 (chip id 0x58): temperature and pressure, no humidity', () => {
    const { clock, bus, chip } = rig('bmp280');
    chip.temperature = -12.5;
    chip.pressure = 95000;
    const sensor = new BME280({ sensor: { io: bus.io } });
    equal(sensor.model, 'BMP280');
    equal(sensor.chipId, 0x58);
    equal(sensor.calibration.H, undefined);
    ok(!bus.transcript.some((e) => e.bytes[0] === 0xe1 || e.bytes[0] === 0xf2), 'never touches humidity registers');
    bus.clearTranscript();
    clock.advance(sensor.start());
    const r = sensor.sample();
    equal(bus.transcript[3].bytes, hex('f7'));
    equal(bus.transcript[4].bytes.length, 6, 'reads 0xF7..0xFC');
    equal(r.hygrometer, undefined);
    near(r.thermometer.temperature, -12.5, 0.015);
    near(r.barometer!.pressure, 95000, 3.62);
    const error = throws(() => sensor.configure({ humidityOversampling: 1 }), SensorError, 'no humidity') as SensorError;
    equal(error.code, 'config');
  });

  test('each sensor keeps its own configuration; unconfigured ones have the datasheet defaults', () => {
    const a = rig();
    const b = rig();
    const c = rig('bmp280');
    const first = new BME280({ sensor: { io: a.bus.io } });
    const second = new BME280({ sensor: { io: b.bus.io }, configuration: {} });
    const bmp = new BME280({ sensor: { io: c.bus.io } });
    first.configure({ filter: 16, humidityOversampling: 4 });
    equal(first.configuration.filter, 16);
    equal(first.configuration.humidityOversampling, 4);
    equal(second.configuration.filter, 0, 'another sensor is not changed');
    equal(second.configuration.humidityOversampling, 1);
    equal(bmp.configuration.humidityOversampling, 0, 'a BMP280 measures no humidity');
    equal(new BME280({ sensor: { io: rig().bus.io } }).configuration.humidityOversampling, 1, 'a BME280 made after a BMP280 measures humidity');
    const copy = second.configuration as { filter: number };
    copy.filter = 8;
    equal(second.configuration.filter, 0, 'the configuration getter hands out a copy');
    second.configure({});
    equal(second.configuration.standby, 1000, 'an empty configure keeps the settings');
  });

  test('an unknown chip id is rejected with the id in the message', () => {
    const { bus, chip } = rig();
    chip.fault = 'wrong-id';
    const error = throws(() => new BME280({ sensor: { io: bus.io } }), SensorError, '0x61') as SensorError;
    equal(error.code, 'wrong-chip');
    ok(error.message.includes('BME680'), error.message);
    chip.wrongId = 0x55;
    equal(code(() => new BME280({ sensor: { io: bus.io } })), 'wrong-chip');
  });

  test('no chip at the address: absent, with the address in the message', () => {
    const { bus } = rig();
    const error = throws(() => new BME280({ sensor: { io: bus.io, address: 0x77 } }), SensorError, '0x77') as SensorError;
    equal(error.code, 'absent');
  });

  test('a chip that stops answering: absent; a stuck bus: bus', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BME280({ sensor: { io: bus.io } });
    chip.fault = 'absent';
    equal(code(() => sensor.start()), 'absent');
    chip.fault = undefined;
    bus.stuck = true;
    equal(code(() => sensor.start()), 'bus');
    equal(code(() => new BME280({ sensor: { io: bus.io } })), 'bus');
    bus.stuck = false;
    clock.advance(sensor.start());
    sensor.sample();
  });

  test('readings out of range are flagged, not hidden', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BME280({ sensor: { io: bus.io } });
    chip.fault = 'range';
    clock.advance(sensor.start());
    const r = sensor.sample();
    equal(r.outOfRange, ['temperature', 'pressure']);
    ok(r.thermometer.temperature > 85, String(r.thermometer.temperature));
  });

  test('invalid options: config errors that name the allowed values', () => {
    const { bus } = rig();
    const sensor = new BME280({ sensor: { io: bus.io } });
    equal(code(() => sensor.configure({ temperatureOversampling: 3 as 1 })), 'config');
    equal(code(() => sensor.configure({ temperatureOversampling: 0 as 1 })), 'config');
    equal(code(() => sensor.configure({ filter: 5 as 4 })), 'config');
    throws(() => sensor.configure({ standby: 2000 }), SensorError, '62.5');
    throws(() => sensor.configure({ mode: 'fast' as 'normal' }), SensorError, "'forced' or 'normal'");
    equal(code(() => new BME280({ sensor: { io: undefined as never } })), 'config');
    equal(sensor.configuration.standby, 1000, 'a rejected configure changes nothing');
  });

  test('conversion time follows the datasheet formula for the configuration', () => {
    const { bus } = rig();
    const sensor = new BME280({ sensor: { io: bus.io } });
    equal(sensor.conversionTime, 10, 'x1/x1/x1: 9.3 ms');
    sensor.configure({ temperatureOversampling: 2, pressureOversampling: 16, humidityOversampling: 0 });
    equal(sensor.conversionTime, 44, 'x2/x16/skip: 43.2 ms (BMP280 Table 14: 43.2 ms max)');
  });
});
