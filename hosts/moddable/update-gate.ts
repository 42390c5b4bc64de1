// FlashUpdate with a health-gated commit. A freshly written image boots "pending": the firmware
// must call markValid() once it has proved itself (connected, published), or the image is rolled
// back. Three guards, so that no single failure mode leaves a bad image running:
//  1. bootloader: where the bootloader was built with app rollback, a reset before markValid()
//     makes it boot the previous slot by itself;
//  2. crash loop: every boot of a pending image is counted in storage; past `maxBoots` the boot
//     code switches back before the firmware even starts;
//  3. deadline: a pending image that neither crashes nor passes within `healthMs` is rolled back.
// The record of what happened survives the restart, so the old image can report the rollback.
// What a failed, cancelled, interrupted or rolled-back update wrote is erased (its first sector), so
// that ESP-IDF's bootloader cannot select it even when otadata is damaged: with a bad active otadata
// copy it follows the older copy, which points at the spare slot, or tries every slot in turn.
// Pure code over two interfaces (slot operations and a key-value store) so Node tests drive it.
import type { Clock, FlashUpdate, KeyValueStore, Logger, RunningImage, TimerId, UpdateWriter } from '../../src/ports';
import { ModdableHostError, describe } from './errors';

export type SlotState = 'new' | 'pending-verify' | 'valid' | 'invalid' | 'aborted' | 'undefined' | 'unsupported';

/** What the chip's OTA support offers (ESP32: Moddable's `ota` module plus our otaboot.c). */
export interface SlotOps {
  /** The running app slot: 0 or 1 for ota_0/ota_1, -1 for a factory partition. */
  runningSlot(): number;
  /** The bootloader's view of the running slot. */
  runningState(): SlotState;
  /** Size of the slot an update would be written to, or 0 when there is none. */
  nextSlotSize(): number;
  /** Starts writing the other slot. */
  begin(): { write(bytes: Uint8Array): void; complete(): void; cancel(): void };
  /** Tells the bootloader the running image is good. */
  markValid(): void;
  /** Boots the other slot; does not return on success, throws when it holds no bootable image. */
  rollback(): void;
  /** Where the bootloader reports a slot it refused (a bootloader rollback happened). */
  lastInvalidSlot(): number | undefined;
  /** Erases the first sector of the slot an update would be written to (never the running one): its image can no longer boot. */
  invalidateNext(): void;
}

export interface GateOptions {
  slots: SlotOps;
  /** Host-owned storage (not the firmware's namespace). */
  store: KeyValueStore;
  /** Version of the image that is running now (manifest config `version`). */
  version: string;
  clock: Clock;
  log: Logger;
  /** Boots of a pending image allowed before the boot code rolls it back. */
  maxBoots: number;
  /** Ms a pending image has to call markValid(). */
  healthMs: number;
}

const PENDING = 'ota.pend';
const FROM = 'ota.from';
const BOOTS = 'ota.boots';
const WHY = 'ota.why';
const ROLLED = 'ota.rbk';
/** The version being written into the spare slot, until it is marked to boot or abandoned. */
const WRITING = 'ota.wr';
/** "<slot>\n<version>" of the image committed last. */
const COMMITTED = 'ota.cmt';
/** What the boot code found when the bootloader did not start the committed image, until the next update. */
const RECOVERED = 'ota.rcv';

export class UpdateGate implements FlashUpdate {
  private writing = false;
  private deadline: TimerId | undefined;

  constructor(private readonly o: GateOptions) {}

