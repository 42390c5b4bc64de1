// Starts the firmware (src/main.ts) on a Moddable platform. The build-time configuration reaches the
// firmware as platform.config; src/device/config.ts reads it (a network named by wifiSsid= and
// wifiPassword= is stored at boot by the firmware's Wi-Fi set-up).
import type { Device } from '../../src/device/device';
import { main } from '../../src/main';
import { otaExtension } from '../../src/ota/index';
import type { Platform } from '../../src/ports';

export const startFirmware = (platform: Platform): Device => {
  // OTA jobs are checked against the build setting otaPublicKey; without an update port (ESP8266)
  // every job is answered "unsupported". Returned: a tail call, so this frame is not on the XS stack
  // while the firmware boots (the ESP8266 has 256 slots).
  return main(platform, { extensions: [otaExtension()] });
};
