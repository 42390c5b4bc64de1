// The ESP8266 OTA image as the build writes it (scripts/nmboot.ts): main.bin and its 80-byte trailer
// (version, board type, CRC-32), checked as nmboot checks it.
import { describe, expect, it } from 'vitest';
import { appendTrailer } from '../../scripts/nmboot';
import { crc32 } from '../../src/crypto/crc32';
import { buildEsp8266Image, inspectEsp8266 } from '../helpers/esp8266-flash';

describe('ESP8266 OTA image', () => {
  it('appends the trailer nmboot reads: magic, lengths, main.bin\'s length, version, board, CRC-32 of the rest', () => {
    const image = buildEsp8266Image('1.2.3', 'esp8266', 1024, 5);
    const t = image.subarray(image.length - 80);
    const view = new DataView(t.buffer, t.byteOffset);
    expect(Buffer.from(t.subarray(0, 4)).toString()).toBe('NMFW');
    expect([t[4], t[5], t[6]]).toEqual([1, 5, 7]);
    expect(view.getUint32(8, true)).toBe(image.length - 80);
    expect(Buffer.from(t.subarray(12, 17)).toString()).toBe('1.2.3');
    expect(Buffer.from(t.subarray(44, 51)).toString()).toBe('esp8266');
    expect(view.getUint32(76, true)).toBe(crc32(image, 0, image.length - 4));
    expect(inspectEsp8266(image, 0, image.length)).toEqual({ version: '1.2.3', size: image.length, id: view.getUint32(76, true).toString(16) });
    expect(inspectEsp8266(image, 0, image.length - 1).problem).toBe('bad image header');
  });

  it('refuses a main.bin that is not a version 2 image, and versions or boards the trailer cannot hold', () => {
    const main = buildEsp8266Image('1.0.0').subarray(0, -80);
    expect(() => appendTrailer(new Uint8Array(64).fill(0xe9), '1.0.0')).toThrow(/not an ESP8266 "version 2" image/);
    expect(() => appendTrailer(main, 'x'.repeat(33))).toThrow(/1-32 printable characters/);
    expect(() => appendTrailer(main, '1.0"0')).toThrow(/without quotes/);
    expect(() => appendTrailer(main, '1.0.0', '')).toThrow(/board type/);
    expect(appendTrailer(main, '1.0.0').length).toBe(main.length + 80);
  });
});
