// The health-gated OTA commit of hosts/moddable against a model of the ESP32's two app slots, its
// otadata records and its bootloader, written from ESP-IDF's documented rules
// (components/app_update/esp_ota_ops.c, bootloader_support; "App rollback" in the OTA guide):
// - esp_ota_set_boot_partition gives the slot the next sequence number, state NEW when the
//   bootloader has app rollback, UNDEFINED without;
// - the bootloader boots the highest sequence whose state is not INVALID or ABORTED and whose
//   image is good; with app rollback, NEW becomes PENDING_VERIFY there, and an image still
//   PENDING_VERIFY at the next boot becomes ABORTED and is skipped;
// - esp_ota_check_rollback_is_possible needs a valid otadata record for the other slot (an image
//   flashed over USB has none); esp_ota_begin refuses while the running image is PENDING_VERIFY.
import { describe, expect, it } from 'vitest';
import { ModdableHostError } from '../../hosts/moddable/errors';
import { UpdateGate, type SlotOps, type SlotState } from '../../hosts/moddable/update-gate';
import { VirtualClock } from '../../hosts/sim/clock';
import { MemoryKeyValueStore } from '../../hosts/sim/kv';

type OtaState = 'new' | 'pending-verify' | 'valid' | 'invalid' | 'aborted' | 'undefined';

interface Slot {
  image?: { version: string; good: boolean };
  record?: { seq: number; state: OtaState };
}

const SLOT_SIZE = 0x1f0000;

/** Two ota slots and a bootloader. The running slot changes only through boot(). */
class Esp32Flash {
  readonly slots: [Slot, Slot] = [{}, {}];
  running = 0;
  lastInvalid: number | undefined;
  restarts = 0;
  /** esp_restart() was called: the device resets as soon as the current call returns. */
  restartRequested = false;

  constructor(readonly bootloaderRollback: boolean) {}

  /** USB flash of `version` into slot 0: erases otadata, as idf.py flash does. */
  flashOverUsb(version: string): void {
    this.slots[0] = { image: { version, good: true } };
    this.slots[1] = {};
    this.boot();
  }

  boot(): void {
    const order = [0, 1]
      .filter((i) => this.slots[i]!.record && this.slots[i]!.image?.good)
      .sort((a, b) => this.slots[b]!.record!.seq - this.slots[a]!.record!.seq);
    for (const i of order) {
      const record = this.slots[i]!.record!;
      if (record.state === 'invalid' || record.state === 'aborted') continue;
      if (this.bootloaderRollback && record.state === 'pending-verify') {
        record.state = 'aborted';
        this.lastInvalid = i;
        continue;
      }
      if (this.bootloaderRollback && record.state === 'new') record.state = 'pending-verify';
      this.running = i;
      return;
    }
    this.running = 0; // no usable otadata: the first app slot
  }

  get version(): string {
    return this.slots[this.running]!.image!.version;
  }

  setBoot(slot: number): void {
    if (!this.slots[slot]!.image?.good) throw new Error('ESP_ERR_OTA_VALIDATE_FAILED');
    const seq = Math.max(0, ...this.slots.map((s) => s.record?.seq ?? 0)) + 1;
    this.slots[slot]!.record = { seq, state: this.bootloaderRollback ? 'new' : 'undefined' };
  }

  ops(): SlotOps {
    const other = () => 1 - this.running;
    return {
      runningSlot: () => this.running,
      runningState: () => (this.slots[this.running]!.record?.state ?? 'undefined') as SlotState,
      nextSlotSize: () => SLOT_SIZE,
      lastInvalidSlot: () => this.lastInvalid,
      begin: () => {
        if (this.bootloaderRollback && this.slots[this.running]!.record?.state === 'pending-verify') throw new Error('ESP_ERR_OTA_ROLLBACK_INVALID_STATE');
        const target = other();
        const chunks: Uint8Array[] = [];
        this.slots[target] = {};
        return {
          write: (bytes) => void chunks.push(bytes),
          cancel: () => void (this.slots[target] = {}),
          complete: () => {
            const text = new TextDecoder().decode(Buffer.concat(chunks));
            const [magic, version] = text.split(':');
            this.slots[target] = { image: { version: version!, good: magic === 'IMG' } };
            this.setBoot(target);
          },
        };
      },
      markValid: () => {
        const record = this.slots[this.running]!.record;
        if (record) record.state = 'valid';
      },
      rollback: () => {
        const previous = this.slots[other()]!;
        const possible = previous.record && previous.image?.good && previous.record.state !== 'invalid' && previous.record.state !== 'aborted';
        if (possible) {
          this.slots[this.running]!.record!.state = 'invalid';
        } else {
          this.setBoot(other()); // throws when the other slot holds no good image
        }
        this.restarts++;
        this.restartRequested = true;
      },
    };
  }
}

/** A device: flash, persistent preferences, and a fresh gate per boot, as the firmware would. */
class Device {
  readonly store = new MemoryKeyValueStore();
  readonly logs: string[] = [];
  clock = new VirtualClock();
  gate!: UpdateGate;

  constructor(readonly flash: Esp32Flash) {}

  /** Power-on or reset: the bootloader picks a slot, the boot code runs the gate. */
  powerOn(): void {
    for (;;) {
      this.clock = new VirtualClock();
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

  update(version: string, image = `IMG:${version}`): void {
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
    expect(d.flash.slots[1].record!.state).toBe('valid');
    expect(d.gate.running()).toEqual({ slot: 1, version: '1.1.0', state: 'valid' });
    d.advance(600_000); // the deadline was disarmed
    expect(d.flash.running).toBe(1);
    d.update('1.2.0'); // allowed again, into slot 0
    expect(d.flash.slots[0].image!.version).toBe('1.2.0');
  });

  it('reports a rollback by the bootloader when the new image resets before it is committed', () => {
    const d = fresh(true);
    d.update('1.1.0');
    d.crash();
    expect(d.gate.running().state).toBe('pending-verify');
    d.crash(); // a panic before markValid(): the bootloader aborts slot 1
    expect(d.flash.running).toBe(0);
    expect(d.flash.slots[1].record!.state).toBe('aborted');
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
    expect(d.flash.slots[0].record!.state).toBe('valid');
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
    expect(d.flash.slots[0].record!.state).toBe('invalid');
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
    d.flash.slots[0].image!.good = false; // the old image was damaged meanwhile
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
    expect(d.flash.slots[1]).toEqual({});
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
    expect(codeOf(() => d.update('1.1.0', 'BAD:1.1.0'))).toBe('OTA_FAILED');
    d.crash();
    expect(d.gate.running()).toEqual({ slot: 0, version: '1.0.0', state: 'valid' });
  });
});
