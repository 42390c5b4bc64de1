// BH1750 driver against the datasheet's count-to-lux examples and an opcode-level simulated chip.
import { equal, hex, near, suite, throws } from '../../../hosts/xs/harness';
import { BH1750 } from './bh1750';
import { SensorError } from '../errors';
import { SimBH1750 } from '../../../hosts/sim/chips/bh1750';
import { ManualClock } from '../../../hosts/sim/fakes/clock';
import { SimI2CBus } from '../../../hosts/sim/chips/i2c-bus';

function rig() {
  const clock = new ManualClock();
  const bus = new SimI2CBus();
  const chip = bus.attach(new SimBH1750({ now: () => clock.now() }));
  return { clock, bus, chip };
}

function code(fn: () => unknown): string {
  return (throws(fn, SensorError) as SensorError).code;
}

/** Replies to every read with one fixed count. */
function fixedCount(count: number) {
  const bus = new SimI2CBus();
  bus.attach({ address: 0x23, write: () => {}, read: () => Uint8Array.of(count >> 8, count & 0xff) });
  return bus;
}

export default suite('BH1750', (test) => {
  test('datasheet example: 1000_0011_1001_0000 (0x8390) is 28067 lx in H-resolution mode', () => {
    const sensor = new BH1750({ sensor: { io: fixedCount(0x8390).io } });
    sensor.start();
    const lux = sensor.sample().illuminance;
    near(lux, (2 ** 15 + 2 ** 9 + 2 ** 8 + 2 ** 7 + 2 ** 4) / 1.2, 1e-9);
    near(lux, 28067, 0.5, 'the datasheet rounds to 28067 lx');
  });

  test('count to lux by mode and MTreg: /1.2, halved in mode 2, scaled by 69/MTreg (datasheet p.11)', () => {
    const cases: [BH1750['configuration'], number][] = [
      [{ mode: 'high', continuous: false, measurementTime: 69 }, 1000 / 1.2],
      [{ mode: 'high2', continuous: false, measurementTime: 69 }, 1000 / 1.2 / 2],
      [{ mode: 'low', continuous: false, measurementTime: 69 }, 1000 / 1.2],
      [{ mode: 'high', continuous: false, measurementTime: 138 }, (1000 / 1.2) * (69 / 138)],
      [{ mode: 'high2', continuous: false, measurementTime: 31 }, (1000 / 1.2 / 2) * (69 / 31)],
    ];
    for (const [configuration, lux] of cases) {
      const sensor = new BH1750({ sensor: { io: fixedCount(1000).io }, configuration });
      sensor.start();
      near(sensor.sample().illuminance, lux, 1e-9, JSON.stringify(configuration));
    }
  });

  test('bus transcript: power on and MTreg at start-up, then one-time H-resolution measurement', () => {
    const { clock, bus, chip } = rig();
    chip.illuminance = 500;
    const sensor = new BH1750({ sensor: { io: bus.io } });
    // Power On 0x01; MTreg 69 = 010_00101: high bits 01000_010, low bits 011_00101.
    equal(bus.transcript.map((e) => e.bytes), [hex('01'), hex('42'), hex('65')]);
    bus.clearTranscript();
    const wait = sensor.start();
    equal(wait, 180, 'H-resolution: 180 ms max');
    clock.advance(wait);
    sensor.sample();
    // 500 lx · 1.2 = 600 = 0x0258
    equal(bus.transcript.map((e) => [e.op, e.bytes, e.address]), [
      ['write', hex('20'), 0x23],
      ['read', hex('02 58'), 0x23],
    ]);
    equal(chip.powered, false, 'one-time mode powers down after the measurement');
  });

  test('round trips from 1 to 54612 lx in each mode', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BH1750({ sensor: { io: bus.io } });
    for (const [mode, maxLux, step] of [['high', 54612, 1 / 1.2], ['high2', 27306, 0.5 / 1.2], ['low', 54612, 1 / 1.2]] as const) {
      sensor.configure({ mode });
      for (let i = 0; i <= 40; i++) {
        chip.illuminance = 1 + ((maxLux - 1) * i) / 40;
        clock.advance(sensor.start());
        const r = sensor.sample();
        // One ADC count: 1/1.2 lx (0.5/1.2 lx in mode 2).
        near(r.illuminance, chip.illuminance, step, `${mode} ${chip.illuminance} lx`);
        equal(r.outOfRange, undefined);
      }
    }
  });

  test('MTreg 254 triples sensitivity and measurement time; the chip latches MTreg from the two opcodes', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BH1750({ sensor: { io: bus.io }, configuration: { measurementTime: 254 } });
    equal(chip.mtreg, 254);
    equal(sensor.conversionTime, Math.ceil((180 * 254) / 69));
    chip.illuminance = 3.3;
    clock.advance(sensor.start());
    near(sensor.sample().illuminance, 3.3, 69 / 254 / 1.2);
  });

  test('reading too early returns the previous result, as the chip does (0 before the first)', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BH1750({ sensor: { io: bus.io }, configuration: { mode: 'low' } });
    chip.illuminance = 1200;
    let wait = sensor.start();
    equal(wait, 24, 'L-resolution: 24 ms max');
    clock.advance(wait - 1);
    equal(sensor.sample().illuminance, 0);
    sensor.start();
    clock.advance(wait);
    near(sensor.sample().illuminance, 1200, 1);
    chip.illuminance = 300;
    wait = sensor.start();
    clock.advance(wait - 1);
    near(sensor.sample().illuminance, 1200, 1, 'stale');
    equal(code(() => sensor.sample()), 'not-ready', 'one-time mode needs start() each time');
  });

  test('continuous mode: start() waits for the first result only; results follow the light', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BH1750({ sensor: { io: bus.io }, configuration: { continuous: true, mode: 'high2' } });
    equal(bus.transcript.at(-1)!.bytes, hex('11'));
    chip.illuminance = 40;
    clock.advance(sensor.start());
    near(sensor.sample().illuminance, 40, 0.5);
    equal(sensor.start(), 0);
    chip.illuminance = 80;
    clock.advance(180);
    near(sensor.sample().illuminance, 80, 0.5);
    near(sensor.sample().illuminance, 80, 0.5, 'sample() again without start() in continuous mode');
  });

  test('saturation is flagged out of range', () => {
    const { clock, bus, chip } = rig();
    const sensor = new BH1750({ sensor: { io: bus.io } });
    chip.illuminance = 100_000;
    clock.advance(sensor.start());
    equal(sensor.sample().outOfRange, ['illuminance']);
    chip.illuminance = 10;
    chip.fault = 'range';
    clock.advance(sensor.start());
    equal(sensor.sample().outOfRange, ['illuminance']);
  });

  test('absent chip and stuck bus', () => {
    const { bus, chip } = rig();
    equal(code(() => new BH1750({ sensor: { io: bus.io, address: 0x5c } })), 'absent');
    const sensor = new BH1750({ sensor: { io: bus.io } });
    chip.fault = 'absent';
    equal(code(() => sensor.start()), 'absent');
    chip.fault = undefined;
    bus.stuck = true;
    equal(code(() => sensor.start()), 'bus');
  });

  test('invalid options: config errors', () => {
    const { bus } = rig();
    const sensor = new BH1750({ sensor: { io: bus.io } });
    throws(() => sensor.configure({ measurementTime: 300 }), SensorError, '31 to 254');
    throws(() => sensor.configure({ mode: 'low', measurementTime: 100 }), SensorError, 'high-resolution modes only');
    equal(code(() => sensor.configure({ mode: 'medium' as 'low' })), 'config');
    equal(sensor.configuration, { mode: 'high', continuous: false, measurementTime: 69 });
  });
});
