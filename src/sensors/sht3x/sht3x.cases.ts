// SHT3x driver against the datasheet's conversion formulas and a command-level simulated chip.
import { equal, hex, near, ok, suite, throws } from '../../../hosts/xs/harness';
import { SHT3x } from './sht3x';
import { SensorError } from '../errors';
import { ManualClock } from '../../../hosts/sim/fakes/clock';
import { sensirionCrc } from '../../../hosts/sim/chips/crc';
import { SimI2CBus, SimI2CError } from '../../../hosts/sim/chips/i2c-bus';
import type { SimI2CDevice } from '../../../hosts/sim/chips/i2c-bus';
import { SimSHT3x } from '../../../hosts/sim/chips/sht3x';

function rig() {
  const clock = new ManualClock();
  const bus = new SimI2CBus();
  const chip = bus.attach(new SimSHT3x({ now: () => clock.now() }));
  return { clock, bus, chip };
}

function code(fn: () => unknown): string {
  return (throws(fn, SensorError) as SensorError).code;
}

/** A device that answers the status command, then returns fixed measurement words (for formula checks). */
function fixedWords(st: number, srh: number): SimI2CDevice {
  const word = (w: number) => [w >> 8, w & 0xff, sensirionCrc([w >> 8, w & 0xff])];
  let last = 0;
  return {
    address: 0x44,
    write: (bytes) => {
      last = (bytes[0] << 8) | bytes[1];
    },
    read: (count) => Uint8Array.from(last === 0xf32d ? word(0) : [...word(st), ...word(srh)]).subarray(0, count),
  };
}