  /** Runs once per boot, before the firmware starts. May not return (crash-loop rollback). */
  boot(): void {
    const writing = text(this.o.store.get(WRITING));
    if (writing !== undefined) {
      this.o.store.delete(WRITING);
      // the new image runs: the write completed. Otherwise power or a reset cut it short.
      if (writing !== this.o.version) this.invalidateSpare(`the update to ${writing} was interrupted while it was written`);
    }
    const pending = text(this.o.store.get(PENDING));
    if (pending === undefined) {
      this.checkCommitted();
      return;
    }
    if (pending !== this.o.version) {
      const invalid = this.o.slots.lastInvalidSlot();
      const why =
        text(this.o.store.get(WHY)) ??
        (invalid !== undefined
          ? `the bootloader rejected slot ${invalid}: the new image reset before it was marked valid`
          : 'the new image did not start');
      this.o.store.set(ROLLED, `${pending}\n${why}`);
      this.clearPending();
      this.commitSlot(); // the old image ran before: do not put it on trial as well
      this.o.log.log('error', `update to ${pending} rolled back to ${this.o.version}: ${why}`);
      this.invalidateSpare(`${pending} was rolled back`);
      this.checkCommitted();
      return;
    }
    const boots = (Number(text(this.o.store.get(BOOTS)) ?? '0') || 0) + 1;
    this.o.store.set(BOOTS, String(boots));
    if (boots > this.o.maxBoots) {
      this.tryRollback(`crash loop: ${boots - 1} boots without passing the health check`);
      return;
    }
    this.o.log.log('warn', `image ${pending} is on trial (boot ${boots} of ${this.o.maxBoots}); it must pass its health check within ${Math.round(this.o.healthMs / 1000)} s`);
    this.deadline = this.o.clock.set(() => {
      this.deadline = undefined;
      if (this.isPending()) this.tryRollback(`health check not passed within ${Math.round(this.o.healthMs / 1000)} s`);
    }, this.o.healthMs);
  }

  /** Rolls back; when there is nothing to go back to, keeps running the new image and says so. */
  private tryRollback(reason: string): void {
    try {
      this.rollback(reason);
    } catch (error) {
      this.clearPending();
      this.commitSlot(); // nothing to go back to: stop the bootloader from trying
      this.rememberCommitted();
      this.o.log.log('error', `${describe(error)}; keeping image ${this.o.version}`);
    }
  }

  open(size: number, version: string): UpdateWriter {
    if (this.writing) throw new ModdableHostError('OTA_BUSY', 'an update is already being written; cancel it first');
    if (this.running().state === 'pending-verify') {
      throw new ModdableHostError('OTA_BUSY', 'the running image has not passed its health check yet; update again after markValid()');
    }
    const room = this.o.slots.nextSlotSize();
    if (!(size > 0) || size > room) {
      throw new ModdableHostError('OTA_SIZE', room ? `image of ${size} bytes does not fit the update slot of ${room} bytes` : 'this flash layout has no update slot');
    }
    if (typeof version !== 'string' || version === '' || version.length > 31) {
      throw new ModdableHostError('OTA_FAILED', 'update version must be 1 to 31 characters');
    }
    let sink: ReturnType<SlotOps['begin']>;
    try {
      sink = this.o.slots.begin();
    } catch (error) {
      throw new ModdableHostError('OTA_FAILED', `cannot start writing the update slot: ${describe(error)}`);
    }
    this.writing = true;
    this.o.store.set(WRITING, version);
    let written = 0;
    let open = true;
    const abandon = () => {
      if (!open) return;
      open = false;
      this.writing = false;
      try {
        sink.cancel(); // esp_ota_abort: the bytes written stay in the slot
      } catch {
        // nothing left to cancel
      }
      this.invalidateSpare(`the update to ${version} was abandoned`);
      this.o.store.delete(WRITING);
    };
    return {
      write: (bytes) => {
        if (!open) throw new ModdableHostError('OTA_FAILED', 'this update was already completed or cancelled');
        if (written + bytes.length > size) {
          abandon();
          throw new ModdableHostError('OTA_SIZE', `update is longer than the announced ${size} bytes; it was cancelled`);
        }
        try {
          sink.write(bytes);
        } catch (error) {
          abandon();
          throw new ModdableHostError('OTA_FAILED', `writing the update slot failed at byte ${written}: ${describe(error)}; it was cancelled`);
        }
        written += bytes.length;
      },
      complete: () => {
        if (!open) throw new ModdableHostError('OTA_FAILED', 'this update was already completed or cancelled');
        if (written !== size) {
          abandon();
          throw new ModdableHostError('OTA_SIZE', `update ended after ${written} of ${size} bytes; it was cancelled`);
        }
        open = false;
        this.writing = false;
        try {
          sink.complete();
        } catch (error) {
          this.invalidateSpare(`the new image ${version} was rejected`);
          this.o.store.delete(WRITING);
          throw new ModdableHostError('OTA_FAILED', `the new image was rejected (${describe(error)}); the running image stays`);
        }
        this.o.store.set(PENDING, version);
        this.o.store.set(FROM, this.o.version);
        this.o.store.set(BOOTS, '0');
        this.o.store.delete(WHY);
        this.o.store.delete(ROLLED);
        this.o.store.delete(RECOVERED);
        this.o.store.delete(WRITING);
        this.o.log.log('info', `update ${version} written; it boots on the next restart, on trial`);
      },
      cancel: abandon,
    };
  }

