import type { WiFiNetwork } from '../ports';
import type { WiFiCredentials } from './validate';

export interface Candidate extends WiFiCredentials {
  /** Access point to join, from the scan (the strongest one of that SSID). */
  bssid?: string;
  rssi?: number;
}

/** One entry per SSID (its strongest access point), hidden networks dropped, strongest first. */
export const strongestPerSsid = (networks: WiFiNetwork[]): WiFiNetwork[] => {
  const best = new Map<string, WiFiNetwork>();
  for (const n of networks) {
    if (!n.ssid) continue;
    const seen = best.get(n.ssid);
    if (!seen || n.rssi > seen.rssi) best.set(n.ssid, n);
  }
  const out = [...best.values()];
  out.sort((a, b) => b.rssi - a.rssi);
  return out;
};

/**
 * Which stored networks to try, in order. Stored networks seen in the scan come strongest first
 * (ties keep the stored order, most recent first). When the scan saw none of them, or failed,
 * every stored network is tried in stored order: it may be hidden, or the scan missed it.
 */
export const pickCandidates = (stored: WiFiCredentials[], scan: WiFiNetwork[] | undefined): Candidate[] => {
  if (scan) {
    const seen = strongestPerSsid(scan);
    const visible: Candidate[] = [];
    for (const creds of stored) {
      const n = seen.find((s) => s.ssid === creds.ssid);
      if (n) visible.push({ ssid: creds.ssid, password: creds.password, bssid: n.bssid, rssi: n.rssi });
    }
    visible.sort((a, b) => (b.rssi as number) - (a.rssi as number)); // stable: ties keep the stored order
    if (visible.length) return visible;
  }
  return stored.map((s) => ({ ssid: s.ssid, password: s.password }));
};
