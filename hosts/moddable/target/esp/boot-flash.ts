// The BootFlash of the ESP8266 (src/ota/boot-flash.ts) over Moddable's flash module: the two image
// slots, their commit stamps, the boot record copies and the checkpoint sectors, where
// nmboot expects them (layout.ts). Sectors are erased as nmboot erases them: a slot's first sector
// and stamp when an update starts, each later sector just before its first write, so no call
// blocks for the seconds a whole slot takes to erase.
import Flash from 'flash';
import type { BootFlash, RecordCopy, SlotImage, SlotIndex } from '../../../../src/ota/boot-flash';
import type { CheckpointSectors, LogSector } from '../../../../src/ota/resume-log';
import { ESP_LAYOUT, slotAddress, stampAddress } from './layout';
import { inspect } from './otaflash';

const L = ESP_LAYOUT;
/** Bytes read of a record copy (src/ota/boot-record.ts: at most 512) and of a stamp. */
const RECORD_READ = 512;
const STAMP_READ = 64;

export class EspBootFlash implements BootFlash {
  readonly slotSize = L.appSize;
  /** The first 16 bytes of an image (its 0xEA magic) are programmed last, as nmboot copies them. */
  readonly headerBytes = 16;
  readonly checkpoints: CheckpointSectors;
  private readonly flash = new Flash('storage');
  /** Per slot: sectors from here on are erased before their first write. */
  private readonly erasedTo = [Infinity, Infinity];

  constructor() {
    const flash = this.flash;
    const at = (sector: LogSector) => (sector ? L.checkpoint1 : L.checkpoint0) - L.storage;
    this.checkpoints = {
      sectorSize: L.sector,
      read: (sector, offset, length) => new Uint8Array(flash.read(at(sector) + offset, length)),
      erase: (sector) => flash.erase(at(sector) / L.sector),
      program: (sector, offset, bytes) => flash.write(at(sector) + offset, bytes.length, bytes),
    };
  }

  readRecord(copy: RecordCopy): Uint8Array {
    return this.read(copy ? L.record1 : L.record0, RECORD_READ);
  }

  writeRecord(copy: RecordCopy, bytes: Uint8Array): void {
    this.writeSector(copy ? L.record1 : L.record0, bytes);
  }

  readStamp(slot: SlotIndex): Uint8Array {
    return this.read(stampAddress(slot), STAMP_READ);
  }

  writeStamp(slot: SlotIndex, bytes: Uint8Array): void {
    this.writeSector(stampAddress(slot), bytes);
  }

  inspect(slot: SlotIndex): SlotImage {
    return inspect(slotAddress(slot));
  }

  erase(slot: SlotIndex, from = 0): void {
    if (from > 0) {
      this.erasedTo[slot] = Math.floor(from / L.sector);
      return;
    }
    this.eraseSector(slotAddress(slot));
    this.eraseSector(stampAddress(slot));
    this.erasedTo[slot] = 1;
  }

  write(slot: SlotIndex, offset: number, bytes: Uint8Array): void {
    if (!bytes.length) return;
    const start = slotAddress(slot);
    const last = Math.floor((offset + bytes.length - 1) / L.sector);
    for (let s = Math.floor(offset / L.sector); s <= last; s++) {
      if (s < this.erasedTo[slot]) continue;
      this.eraseSector(start + s * L.sector);
      this.erasedTo[slot] = s + 1;
    }
    this.flash.write(start + offset - L.storage, bytes.length, bytes);
  }

  invalidate(slot: SlotIndex): void {
    this.eraseSector(slotAddress(slot));
    this.eraseSector(stampAddress(slot));
  }

  private read(address: number, length: number): Uint8Array {
    return new Uint8Array(this.flash.read(address - L.storage, length));
  }

  private eraseSector(address: number): void {
    this.flash.erase((address - L.storage) / L.sector);
  }

  private writeSector(address: number, bytes: Uint8Array): void {
    this.eraseSector(address);
    this.flash.write(address - L.storage, bytes.length, bytes);
  }
}
