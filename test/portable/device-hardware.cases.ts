// The board description becomes telemetry sensors through the bus ports; the telemetry loop samples
// simulated chips, publishes filtered readings, and carries on past a failing or absent sensor.
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { SimAnalogPins, SimBH1750, SimBME280, SimDS18B20, SimI2CBus, SimOneWireBus, SimSHT3x } from '../../hosts/sim/chips/index';
import { buildSensors, HardwareConfigError } from '../../src/device/hardware';
import { bh1750 } from '../../src/sensors/bh1750/entry';
import { Telemetry } from '../../src/device/telemetry';
import type { Platform } from '../../src/ports';
import { equal, near, ok, suite, throws } from '../../hosts/xs/harness';

function board() {
  const clock = new ManualClock({ start: 1000 });
  const i2c = new SimI2CBus();
  const oneWire = new SimOneWireBus();
  const pins = new SimAnalogPins();
  const platform = { clock, i2c: i2c.io, oneWire: oneWire.io, analog: pins.io } as unknown as Platform;
  return { clock, i2c, oneWire, pins, platform };
}

function run(platform: Platform, clock: ManualClock, entries: unknown, ms: number) {
  const sensors = buildSensors(platform, entries);
  const published: { sensor: string; body: Record<string, unknown> }[] = [];
  const t = new Telemetry(clock, sensors, { defaultInterval: () => 10_000, publish: (sensor, payload) => void published.push({ sensor, body: JSON.parse(payload) }) });
  t.start();
  clock.advance(ms);
  return { sensors, published, telemetry: t };
}

const last = (published: { sensor: string; body: Record<string, unknown> }[], name: string) => published.filter((p) => p.sensor === name).at(-1)?.body;

