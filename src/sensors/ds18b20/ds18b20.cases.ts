// DS18B20 driver and the 1-Wire ROM search, against the datasheet's temperature table and a
// time-slot-level simulated bus with several sensors.
import { equal, hex, near, ok, suite, throws } from '../../../hosts/xs/harness';
import { DS18B20 } from './ds18b20';
import { SensorError } from '../errors';
import { romFromHex, romToHex, searchRoms } from './onewire';
import { ManualClock } from '../../../hosts/sim/fakes/clock';
import { SimDS18B20, makeRom } from '../../../hosts/sim/chips/ds18b20';
import { SimOneWireBus } from '../../../hosts/sim/chips/onewire-bus';

function rig(serials: number[] = [0x00a1b2c3d4e5]) {
  const clock = new ManualClock();
  const bus = new SimOneWireBus();
  const chips = serials.map((serial) => bus.attach(new SimDS18B20({ now: () => clock.now(), serial })));
  return { clock, bus, chips };
}

function code(fn: () => unknown): string {
  return (throws(fn, SensorError) as SensorError).code;
}

const sortHex = (roms: Uint8Array[]) => roms.map(romToHex).sort();

export default suite('DS18B20 and 1-Wire search', (test) => {
  test('datasheet Table 1: temperature register contents at 12 bits, and the driver reads them back', () => {
    const table: [number, number][] = [
      [125, 0x07d0], [85, 0x0550], [25.0625, 0x0191], [10.125, 0x00a2], [0.5, 0x0008],
      [0, 0x0000], [-0.5, 0xfff8], [-10.125, 0xff5e], [-25.0625, 0xfe6f], [-55, 0xfc90],
    ];
    const { clock, bus, chips } = rig();
    const sensor = new DS18B20({ sensor: { io: bus, rom: chips[0].rom } });
    for (const [temperature, register] of table) {
      chips[0].temperature = temperature;
      clock.advance(sensor.start());
      equal(sensor.sample(), { temperature }, `${temperature} °C`);
      const pad = chips[0].scratchpad();
      equal(pad[0] | (pad[1] << 8), register, `register for ${temperature} °C`);
    }
  });

  test('ROM codes: family 0x28, serial LSB first, Maxim CRC; hex text round trip', () => {
    const rom = makeRom(0x28, 0x0000a1b2c3d4);
    equal(rom.subarray(0, 7), hex('28 d4 c3 b2 a1 00 00'));
    const text = romToHex(rom);
    equal(text.slice(0, 14), '28d4c3b2a10000');
    equal(romFromHex(text), rom);
    equal(romFromHex(text.toUpperCase().replace(/(..)/g, '$1:').slice(0, -1)), rom, 'with separators');
    equal(code(() => romFromHex('28d4c3b2a10000')), 'config', 'too short');
    equal(romFromHex('28ff641d8d160335')[0], 0x28, 'the example in the error messages is valid');
    const bad = text.slice(0, 14) + ((rom[7] ^ 1).toString(16).padStart(2, '0'));
    equal(code(() => romFromHex(bad)), 'crc');
  });

  test('ROM search finds every sensor, including ROMs that differ only in their last serial bit', () => {
    for (const serials of [[1], [1, 2], [0x10, 0x11, 0x12, 0x13, 0x14], [0xffffffffffff, 0, 0x800000000000, 0x7fffffffffff], Array.from({ length: 12 }, (_, i) => i * 0x0102030405)]) {
      const { bus, chips } = rig(serials);
      equal(sortHex(searchRoms(bus)), sortHex(chips.map((c) => c.rom)), serials.join(','));
    }
  });

  test('ROM search on an empty bus finds nothing; with a limit it stops early', () => {
    equal(searchRoms(new SimOneWireBus()), []);
    const { bus } = rig([1, 2, 3, 4]);
    equal(searchRoms(bus, { limit: 2 }).length, 2);
  });

  test('ROM search transcript: reset, 0xF0, then per bit two reads and the chosen direction (AN187)', () => {
    const { bus, chips } = rig([0x0123456789ab]);
    searchRoms(bus);
    const t = bus.transcript;
    equal(t.length, 2 + 64 * 3);
    equal(t[0], { op: 'reset', presence: true });
    equal(t[1], { op: 'write', bytes: hex('f0') });
    for (let bit = 0; bit < 64; bit++) {
      const value = (chips[0].rom[bit >> 3] >> (bit & 7)) & 1;
      equal([t[2 + bit * 3], t[3 + bit * 3], t[4 + bit * 3]], [
        { op: 'readBit', bit: value },
        { op: 'readBit', bit: value ^ 1 },
        { op: 'writeBit', bit: value },
      ]);
    }
  });

  test('alarm search finds only the sensors whose temperature is outside TL..TH', () => {
    const { clock, bus, chips } = rig([1, 2, 3]);
    // Power-on alarm limits from EEPROM: TH 75 °C (0x4B), TL 70 °C (0x46); alarm when T >= TH or T <= TL.
    chips[1].temperature = 80;
    chips[0].temperature = chips[2].temperature = 72;
    const sensors = chips.map((c) => new DS18B20({ sensor: { io: bus, rom: c.rom } }));
    clock.advance(DS18B20.startAll(bus, sensors));
    equal(sortHex(searchRoms(bus, { alarms: true })), [romToHex(chips[1].rom)]);
  });

  test('several sensors on one bus, each addressed by ROM, and one conversion for all', () => {
    const { clock, bus, chips } = rig([11, 22, 33]);
    const sensors = searchRoms(bus).map((rom) => new DS18B20({ sensor: { io: bus, rom } }));
    const byRom = new Map(chips.map((c) => [romToHex(c.rom), c]));
    for (const [i, chip] of chips.entries()) chip.temperature = -20 + 30 * i;
    for (const sensor of sensors) {
      clock.advance(sensor.start());
      equal(sensor.sample().temperature, byRom.get(romToHex(sensor.rom))!.temperature);
    }
    bus.clearTranscript();
    const wait = DS18B20.startAll(bus, sensors);
    equal(bus.transcript, [{ op: 'reset', presence: true }, { op: 'write', bytes: hex('cc 44') }]);
    equal(wait, 750);
    clock.advance(wait);
    for (const sensor of sensors) equal(sensor.sample().temperature, byRom.get(romToHex(sensor.rom))!.temperature);
  });

  test('bus transcript of one sample: Match ROM + Convert T, then Match ROM + Read Scratchpad', () => {
    const { clock, bus, chips } = rig();
    chips[0].temperature = 21.5;
    const sensor = new DS18B20({ sensor: { io: bus, rom: chips[0].rom } });
    bus.clearTranscript();
    clock.advance(sensor.start());
    sensor.sample();
    const matchRom = Uint8Array.of(0x55, ...chips[0].rom);
    equal(bus.transcript, [
      { op: 'reset', presence: true }, { op: 'write', bytes: matchRom }, { op: 'write', bytes: hex('44') },
      { op: 'reset', presence: true }, { op: 'write', bytes: matchRom }, { op: 'write', bytes: hex('be') },
      { op: 'read', bytes: chips[0].scratchpad() },
    ]);
    // 21.5 °C = 0x0158; TH 0x4B, TL 0x46, 12-bit config 0x7F, reserved FF 0C 10.
    equal(chips[0].scratchpad().subarray(0, 8), hex('58 01 4b 46 7f ff 0c 10'));
  });

  test('resolution 9..12 bits: configuration byte, conversion time, quantisation, undefined bits masked', () => {
    const { clock, bus, chips } = rig();
    const sensor = new DS18B20({ sensor: { io: bus, rom: chips[0].rom } });
    for (const [resolution, ms, config, step] of [[9, 94, 0x1f, 0.5], [10, 188, 0x3f, 0.25], [11, 375, 0x5f, 0.125], [12, 750, 0x7f, 0.0625]] as const) {
      bus.clearTranscript();
      sensor.configure({ resolution });
      equal(bus.transcript.slice(2), [{ op: 'write', bytes: Uint8Array.of(0x4e, 0x4b, 0x46, config) }], `write scratchpad ${resolution}`);
      equal(sensor.conversionTime, ms);
      for (let t = -55; t <= 125; t += 7.3) {
        chips[0].temperature = t;
        clock.advance(sensor.start());
        const r = sensor.sample();
        near(r.temperature, t, step / 2, `${resolution} bits, ${t} °C`);
        ok(Number.isInteger(r.temperature / step), `${r.temperature} is a multiple of the ${step} °C step`);
      }
    }
  });

  test('reading before the conversion ends gives the previous value (85 °C after power-on)', () => {
    const { clock, bus, chips } = rig();
    const sensor = new DS18B20({ sensor: { io: bus, rom: chips[0].rom } });
    chips[0].temperature = 30;
    const wait = sensor.start();
    clock.advance(wait - 1);
    equal(sensor.sample().temperature, 85);
    sensor.start();
    clock.advance(wait);
    equal(sensor.sample().temperature, 30);
    equal(code(() => sensor.sample()), 'not-ready', 'sample() needs a start() each time');
  });

  test('without a ROM the bus must hold one sensor: Read ROM; with two it collides', () => {
    const single = rig();
    equal(new DS18B20({ sensor: { io: single.bus } }).rom, single.chips[0].rom);
    const pair = rig([5, 6]);
    throws(() => new DS18B20({ sensor: { io: pair.bus } }), SensorError, 'searchRoms');
  });

  test('a OneWire constructor: the driver opens and closes its own bus', () => {
    const { clock, bus, chips } = rig();
    chips[0].temperature = -3;
    const sensor = new DS18B20({ sensor: { io: bus.io, pin: 4, rom: romToHex(chips[0].rom) } });
    clock.advance(sensor.start());
    equal(sensor.sample().temperature, -3);
    sensor.close();
    throws(() => sensor.start(), Error, 'closed');
    equal(code(() => new DS18B20({ sensor: { io: bus.io } })), 'config', 'pin missing');
  });

  test('faults: absent, corrupted CRC, out of range, wrong family, line held low', () => {
    const { clock, bus, chips } = rig([7, 8]);
    const sensor = new DS18B20({ sensor: { io: bus, rom: chips[0].rom } });
    chips[0].fault = 'crc';
    clock.advance(sensor.start());
    throws(() => sensor.sample(), SensorError, 'scratchpad CRC');
    chips[0].fault = 'range';
    clock.advance(sensor.start());
    const r = sensor.sample();
    equal(r.outOfRange, ['temperature']);
    near(r.temperature, 127.9375, 1e-9);
    chips[0].fault = 'absent';
    clock.advance(sensor.start());
    throws(() => sensor.sample(), SensorError, 'did not answer');
    equal(code(() => new DS18B20({ sensor: { io: bus, rom: chips[0].rom } })), 'absent');
    chips[1].fault = 'absent';
    equal(code(() => sensor.start()), 'absent', 'no presence pulse at all');
    chips[0].fault = chips[1].fault = undefined;

    const other = bus.attach(new SimDS18B20({ now: () => clock.now(), serial: 9, family: 0x10 }));
    throws(() => new DS18B20({ sensor: { io: bus, rom: other.rom } }), SensorError, 'DS18S20');
    equal(code(() => new DS18B20({ sensor: { io: bus, rom: other.rom } })), 'wrong-chip');

    bus.stuckLow = true;
    throws(() => searchRoms(bus), SensorError, 'held low');
    equal(code(() => sensor.start() && sensor.sample()), 'bus');
    equal(code(() => new DS18B20({ sensor: { io: bus } })), 'bus');
  });

  test('invalid options: config errors', () => {
    const { bus, chips } = rig();
    const sensor = new DS18B20({ sensor: { io: bus, rom: chips[0].rom } });
    throws(() => sensor.configure({ resolution: 8 as 9 }), SensorError, '9, 10, 11 or 12');
    equal(code(() => new DS18B20({ sensor: { io: {} as never } })), 'config');
    equal(code(() => new DS18B20({ sensor: { io: bus, rom: 'not a rom' } })), 'config');
    equal(sensor.configuration.resolution, 12);
  });
});
