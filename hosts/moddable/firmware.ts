// Starts the firmware (src/main.ts) on a Moddable platform. A network named at build time
// (mcconfig wifiSsid=... wifiPassword=...) is added to the stored networks first, so a freshly
// flashed board joins it without the set-up portal; the firmware's provisioning does the rest.
import type { Device } from '../../src/device/device';
import { main } from '../../src/main';
import { otaExtension } from '../../src/ota/index';
import type { Platform } from '../../src/ports';
import { NetworkStore } from '../../src/provisioning/network-store';
import { configString } from './config';

export function startFirmware(platform: Platform): Device {
  seedNetwork(platform);
  // OTA jobs are checked against config.otaPublicKey (build time only); without an update port
  // (ESP8266) every job is answered "unsupported". Returned: a tail call, so this frame is not on the
  // XS stack while the firmware boots (the ESP8266 has 256 slots).
  return main(platform, { extensions: [otaExtension()] });
}

function seedNetwork(platform: Platform): void {
  const config = platform.config ?? {};
  const ssid = configString(config, 'wifiSsid');
  if (!ssid || !platform.wifi) return;
  const store = new NetworkStore(platform.storage);
  try {
    // an unreadable entry throws here; the firmware's checked storage resets and reports it
    if (store.list().some((network) => network.ssid === ssid)) return;
    store.save({ ssid, password: configString(config, 'wifiPassword') ?? '' });
    platform.log.log('info', `stored Wi-Fi network "${ssid}" from the build configuration`);
  } catch (error) {
    platform.log.log('warn', `Wi-Fi network "${ssid}" from the build configuration not stored: ${error instanceof Error ? error.message : String(error)}`);
  }
}