export default suite('SHT3x', (test) => {
  test('conversion formulas: S_T 0x6666 is 25 °C, S_RH 0x8000 is 50.0008 %RH, ends of scale (section 4.13)', () => {
    const clock = new ManualClock();
    for (const [st, srh, t, rh] of [
      [0x6666, 0x8000, 25, 50.000763],
      [0, 0, -45, 0],
      [0xffff, 0xffff, 130, 100],
    ]) {
      const bus = new SimI2CBus();
      bus.attach(fixedWords(st, srh));
      const sensor = new SHT3x({ sensor: { io: bus.io } });
      clock.advance(sensor.start());
      const r = sensor.sample();
      near(r.thermometer.temperature, t, 1e-9, `S_T ${st}`);
      near(r.hygrometer.humidity, rh, 1e-6, `S_RH ${srh}`);
    }
  });

  test('bus transcript: status at start-up, then one single-shot measurement (Table 9, no clock stretching)', () => {
    const { clock, bus, chip } = rig();
    chip.temperature = 25;
    chip.humidity = 50;
    const sensor = new SHT3x({ sensor: { io: bus.io } });
    equal(bus.transcript.map((e) => [e.op, e.bytes]), [
      ['write', hex('f3 2d')],
      ['read', hex('80 10 e1')], // power-on status: alert pending, reset detected; CRC
    ]);
    bus.clearTranscript();
    const wait = sensor.start();
    equal(wait, 15, 'high repeatability: 15 ms max');
    clock.advance(wait);
    sensor.sample();
    // 25 °C: (25 + 45) / 175 · 65535 = 26214 = 0x6666; 50 %RH: 32767.5 rounds to 0x8000.
    equal(bus.transcript.map((e) => [e.op, e.bytes, e.address]), [
      ['write', hex('24 00'), 0x44],
      ['read', Uint8Array.of(0x66, 0x66, sensirionCrc([0x66, 0x66]), 0x80, 0x00, sensirionCrc([0x80, 0x00])), 0x44],
    ]);
  });

  test('round trips across -40..125 °C and 0..100 %RH at each repeatability', () => {
    const { clock, bus, chip } = rig();
    const sensor = new SHT3x({ sensor: { io: bus.io } });
    for (const repeatability of ['high', 'medium', 'low'] as const) {
      sensor.configure({ repeatability });
      for (let i = 0; i <= 33; i++) {
        chip.temperature = -40 + 5 * i;
        chip.humidity = (i * 37) % 101;
        clock.advance(sensor.start());
        const r = sensor.sample();
        // Datasheet resolution: 0.01 °C and 0.01 %RH.
        near(r.thermometer.temperature, chip.temperature, 0.01);
        near(r.hygrometer.humidity, chip.humidity, 0.01);
        equal(r.outOfRange, undefined);
      }
    }
  });

  test('measurement durations by repeatability: 15, 6 and 4 ms; the chip NACKs the read until done', () => {
    const { clock, bus } = rig();
    const sensor = new SHT3x({ sensor: { io: bus.io } });
    for (const [repeatability, ms, command] of [['high', 15, '24 00'], ['medium', 6, '24 0b'], ['low', 4, '24 16']] as const) {
      sensor.configure({ repeatability });
      bus.clearTranscript();
      equal(sensor.start(), ms, repeatability);
      equal(bus.transcript[0].bytes, hex(command));
      clock.advance(ms - 0.5);
      const error = throws(() => sensor.sample(), SensorError, 'not done') as SensorError;
      equal(error.code, 'not-ready');
      equal(bus.transcript[1].error, 'nack');
      clock.advance(0.5);
      sensor.sample();
    }
    equal(code(() => sensor.sample()), 'not-ready', 'a result is read once');
  });

  test('the chip NACKs commands while measuring, and with clock stretching the host times out', () => {
    const { clock, bus } = rig();
    const io = new bus.io({ address: 0x44 });
    io.write(hex('2c 06')); // high repeatability, clock stretching
    const error = throws(() => io.read(6), SimI2CError) as SimI2CError;
    equal(error.code, 'timeout');
    equal((throws(() => io.write(hex('f3 2d')), SimI2CError) as SimI2CError).code, 'nack');
    clock.advance(15);
    equal(io.read(6).length, 6);
    equal((throws(() => io.read(6), SimI2CError) as SimI2CError).code, 'nack', 'data cleared once read');
  });

  test('heater: enable and disable commands, status bit 13, and the warmer reading it causes', () => {
    const { clock, bus, chip } = rig();
    chip.temperature = 20;
    chip.heaterRise = 4;
    const sensor = new SHT3x({ sensor: { io: bus.io } });
    bus.clearTranscript();
    sensor.configure({ heater: true });
    equal(bus.transcript[0].bytes, hex('30 6d'));
    equal(sensor.status().heater, true);
    clock.advance(sensor.start());
    near(sensor.sample().thermometer.temperature, 24, 0.01);
    bus.clearTranscript();
    sensor.configure({ heater: false });
    equal(bus.transcript[0].bytes, hex('30 66'));
    equal(sensor.status().heater, false);
    equal(sensor.configuration, { repeatability: 'high', heater: false });
  });

  test('a heater left on before a restart is reported, read from the status register', () => {
    const { bus } = rig();
    new SHT3x({ sensor: { io: bus.io }, configuration: { heater: true } });
    equal(new SHT3x({ sensor: { io: bus.io } }).configuration.heater, true);
  });

  test('status: reset and alert flags clear with the clear-status command', () => {
    const { bus } = rig();
    const sensor = new SHT3x({ sensor: { io: bus.io } });
    const before = sensor.status();
    equal([before.resetDetected, before.alertPending], [true, true]);
    sensor.clearStatus();
    const after = sensor.status();
    equal([after.resetDetected, after.alertPending, after.raw], [false, false, 0]);
  });

  test('corrupted CRC: a crc error, for data and for the status word', () => {
    const { clock, bus, chip } = rig();
    const sensor = new SHT3x({ sensor: { io: bus.io } });
    chip.fault = 'crc';
    clock.advance(sensor.start());
    const error = throws(() => sensor.sample(), SensorError, 'temperature CRC') as SensorError;
    equal(error.code, 'crc');
    equal(code(() => sensor.status()), 'crc');
    equal(code(() => new SHT3x({ sensor: { io: bus.io } })), 'crc');
  });

  test('absent chip, stuck bus, out-of-range reading', () => {
    const { clock, bus, chip } = rig();
    equal(code(() => new SHT3x({ sensor: { io: bus.io, address: 0x45 } })), 'absent');
    const sensor = new SHT3x({ sensor: { io: bus.io } });
    chip.fault = 'absent';
    equal(code(() => sensor.start()), 'absent');
    chip.fault = 'range';
    clock.advance(sensor.start());
    const r = sensor.sample();
    equal(r.outOfRange, ['temperature']);
    near(r.thermometer.temperature, 130, 1e-9);
    bus.stuck = true;
    equal(code(() => sensor.start()), 'bus');
  });

  test('invalid repeatability is a config error and changes nothing', () => {
    const { bus } = rig();
    const sensor = new SHT3x({ sensor: { io: bus.io }, configuration: { repeatability: 'low' } });
    throws(() => sensor.configure({ repeatability: 'ultra' as 'low' }), SensorError, "'high', 'medium' or 'low'");
    equal(sensor.configuration.repeatability, 'low');
    ok(sensor.conversionTime === 4);
  });
});
