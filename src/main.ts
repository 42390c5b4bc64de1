// Firmware entry: every host (Moddable, the Node simulator, the XS bridge) builds a Platform from
// its ports and calls main(). Nothing here touches a host API directly.
import { Device, type DeviceOptions } from './device/device';
import { buildSensors } from './device/hardware';
import type { TelemetrySensor } from './device/telemetry';
import { startWifi, type WifiSetupOptions } from './device/wifi-setup';
import type { Platform } from './ports';
import { FIRMWARE_VERSION } from './version';

export type MainOptions = Omit<DeviceOptions, 'platform' | 'version'> & {
  version?: string;
  /** WiFi provisioning options; false to skip it even when the platform has a radio. */
  wifi?: WifiSetupOptions | false;
};

/**
 * Boots the firmware. With a WiFi port, provisioning joins a stored network (or opens the set-up
 * access point) and the device application starts once the station has an address; without one
 * (a wired host, the simulator without a radio) it starts at once.
 */
export const main = (platform: Platform, options: MainOptions = {}): Device => {
  const { wifi, ...rest } = options;
  const device = new Device({ ...rest, platform, version: options.version ?? FIRMWARE_VERSION, sensors: options.sensors ?? sensorsFromBoard });
  if (platform.wifi && wifi !== false) device.provisioning = startWifi(device, wifi || {});
  else device.start();
  return device;
};

/** The sensors the board description lists (the build settings `sensors` and `i2c`); none when it is invalid. */
const sensorsFromBoard = (device: Device): TelemetrySensor[] => {
  const { sensors, i2c } = device.config.build;
  try {
    return buildSensors(device.platform, sensors, i2c);
  } catch (error) {
    device.platform.log.log('error', `sensors: ${(error as Error).message}; running without sensors`);
    return [];
  }
};
