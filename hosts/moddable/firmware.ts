// Starts the firmware (src/main.ts) on a Moddable platform, with the telemetry sensors the build
// configures (manifest config `sensors`).
import { main } from '../../src/main';
import type { Platform } from '../../src/ports';
import { configString } from './config';
import { buildSensors } from './sensors';
import { joinConfiguredWiFi } from './wifi-join';

export function startFirmware(platform: Platform): void {
  const config = platform.config ?? {};
  joinConfiguredWiFi(platform);
  main(platform, { sensors: buildSensors(configString(config, 'sensors'), platform.i2c, platform.log) });
}
