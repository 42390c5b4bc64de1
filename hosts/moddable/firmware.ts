// Starts the firmware (src/main.ts) on a Moddable platform. The build-time configuration reaches the
// firmware as platform.config; src/device/config.ts reads it (a network named by wifiSsid= and
// wifiPassword= is stored at boot by the firmware's Wi-Fi set-up).
import { main } from '../../src/main';
import { otaExtension } from '../../src/ota/index';
import type { Platform } from '../../src/ports';

export function startFirmware(platform: Platform): void {
  // OTA jobs are checked against the build setting otaPublicKey; without an update port (ESP8266)
  // every job is answered "unsupported".
  main(platform, { extensions: [otaExtension()] });
}
