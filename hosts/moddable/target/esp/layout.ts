// The ESP8266's 4 MB flash as nmboot (nmboot/nmboot.h) lays it out around Moddable's
// eagle.flash.4m.ld: the app area where main.bin runs from (0x1000, up to Moddable's preferences at
// 0x100000), and in the SPIFFS area that this firmware does not use (0x102000-0x3FAFFF, the
// "storage" partition of Moddable's flash module) the boot record, the download checkpoints,
// nmboot's second stage and two image slots with their commit stamps. test/unit/esp8266-layout.test.ts
// checks these against nmboot.h and the linker script's addresses.
export const ESP_LAYOUT = {
  sector: 0x1000,
  app: 0x001000,
  appSize: 0x0ff000,
  /** Moddable's preferences (_MODPREF_start, _MODPREF_end): two sectors OTA never touches. */
  preferences: 0x100000,
  preferencesEnd: 0x102000,
  /** Start of the "storage" partition (_SPIFFS_start): offset 0 of Flash('storage'). */
  storage: 0x102000,
  storageEnd: 0x3fb000,
  record0: 0x102000,
  record1: 0x103000,
  checkpoint0: 0x104000,
  checkpoint1: 0x105000,
  stage2: 0x106000,
  slot0: 0x110000,
  slot1: 0x210000,
} as const;

/** Where a slot's image starts; its commit stamp is the sector after its appSize bytes. */
export function slotAddress(slot: 0 | 1): number {
  return slot === 0 ? ESP_LAYOUT.slot0 : ESP_LAYOUT.slot1;
}

export function stampAddress(slot: 0 | 1): number {
  return slotAddress(slot) + ESP_LAYOUT.appSize;
}
