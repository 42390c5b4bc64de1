// The FlashUpdate port over a BootFlash (two slots, two record copies, commit stamps). A new image
// is written into the spare slot with its first bytes (the magic) held back; they are programmed
// only once every byte is in and the image checks out, so a power cut, a failed hash or a cancelled
// job never leaves a slot that can boot. Whatever else a failed or cancelled update wrote is
// invalidated at once. With checkpoint sectors, the writer records at sector boundaries how far it
// got (with the download's hash state and the held-back bytes), and open() with the same key
// continues from there after a restart. The bootloader's side is src/ota/bootloader.ts.
import type { FlashUpdate, RunningImage, UpdateWriter } from '../ports';
import { CHECKPOINT_ALIGN, otherSlot, type BootFlash, type SlotIndex } from './boot-flash';
import { BootRecords, encodeStamp, type BootSource, type BootState } from './boot-record';
import { describeError } from './errors';
import { ResumeLog, type Checkpoint } from './resume-log';

/** EBUSY, ESIZE, EINVAL, ENOROLLBACK, EIO (the flash failed), EREJECTED (the image does not check out). */
export type SlotUpdateErrorCode = 'EBUSY' | 'ESIZE' | 'EINVAL' | 'ENOROLLBACK' | 'EIO' | 'EREJECTED';

export class SlotUpdateError extends Error {
  readonly code: SlotUpdateErrorCode;