export default suite('device hardware', (test) => {
  test('a full board: every chip becomes a sensor and its readings are published', () => {
    const b = board();
    const now = () => b.clock.now();
    const bme = b.i2c.attach(new SimBME280({ now }));
    const sht = b.i2c.attach(new SimSHT3x({ now }));
    const light = b.i2c.attach(new SimBH1750({ now }));
    const p1 = b.oneWire.attach(new SimDS18B20({ now, serial: 0x11 }));
    const p2 = b.oneWire.attach(new SimDS18B20({ now, serial: 0x22 }));
    const soil = b.pins.add({ pin: 33, resolution: 12 });
    bme.temperature = 21.5;
    bme.humidity = 40;
    bme.pressure = 100_000;
    sht.temperature = 19.25;
    sht.humidity = 55;
    light.illuminance = 300;
    p1.temperature = 4.5;
    p2.temperature = -10.25;
    soil.setRaw(2225); // halfway between the calibration points below
    const { sensors, published, telemetry } = run(b.platform, b.clock, [
      { type: 'bme280', name: 'climate' },
      { type: 'sht3x', name: 'air' },
      { type: 'bh1750', name: 'light' },
      { type: 'ds18b20', name: 'probe', pin: 4 },
      { type: 'analog', name: 'soil', pin: 33, unit: '%', deviceClass: 'moisture', configuration: { calibration: [{ raw: 3100, value: 0 }, { raw: 1350, value: 100 }] } },
    ], 1000);
    const names = sensors.map((s) => s.name);
    equal(names.length, 6);
    equal(names.slice(0, 3), ['climate', 'air', 'light']);
    ok(names[3].startsWith('probe-28') && names[4].startsWith('probe-28'), names.join());
    equal(names[5], 'soil');
    const climate = last(published, 'climate')!;
    near(climate.temperature as number, 21.5, 0.02, 'BME280 temperature');
    near(climate.humidity as number, 40, 0.2, 'BME280 humidity');
    near(climate.pressure as number, 100_000, 3, 'BME280 pressure');
    near(last(published, 'air')!.temperature as number, 19.25, 0.05, 'SHT3x temperature');
    near(last(published, 'light')!.illuminance as number, 300, 1, 'BH1750 lux');
    const probeTemps = [last(published, names[3])!.temperature, last(published, names[4])!.temperature].sort();
    equal(probeTemps, [-10.25, 4.5]);
    near(last(published, 'soil')!.value as number, 50, 0.2, 'calibrated soil moisture');
    ok(telemetry.allSampled, 'every sensor sampled');
  });

  test('a failing sensor is reported; the others carry on', () => {
    const b = board();
    const now = () => b.clock.now();
    b.i2c.attach(new SimBME280({ now }));
    const sht = b.i2c.attach(new SimSHT3x({ now }));
    sht.fault = 'crc';
    const { published, telemetry } = run(b.platform, b.clock, [{ type: 'bme280' }, { type: 'sht3x' }], 25_000);
    equal(last(published, 'sht3x')!.error, 'crc');
    equal(published.filter((p) => p.sensor === 'sht3x').length, 1, 'the failure is reported once, not at every sample');
    equal(published.filter((p) => p.sensor === 'bme280').length, 3, 'the BME280 keeps publishing');
    const status = telemetry.statuses();
    equal([status.sht3x.state, status.sht3x.errors, status.bme280.state], ['crc', 3, 'ok']);
    ok(!telemetry.allSampled);
    sht.fault = undefined;
    b.clock.advance(10_000);
    ok(typeof last(published, 'sht3x')!.temperature === 'number', 'recovered readings are published');
    equal(telemetry.statuses().sht3x.state, 'ok');
  });

  test('a chip absent at boot is reported, and used once it appears', () => {
    const b = board();
    const { published, telemetry } = run(b.platform, b.clock, [{ type: 'bh1750', name: 'lux' }], 1000);
    equal(last(published, 'lux')!.error, 'absent');
    const chip = b.i2c.attach(new SimBH1750({ now: () => b.clock.now() }));
    chip.illuminance = 1234;
    b.clock.advance(10_000);
    near(last(published, 'lux')!.illuminance as number, 1234, 2);
    equal(telemetry.statuses().lux.state, 'ok');
  });

  test('no DS18B20 on the bus is one sensor that reports "absent"', () => {
    const b = board();
    const { sensors, published } = run(b.platform, b.clock, [{ type: 'ds18b20', pin: 4 }], 1000);
    equal(sensors.map((s) => s.name), ['ds18b20']);
    equal(last(published, 'ds18b20')!.error, 'absent');
  });

  test('a board description with mistakes is refused with a message that says which', () => {
    const b = board();
    throws(() => buildSensors(b.platform, { type: 'bme280' }), HardwareConfigError, 'must be a list');
    throws(() => buildSensors(b.platform, [{ type: 'bme280' }, { type: 'bme280' }]), HardwareConfigError, 'two sensors are named "bme280"');
    throws(() => buildSensors(b.platform, [{ type: 'dht22' }]), HardwareConfigError, 'unknown sensor type "dht22"');
    throws(() => buildSensors(b.platform, [{ type: 'analog' }]), HardwareConfigError, 'needs a pin');
    throws(() => buildSensors(b.platform, [{ type: 'sht3x', name: 'a/b' }]), HardwareConfigError, 'without + # or /');
    throws(() => buildSensors({ clock: b.clock } as unknown as Platform, [{ type: 'sht3x' }]), HardwareConfigError, 'needs the I2C port');
    equal(buildSensors(b.platform, undefined), []);
  });

  test('entries that are not objects are refused; a description is read, never changed', () => {
    const b = board();
    throws(() => buildSensors(b.platform, [null]), HardwareConfigError, 'sensor entry null must be an object');
    throws(() => buildSensors(b.platform, ['bme280']), HardwareConfigError, 'sensor entry "bme280" must be an object');
    throws(() => buildSensors(b.platform, [[{ type: 'bme280' }]]), HardwareConfigError, 'must be an object');
    b.i2c.attach(new SimBH1750({ now: () => b.clock.now() }));
    const descriptions = [{ type: 'bh1750' }, { type: 'bh1750', name: 'light', filter: { decimals: 0 } }];
    const first = buildSensors(b.platform, descriptions);
    const second = buildSensors(b.platform, descriptions);
    equal(first.map((s) => s.name), ['bh1750', 'light']);
    equal(second.map((s) => s.name), ['bh1750', 'light']);
    equal(descriptions[0], { type: 'bh1750' }, 'an unnamed entry stays unnamed in the given description');
  });

  test('a BMP280 publishes temperature and pressure, and no humidity', () => {
    const b = board();
    const chip = b.i2c.attach(new SimBME280({ now: () => b.clock.now(), variant: 'bmp280', address: 0x77 }));
    chip.temperature = 18.5;
    chip.pressure = 95_000;
    const { sensors, published } = run(b.platform, b.clock, [{ type: 'bmp280', name: 'baro', address: 0x77 }], 1000);
    // the readings are what discovery announces: no humidity entity for a BMP280
    equal(Object.keys(sensors[0].readings), ['temperature', 'pressure']);
    const body = last(published, 'baro')!;
    ok(!('humidity' in body), JSON.stringify(body));
    near(body.temperature as number, 18.5, 0.02, 'BMP280 temperature');
    near(body.pressure as number, 95_000, 3, 'BMP280 pressure');
  });

  test('a build knows the types of its entries, and lists them when a type is unknown', () => {
    const b = board();
    throws(() => buildSensors(b.platform, [{ type: 'dht22' }]), HardwareConfigError, 'known: bme280, bmp280, sht3x, bh1750, ds18b20, analog');
    throws(() => buildSensors(b.platform, [{ type: 'bme280' }], {}, [bh1750]), HardwareConfigError, 'unknown sensor type "bme280"; known: bh1750');
    const chip = b.i2c.attach(new SimBH1750({ now: () => b.clock.now() }));
    chip.illuminance = 50;
    const sensors = buildSensors(b.platform, [{ type: 'bh1750' }], {}, [bh1750]);
    equal(sensors.map((s) => s.name), ['bh1750']);
  });

  test('per-sensor interval and filters apply', () => {
    const b = board();
    const chip = b.i2c.attach(new SimBH1750({ now: () => b.clock.now() }));
    chip.illuminance = 100;
    const { published } = run(b.platform, b.clock, [{ type: 'bh1750', interval: 2, filter: { delta: 50 } }], 1000);
    equal(published.length, 1);
    chip.illuminance = 120; // below the delta: not published
    b.clock.advance(4000);
    equal(published.length, 1);
    chip.illuminance = 200;
    b.clock.advance(2000);
    equal(published.length, 2);
  });
});
