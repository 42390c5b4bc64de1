// The flash a two-slot bootloader works on, as hosts provide it: two image slots, a commit stamp per
// slot, and two copies of the boot record. The simulator keeps them in files (hosts/sim/flash.ts);
// a chip without ESP-IDF's bootloader (the ESP8266) can keep them in flash sectors. The logic that
// uses them is host-independent: src/ota/bootloader.ts (which slot boots) and src/ota/slot-update.ts
// (the FlashUpdate port that writes the spare slot).

export type SlotIndex = 0 | 1;
export type RecordCopy = 0 | 1;

/** What a slot holds, as the bootloader checks it: an image (its version), or why there is none. */
export type SlotImage = { version: string; problem?: undefined } | { version?: undefined; problem: string };

export interface BootFlash {
  /** Capacity of each slot, bytes. */
  readonly slotSize: number;
  /**
   * Leading image bytes (the magic) that the writer holds back and programs last, once the whole
   * image is written and checked: until then the slot cannot boot, whatever happens to the power.
   */
  readonly headerBytes: number;
  /** One copy of the boot record, or undefined when it is erased. */
  readRecord(copy: RecordCopy): Uint8Array | undefined;
  writeRecord(copy: RecordCopy, bytes: Uint8Array): void;
  /** The commit stamp of a slot (kept apart from its image, like a trailer sector), or undefined. */
  readStamp(slot: SlotIndex): Uint8Array | undefined;
  writeStamp(slot: SlotIndex, bytes: Uint8Array): void;
  /** Checks the image in a slot (magic, header, checksum). Never throws. */
  inspect(slot: SlotIndex): SlotImage;
  /** Erases a slot before an image is written into it: the image and its commit stamp. */
  erase(slot: SlotIndex): void;
  /** Programs image bytes at an offset of an erased slot. */
  write(slot: SlotIndex, offset: number, bytes: Uint8Array): void;
  /** Makes a slot unbootable: erases the sector with its image header, and its commit stamp. */
  invalidate(slot: SlotIndex): void;
}

export function otherSlot(slot: SlotIndex): SlotIndex {
  return slot === 0 ? 1 : 0;
}
