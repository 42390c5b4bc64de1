// Simulated flash of one device, as files in <stateDir>/flash: two image slots (slot0.img,
// slot1.img), a commit stamp per slot (slot0.ok, slot1.ok: the slot's trailer sector), two copies
// of the boot record (boot0.bin, boot1.bin) and two sectors of download checkpoints (resume0.bin,
// resume1.bin). Unwritten flash reads 0xFF. Which slot boots and how an
// update is written is decided in src/ota (bootloader.ts, slot-update.ts); this is only the medium,
// with power cuts that can be injected at any byte of an update.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BootFlash, CopyFlash, RecordCopy, SlotImage, SlotIndex } from '../../src/ota/boot-flash';
import type { CheckpointSectors, LogSector } from '../../src/ota/resume-log';
import { BootRecords, type BootState } from '../../src/ota/boot-record';

export type { SlotIndex } from '../../src/ota/boot-flash';
export type { BootState } from '../../src/ota/boot-record';

/** What an erase of the header sector wipes at the start of a slot. */
const SECTOR = 4096;
/** The sim image magic ("NMSIMG01"), held back until an update is complete. */
const MAGIC_BYTES = 8;
/** A checkpoint sector, as on the ESP8266. */
const CHECKPOINT_SECTOR = 4096;

export interface SimFlashFaults {
  /**
   * Power is lost when the next update written in this boot has programmed this many bytes into
   * its slot (0..size, counted in the order they are programmed; the held-back magic goes last):
   * the cut write programs only the bytes before it, and no later flash write happens. size means
   * after the last byte, before the update is marked to boot.
   */
  powerCutAt?: number;
  /**
   * ESP8266 layout: power is lost when the bootloader's copies in the next boot (the backup of the
   * built-in image, then the chosen slot into the app area) have programmed this many bytes.
   */
  copyCutAt?: number;
  /** Called at the power cut: the host must stop the device at once (no more network, no timers). */
  onPowerCut?(): void;
}

export interface SimFlashOptions {
  /** Capacity of each slot, bytes. Default 1 MB. */
  slotSize?: number;
  /** Checks the bytes of a slot (the sim image format). Default: every non-empty slot is "unchecked". */
  check?(bytes: Uint8Array): SlotImage;
  faults?: SimFlashFaults;
}

export class SimFlash implements BootFlash {
  readonly dir: string;
  readonly slotSize: number;
  readonly headerBytes = MAGIC_BYTES;
  /** Two 4 KB sectors of download checkpoints (resume0.bin, resume1.bin). */
  readonly checkpoints: CheckpointSectors;
  protected faults: SimFlashFaults | undefined;
  private armed: boolean;
  /** Bytes programmed into the slot since the armed update started, or -1 when not counting. */
  private programmed = -1;
  /** Bytes the bootloader's copies programmed during boot, or -1 outside the boot. */
  private copyProgrammed = -1;
  protected dead = false;

  constructor(
    stateDir: string,
    private readonly options: SimFlashOptions = {},
  ) {
    this.dir = join(stateDir, 'flash');
    mkdirSync(this.dir, { recursive: true });
    this.slotSize = options.slotSize ?? 1024 * 1024;
    this.faults = options.faults;
    this.armed = options.faults?.powerCutAt !== undefined;
    this.checkpoints = this.checkpointSectors();
  }

  /** Sets the faults of the next update written in this boot (e.g. a power cut at a byte offset). */
  setFaults(faults: SimFlashFaults | undefined): void {
    this.faults = faults;
    this.armed = faults?.powerCutAt !== undefined;
  }

  slotPath(slot: SlotIndex): string {
    return join(this.dir, `slot${slot}.img`);
  }

  stampPath(slot: SlotIndex): string {
    return join(this.dir, `slot${slot}.ok`);
  }

  recordPath(copy: RecordCopy): string {
    return join(this.dir, `boot${copy}.bin`);
  }

  readSlot(slot: SlotIndex): Uint8Array | undefined {
    return readOrUndefined(this.slotPath(slot));
  }

