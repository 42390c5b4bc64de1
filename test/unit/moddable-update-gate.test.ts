// The health-gated OTA commit of hosts/moddable against a model of the ESP32's two app slots, its
// two otadata copies and its bootloader, written from ESP-IDF's documented rules
// (components/app_update/esp_ota_ops.c, bootloader_support; "App rollback" in the OTA guide):
// - otadata is two copies of {sequence, state} with a CRC; a copy selects slot (seq - 1) % 2; the
//   active copy is the highest sequence whose CRC holds and whose state is not INVALID or ABORTED;
// - esp_ota_set_boot_partition verifies the image, then writes the copy that is not active with the
//   next sequence for that slot, state NEW with app rollback, UNDEFINED without;
// - the bootloader marks a copy still PENDING_VERIFY as ABORTED, turns NEW into PENDING_VERIFY, and
//   starts the active copy's slot; with no active copy (no factory partition) it starts ota_0. When
//   that image does not verify it tries the other slot;
// - esp_ota_begin erases the slot and refuses while the running image is PENDING_VERIFY;
//   esp_ota_abort (the ota module's cancel) leaves what was written; esp_ota_end verifies it;
// - esp_ota_check_rollback_is_possible needs a valid otadata copy for the other slot (an image
//   flashed over USB has none).
import { describe, expect, it } from 'vitest';
import { ModdableHostError } from '../../hosts/moddable/errors';
import { UpdateGate, type SlotOps, type SlotState } from '../../hosts/moddable/update-gate';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';

type OtaState = 'new' | 'pending-verify' | 'valid' | 'invalid' | 'aborted' | 'undefined';
interface OtaCopy {
  seq: number;
  state: OtaState;
}
/** One otadata copy: a record, one whose CRC fails, or erased flash. */
type OtaData = OtaCopy | 'corrupt' | undefined;
interface AppImage {
  version: string;
  good: boolean;
}

const SLOT_SIZE = 0x1f0000;
const slotOf = (copy: OtaCopy) => (copy.seq - 1) % 2;
const isCopy = (data: OtaData): data is OtaCopy => typeof data === 'object';
const selectable = (data: OtaData): data is OtaCopy => isCopy(data) && data.state !== 'invalid' && data.state !== 'aborted';

/** What esp_image_verify sees in a slot after these bytes were written: "IMG:<version>;" is a good app. */
function appImage(text: string): AppImage {
  const m = /^IMG:([^;]+);$/.exec(text);
  return m ? { version: m[1]!, good: true } : { version: '?', good: false };
}

/** Two ota slots, two otadata copies and a bootloader. The running slot changes only through boot(). */
class Esp32Flash {
  readonly images: (AppImage | undefined)[] = [undefined, undefined];
  otadata: OtaData[] = [undefined, undefined];
  running = 0;
  restarts = 0;
  /** esp_restart() was called: the device resets as soon as the current call returns. */
  restartRequested = false;

  constructor(readonly bootloaderRollback: boolean) {}

  /** USB flash of `version` into slot 0: erases otadata, as idf.py flash does. */
  flashOverUsb(version: string): void {
    this.images[0] = { version, good: true };
    this.images[1] = undefined;
    this.otadata = [undefined, undefined];
    this.boot();
  }

  /** bootloader_common_get_active_otadata */
  active(): number | undefined {
    let best: number | undefined;
    for (const i of [0, 1]) {
      const copy = this.otadata[i];
      if (selectable(copy) && (best === undefined || copy.seq > (this.otadata[best] as OtaCopy).seq)) best = i;
    }
    return best;
  }

  boot(): void {
    if (this.bootloaderRollback) {
      for (const copy of this.otadata) if (isCopy(copy) && copy.state === 'pending-verify') copy.state = 'aborted';
    }
    const a = this.active();
    let start = 0; // no active copy and no factory partition: ota_0 first
    if (a !== undefined) {
      const copy = this.otadata[a] as OtaCopy;
      start = slotOf(copy);
      if (this.bootloaderRollback && copy.state === 'new') copy.state = 'pending-verify';
    }
    for (const slot of [start, 1 - start]) {
      if (this.images[slot]?.good) {
        this.running = slot;
        return;
      }
    }
    throw new Error('No bootable app partitions in the partition table');
  }

