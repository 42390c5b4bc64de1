// Joins the Wi-Fi network named in the build config (wifiSsid, wifiPassword) and rejoins after a
// drop, with a capped backoff. For builds whose firmware does not run its own provisioning; a
// firmware that calls wifi.onEvent() takes the events over.
import type { Platform, TimerId } from '../../src/ports';
import { configString } from './config';

const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;

export function joinConfiguredWiFi(platform: Platform): void {
  const wifi = platform.wifi;
  const config = platform.config ?? {};
  const ssid = configString(config, 'wifiSsid');
  if (!wifi || !ssid) return;
  const password = configString(config, 'wifiPassword');
  let delay = FIRST_RETRY_MS;
  let retry: TimerId | undefined;
  const join = () => {
    retry = undefined;
    try {
      wifi.connect(password ? { ssid, password } : { ssid });
    } catch (error) {
      platform.log.log('warn', `Wi-Fi: ${error instanceof Error ? error.message : String(error)}`);
      later();
    }
  };
  const later = () => {
    if (retry !== undefined) return;
    retry = platform.clock.set(join, delay);
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  };
  wifi.onEvent((event) => {
    if (event.type === 'got-ip') {
      delay = FIRST_RETRY_MS;
      platform.log.log('info', `Wi-Fi: joined "${ssid}", address ${event.ip}`);
    } else if (event.type === 'disconnected') {
      platform.log.log('warn', `Wi-Fi: "${ssid}" ${event.reason}; retrying in ${delay / 1000} s`);
      later();
    }
  });
  join();
}
