// Is a device that says it is online really there? The rule the dashboard and the fleet tool share.
//
// A retained "online" status outlives its device when the broker never published the will (a broker
// restored from its database, a forged or left-over message). The device's heartbeats settle it: each
// carries `expires`, the silence in seconds after which the device is in trouble (src/device/device.ts:
// two missed beats plus a keep-alive). So a device whose status says online is
//   live     when a heartbeat was heard less than its `expires` ago;
//   waiting  when none has been heard yet, or the last one is older, but its status turned online (or
//            the last heartbeat came) less than `expires` ago: it may still be between two beats;
//   stale    otherwise: its status claims online, but it has been silent for longer than `expires`.
// Before the first heartbeat the device's `expires` is unknown: the caller's fallback stands in for it
// (DEFAULT_EXPIRES_S, the firmware's value with its default settings, unless configured).
// Only live (not retained) heartbeats count: a retained one says nothing about now.

/** `expires` of the firmware with its default settings: 2 x 60 s heartbeat + 30 s keep-alive. */
export const DEFAULT_EXPIRES_S = 150;
/** A heartbeat's `expires` outside 1 s..1 day is not believed; the fallback is used instead. */
const MAX_EXPIRES_S = 86_400;

export type Liveness = 'live' | 'waiting' | 'stale';

export interface LivenessClock {
  /** Epoch ms at which the status turned online (or its boot changed), as this listener saw it. */
  onlineSince: number;
  /** Epoch ms of the last live heartbeat. */
  heartbeatAt?: number;
  /** `expires` of the last heartbeat, seconds. */
  expires?: number;
}

/** The `expires` of a heartbeat body in seconds, when it is a plausible one. */
export function heartbeatExpires(body: Record<string, unknown>): number | undefined {
  const e = body.expires;
  return typeof e === 'number' && Number.isFinite(e) && e >= 1 && e <= MAX_EXPIRES_S ? e : undefined;
}

/** Classifies a device whose status says online; `fallbackMs` stands in for an unknown `expires`. */
export function livenessOf(c: LivenessClock, now: number, fallbackMs: number): Liveness {
  const expiresMs = c.expires !== undefined ? c.expires * 1000 : fallbackMs;
  if (c.heartbeatAt !== undefined && now - c.heartbeatAt <= expiresMs) return 'live';
  const since = Math.max(c.onlineSince, c.heartbeatAt ?? c.onlineSince);
  return now - since > expiresMs ? 'stale' : 'waiting';
}