  /** The newest valid boot record, or undefined when neither copy holds one. */
  readState(): BootState | undefined {
    return new BootRecords(this).read().state;
  }

  // ---- BootFlash ----------------------------------------------------------------------------

  readRecord(copy: RecordCopy): Uint8Array | undefined {
    return readOrUndefined(this.recordPath(copy));
  }

  writeRecord(copy: RecordCopy, bytes: Uint8Array): void {
    if (this.powerGone()) return;
    writeFileSync(this.recordPath(copy), bytes);
  }

  readStamp(slot: SlotIndex): Uint8Array | undefined {
    return readOrUndefined(this.stampPath(slot));
  }

  writeStamp(slot: SlotIndex, bytes: Uint8Array): void {
    if (this.powerGone()) return;
    writeFileSync(this.stampPath(slot), bytes);
  }

  inspect(slot: SlotIndex): SlotImage {
    const bytes = this.readSlot(slot);
    if (!bytes || !bytes.length) return { problem: 'empty slot' };
    return this.check(bytes);
  }

  protected check(bytes: Uint8Array): SlotImage {
    return this.options.check ? this.options.check(bytes) : { problem: 'no image check configured' };
  }

  erase(slot: SlotIndex, from = 0): void {
    if (this.powerGone()) return;
    if (from > 0) truncate(this.slotPath(slot), from);
    else {
      writeFileSync(this.slotPath(slot), new Uint8Array(0));
      rmSync(this.stampPath(slot), { force: true });
    }
    if (this.armed && this.copyProgrammed < 0) {
      this.armed = false;
      this.programmed = 0;
    }
  }

  write(slot: SlotIndex, offset: number, bytes: Uint8Array): void {
    this.programBytes(this.slotPath(slot), offset, bytes);
  }

  /** True after a power cut: nothing more reaches the flash in this boot. */
  get poweredOff(): boolean {
    return this.dead;
  }

  /** The bootloader runs: its copies count toward `copyCutAt`, not toward the update's cut. */
  beginBoot(): void {
    this.copyProgrammed = 0;
  }

  endBoot(): void {
    this.copyProgrammed = -1;
  }

  /** Programs bytes of a slot or app file, as far as an armed power cut lets them. */
  protected programBytes(path: string, offset: number, bytes: Uint8Array): void {
    if (this.powerGone()) return;
    let length = bytes.length;
    const copying = this.copyProgrammed >= 0;
    const done = copying ? this.copyProgrammed : this.programmed;
    const cutAt = done >= 0 ? (copying ? this.faults?.copyCutAt : this.faults?.powerCutAt) ?? -1 : -1;
    const cut = cutAt >= 0 && done + length > cutAt;
    if (cut) length = cutAt - done;
    program(path, offset, bytes.subarray(0, length));
    if (copying) this.copyProgrammed += length;
    else if (this.programmed >= 0) this.programmed += length;
    if (cut) this.cutPower();
  }

  invalidate(slot: SlotIndex): void {
    if (this.powerGone()) return;
    this.programmed = -1; // the update ended before the armed cut: it is spent
    rmSync(this.stampPath(slot), { force: true });
    if (!existsSync(this.slotPath(slot))) return;
    const fd = openSync(this.slotPath(slot), 'r+');
    try {
      const size = fstatSync(fd).size;
      writeSync(fd, new Uint8Array(Math.min(size, SECTOR)).fill(0xff), 0, Math.min(size, SECTOR), 0);
    } finally {
      closeSync(fd);
    }
  }

  checkpointPath(sector: LogSector): string {
    return join(this.dir, `resume${sector}.bin`);
  }

