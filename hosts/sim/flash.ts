// Simulated flash of one device: two image slots as files and the bootloader's state (which slot is
// committed, which one is on trial, the last rollback) as a small JSON file replaced atomically.
// The FlashUpdate port writes the slot that is not running; a power cut can be injected at any byte.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FlashUpdate, RunningImage, UpdateWriter } from '../../src/ports';

export type SlotIndex = 0 | 1;

export interface BootState {
  /** The slot that boots when no image is on trial. */
  committed: SlotIndex;
  /** A new image written and marked to boot, not yet committed. */
  trial?: { slot: SlotIndex; version: string; boots: number };
  /** The last rollback, until the next update is opened. */
  rolledBack?: { fromVersion: string; reason: string };
}

export class SimFlashError extends Error {
  override name = 'SimFlashError';
  constructor(
    /** EBUSY, ESIZE, EINVAL, ENOROLLBACK, EIO, EREJECTED */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class SimFlash {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'flash');
    mkdirSync(this.dir, { recursive: true });
  }

  slotPath(slot: SlotIndex): string {
    return join(this.dir, `slot${slot}.img`);
  }

  hasSlotFile(slot: SlotIndex): boolean {
    return existsSync(this.slotPath(slot));
  }

  readSlot(slot: SlotIndex): Uint8Array | undefined {
    try {
      return new Uint8Array(readFileSync(this.slotPath(slot)));
    } catch {
      return undefined;
    }
  }

  /** The bootloader state; missing or unreadable state means "slot 0 committed, nothing on trial". */
  readState(): BootState {
    try {
      const s = JSON.parse(readFileSync(join(this.dir, 'boot.json'), 'utf8')) as BootState;
      if (s.committed !== 0 && s.committed !== 1) throw new Error('bad committed slot');
      if (s.trial && (s.trial.slot !== 0 && s.trial.slot !== 1)) delete s.trial;
      return s;
    } catch {
      return { committed: 0 };
    }
  }

  /** Written to a temp file and renamed: a power cut leaves the old or the new state, never a torn one. */
  writeState(state: BootState): void {
    const path = join(this.dir, 'boot.json');
    const temp = `${path}.tmp`;
    writeFileSync(temp, JSON.stringify(state) + '\n');
    renameSync(temp, path);
  }
}

export interface SimFlashFaults {
  /** Byte offset of the first update written in this boot at which power is lost (0..size; size = after the last byte, before it is marked to boot). */
  powerCutAt?: number;
  /** Called at the power cut: the host must stop the device at once (no more network, no timers). */
  onPowerCut?(): void;
}

export interface SimFlashUpdateOptions {
  /** Capacity of each slot, bytes. Default 1 MB. */
  slotSize?: number;
  /** Checks an image at complete(), as ESP-IDF's esp_ota_end does; returns the problem or undefined. */
  verify?(image: Uint8Array): string | undefined;
  faults?: SimFlashFaults;
}

/**
 * The FlashUpdate port of one boot. Unlike hardware, rollback() returns after recording the rollback;
 * the caller restarts the device (src/ota does, through the device's clean restart).
 */
export class SimFlashUpdate implements FlashUpdate {
  private image: RunningImage;
  private writing = false;
  private cutArmed: boolean;
  private faults: SimFlashFaults | undefined;

  constructor(
    private readonly flash: SimFlash,
    running: RunningImage,
    private readonly options: SimFlashUpdateOptions = {},
  ) {
    this.image = { ...running };
    this.faults = options.faults;
    this.cutArmed = options.faults?.powerCutAt !== undefined;
  }

  /** Sets the faults of the next update written in this boot (e.g. a power cut at a byte offset). */
  setFaults(faults: SimFlashFaults | undefined): void {
    this.faults = faults;
    this.cutArmed = faults?.powerCutAt !== undefined;
  }

  running(): RunningImage {
    return { ...this.image };
  }

  open(size: number, version: string): UpdateWriter {
    if (this.image.state === 'pending-verify') {
      throw new SimFlashError('EBUSY', 'the running image is on trial; update after it is committed (markValid)');
    }
    if (this.writing) throw new SimFlashError('EBUSY', 'an update is already being written; cancel it first');
    const room = this.options.slotSize ?? 1024 * 1024;
    if (!Number.isInteger(size) || size <= 0 || size > room) {
      throw new SimFlashError('ESIZE', `an image of ${size} bytes does not fit the update slot of ${room} bytes`);
    }
    if (typeof version !== 'string' || !version) throw new SimFlashError('EINVAL', 'open() needs the version of the new image');
    const slot: SlotIndex = this.image.slot === 0 ? 1 : 0;
    const path = this.flash.slotPath(slot);
    const fd = openSync(path, 'w'); // "erase" the slot
    this.writing = true;
    const faults = this.faults;
    const cutAt = this.cutArmed ? faults!.powerCutAt! : -1;
    this.cutArmed = false;
    let written = 0;
    let state: 'open' | 'done' | 'dead' = 'open';
    const close = () => {
      this.writing = false;
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    };
    const powerCut = () => {
      state = 'dead';
      close();
      faults?.onPowerCut?.();
    };
    return {
      write: (bytes) => {
        if (state === 'dead') return; // no power: nothing happens any more
        if (state !== 'open') throw new SimFlashError('EINVAL', 'write() after complete() or cancel()');
        if (written + bytes.length > size) {
          throw new SimFlashError('ESIZE', `update is longer than the ${size} bytes announced to open()`);
        }
        if (cutAt >= 0 && written + bytes.length > cutAt) {
          writeSync(fd, bytes, 0, cutAt - written);
          written = cutAt;
          return powerCut();
        }
        writeSync(fd, bytes);
        written += bytes.length;
      },
      complete: () => {
        if (state === 'dead') return;
        if (state !== 'open') throw new SimFlashError('EINVAL', 'complete() after complete() or cancel()');
        if (cutAt >= 0 && written >= cutAt) return powerCut();
        state = 'done';
        close();
        if (written !== size) throw new SimFlashError('ESIZE', `update ended after ${written} of ${size} bytes`);
        const problem = this.options.verify?.(this.flash.readSlot(slot) ?? new Uint8Array(0));
        if (problem) throw new SimFlashError('EREJECTED', `the new image was rejected: ${problem}`);
        const boot = this.flash.readState();
        boot.trial = { slot, version, boots: 0 };
        delete boot.rolledBack;
        this.flash.writeState(boot);
      },
      cancel: () => {
        if (state !== 'open') return;
        state = 'done';
        close();
      },
    };
  }

  markValid(): void {
    if (this.image.state !== 'pending-verify') return;
    const boot = this.flash.readState();
    boot.committed = this.image.slot as SlotIndex;
    delete boot.trial;
    this.flash.writeState(boot);
    this.image.state = 'valid';
  }

  rollback(reason: string): void {
    if (this.image.state !== 'pending-verify') {
      throw new SimFlashError('ENOROLLBACK', 'the running image is committed; there is no pending update to roll back');
    }
    const boot = this.flash.readState();
    delete boot.trial;
    boot.rolledBack = { fromVersion: this.image.version, reason };
    this.flash.writeState(boot);
    this.image.state = 'unknown'; // until the restart: neither committed nor on trial any more
  }
}
