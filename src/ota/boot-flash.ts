// The flash a two-slot bootloader works on, as hosts provide it: two image slots, a commit stamp per
// slot, two copies of the boot record, and (optional) two sectors of download checkpoints. The
// simulator keeps them in files (hosts/sim/flash.ts); the ESP8266 keeps them in flash sectors
// (hosts/moddable/target/esp). The logic that uses them is host-independent: src/ota/bootloader.ts
// (which slot boots), src/ota/slot-update.ts (the FlashUpdate port that writes the spare slot),
// src/ota/placement.ts (the ESP8266's copy of the chosen slot into the app area).
import type { CheckpointSectors } from './resume-log';

export type SlotIndex = 0 | 1;
export type RecordCopy = 0 | 1;

/**
 * What a slot holds, as the bootloader checks it: an image (its version; hosts that copy images also
 * give its size in bytes and an `id`, its checksum, so two copies can be compared), or why there is none.
 */
export type SlotImage = { version: string; size?: number; id?: string; problem?: undefined } | { version?: undefined; size?: undefined; id?: undefined; problem: string };

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

/**
 * The flash of a chip that runs its image from one fixed place (the ESP8266: the app area at 0x1000,
 * the only one its linker script and memory map allow): the two slots stage and keep images, and
 * at boot the chosen one is copied into the app area (src/ota/placement.ts).
 */
export interface CopyFlash extends BootFlash {
  /** Capacity of the app area, bytes (no bigger image can run). */
  readonly appSize: number;
  /** Checks the image in the app area; `size` and `id` are required for a copy layout. */
  inspectApp(): SlotImage;
  /** Bytes of a slot or of the app area; erased flash reads 0xFF. */
  readSlotAt(slot: SlotIndex, offset: number, length: number): Uint8Array;
  readAppAt(offset: number, length: number): Uint8Array;
  /** Prepares the app area for a copy: its first sector at once, each later one before it is programmed. */
  eraseApp(): void;
  /** Programs bytes into the (erased) app area. */
  writeApp(offset: number, bytes: Uint8Array): void;
}

export const otherSlot = (slot: SlotIndex): SlotIndex => {
  return slot === 0 ? 1 : 0;
};
