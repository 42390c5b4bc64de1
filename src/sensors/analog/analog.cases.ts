// Two-point calibrated analog sensor against hand-computed lines and simulated ADC pins.
import { equal, near, suite, throws } from '../../../hosts/xs/harness';
import { AnalogSensor } from './analog';
import { SensorError } from '../errors';
import { SimAnalogPins } from '../../../hosts/sim/chips/analog';

/** A capacitive soil probe: 3100 counts in dry air, 1350 in water (12-bit ESP32 ADC). */
const SOIL: [{ raw: number; value: number }, { raw: number; value: number }] = [
  { raw: 3100, value: 0 },
  { raw: 1350, value: 100 },
];

function rig(resolution = 12) {
  const pins = new SimAnalogPins();
  const pin = pins.add({ pin: 33, resolution });
  return { pins, pin };
}

function code(fn: () => unknown): string {
  return (throws(fn, SensorError) as SensorError).code;
}

export default suite('analog two-point sensor', (test) => {
  test('hand-computed points on the soil line: ends, midpoint, and beyond both ends', () => {
    const { pins, pin } = rig();
    const sensor = new AnalogSensor({ sensor: { io: pins.io, pin: 33 }, configuration: { calibration: SOIL } });
    const cases: [number, number, string[] | undefined][] = [
      [3100, 0, undefined],
      [1350, 100, undefined],
      [2225, 50, undefined], // halfway: (3100 + 1350) / 2
      [2750, 20, undefined], // 350 of 1750 counts
      [3500, 0, ['value']], // drier than air: clamped, flagged
      [1000, 100, ['value']], // wetter than water: clamped, flagged
    ];
    for (const [raw, value, outOfRange] of cases) {
      pin.setRaw(raw);
      equal(sensor.start(), 0, 'no conversion time');
      const r = sensor.sample();
      equal(r.raw, raw);
      near(r.value, value, 1e-9, `raw ${raw}`);
      equal(r.outOfRange, outOfRange, `raw ${raw}`);
    }
    sensor.configure({ clamp: false });
    pin.setRaw(3500);
    near(sensor.sample().value, -400 / 17.5, 1e-9, 'unclamped: (3100 - 3500) / 17.5 counts per %');
  });

  test('round trip over the whole input range of a 10-bit ESP8266 A0 (1.0 V full scale)', () => {
    const pins = new SimAnalogPins();
    const pin = pins.add({ pin: 0, resolution: 10, fullScale: 1.0 });
    // A light sensor divider calibrated at 0.1 V = 10 lx and 0.9 V = 1000 lx.
    const sensor = new AnalogSensor({
      sensor: { io: pins.io, pin: 0 },
      configuration: { calibration: [{ raw: 102.3, value: 10 }, { raw: 920.7, value: 1000 }] },
    });
    for (let v = 0.1; v <= 0.9; v += 0.05) {
      pin.voltage = v;
      const expected = 10 + ((v - 0.1) * (1000 - 10)) / 0.8;
      // One ADC count (1/1023 V) is 990 / 818.4 lx.
      near(sensor.sample().value, expected, 990 / 818.4, `${v} V`);
    }
  });

  test('averaging reads the pin N times and reports the mean', () => {
    const { pins, pin } = rig();
    const sensor = new AnalogSensor({ sensor: { io: pins.io, pin: 33 }, configuration: { average: 8 } });
    pin.setRaw(2048);
    const before = pin.reads;
    near(sensor.sample().value, (2048 / 4095) * 100, 1e-9, 'default calibration: % of full scale');
    equal(pin.reads - before, 8);
  });

  test('a shorted input reads at the rail and is flagged', () => {
    const { pins, pin } = rig();
    const sensor = new AnalogSensor({ sensor: { io: pins.io, pin: 33 }, configuration: { calibration: SOIL } });
    pin.setRaw(2000);
    pin.fault = 'short-low';
    equal(sensor.sample().outOfRange, ['value']);
    pin.fault = 'short-high';
    equal(sensor.sample().outOfRange, ['value']);
    const full = new AnalogSensor({ sensor: { io: pins.io, pin: 33 } });
    equal(full.sample().outOfRange, ['value'], 'even inside a calibration that spans the whole ADC');
  });

  test('invalid options: config errors', () => {
    const { pins } = rig();
    throws(() => new AnalogSensor({ sensor: { io: pins.io, pin: 33 }, configuration: { calibration: [SOIL[0], SOIL[0]] } }), SensorError, 'different raw');
    equal(code(() => new AnalogSensor({ sensor: { io: pins.io, pin: 33 }, configuration: { average: 0 } })), 'config');
    equal(code(() => new AnalogSensor({ sensor: { io: pins.io } as never })), 'config');
    equal(code(() => new AnalogSensor({ sensor: { pin: 33 } as never })), 'config');
    const sensor = new AnalogSensor({ sensor: { io: pins.io, pin: 33 } });
    equal(code(() => sensor.configure({ average: 65 })), 'config');
    equal(sensor.configuration.average, 1);
    sensor.close();
    equal(code(() => sensor.sample()), 'config');
  });
});
