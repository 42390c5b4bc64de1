// SlotOps for the ESP32: Moddable's `ota` module writes the other slot, otaboot.c does the rest.
import OTA from 'ota';
import type { SlotOps } from '../../update-gate';
import * as otaboot from './otaboot';

export function createEsp32Slots(): SlotOps {
  return {
    runningSlot: () => otaboot.runningSlot(),
    runningState: () => otaboot.runningState(),
    nextSlotSize: () => otaboot.nextSlotSize(),
    lastInvalidSlot: () => otaboot.lastInvalidSlot(),
    markValid: () => otaboot.markValid(),
    rollback: () => otaboot.rollback(),
    invalidateNext: () => otaboot.invalidateNext(),
    begin() {
      const ota = new OTA();
      return {
        write: (bytes) => ota.write(bytes),
        complete: () => ota.complete(),
        cancel: () => ota.cancel(), // keeps what was written: the gate erases it (invalidateNext)
      };
    },
  };
}