  get version(): string {
    return this.images[this.running]!.version;
  }

  /** esp_ota_get_state_partition */
  stateOf(slot: number): OtaState {
    for (const copy of this.otadata) if (isCopy(copy) && slotOf(copy) === slot) return copy.state;
    return 'undefined';
  }

  /** esp_ota_set_boot_partition */
  setBoot(slot: number): void {
    if (!this.images[slot]?.good) throw new Error('ESP_ERR_OTA_VALIDATE_FAILED');
    const state: OtaState = this.bootloaderRollback ? 'new' : 'undefined';
    const a = this.active();
    if (a === undefined) {
      this.otadata[0] = { seq: slot + 1, state };
      return;
    }
    let seq = (this.otadata[a] as OtaCopy).seq;
    while ((seq - 1) % 2 !== slot) seq++;
    this.otadata[1 - a] = { seq, state };
  }

  /** esp_ota_check_rollback_is_possible */
  rollbackPossible(): boolean {
    const a = this.active();
    if (a === undefined) return false;
    const last = this.otadata[1 - a];
    return selectable(last) && !!this.images[slotOf(last)]?.good;
  }

  ops(): SlotOps {
    const other = () => 1 - this.running;
    return {
      runningSlot: () => this.running,
      runningState: () => this.stateOf(this.running) as SlotState,
      nextSlotSize: () => SLOT_SIZE,
      lastInvalidSlot: () => {
        for (const copy of this.otadata) if (isCopy(copy) && (copy.state === 'invalid' || copy.state === 'aborted')) return slotOf(copy);
        return undefined;
      },
      begin: () => {
        if (this.bootloaderRollback && this.stateOf(this.running) === 'pending-verify') throw new Error('ESP_ERR_OTA_ROLLBACK_INVALID_STATE');
        const target = other();
        this.images[target] = undefined; // esp_ota_begin erases the slot
        let text = '';
        return {
          write: (bytes) => {
            text += new TextDecoder().decode(bytes);
            this.images[target] = appImage(text);
          },
          cancel: () => undefined, // esp_ota_abort: what was written stays in the slot
          complete: () => {
            if (!this.images[target]?.good) throw new Error('ESP_ERR_OTA_VALIDATE_FAILED');
            this.setBoot(target);
          },
        };
      },
      markValid: () => {
        const a = this.active();
        const copy = a === undefined ? undefined : (this.otadata[a] as OtaCopy);
        if (copy && slotOf(copy) === this.running && copy.state === 'pending-verify') copy.state = 'valid';
      },
      rollback: () => {
        if (this.rollbackPossible()) {
          (this.otadata[this.active()!] as OtaCopy).state = 'invalid'; // esp_ota_mark_app_invalid_rollback_and_reboot
        } else {
          this.setBoot(other()); // throws when the other slot holds no good image
        }
        this.restarts++;
        this.restartRequested = true;
      },
      invalidateNext: () => {
        if (other() === this.running) throw new Error('refusing to erase the running slot');
        this.images[other()] = undefined; // the header sector is erased: esp_image_verify refuses it
      },
    };
  }
}

/** A device: flash, persistent preferences, and a fresh gate per boot, as the firmware would. */
class Device {
  readonly store = new MemoryStore();
  readonly logs: string[] = [];
  clock = new ManualClock();
  gate!: UpdateGate;

  constructor(readonly flash: Esp32Flash) {}

  /** Power-on or reset: the bootloader picks a slot, the boot code runs the gate. */
  powerOn(): void {
    for (;;) {
      this.clock = new ManualClock();
      this.gate = new UpdateGate({
        slots: this.flash.ops(),
        store: this.store,
        version: this.flash.version,
        clock: this.clock,
        log: { log: (level, message) => this.logs.push(`${level} ${message}`) },
        maxBoots: 3,
        healthMs: 300_000,
      });
      this.gate.boot();
      if (!this.resetIfRequested()) return;
    }
  }

