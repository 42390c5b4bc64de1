// The firmware's side of a boot decided by a bootloader it does not run itself (the ESP8266's, in C,
// before XS starts): what runs is read back from the boot record that bootloader wrote, and the
// FlashUpdate port is built over the same flash. The simulator's ESP8266 layout uses it too, after
// its bootloader (src/ota/placement.ts), so both take the same path.
import type { BootFlash } from './boot-flash';
import { BootRecords, sameVersion, type BootSource } from './boot-record';
import { SlotUpdate } from './slot-update';

/**
 * The update port of an image of `version` that the bootloader started: on trial when the record
 * has a trial of this version, else the committed one (the built-in image when the record is
 * missing or unreadable).
 */
export const attachBoot = (flash: BootFlash, version: string): SlotUpdate => {
  const records = new BootRecords(flash);
  const state = records.read().state;
  let source: BootSource = 'factory';
  let pending = false;
  if (state?.trial && sameVersion(state.trial.version, version)) {
    source = state.trial.slot;
    pending = true;
  } else if (state) {
    source = state.committed;
  }
  return new SlotUpdate(flash, records, {
    source,
    version,
    pending,
    rolledBack: state?.rolledBack && { ...state.rolledBack },
    recovered: state?.recovered,
  });
};
