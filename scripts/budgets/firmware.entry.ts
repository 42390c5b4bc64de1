// The whole firmware as a device boots it (hosts/moddable/firmware.ts without the host's Wi-Fi
// seeding): main() with the OTA extension. bundle.firmware.min is this file minified; the firmware
// budgets boot this same function inside XS.
import type { Device } from '../../src/device/device';
import { main } from '../../src/main';
import { otaExtension } from '../../src/ota/index';
import type { Platform } from '../../src/ports';

export function startFirmware(platform: Platform): Device {
  return main(platform, { extensions: [otaExtension()] });
}