  /** Runs timers; a rollback from a timer resets the device. */
  advance(ms: number): void {
    this.clock.advance(ms);
    if (this.resetIfRequested()) this.powerOn();
  }

  /** What esp_restart() does once the JavaScript that called it returns. */
  resetIfRequested(): boolean {
    if (!this.flash.restartRequested) return false;
    this.flash.restartRequested = false;
    this.flash.boot();
    return true;
  }

  crash(): void {
    this.flash.boot();
    this.powerOn();
  }

  update(version: string, image = `IMG:${version};`): void {
    const bytes = new TextEncoder().encode(image);
    const writer = this.gate.open(bytes.length, version);
    writer.write(bytes.subarray(0, 3));
    writer.write(bytes.subarray(3));
    writer.complete();
  }
}

function fresh(bootloaderRollback: boolean): Device {
  const flash = new Esp32Flash(bootloaderRollback);
  flash.flashOverUsb('1.0.0');
  const device = new Device(flash);
  device.powerOn();
  return device;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModdableHostError);
    return (error as ModdableHostError).code;
  }
  return undefined;
}

describe('UpdateGate on an ESP32 with bootloader rollback', () => {
  it('boots a new image on trial and commits it when the firmware says it is healthy', () => {
    const d = fresh(true);
    expect(d.gate.running()).toEqual({ slot: 0, version: '1.0.0', state: 'valid' });
    d.update('1.1.0');
    d.crash(); // the firmware restarts after complete()
    expect(d.flash.running).toBe(1);
    expect(d.gate.running()).toEqual({ slot: 1, version: '1.1.0', state: 'pending-verify' });
    expect(codeOf(() => d.gate.open(100, '1.2.0'))).toBe('OTA_BUSY');
    d.gate.markValid();
    expect(d.flash.stateOf(1)).toBe('valid');
    expect(d.gate.running()).toEqual({ slot: 1, version: '1.1.0', state: 'valid' });
    d.advance(600_000); // the deadline was disarmed
    expect(d.flash.running).toBe(1);
    d.update('1.2.0'); // allowed again, into slot 0
    expect(d.flash.images[0]!.version).toBe('1.2.0');
  });

  it('reports a rollback by the bootloader when the new image resets before it is committed', () => {
    const d = fresh(true);
    d.update('1.1.0');
    d.crash();
    expect(d.gate.running().state).toBe('pending-verify');
    d.crash(); // a panic before markValid(): the bootloader aborts slot 1
    expect(d.flash.running).toBe(0);
    expect(d.flash.stateOf(1)).toBe('aborted');
    const image = d.gate.running();
    expect(image.version).toBe('1.0.0');
    expect(image.state).toBe('valid');
    expect(image.rolledBack!.fromVersion).toBe('1.1.0');
    expect(image.rolledBack!.reason).toContain('bootloader rejected slot 1');
  });

  it('rolls back at the deadline when the image runs but never passes its health check', () => {
    const d = fresh(true);
    d.update('1.1.0');
    d.crash();
    d.advance(299_999);
    expect(d.flash.running).toBe(1);
    d.advance(1);
    expect(d.flash.running).toBe(0);
    // slot 0 came from USB (no otadata record), so ESP-IDF's own rollback is not possible: the
    // gate made slot 0 the boot partition again, and committed it once it ran
    expect(d.flash.stateOf(0)).toBe('valid');
    expect(d.gate.running().rolledBack).toEqual({ fromVersion: '1.1.0', reason: 'health check not passed within 300 s' });
  });

  it('uses ESP-IDF rollback (marks the image invalid) once the old slot has an otadata record', () => {
    const d = fresh(true);
    d.update('1.1.0');
    d.crash();
    d.gate.markValid();
    d.update('1.2.0'); // slot 0 now, and slot 1 holds a committed 1.1.0
    d.crash();
    expect(d.gate.running().version).toBe('1.2.0');
    d.advance(300_000);
    expect(d.flash.running).toBe(1);
    expect(d.flash.stateOf(0)).toBe('invalid');
    expect(d.gate.running()).toEqual({
      slot: 1,
      version: '1.1.0',
      state: 'valid',
      rolledBack: { fromVersion: '1.2.0', reason: 'health check not passed within 300 s' },
    });
  });

  it('rolls back on the firmware request and keeps its reason', () => {
    const d = fresh(true);
    d.update('1.1.0');
    d.crash();
    d.gate.rollback('broker refused the new client certificate');
    expect(d.flash.restartRequested).toBe(true);
    d.crash();
    expect(d.gate.running().rolledBack).toEqual({ fromVersion: '1.1.0', reason: 'broker refused the new client certificate' });
    expect(codeOf(() => d.gate.rollback('again'))).toBe('OTA_NO_ROLLBACK');
  });
});

