// How I2C failures become SensorErrors when the host cannot tell a NACK from a stuck bus: Moddable's
// ECMA-419 I2C throws plain "read failed"/"write failed" errors. The driver then judges by context.
import { equal, suite, throws } from '../../hosts/xs/harness';
import { BME280 } from './bme280/bme280';
import { SensorError } from './errors';
import { SHT3x } from './sht3x/sht3x';
import type { I2C, I2CConstructor, I2COptions } from '../ports';
import { SimBME280 } from '../../hosts/sim/chips/bme280';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { SimI2CBus } from '../../hosts/sim/chips/i2c-bus';
import { SimSHT3x } from '../../hosts/sim/chips/sht3x';

/** The simulated bus behind an I2C class that, like Moddable's, drops the failure's kind. */
function plainErrors(bus: SimI2CBus): I2CConstructor {
  return class {
    #io: I2C;
    constructor(options: I2COptions) {
      this.#io = new bus.io(options);
    }
    read(count: number) {
      try {
        return this.#io.read(count);
      } catch {
        throw new Error('read failed');
      }
    }
    write(bytes: Uint8Array) {
      try {
        this.#io.write(bytes);
      } catch {
        throw new Error('write failed');
      }
    }
    close() {
      this.#io.close();
    }
  } as unknown as I2CConstructor;
}

function code(fn: () => unknown): string {
  return (throws(fn, SensorError) as SensorError).code;
}

export default suite('I2C failures without a NACK/timeout code', (test) => {
  test('nothing ever answered: absent; a failure after the chip answered: bus', () => {
    const clock = new ManualClock();
    const bus = new SimI2CBus();
    const io = plainErrors(bus);
    throws(() => new BME280({ sensor: { io } }), SensorError, 'did not answer');
    const chip = bus.attach(new SimBME280({ now: () => clock.now() }));
    const sensor = new BME280({ sensor: { io } });
    chip.fault = 'absent';
    const error = throws(() => sensor.start(), SensorError, 'write failed') as SensorError;
    equal(error.code, 'bus');
  });

  test('SHT3x: a failed read right after a measurement command is the chip still measuring', () => {
    const clock = new ManualClock();
    const bus = new SimI2CBus();
    bus.attach(new SimSHT3x({ now: () => clock.now() }));
    const sensor = new SHT3x({ sensor: { io: plainErrors(bus) } });
    sensor.start();
    clock.advance(10);
    equal(code(() => sensor.sample()), 'not-ready');
  });

  test('with the simulator’s codes, a stuck bus during the read stays a bus error', () => {
    const clock = new ManualClock();
    const bus = new SimI2CBus();
    bus.attach(new SimSHT3x({ now: () => clock.now() }));
    const sensor = new SHT3x({ sensor: { io: bus.io } });
    sensor.start();
    clock.advance(15);
    bus.stuck = true;
    equal(code(() => sensor.sample()), 'bus');
  });
});
