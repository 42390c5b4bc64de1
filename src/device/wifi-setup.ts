// Joins the firmware to WiFi provisioning: the device application starts once the station has an
// address; device name and broker settings entered in the set-up page (or over Improv) go into the
// configuration, and a change of broker settings restarts the device so it connects with them. A
// network named in the build settings (wifiSsid, wifiPassword) is stored first when missing, so a
// freshly flashed board joins it without the set-up portal.
import type { ExtraSettings } from '../provisioning/validate';
import type { NetworkStore } from '../provisioning/network-store';
import { Provisioning } from '../provisioning/provisioning';
import type { ProvisioningOptions, ProvisioningState } from '../provisioning/types';
import type { Platform } from '../ports';
import { attachImprovSerial } from '../improv/service';
import type { Device } from './device';
import { allChars, isDigits, isHexCode, isSpaceCode, runEnd } from '../text/chars';

export type WifiSetupOptions = Partial<Omit<ProvisioningOptions, 'platform' | 'firmwareVersion' | 'onConnected' | 'onExtraSettings'>> & {
  /** Improv Wi-Fi over the platform's serial port, when it has one. Default true. */
  improv?: boolean;
  /** Delay before the restart that applies new broker settings, ms (so the page can say "Connected"). */
  applyDelay?: number;
};

const isHostCode = (c: number): boolean => {
  return c !== 0x2f && c !== 0x3a && c !== 0x3f && c !== 0x23 && !isSpaceCode(c); // / : ? #
};

const isAddressCode = (c: number): boolean => {
  return isHexCode(c) || c === 0x3a || c === 0x2e; // : .
};

/** After the host: nothing, "/", ":port" or ":port/"; the port's digits, '' without one, undefined for anything else. */
const portOf = (rest: string): string | undefined => {
  if (rest === '' || rest === '/') return '';
  if (rest[0] !== ':') return undefined;
  const port = rest[rest.length - 1] === '/' ? rest.slice(1, -1) : rest.slice(1);
  return isDigits(port, 1, 5) ? port : undefined;
};

/** mqtt[s]://host[:port][/], host a name or [hex digits : .]. */
const splitUrl = (url: string): { tls: boolean; host: string; port: string } | undefined => {
  const tls = url.startsWith('mqtts://');
  if (!tls && !url.startsWith('mqtt://')) return undefined;
  const start = tls ? 8 : 7;
  const end = runEnd(url, start, isHostCode);
  let port = end > start ? portOf(url.slice(end)) : undefined;
  if (port !== undefined) return { tls, host: url.slice(start, end), port };
  const close = url[start] === '[' ? url.indexOf(']', start) : -1;
  port = close > start + 1 && allChars(url.slice(start + 1, close), isAddressCode) ? portOf(url.slice(close + 1)) : undefined;
  return port === undefined ? undefined : { tls, host: url.slice(start, close + 1), port };
};

/** Broker URL from the set-up page to settings: mqtt://host[:port] or mqtts://host[:port]. */
export const brokerSettings = (url: string): { brokerHost: string; brokerPort: number; brokerTls: boolean } => {
  const m = splitUrl(url.trim());
  if (!m) throw new Error(`broker URL "${url}" must look like mqtt://host:1883 or mqtts://host:8883`);
  const tls = m.tls;
  const port = m.port ? Number(m.port) : tls ? 8883 : 1883;
  if (port < 1 || port > 65535) throw new Error(`broker port ${port} in "${url}" must be 1-65535, as in mqtt://host:1883`);
  let host = m.host;
  if (host[0] === '[') host = host.slice(1);
  if (host[host.length - 1] === ']') host = host.slice(0, -1);
  return { brokerHost: host, brokerPort: port, brokerTls: tls };
};

/** Applies the settings; returns whether the broker connection must be remade (a restart). */
export const applyExtraSettings = (device: Device, extras: ExtraSettings): boolean => {
  const changes: Record<string, unknown> = {};
  if (extras.deviceName !== undefined) changes.name = extras.deviceName;
  if (extras.brokerUrl) {
    const broker = brokerSettings(extras.brokerUrl);
    changes.brokerHost = broker.brokerHost;
    changes.brokerPort = broker.brokerPort;
    changes.brokerTls = broker.brokerTls;
  }
  if (extras.brokerUser !== undefined) changes.brokerUser = extras.brokerUser;
  if (extras.brokerPassword !== undefined) changes.brokerPassword = extras.brokerPassword;
  if (!Object.keys(changes).length) return false;
  return device.config.set(changes).restartRequired.length > 0;
};

/** Stores the build settings' network in `store` unless it is there already (its password may have changed since). */
const seedNetwork = (device: Device, store: NetworkStore): void => {
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
};

export const startWifi = (device: Device, options: WifiSetupOptions = {}): Provisioning => {
  const platform = device.platform;
  const log = platform.log;
  const provisioning = new Provisioning(new WifiSetup(device, options));
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
};

/** Names of WifiSetupOptions that are not provisioning options, or that WifiSetup answers itself. */
const OWN = ['improv', 'applyDelay', 'onState', 'onConnected', 'onExtraSettings'];

/**
 * The provisioning options of a device: the caller's, with the state, connection and settings
 * callbacks as methods of this class (provisioning calls them on it), so they stay in flash instead
 * of being closures copied into the heap (an ESP8266 has 32 KB).
 */
class WifiSetup implements ProvisioningOptions {
  prefix = 'nodemcu';
  deviceId: string;
  readonly platform: Platform;
  readonly firmwareVersion: string;
  private started = false;

  constructor(
    private readonly device: Device,
    private readonly options: WifiSetupOptions,
  ) {
    this.deviceId = device.id;
    const keys = Object.keys(options);
    for (let i = 0; i < keys.length; i++) if (OWN.indexOf(keys[i]) < 0) (this as Record<string, unknown>)[keys[i]] = (options as Record<string, unknown>)[keys[i]];
    this.platform = device.platform;
    this.firmwareVersion = device.version;
  }

  onState(state: ProvisioningState): void {
    this.device.wifiUp = state === 'connected';
    this.options.onState?.(state);
  }

  onConnected(ip: string, ssid: string): void {
    const device = this.device;
    device.wifiUp = true;
    if (!this.started) {
      this.started = true;
      // on a fresh stack: under the Wi-Fi event the first sample took an ESP8266 past its 256 XS stack slots
      device.platform.clock.set(() => device.start(), 0);
    }
    device.platform.log.log('info', `wifi: ${ssid} ${ip}`);
  }

  onExtraSettings(extras: ExtraSettings): void {
    // the settings are written (the journal, the store) on a fresh stack: under the Wi-Fi event that
    // proved the credentials they took an ESP8266 past its 256 XS stack slots
    this.device.platform.clock.set(() => this.apply(extras), 0);
  }

  private apply(extras: ExtraSettings): void {
    const device = this.device;
    let restart = false;
    try {
      restart = applyExtraSettings(device, extras);
    } catch (error) {
      device.platform.log.log('error', `set-up page settings not applied: ${(error as Error).message}`);
      return;
    }
    if (restart) device.platform.clock.set(() => device.restart('new broker settings from set-up'), this.options.applyDelay ?? 8000);
  }
}