  running(): RunningImage {
    const image: RunningImage = {
      slot: Math.max(0, this.o.slots.runningSlot()),
      version: this.o.version,
      state: this.isPending() ? 'pending-verify' : 'valid',
    };
    const rolled = text(this.o.store.get(ROLLED));
    if (rolled !== undefined) {
      const cut = rolled.indexOf('\n');
      image.rolledBack = { fromVersion: cut < 0 ? rolled : rolled.slice(0, cut), reason: cut < 0 ? '' : rolled.slice(cut + 1) };
    }
    const recovered = text(this.o.store.get(RECOVERED));
    if (recovered !== undefined) image.recovered = recovered;
    return image;
  }

  markValid(): void {
    if (!this.isPending()) return;
    this.o.slots.markValid();
    this.clearPending();
    this.rememberCommitted();
    if (this.deadline !== undefined) this.o.clock.clear(this.deadline);
    this.deadline = undefined;
    this.o.log.log('info', `image ${this.o.version} passed its health check and is committed`);
  }

  rollback(reason: string): void {
    if (!this.isPending()) {
      throw new ModdableHostError('OTA_NO_ROLLBACK', 'the running image is committed; there is no pending update to roll back');
    }
    this.o.store.set(WHY, reason);
    this.o.log.log('error', `rolling back ${this.o.version}: ${reason}`);
    try {
      this.o.slots.rollback();
    } catch (error) {
      this.o.store.delete(WHY);
      throw new ModdableHostError('OTA_NO_ROLLBACK', `cannot roll back (${describe(error)}): the previous slot holds no bootable image`);
    }
  }

  /**
   * A committed image runs: is it the one committed last? ESP-IDF's bootloader starts another slot
   * when the active otadata copy is damaged (the older copy points at the spare slot) or the
   * committed image no longer verifies. It runs a committed image even then (rejected ones are
   * erased), but the firmware is told, and reports it.
   */
  private checkCommitted(): void {
    if (this.isPending()) return; // an image on trial is not committed yet
    const slot = this.o.slots.runningSlot();
    const last = text(this.o.store.get(COMMITTED));
    const cut = last === undefined ? -1 : last.indexOf('\n');
    if (last !== undefined && cut > 0 && last.slice(0, cut) !== String(slot)) {
      const why = `the bootloader started slot ${slot} (${this.o.version}) instead of the committed slot ${last.slice(0, cut)} (${last.slice(cut + 1)}): otadata or that image was damaged, or the board was flashed over USB; ${this.o.version} is the committed image now`;
      this.o.store.set(RECOVERED, why);
      this.o.log.log('error', why);
    }
    if (last !== `${slot}\n${this.o.version}`) this.rememberCommitted();
  }

  private rememberCommitted(): void {
    this.o.store.set(COMMITTED, `${this.o.slots.runningSlot()}\n${this.o.version}`);
  }

  /** Erases what the spare slot holds, so no bootloader can select it; says so when it cannot. */
  private invalidateSpare(why: string): void {
    try {
      this.o.slots.invalidateNext();
      this.o.log.log('info', `update slot erased: ${why}`);
    } catch (error) {
      this.o.log.log('warn', `could not erase the update slot (${why}): ${describe(error)}`);
    }
  }

  private commitSlot(): void {
    try {
      this.o.slots.markValid();
    } catch (error) {
      this.o.log.log('warn', `could not mark the running slot valid: ${describe(error)}`);
    }
  }

  private isPending(): boolean {
    if (text(this.o.store.get(PENDING)) === this.o.version) return true;
    const state = this.o.slots.runningState();
    return state === 'pending-verify' || state === 'new';
  }

  private clearPending(): void {
    for (const key of [PENDING, FROM, BOOTS, WHY]) this.o.store.delete(key);
  }
}

function text(value: string | Uint8Array | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