  /** Checkpoint sectors as files; programming ANDs bits into what is there, as NOR flash does. */
  private checkpointSectors(): CheckpointSectors {
    const read = (sector: LogSector) => {
      const out = new Uint8Array(CHECKPOINT_SECTOR).fill(0xff);
      const bytes = readOrUndefined(this.checkpointPath(sector));
      if (bytes) out.set(bytes.subarray(0, CHECKPOINT_SECTOR));
      return out;
    };
    return {
      sectorSize: CHECKPOINT_SECTOR,
      read: (sector, offset, length) => read(sector).slice(offset, offset + length),
      erase: (sector) => {
        if (!this.powerGone()) rmSync(this.checkpointPath(sector), { force: true });
      },
      program: (sector, offset, bytes) => {
        if (this.powerGone()) return;
        const now = read(sector);
        for (let i = 0; i < bytes.length; i++) now[offset + i] &= bytes[i];
        writeFileSync(this.checkpointPath(sector), now);
      },
    };
  }

  /** True when nothing may reach the flash any more; cuts the power when the armed cut is due. */
  protected powerGone(): boolean {
    if (this.dead) return true;
    const cutAt = this.faults?.powerCutAt;
    const copyCutAt = this.faults?.copyCutAt;
    if ((this.programmed >= 0 && cutAt !== undefined && this.programmed >= cutAt) || (this.copyProgrammed >= 0 && copyCutAt !== undefined && this.copyProgrammed >= copyCutAt)) {
      this.cutPower();
      return true;
    }
    return false;
  }

  private cutPower(): void {
    this.dead = true;
    this.programmed = -1;
    this.copyProgrammed = -1;
    this.faults?.onPowerCut?.();
  }
}

/** Cuts a slot file at `length`: what followed reads as erased flash. */
function truncate(path: string, length: number): void {
  const bytes = readOrUndefined(path) ?? new Uint8Array(0);
  if (bytes.length > length) writeFileSync(path, bytes.subarray(0, length));
}

/** Programs bytes at an offset of a slot file; a gap before it reads as erased flash (0xFF). */
function program(path: string, offset: number, bytes: Uint8Array): void {
  if (!bytes.length) return;
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  try {
    const size = fstatSync(fd).size;
    if (offset > size) writeSync(fd, new Uint8Array(offset - size).fill(0xff), 0, offset - size, size);
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function readOrUndefined(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
}

/**
 * The ESP8266 layout: the two slots and records of SimFlash plus the app area (app.img), the only
 * place an ESP8266 runs its image from. Which slot boots and what is copied where is decided in
 * src/ota/placement.ts, as the ESP8266's bootloader decides it.
 */
export class SimCopyFlash extends SimFlash implements CopyFlash {
  readonly appSize: number;

  constructor(stateDir: string, options: SimFlashOptions & { appSize?: number } = {}) {
    super(stateDir, { ...options, slotSize: Math.min(options.slotSize ?? 1024 * 1024, options.appSize ?? 1024 * 1024) });
    this.appSize = options.appSize ?? 1024 * 1024;
  }

  appPath(): string {
    return join(this.dir, 'app.img');
  }

  /** What the app area holds (undefined before anything was flashed). */
  readAppImage(): Uint8Array | undefined {
    return readOrUndefined(this.appPath());
  }

  inspectApp(): SlotImage {
    const bytes = this.readAppImage();
    if (!bytes || !bytes.length) return { problem: 'empty app area' };
    return this.check(bytes);
  }

  readSlotAt(slot: SlotIndex, offset: number, length: number): Uint8Array {
    return readRange(this.slotPath(slot), offset, length);
  }

  readAppAt(offset: number, length: number): Uint8Array {
    return readRange(this.appPath(), offset, length);
  }

  eraseApp(): void {
    if (this.powerGone()) return;
    writeFileSync(this.appPath(), new Uint8Array(0));
  }

  writeApp(offset: number, bytes: Uint8Array): void {
    this.programBytes(this.appPath(), offset, bytes);
  }

  /** A USB flash of the app area (nothing else changes). */
  flashApp(bytes: Uint8Array): void {
    writeFileSync(this.appPath(), bytes);
  }
}

/** `length` bytes at `offset` of a file; past its end (or without it), erased flash. */
function readRange(path: string, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length).fill(0xff);
  if (!existsSync(path)) return out;
  const fd = openSync(path, 'r');
  try {
    readSync(fd, out, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return out;
}
