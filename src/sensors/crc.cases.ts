// CRC-8 variants of the sensors, against the vectors their makers publish.
import { equal, suite } from '../../hosts/xs/harness';
import { hex } from '../../hosts/xs/harness';
import { crc8Maxim, crc8Sensirion } from './crc';
import { maximCrc, sensirionCrc } from '../../hosts/sim/chips/crc';

export default suite('sensor CRCs', (test) => {
  test('Sensirion CRC-8 of 0xBEEF is 0x92 (SHT3x-DIS datasheet, Table 20)', () => {
    equal(crc8Sensirion(hex('be ef')), 0x92);
    equal(sensirionCrc(hex('be ef')), 0x92, 'simulated chip');
  });

  test('Sensirion CRC-8 covers only the given range', () => {
    equal(crc8Sensirion(hex('00 be ef 00'), 1, 3), 0x92);
  });

  test('Maxim CRC-8 of the ROM 02 1C B8 01 00 00 00 is 0xA2 (Maxim application note 27)', () => {
    equal(crc8Maxim(hex('02 1c b8 01 00 00 00')), 0xa2);
    equal(maximCrc(hex('02 1c b8 01 00 00 00')), 0xa2, 'simulated chip');
  });

  test('Maxim CRC-8 over data followed by its CRC is zero', () => {
    equal(crc8Maxim(hex('02 1c b8 01 00 00 00 a2')), 0);
  });

  test('CRC-8s of nothing are their initial values', () => {
    equal(crc8Sensirion(new Uint8Array(0)), 0xff);
    equal(crc8Maxim(new Uint8Array(0)), 0);
  });
});
