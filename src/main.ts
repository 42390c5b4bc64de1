// Firmware entry: every host (Moddable, the Node simulator, the XS bridge) builds a Platform from
// its ports and calls main(). Nothing here touches a host API directly.
import { Device, type DeviceOptions } from './device/device';
import type { Platform } from './ports';
import { FIRMWARE_VERSION } from './version';

export type MainOptions = Omit<DeviceOptions, 'platform' | 'version'> & { version?: string };

export function main(platform: Platform, options: MainOptions = {}): Device {
  const device = new Device({ ...options, platform, version: options.version ?? FIRMWARE_VERSION });
  device.start();
  return device;
}