describe('UpdateGate on an ESP32 whose bootloader has no app rollback', () => {
  it('counts the boots of a crashing image and switches back after maxBoots', () => {
    const d = fresh(false);
    d.update('1.1.0');
    d.crash();
    for (let boot = 1; boot <= 3; boot++) {
      expect(d.flash.running).toBe(1);
      expect(d.gate.running().state).toBe('pending-verify');
      d.crash();
    }
    // the fourth boot of 1.1.0 rolled back before the firmware started: slot 0 has no otadata
    // record (USB flash), so the gate made it the boot partition again
    expect(d.flash.running).toBe(0);
    expect(d.flash.restarts).toBe(1);
    expect(d.gate.running().rolledBack).toEqual({ fromVersion: '1.1.0', reason: 'crash loop: 3 boots without passing the health check' });
  });

  it('keeps the new image, and says so, when the previous slot holds nothing to go back to', () => {
    const d = fresh(false);
    d.update('1.1.0');
    d.crash();
    d.flash.images[0]!.good = false; // the old image was damaged meanwhile
    for (let boot = 1; boot <= 3; boot++) d.crash();
    expect(d.flash.running).toBe(1);
    expect(d.gate.running()).toEqual({ slot: 1, version: '1.1.0', state: 'valid' });
    expect(d.logs.some((l) => l.startsWith('error') && l.includes('cannot roll back') && l.includes('keeping image 1.1.0'))).toBe(true);
  });
});

describe('UpdateGate writing an update', () => {
  it('cancels an image longer than announced and leaves nothing pending', () => {
    const d = fresh(true);
    const writer = d.gate.open(4, '1.1.0');
    expect(codeOf(() => writer.write(new Uint8Array(5)))).toBe('OTA_SIZE');
    expect(codeOf(() => writer.complete())).toBe('OTA_FAILED');
    expect(d.flash.images[1]).toBeUndefined();
    d.crash();
    expect(d.gate.running()).toEqual({ slot: 0, version: '1.0.0', state: 'valid' });
  });

  it('refuses to complete a short image, an oversized or unnamed update, and a second writer', () => {
    const d = fresh(true);
    const writer = d.gate.open(10, '1.1.0');
    expect(codeOf(() => d.gate.open(10, '1.1.0'))).toBe('OTA_BUSY');
    writer.write(new Uint8Array(9));
    expect(codeOf(() => writer.complete())).toBe('OTA_SIZE');
    expect(codeOf(() => d.gate.open(SLOT_SIZE + 1, '1.1.0'))).toBe('OTA_SIZE');
    expect(codeOf(() => d.gate.open(0, '1.1.0'))).toBe('OTA_SIZE');
    expect(codeOf(() => d.gate.open(10, ''))).toBe('OTA_FAILED');
    const again = d.gate.open(10, '1.1.0'); // the failed writers released the slot
    again.cancel();
  });

  it('keeps the running image when the written one is not a valid app image', () => {
    const d = fresh(true);
    expect(codeOf(() => d.update('1.1.0', 'BAD:1.1.0;'))).toBe('OTA_FAILED');
    d.crash();
    expect(d.gate.running()).toEqual({ slot: 0, version: '1.0.0', state: 'valid' });
  });
});

/** Installs `version` and commits it: the update, the restart into it, its health check. */
function commitUpdate(d: Device, version: string): void {
  d.update(version);
  d.crash();
  expect(d.gate.running()).toMatchObject({ version, state: 'pending-verify' });
  d.gate.markValid();
}

