// The flash a two-slot bootloader works on, as hosts provide it: two image slots, a commit stamp per
// slot, two copies of the boot record, and (optional) two sectors of download checkpoints. The
// simulator keeps them in files (hosts/sim/flash.ts); the ESP8266 keeps them in flash sectors
// (hosts/moddable/target/esp). The logic that uses them is host-independent: src/ota/bootloader.ts
// (which slot boots), src/ota/slot-update.ts (the FlashUpdate port that writes the spare slot),
// src/ota/placement.ts (the ESP8266's copy of the chosen slot into the app area).
import type { CheckpointSectors } from './resume-log';

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
  /**
   * Prepares a slot for an image written from byte `from` on (0, or a multiple of 4096 when an
   * interrupted update continues): with 0 its image and commit stamp are erased at once; flash past
   * `from` is erased before it is programmed (a host may erase each sector just before its first write).
   */
  erase(slot: SlotIndex, from?: number): void;
  /** Programs image bytes at an offset of an erased slot. */
  write(slot: SlotIndex, offset: number, bytes: Uint8Array): void;
  /** Makes a slot unbootable: erases the sector with its image header, and its commit stamp. */
  invalidate(slot: SlotIndex): void;
  /** Two sectors for download checkpoints; without them an interrupted update starts again from byte 0. */
  readonly checkpoints?: CheckpointSectors;
}

/** Checkpoints fall on multiples of this (a flash sector), so a continued update erases whole sectors. */
export const CHECKPOINT_ALIGN = 4096;

export function otherSlot(slot: SlotIndex): SlotIndex {
  return slot === 0 ? 1 : 0;
}
