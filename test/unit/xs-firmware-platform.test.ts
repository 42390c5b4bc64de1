// The bench platform of the firmware budgets (scripts/budgets/firmware-platform.ts): the BME280 image
// must hold a real conversion. Its broker and clock are the test kit's (test/unit/sim-broker.test.ts,
// test/unit/sim-clock.test.ts).
import { describe, expect, it } from 'vitest';
import { temperatureDouble, DATASHEET_CALIBRATION } from '../../hosts/sim/chips/bosch-float';
import { RegisterImageBME280, benchI2C } from '../../scripts/budgets/firmware-platform';

describe('RegisterImageBME280', () => {
  it('reads as a BME280 with the datasheet calibration and a converted temperature', () => {
    const chip = new RegisterImageBME280({ temperature: 21.5, pressure: 101_325, humidity: 45 });
    const I2C = benchI2C([chip]);
    const io = new I2C({ address: 0x76 });
    io.write(Uint8Array.of(0xd0), false);
    expect(io.read(1)).toEqual(Uint8Array.of(0x60));
    // T1 is the first calibration word, little-endian at 0x88 (datasheet table 16)
    io.write(Uint8Array.of(0x88), false);
    const t1 = io.read(2);
    expect(t1[0]! | (t1[1]! << 8)).toBe(DATASHEET_CALIBRATION.T1);
    // temp_msb, lsb, xlsb at 0xfa..0xfc hold a 20-bit count (5.4.8); Bosch's float formula gives °C
    io.write(Uint8Array.of(0xfa), false);
    const d = io.read(3);
    const adcT = (d[0]! << 12) | (d[1]! << 4) | (d[2]! >> 4);
    expect(temperatureDouble(adcT, DATASHEET_CALIBRATION)[0]).toBeCloseTo(21.5, 1);
    // a forced measurement is done at once: status not measuring, mode back to sleep
    io.write(Uint8Array.of(0xf4, 0x25));
    io.write(Uint8Array.of(0xf3), false);
    expect(io.read(2)).toEqual(Uint8Array.of(0x00, 0x24));
  });

  it('NACKs an address with no chip', () => {
    const I2C = benchI2C([]);
    expect(() => new I2C({ address: 0x77 }).read(1)).toThrow(/no ACK from 0x77/);
  });
});
