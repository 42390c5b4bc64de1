// WiFi port on Moddable's `wifi` module (station, scan and access point; simulated on the desktop
// build) and `net` (addresses, RSSI). Moddable reports why a station link dropped only as "the
// password was rejected" (value -1) or not, so the other reasons come from what we were doing.
import type { AccessPointOptions, WiFi, WiFiAuth, WiFiDisconnectReason, WiFiEvent, WiFiNetwork } from '../../src/ports';
import WiFiModule, { type WiFiScanCallback } from 'wifi';
import Net from 'net';
import { ModdableHostError, describe } from './errors';
import { allChars, isHexCode } from '../../src/text/chars';

const MODE_STATION = 1;
const MODE_AP = 2;
/** Desktop builds report no address for the simulated access point; ESP-IDF and NONOS default to this. */
const DEFAULT_AP_IP = '192.168.4.1';

type WiFiScanItem = NonNullable<Parameters<WiFiScanCallback>[0]>;

export const createWiFi = (): WiFi => {
  let handler: (event: WiFiEvent) => void = () => {};
  let monitor: WiFiModule | undefined;
  let ssid = '';
  let linked = false;
  let leaving = false;
  let apRunning = false;

  const emit = (event: WiFiEvent) => handler(event);

  const onMessage = (message: string, value?: number) => {
    switch (message) {
      case 'connect':
        linked = true;
        emit({ type: 'connected', ssid });
        break;
      case 'gotIP':
        linked = true;
        emit({ type: 'got-ip', ip: Net.get('IP', 'station') ?? Net.get('IP') ?? '' });
        break;
      case 'lostIP':
      case 'disconnect': {
        const reason: WiFiDisconnectReason = leaving ? 'by-request' : value === -1 ? 'auth-failed' : linked ? 'connection-lost' : 'other';
        const wasLinked = linked;
        linked = false;
        // A lost IP is followed by a disconnect: report the link going down once.
        if (message === 'disconnect' || wasLinked) emit({ type: 'disconnected', reason });
        break;
      }
      case 'station_connect':
        emit({ type: 'station-joined' });
        break;
      case 'station_disconnect':
        emit({ type: 'station-left' });
        break;
    }
  };

  const ensureMonitor = () => {
    monitor ??= new WiFiModule(undefined, onMessage);
  };

  return {
    scan(callback) {
      const found: WiFiNetwork[] = [];
      let finished = false;
      const finish = (networks: WiFiNetwork[] | undefined, error?: Error) => {
        if (finished) return;
        finished = true;
        callback(networks, error);
      };
      try {
        if (WiFiModule.mode !== MODE_STATION && WiFiModule.mode !== (MODE_STATION | MODE_AP)) {
          WiFiModule.mode = apRunning ? ((MODE_STATION | MODE_AP) as 3) : MODE_STATION;
        }
        WiFiModule.scan({}, (item) => {
          if (!item) {
            found.sort((a, b) => b.rssi - a.rssi);
            finish(found);
            return;
          }
          found.push(toNetwork(item));
        });
      } catch (error) {
        finish(undefined, new ModdableHostError('WIFI_FAILED', `Wi-Fi scan failed: ${describe(error)}`));
      }
    },
    connect(options) {
      ensureMonitor();
      leaving = false;
      ssid = options.ssid;
      const request: { ssid: string; password?: string; bssid?: ArrayBuffer } = { ssid: options.ssid };
      if (options.password) request.password = options.password;
      if (options.bssid) request.bssid = parseBssid(options.bssid);
      try {
        WiFiModule.connect(request);
      } catch (error) {
        throw new ModdableHostError('WIFI_FAILED', `cannot join "${options.ssid}": ${describe(error)}`);
      }
    },
    disconnect() {
      leaving = true;
      WiFiModule.disconnect();
    },
    onEvent(next) {
      handler = next;
      ensureMonitor();
    },
    rssi() {
      if (!linked) return undefined;
      const value = Net.get('RSSI');
      return typeof value === 'number' && value !== 0 ? value : undefined;
    },
    startAccessPoint(options: AccessPointOptions) {
      ensureMonitor();
      if (options.password !== undefined && (options.password.length < 8 || options.password.length > 63)) {
        throw new ModdableHostError('WIFI_FAILED', 'access point password must be 8 to 63 characters (WPA2), or left out for an open network');
      }
      try {
        WiFiModule.mode = (MODE_STATION | MODE_AP) as 3;
        WiFiModule.accessPoint({
          ssid: options.ssid,
          ...(options.password ? { password: options.password } : {}),
          ...(options.channel ? { channel: options.channel } : {}),
          station: true,
        } as { ssid: string });
      } catch (error) {
        throw new ModdableHostError('WIFI_FAILED', `cannot start access point "${options.ssid}": ${describe(error)}`);
      }
      apRunning = true;
      let ip: string | undefined;
      try {
        ip = Net.get('IP', 'ap');
      } catch {
        ip = undefined;
      }
      return { ip: typeof ip === 'string' && ip !== '' && ip !== '0.0.0.0' ? ip : DEFAULT_AP_IP };
    },
    stopAccessPoint() {
      if (!apRunning) return;
      apRunning = false;
      WiFiModule.mode = MODE_STATION;
    },
  };
};

const toNetwork = (item: WiFiScanItem): WiFiNetwork => {
  const network: WiFiNetwork = {
    ssid: item.ssid,
    rssi: item.rssi,
    channel: (item as { channel?: number }).channel ?? 0,
    auth: toAuth(item.authentication),
  };
  if (item.bssid instanceof ArrayBuffer) network.bssid = formatBssid(item.bssid);
  return network;
};

const toAuth = (authentication: string | undefined): WiFiAuth => {
  switch (authentication) {
    case 'none':
      return 'open';
    case 'wep':
      return 'wep';
    case 'wpa_psk':
      return 'wpa';
    case 'wpa2_psk':
    case 'wpa_wpa2_psk':
      return 'wpa2';
    case 'wpa3_psk':
    case 'wpa2_wpa3_psk':
      return 'wpa3';
    case 'wpa2_enterprise':
      return 'wpa2-enterprise';
    default:
      return 'unknown';
  }
};

const formatBssid = (bssid: ArrayBuffer): string => {
  const parts: string[] = [];
  for (const byte of new Uint8Array(bssid)) parts.push((byte < 16 ? '0' : '') + byte.toString(16));
  return parts.join(':');
};

const parseBssid = (text: string): ArrayBuffer => {
  const hex = text.split(':').join('').split('-').join('');
  if (!allChars(hex, isHexCode, 12, 12)) throw new ModdableHostError('WIFI_FAILED', `BSSID "${text}" must be six hex bytes like aa:bb:cc:dd:ee:ff`);
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out.buffer;
};
