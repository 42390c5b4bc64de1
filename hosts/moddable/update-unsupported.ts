// FlashUpdate for builds without over-the-air update: the ESP8266 (Moddable has no OTA module for
// it) and the desktop build. The image is always the committed one; open() says why it cannot
// update and what to do instead, so the firmware can report that as its OTA status.
import type { FlashUpdate } from '../../src/ports';
import { ModdableHostError } from './errors';

export function createUnsupportedUpdate(version: string, why: string): FlashUpdate {
  return {
    open() {
      throw new ModdableHostError('OTA_UNSUPPORTED', why);
    },
    running: () => ({ slot: 0, version, state: 'valid' }),
    markValid() {},
    rollback() {
      throw new ModdableHostError('OTA_UNSUPPORTED', why);
    },
  };
}
