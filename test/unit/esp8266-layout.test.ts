// The ESP8266 flash layout of OTA against what it must fit around, read from Moddable SDK 8.2.3's
// esp build: eagle.flash.4m.ld (irom0_0_seg at 0x40201010 for 0xfeff0 bytes: the app at flash
// 0x1010, main.bin from 0x1000; _MODPREF_start/_end 0x40300000-0x40302000; _SPIFFS_start/_end
// 0x40302000-0x405FB000) and make.esp.mk (esp_init_data_default.bin at 0x3FC000; from 0x3FB000 the
// linker script's "eeprom" sector, the SDK's init data and its system parameters). The firmware's layout
// (hosts/moddable/target/esp/layout.ts) and nmboot's (nmboot/nmboot.h) must be the same numbers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ESP_LAYOUT } from '../../hosts/moddable/target/esp/layout';

const FLASH_MAPPED = 0x40200000;
const LINKER = {
  iromStart: 0x40201010 - FLASH_MAPPED,
  iromLength: 0xfeff0,
  preferences: 0x40300000 - FLASH_MAPPED,
  preferencesEnd: 0x40302000 - FLASH_MAPPED,
  storage: 0x40302000 - FLASH_MAPPED,
  storageEnd: 0x405fb000 - FLASH_MAPPED,
  /** The first sector past the SPIFFS area (the linker script's "eeprom"), then esp_init_data at 0x3FC000, system parameters. */
  sdkReserved: 0x3fb000,
  mainBin: 0x1000,
};

/** The device layout of nmboot.h (the branch without NM_TEST_LAYOUT). */
function header(): Record<string, number> {
  const text = readFileSync('hosts/moddable/target/esp/nmboot/nmboot.h', 'utf8');
  const device = text.slice(text.indexOf('#ifndef NM_TEST_LAYOUT'), text.indexOf('#else'));
  const out: Record<string, number> = {};
  for (const m of device.matchAll(/#define (NM_\w+) (0x[0-9A-Fa-f]+)u/g)) out[m[1]] = Number(m[2]);
  return out;
}

describe('ESP8266 OTA flash layout', () => {
  it('nmboot.h and the firmware use the same addresses', () => {
    const h = header();
    expect(h).toEqual({
      NM_APP: ESP_LAYOUT.app,
      NM_APP_SIZE: ESP_LAYOUT.appSize,
      NM_RECORD0: ESP_LAYOUT.record0,
      NM_RECORD1: ESP_LAYOUT.record1,
      NM_SLOT0: ESP_LAYOUT.slot0,
      NM_SLOT1: ESP_LAYOUT.slot1,
      NM_STAGE2: ESP_LAYOUT.stage2,
    });
  });

  it('fits Moddable\'s linker script: the app area is main.bin\'s, the preferences are left alone, the rest is in the unused SPIFFS area', () => {
    const L = ESP_LAYOUT;
    // main.bin starts at 0x1000 with a 16-byte header before the irom code; the app area ends where the code area does
    expect(L.app).toBe(LINKER.mainBin);
    expect(L.app + 0x10).toBe(LINKER.iromStart);
    expect(L.app + L.appSize).toBe(LINKER.iromStart + LINKER.iromLength);
    expect([L.preferences, L.preferencesEnd, L.storage, L.storageEnd]).toEqual([LINKER.preferences, LINKER.preferencesEnd, LINKER.storage, LINKER.storageEnd]);
    // every OTA area, in order, sector-aligned, inside the SPIFFS area, none overlapping
    const areas: [string, number, number][] = [
      ['record 0', L.record0, L.sector],
      ['record 1', L.record1, L.sector],
      ['checkpoint 0', L.checkpoint0, L.sector],
      ['checkpoint 1', L.checkpoint1, L.sector],
      ['nmboot stage 2', L.stage2, L.slot0 - L.stage2],
      ['slot 0 and stamp', L.slot0, L.appSize + L.sector],
      ['slot 1 and stamp', L.slot1, L.appSize + L.sector],
    ];
    let end = L.storage;
    for (const [name, start, size] of areas) {
      expect(start % L.sector, name).toBe(0);
      expect(start, `${name} starts after the one before it`).toBeGreaterThanOrEqual(end);
      end = start + size;
    }
    expect(end).toBeLessThanOrEqual(LINKER.storageEnd);
    expect(end).toBeLessThanOrEqual(LINKER.sdkReserved);
    // only the first megabyte is memory-mapped: the app runs from there; the slots are only read and written
    expect(L.app + L.appSize).toBeLessThanOrEqual(0x100000);
  });

  it('gives nmboot\'s second stage room for its image (40 KB)', () => {
    expect(ESP_LAYOUT.slot0 - ESP_LAYOUT.stage2).toBe(40 * 1024);
  });
});
