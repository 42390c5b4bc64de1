// Public types and small helpers of the provisioning state machine.
import type { HttpLimits } from '../http/limits';
import type { Platform, WiFiAuth, WiFiDisconnectReason } from '../ports';
import type { ExtraSettings } from './validate';
import { asciiUpper, isAlnumCode, keepChars } from '../text/chars';

export interface PortalOptions {
  /** Default true. */
  enabled?: boolean;
  /** Default 80 (0 picks a free port, for the simulator). */
  httpPort?: number;
  /** Default 53. */
  dnsPort?: number;
  /** Local address to listen on; the host default when absent. The page's origin uses it when given. */
  listenAddress?: string;
  limits?: Partial<HttpLimits>;
}

export type ProvisioningState =
  /** Before start(). */
  | 'idle'
  /** Trying stored networks, access point off. */
  | 'connecting'
  /** Joined a network and got an address. */
  | 'connected'
  /** Access point and portal up; stored networks are still retried in the background. */
  | 'ap'
  /** Trying credentials that came from the portal or Improv. */
  | 'testing'
  | 'stopped';

export type AttemptFailure = WiFiDisconnectReason | 'timeout' | 'cancelled' | 'stopped';

export type AttemptResult = { ok: true; ssid: string; ip: string } | { ok: false; ssid: string; reason: AttemptFailure; message: string };

export interface ProvisioningOptions {
  /** Needs clock, system, log, storage, network (listen and udp for the portal) and wifi. */
  platform: Platform;
  /** Access point name prefix; the AP is "<prefix>-<last 6 characters of the device id>". */
  prefix: string;
  /** Defaults to platform.system.deviceId(). */
  deviceId?: string;
  firmwareVersion: string;
  /** WPA2 password of the access point (8..63 characters); open when absent. */
  apPassword?: string;
  /** Time to find a working stored network at boot before the access point opens. Default 90 s. */
  fallbackMs?: number;
  /** How long a working network may stay lost before the access point opens. Default 5 min. */
  lostFallbackMs?: number;
  /** Time one join attempt may take (association, authentication, DHCP). Default 15 s. */
  attemptTimeoutMs?: number;
  /** Time credentials from the portal or Improv may take to connect. Default 20 s. */
  testTimeoutMs?: number;
  /** Pause between failed rounds over the stored networks: doubles from initial to max. Defaults 2 s and 60 s. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Keep the access point this long after connecting while someone uses the portal, so the page can say so. Default 15 s. */
  apLingerMs?: number;
  /** Background retries pause while the portal was used within this time (scans disturb the phone's link). Default 60 s. */
  portalIdleMs?: number;
  /** Stored networks kept, most recently successful first. Default 5. */
  maxNetworks?: number;
  portal?: PortalOptions;
  onState?(state: ProvisioningState): void;
  onConnected?(ip: string, ssid: string): void;
  onDisconnected?(reason: WiFiDisconnectReason): void;
  /** Device name and broker settings entered in the portal, handed over once the Wi-Fi works. */
  onExtraSettings?(settings: ExtraSettings): void;
}

export class ProvisioningConfigError extends Error {
  readonly code = 'bad-config';
}
ProvisioningConfigError.prototype.name = 'ProvisioningConfigError';

/** "<prefix>-<last 6 hex digits of the id, upper case>", e.g. "nodemcu-A1B2C3". */
export const accessPointName = (prefix: string, deviceId: string): string => {
  const clean = keepChars(deviceId, isAlnumCode);
  return `${prefix}-${asciiUpper(clean.slice(-6))}`;
};

export const failureMessage = (ssid: string, reason: AttemptFailure): string => {
  switch (reason) {
    case 'auth-failed':
      return `Wrong password for “${ssid}”. Check it and try again.`;
    case 'no-ap-found':
      return `Network “${ssid}” was not found. Is it in range and on 2.4 GHz?`;
    case 'timeout':
      return `“${ssid}” did not answer in time (no address received). Try again, or move the device closer.`;
    case 'assoc-failed':
      return `“${ssid}” refused the connection. Check the router settings (MAC filter, client limit).`;
    default:
      return `Could not connect to “${ssid}” (${reason}). Try again.`;
  }
};

export const securityLabel = (auth: WiFiAuth): string => {
  if (auth === 'open' || auth === 'unknown') return auth;
  return auth === 'wpa2-enterprise' ? 'WPA2-Enterprise' : asciiUpper(auth);
};
