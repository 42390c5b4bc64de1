// FlashUpdate for builds without over-the-air update: the ESP8266 (Moddable has no OTA module for
// it) and the desktop build. The image is always the committed one; open() says why it cannot
// update and what to do instead, so the firmware can report that as its OTA status.
import type { FlashUpdate, RunningImage } from '../../src/ports';
import { ModdableHostError } from './errors';

export const createUnsupportedUpdate = (version: string, why: string): FlashUpdate => {
  return new UnsupportedUpdate(version, why);
};

/** A class, not an object of closures: its methods stay in flash, the ESP8266's heap holds two strings. */
class UnsupportedUpdate implements FlashUpdate {
  constructor(
    private readonly version: string,
    private readonly why: string,
  ) {}
  open(): never {
    throw new ModdableHostError('OTA_UNSUPPORTED', this.why);
  }
  running(): RunningImage {
    return { slot: 0, version: this.version, state: 'valid' };
  }
  markValid(): void {}
  rollback(): never {
    throw new ModdableHostError('OTA_UNSUPPORTED', this.why);
  }
}
