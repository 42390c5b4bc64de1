// The shared contract: measure() waits each sensor's conversion time on the Clock port, so a
// telemetry loop drives every sensor alike and never busy-waits.
import { equal, near, ok, suite, throws } from '../../hosts/xs/harness';
import { AnalogSensor, BH1750, BME280, DS18B20, SHT3x, SensorError, measure, readingValues, requireInRange, searchRoms } from './index';
import type { Reading, Sensor } from './index';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { SimAnalogPins, SimBH1750, SimBME280, SimDS18B20, SimI2CBus, SimOneWireBus, SimSHT3x } from '../../hosts/sim/chips/index';

function board() {
  const clock = new ManualClock();
  const i2c = new SimI2CBus();
  const oneWire = new SimOneWireBus();
  const pins = new SimAnalogPins();
  const chips = {
    bme: i2c.attach(new SimBME280({ now: () => clock.now() })),
    sht: i2c.attach(new SimSHT3x({ now: () => clock.now() })),
    light: i2c.attach(new SimBH1750({ now: () => clock.now() })),
    probes: [1, 2].map((serial) => oneWire.attach(new SimDS18B20({ now: () => clock.now(), serial }))),
    soil: pins.add({ pin: 33 }),
  };
  return { clock, i2c, oneWire, pins, chips };
}

export default suite('sensor contract: measure()', (test) => {
  test('the callback comes after the conversion time, on the clock, exactly once', () => {
    const { clock, i2c, chips } = board();
    chips.bme.temperature = 18;
    const sensor = new BME280({ sensor: { io: i2c.io } });
    const results: unknown[] = [];
    measure(sensor, clock, (error, reading) => results.push(error ?? reading));
    equal(results.length, 0);
    clock.advance(sensor.conversionTime - 1);
    equal(results.length, 0);
    clock.advance(1);
    equal(results.length, 1);
    near((results[0] as { thermometer: { temperature: number } }).thermometer.temperature, 18, 0.02);
    clock.advance(10_000);
    equal(results.length, 1);
  });

  test('a sensor with nothing to wait for answers at once', () => {
    const { clock, pins, chips } = board();
    chips.soil.setRaw(4095 / 2);
    let got: Reading | undefined;
    measure(new AnalogSensor({ sensor: { io: pins.io, pin: 33 } }), clock, (_e, r) => (got = r));
    ok(got, 'synchronous');
    equal(clock.pending, 0);
  });

  test('errors arrive as SensorErrors, from start() and from sample(), and foreign errors are wrapped', () => {
    const { clock, i2c, chips } = board();
    const sht = new SHT3x({ sensor: { io: i2c.io } });
    const errors: (SensorError | undefined)[] = [];
    chips.sht.fault = 'absent';
    measure(sht, clock, (e) => errors.push(e));
    chips.sht.fault = 'crc';
    measure(sht, clock, (e) => errors.push(e));
    clock.advance(15);
    const broken: Sensor = { conversionTime: 0, start: () => 0, sample: () => { throw new TypeError('boom'); }, close() {} };
    measure(broken, clock, (e) => errors.push(e));
    equal(errors.map((e) => e?.code), ['absent', 'crc', 'bus']);
    ok(errors.every((e) => e instanceof SensorError));
    ok(errors[2]!.message.includes('boom'));
  });

  test('readingValues flattens compound and single-class readings alike', () => {
    equal(readingValues({ thermometer: { temperature: 21 }, barometer: { pressure: 100000 }, outOfRange: ['pressure'] } as Reading), { temperature: 21, pressure: 100000 });
    equal(readingValues({ illuminance: 12.5 } as Reading), { illuminance: 12.5 });
    equal(readingValues({ value: 40, raw: 2000 } as Reading), { value: 40, raw: 2000 });
  });

  test('requireInRange: passes good readings through, turns flagged ones into range errors', () => {
    const good = { temperature: 20 } as Reading;
    equal(requireInRange(good), good);
    const error = throws(() => requireInRange({ temperature: 130, outOfRange: ['temperature'] } as Reading, 'probe'), SensorError, 'probe: temperature') as SensorError;
    equal(error.code, 'range');
  });

  test('a telemetry loop over every sensor of a board, on one clock, for an hour of simulated time', () => {
    const { clock, i2c, oneWire, pins, chips } = board();
    const sensors: Record<string, Sensor> = {
      bme280: new BME280({ sensor: { io: i2c.io } }),
      sht3x: new SHT3x({ sensor: { io: i2c.io } }),
      bh1750: new BH1750({ sensor: { io: i2c.io } }),
      soil: new AnalogSensor({ sensor: { io: pins.io, pin: 33 }, configuration: { calibration: [{ raw: 3100, value: 0 }, { raw: 1350, value: 100 }] } }),
    };
    searchRoms(oneWire).forEach((rom, i) => (sensors[`probe${i}`] = new DS18B20({ sensor: { io: oneWire, rom } })));
    const published: Record<string, number> = {};
    let errors = 0;
    const cycle = () => {
      const minute = clock.now() / 60_000;
      chips.bme.temperature = chips.sht.temperature = 20 + minute / 10;
      chips.light.illuminance = 100 * minute;
      chips.soil.setRaw(3100 - minute * 25);
      for (const probe of chips.probes) probe.temperature = 4 + minute / 20;
      for (const [name, sensor] of Object.entries(sensors)) {
        measure(sensor, clock, (error) => {
          if (error) errors++;
          else published[name] = (published[name] ?? 0) + 1;
        });
      }
    };
    clock.set(cycle, 0, 60_000);
    clock.advance(60 * 60_000 - 1);
    equal(errors, 0);
    equal(published, { bme280: 60, sht3x: 60, bh1750: 60, soil: 60, probe0: 60, probe1: 60 });
    ok(i2c.transcript.length > 0 && oneWire.transcript.length > 0);
  });
});
