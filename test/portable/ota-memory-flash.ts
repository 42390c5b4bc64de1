// An in-memory flash for the boot-slot cases (two slots, stamps, record copies, checkpoint sectors)
// and a small test image format: magic, version length, version, CRC-32 of what precedes it.
import { crc32 } from '../../src/crypto/crc32';
import type { BootFlash, RecordCopy, SlotImage, SlotIndex } from '../../src/ota/boot-flash';
import type { CheckpointSectors, LogSector } from '../../src/ota/resume-log';

const MAGIC = [0x49, 0x4d, 0x47, 0x21]; // "IMG!"

/** A test image: magic, version length, version, CRC-32 of what precedes it. */
export function imageBytes(version: string, size = 64): Uint8Array {
  const out = new Uint8Array(size);
  out.set(MAGIC, 0);
  out[4] = version.length;
  for (let i = 0; i < version.length; i++) out[5 + i] = version.charCodeAt(i);
  for (let i = 5 + version.length; i < size - 4; i++) out[i] = (i * 7) & 0xff;
  new DataView(out.buffer).setUint32(size - 4, crc32(out, 0, size - 4));
  return out;
}

export function check(bytes: Uint8Array): SlotImage {
  if (bytes.length < 9) return { problem: 'empty slot' };
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) return { problem: 'no image magic' };
  if (new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 4) !== crc32(bytes, 0, bytes.length - 4)) return { problem: 'checksum mismatch' };
  let version = '';
  for (let i = 0; i < bytes[4]; i++) version += String.fromCharCode(bytes[5 + i]);
  return { version };
}

export class MemoryFlash implements BootFlash {
  readonly slotSize: number;
  readonly headerBytes = 4;
  readonly checkpoints?: MemorySectors;
  slots: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0)];
  stamps: (Uint8Array | undefined)[] = [undefined, undefined];
  records: (Uint8Array | undefined)[] = [undefined, undefined];

  constructor(options: { slotSize?: number; checkpoints?: MemorySectors } = {}) {
    this.slotSize = options.slotSize ?? 4096;
    this.checkpoints = options.checkpoints;
  }

  readRecord(copy: RecordCopy): Uint8Array | undefined {
    return this.records[copy];
  }
  writeRecord(copy: RecordCopy, bytes: Uint8Array): void {
    this.records[copy] = bytes.slice();
  }
  readStamp(slot: SlotIndex): Uint8Array | undefined {
    return this.stamps[slot];
  }
  writeStamp(slot: SlotIndex, bytes: Uint8Array): void {
    this.stamps[slot] = bytes.slice();
  }
  inspect(slot: SlotIndex): SlotImage {
    return check(this.slots[slot]);
  }
  erase(slot: SlotIndex, from = 0): void {
    if (from > 0) {
      this.slots[slot] = this.slots[slot].slice(0, from);
      return;
    }
    this.slots[slot] = new Uint8Array(0);
    this.stamps[slot] = undefined;
  }
  write(slot: SlotIndex, offset: number, bytes: Uint8Array): void {
    const old = this.slots[slot];
    if (old.length < offset + bytes.length) {
      const grown = new Uint8Array(offset + bytes.length).fill(0xff);
      grown.set(old, 0);
      this.slots[slot] = grown;
    }
    this.slots[slot].set(bytes, offset);
  }
  invalidate(slot: SlotIndex): void {
    this.slots[slot].fill(0xff, 0, Math.min(16, this.slots[slot].length));
    this.stamps[slot] = undefined;
  }
  /** An image put there by a USB flash tool: no record, no stamp. */
  flashOverUsb(slot: SlotIndex, version: string): void {
    this.erase(slot);
    this.write(slot, 0, imageBytes(version));
    this.records = [undefined, undefined];
  }
}


/**
 * Two checkpoint sectors in memory. `budget` bytes may still be programmed or erased (undefined: no
 * limit); past it, the power is gone: a program stops at that byte, an erase leaves garbage.
 */
export class MemorySectors implements CheckpointSectors {
  readonly sectorSize: number;
  readonly sectors: Uint8Array[];
  budget: number | undefined;
  programs = 0;
  erases = 0;

  constructor(sectorSize = 512) {
    this.sectorSize = sectorSize;
    this.sectors = [new Uint8Array(sectorSize).fill(0xff), new Uint8Array(sectorSize).fill(0xff)];
  }

  get dead(): boolean {
    return this.budget !== undefined && this.budget <= 0;
  }

  read(sector: LogSector, offset: number, length: number): Uint8Array {
    return this.sectors[sector].slice(offset, offset + length);
  }

  erase(sector: LogSector): void {
    if (this.dead) return;
    this.erases++;
    if (this.budget !== undefined && this.budget < this.sectorSize) {
      for (let i = 0; i < this.sectorSize; i++) this.sectors[sector][i] = (i * 151 + 7) & 0xff; // a torn erase: garbage
      this.budget = 0;
      return;
    }
    if (this.budget !== undefined) this.budget -= this.sectorSize;
    this.sectors[sector].fill(0xff);
  }

  program(sector: LogSector, offset: number, bytes: Uint8Array): void {
    if (this.dead) return;
    this.programs++;
    const n = this.budget === undefined ? bytes.length : Math.min(bytes.length, this.budget);
    for (let i = 0; i < n; i++) this.sectors[sector][offset + i] &= bytes[i];
    if (this.budget !== undefined) this.budget -= n;
  }
}