describe('UpdateGate leaves nothing bootable behind in the spare slot', () => {
  it('erases a whole image cancelled after a hash mismatch: with the active otadata copy damaged, the bootloader cannot start it', () => {
    const d = fresh(true);
    commitUpdate(d, '1.1.0'); // slot 1, otadata copy 0
    commitUpdate(d, '1.2.0'); // slot 0, otadata copy 1; copy 0 still points at slot 1
    const bytes = new TextEncoder().encode('IMG:1.3.0;'); // a valid app, but not the image the job signed
    const writer = d.gate.open(bytes.length, '1.3.0');
    writer.write(bytes);
    writer.cancel();
    expect(d.flash.images[1]).toBeUndefined();
    d.flash.otadata[1] = 'corrupt'; // the active copy: the bootloader follows copy 0, to slot 1
    d.crash();
    expect(d.flash.running).toBe(0);
    expect(d.gate.running()).toMatchObject({ version: '1.2.0', state: 'valid' });
  });

  it('erases an image that was written to its end but never marked to boot (power lost)', () => {
    const d = fresh(true);
    commitUpdate(d, '1.1.0'); // slot 1; the spare slot 0 holds the USB image
    const bytes = new TextEncoder().encode('IMG:1.2.0;');
    d.gate.open(bytes.length, '1.2.0').write(bytes); // then the power goes
    d.crash();
    expect(d.flash.images[0]).toBeUndefined();
    expect(d.logs.some((l) => l.includes('update slot erased: the update to 1.2.0 was interrupted'))).toBe(true);
    d.flash.otadata = ['corrupt', 'corrupt']; // no valid copy: the bootloader tries ota_0 first
    d.crash();
    expect(d.gate.running()).toMatchObject({ slot: 1, version: '1.1.0', state: 'valid' });
  });

  it('erases an image the bootloader rolled back, so a damaged otadata cannot bring it back', () => {
    const d = fresh(true);
    commitUpdate(d, '1.1.0'); // slot 1, copy 0
    d.update('1.2.0'); // slot 0, copy 1
    d.crash();
    d.crash(); // a reset before markValid(): copy 1 is aborted, slot 1 starts again
    expect(d.gate.running()).toMatchObject({ slot: 1, version: '1.1.0', rolledBack: { fromVersion: '1.2.0' } });
    expect(d.flash.images[0]).toBeUndefined();
    d.flash.otadata[0] = 'corrupt'; // no selectable copy left: ota_0 first
    d.crash();
    expect(d.gate.running()).toMatchObject({ slot: 1, version: '1.1.0' });
  });

  it('erases an image that esp_ota_end refused, and one abandoned on a write error', () => {
    const d = fresh(true);
    commitUpdate(d, '1.1.0');
    expect(codeOf(() => d.update('1.2.0', 'IMG:1.2.0'))).toBe('OTA_FAILED'); // no terminator: does not verify
    expect(d.flash.images[0]).toBeUndefined();
    const writer = d.gate.open(4, '1.2.0');
    expect(codeOf(() => writer.write(new Uint8Array(5)))).toBe('OTA_SIZE');
    expect(d.flash.images[0]).toBeUndefined();
  });

  it('says so when the bootloader starts an older committed slot instead of the last committed one', () => {
    const d = fresh(true);
    commitUpdate(d, '1.1.0'); // slot 1, copy 0
    commitUpdate(d, '1.2.0'); // slot 0, copy 1
    d.flash.otadata[1] = 'corrupt';
    d.crash();
    const image = d.gate.running();
    expect(image).toMatchObject({ slot: 1, version: '1.1.0', state: 'valid' });
    expect(image.recovered).toMatch(/started slot 1 \(1\.1\.0\) instead of the committed slot 0 \(1\.2\.0\)/);
    const errors = () => d.logs.filter((l) => l.startsWith('error') && l.includes('instead of the committed slot')).length;
    expect(errors()).toBe(1);
    // told once in the log; reported until the next update
    d.crash();
    expect(errors()).toBe(1);
    expect(d.gate.running().recovered).toBe(image.recovered);
    d.update('1.3.0');
    expect(d.gate.running().recovered).toBeUndefined();
  });
});
