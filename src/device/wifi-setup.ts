// Joins the firmware to WiFi provisioning: the device application starts once the station has an
// address; device name and broker settings entered in the set-up page (or over Improv) go into the
// configuration, and a change of broker settings restarts the device so it connects with them. A
// network named in the build settings (wifiSsid, wifiPassword) is stored first when missing, so a
// freshly flashed board joins it without the set-up portal.
import type { ExtraSettings } from '../provisioning/validate';
import type { NetworkStore } from '../provisioning/network-store';
import { Provisioning } from '../provisioning/provisioning';
import type { ProvisioningOptions } from '../provisioning/types';
import { attachImprovSerial } from '../improv/service';
import type { Device } from './device';

export type WifiSetupOptions = Partial<Omit<ProvisioningOptions, 'platform' | 'firmwareVersion' | 'onConnected' | 'onExtraSettings'>> & {
  /** Improv Wi-Fi over the platform's serial port, when it has one. Default true. */
  improv?: boolean;
  /** Delay before the restart that applies new broker settings, ms (so the page can say "Connected"). */
  applyDelay?: number;
};

/** Broker URL from the set-up page to settings: mqtt://host[:port] or mqtts://host[:port]. */
export function brokerSettings(url: string): { brokerHost: string; brokerPort: number; brokerTls: boolean } {
  const m = /^(mqtts?):\/\/([^/:?#\s]+|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?\/?$/.exec(url.trim());
  if (!m) throw new Error(`broker URL "${url}" must look like mqtt://host:1883 or mqtts://host:8883`);
  const tls = m[1] === 'mqtts';
  const port = m[3] ? Number(m[3]) : tls ? 8883 : 1883;
  if (port < 1 || port > 65535) throw new Error(`broker port ${port} in "${url}" must be 1-65535, as in mqtt://host:1883`);
  return { brokerHost: m[2].replace(/^\[|\]$/g, ''), brokerPort: port, brokerTls: tls };
}

/** Applies the settings; returns whether the broker connection must be remade (a restart). */
export function applyExtraSettings(device: Device, extras: ExtraSettings): boolean {
  const changes: Record<string, unknown> = {};
  if (extras.deviceName !== undefined) changes.name = extras.deviceName;
  if (extras.brokerUrl) Object.assign(changes, brokerSettings(extras.brokerUrl));
  if (extras.brokerUser !== undefined) changes.brokerUser = extras.brokerUser;
  if (extras.brokerPassword !== undefined) changes.brokerPassword = extras.brokerPassword;
  if (!Object.keys(changes).length) return false;
  return device.config.set(changes).restartRequired.length > 0;
}

/** Stores the build settings' network in `store` unless it is there already (its password may have changed since). */
function seedNetwork(device: Device, store: NetworkStore): void {
  const { wifiSsid: ssid, wifiPassword: password } = device.config.build;
  if (!ssid) return;
  const log = device.platform.log;
  try {
    if (store.list().some((network) => network.ssid === ssid)) return;
    store.save({ ssid, password });
    log.log('info', `stored Wi-Fi network "${ssid}" from the build configuration`);
  } catch (error) {
    log.log('warn', `Wi-Fi network "${ssid}" from the build configuration not stored: ${(error as Error).message}`);
  }
}

export function startWifi(device: Device, options: WifiSetupOptions = {}): Provisioning {
  const platform = device.platform;
  const log = platform.log;
  let started = false;
  const provisioning = new Provisioning({
    prefix: 'nodemcu',
    deviceId: device.id,
    ...options,
    platform,
    firmwareVersion: device.version,
    onState: (state) => {
      device.wifiUp = state === 'connected';
      options.onState?.(state);
    },
    onConnected: (ip, ssid) => {
      device.wifiUp = true;
      if (!started) {
        started = true;
        device.start();
      }
      log.log('info', `wifi: ${ssid} ${ip}`);
    },
    onExtraSettings: (extras) => {
      let restart = false;
      try {
        restart = applyExtraSettings(device, extras);
      } catch (error) {
        log.log('error', `set-up page settings not applied: ${(error as Error).message}`);
        return;
      }
      if (restart) platform.clock.set(() => device.restart('new broker settings from set-up'), options.applyDelay ?? 8000);
    },
  });
  if (platform.serial && options.improv !== false) {
    try {
      attachImprovSerial(platform, {
        target: provisioning,
        info: { firmwareName: 'nodemcu-mqtt-firmware', firmwareVersion: device.version, hardware: device.config.build.board, deviceName: device.values.name || device.id },
      });
    } catch (error) {
      log.log('warn', `improv: ${(error as Error).message}`);
    }
  }
  seedNetwork(device, provisioning.store);
  provisioning.start();
  return provisioning;
}