  constructor(code: SlotUpdateErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
SlotUpdateError.prototype.name = 'SlotUpdateError';

/** What the bootloader started. */
export interface SlotBoot {
  source: BootSource;
  version: string;
  pending: boolean;
  rolledBack?: { fromVersion: string; reason: string };
  recovered?: string;
}

type WriterState = 'open' | 'done';

export class SlotUpdate implements FlashUpdate {
  private state: RunningImage['state'];
  private writing = false;

  constructor(
    private readonly flash: BootFlash,
    private readonly records: BootRecords,
    private readonly boot: SlotBoot,
  ) {
    this.state = boot.pending ? 'pending-verify' : 'valid';
  }

  /** The slot that runs (the factory image counts as slot 0). */
  private get slot(): SlotIndex {
    return this.boot.source === 'factory' ? 0 : this.boot.source;
  }

  running(): RunningImage {
    const image: RunningImage = { slot: this.slot, version: this.boot.version, state: this.state, rolledBack: this.boot.rolledBack && { ...this.boot.rolledBack } };
    if (this.boot.recovered !== undefined) image.recovered = this.boot.recovered;
    return image;
  }

  open(size: number, version: string, resumeKey?: string): UpdateWriter {
    if (this.state === 'pending-verify') throw new SlotUpdateError('EBUSY', 'the running image is on trial; update after it is committed (markValid)');
    if (this.state !== 'valid') throw new SlotUpdateError('EBUSY', 'the running image was rolled back; restart first');
    if (this.writing) throw new SlotUpdateError('EBUSY', 'an update is already being written; cancel it first');
    const room = this.flash.slotSize;
    if (!Number.isInteger(size) || size <= 0 || size > room) {
      throw new SlotUpdateError('ESIZE', `an image of ${size} bytes does not fit the update slot of ${room} bytes`);
    }
    if (typeof version !== 'string' || !version) throw new SlotUpdateError('EINVAL', 'open() needs the version of the new image');
    const flash = this.flash;
    const slot = otherSlot(this.slot);
    const log = flash.checkpoints && new ResumeLog(flash.checkpoints);
    const held = new Uint8Array(Math.min(flash.headerBytes, size));
    let written = 0;
    let saved: Uint8Array | undefined;
    let last: Checkpoint | undefined;
    try {
      last = log?.read();
    } catch {
      last = undefined; // unreadable checkpoints: start from byte 0
    }
    if (last && resumeKey !== undefined && last.key === resumeKey && last.slot === slot && last.size === size && last.version === version) {
      if (last.offset > 0 && last.offset < size && last.offset % CHECKPOINT_ALIGN === 0 && last.held.length === held.length) {
        written = last.offset;
        held.set(last.held);
        saved = last.state;
      }
    }
    try {
      // a checkpoint of what the slot held before must not outlive it
      if (!written && last) log!.clear();
      flash.erase(slot, written);
    } catch (error) {
      throw new SlotUpdateError('EIO', `cannot erase update slot ${slot}: ${describeError(error)}`);
    }
    this.writing = true;
    let state: WriterState = 'open';
    const forget = () => {
      try {
        log?.clear();
      } catch {
        // a stale checkpoint only names bytes the slot no longer has; complete() checks the image
      }
    };
    const end = (invalidate: boolean) => {
      state = 'done';
      this.writing = false;
      if (!invalidate) return;
      forget();
      try {
        flash.invalidate(slot);
      } catch {
        // the held-back magic was never written: the slot cannot boot either way
      }
    };
    const fail = (code: SlotUpdateErrorCode, message: string): never => {
      end(true);
      throw new SlotUpdateError(code, message);
    };
    const isOpen = (call: string) => {
      if (state !== 'open') throw new SlotUpdateError('EINVAL', `${call} after complete() or cancel()`);
    };
    const writer: UpdateWriter = {
      resumedAt: written,
      resumedState: saved,
      write: (bytes) => {
        isOpen('write()');
        if (written + bytes.length > size) fail('ESIZE', `update is longer than the ${size} bytes announced to open(); it was cancelled`);
        let from = 0;
        if (written < held.length) {
          from = Math.min(held.length - written, bytes.length);
          held.set(bytes.subarray(0, from), written);
        }
        if (from < bytes.length) {
          try {
            flash.write(slot, written + from, bytes.subarray(from));
          } catch (error) {
            fail('EIO', `writing update slot ${slot} failed at byte ${written + from}: ${describeError(error)}; it was cancelled`);
          }
        }
        written += bytes.length;
      },
      checkpoint: (callerState) => {
        if (state !== 'open' || !log || resumeKey === undefined || written <= 0 || written >= size || written % CHECKPOINT_ALIGN !== 0) return false;
        try {
          log.write({ slot, size, version, key: resumeKey, offset: written, held, state: callerState });
          return true;
        } catch {
          return false;
        }
      },
      complete: () => {
        isOpen('complete()');
        if (written !== size) fail('ESIZE', `update ended after ${written} of ${size} bytes; it was cancelled`);
        // from here on, an interruption starts the update again: the bootloader invalidates an image
        // that is whole but not marked to boot, and a checkpoint must not point into it
        forget();
        try {
          flash.write(slot, 0, held);
        } catch (error) {
          fail('EIO', `writing the image header into slot ${slot} failed: ${describeError(error)}`);
        }
        const image = flash.inspect(slot);
        if (image.problem !== undefined) fail('EREJECTED', `the new image was rejected: ${image.problem}`);
        if (image.version !== version) fail('EREJECTED', `the new image was rejected: it says version ${image.version}, the update announced ${version}`);
        try {
          this.records.read();
          this.records.write({ committed: this.boot.source, trial: { slot, version, boots: 0 } });
        } catch (error) {
          fail('EIO', `marking slot ${slot} to boot failed: ${describeError(error)}`);
        }
        end(false);
      },
      cancel: () => {
        if (state === 'open') end(true);
      },
      suspend: () => {
        if (state !== 'open') return;
        state = 'done';
        this.writing = false;
      },
    };
    return writer;
  }

  markValid(): void {
    if (this.state !== 'pending-verify') return;
    const slot = this.slot;
    const base = this.current();
    try {
      // the stamp first: if the record write is lost, the stamp still says this image was committed
      this.flash.writeStamp(slot, encodeStamp(this.records.next(), this.boot.version));
      this.records.write({ ...base, committed: slot, trial: undefined, reject: undefined });
    } catch (error) {
      throw new SlotUpdateError('EIO', `committing slot ${slot} failed: ${describeError(error)}`);
    }
    this.state = 'valid';
  }

  rollback(reason: string): void {
    if (this.state !== 'pending-verify') {
      throw new SlotUpdateError('ENOROLLBACK', 'the running image is committed; there is no pending update to roll back');
    }
    const slot = this.slot;
    const base = this.current();
    const committed = base.committed === slot ? otherSlot(slot) : base.committed;
    try {
      // the running image cannot erase itself; the bootloader invalidates it at the next boot
      this.records.write({ ...base, committed, trial: undefined, reject: slot, rolledBack: { fromVersion: this.boot.version, reason } });
    } catch (error) {
      throw new SlotUpdateError('EIO', `recording the rollback failed: ${describeError(error)}`);
    }
    this.state = 'unknown'; // until the restart: neither committed nor on trial any more
  }

  /** The record as it is now; an unreadable one is rebuilt from what runs. */
  private current(): BootState {
    const read = this.records.read();
    return read.state ?? { committed: this.boot.pending ? otherSlot(this.slot) : this.boot.source };
  }
}
