// The fleet as the broker shows it: retained status (online/offline, version, boot counter), live
// heartbeats (last seen, and whether a status that says online is believed: see liveness.ts) and
// retained OTA reports (version, groups, last job), per device id. What devices publish is not
// trusted: ids that are not printable topic levels are ignored, and text is cleaned before display.
import { heartbeatExpires, livenessOf } from '../sim/dashboard/liveness';
import { isBoard } from '../../src/ota/job';
import { isDeviceId, printable } from './validate';

export interface OtaReportView {
  state?: string;
  version?: string;
  job?: string;
  target?: string;
  percent?: number;
  error?: string;
  reason?: string;
  groups?: string[];
  boot?: number;
  /** Board type (esp32, esp8266, ...): the rollout picks the device's image by it. */
  board?: string;
}

/** online: status online and heard; waiting: status online, no heartbeat yet; stale: status online, silent too long. */
export type Presence = 'online' | 'waiting' | 'stale' | 'offline' | 'unknown';

export interface DeviceView {
  id: string;
  version?: string;
  /** What the status says (a heartbeat also says online); see `presence` for whether it is believed. */
  online?: boolean;
  /** Presence state (ready, lost, disconnected). */
  state?: string;
  boot?: number;
  /** Epoch ms of the last live (not retained) message from the device. */
  lastSeen?: number;
  /** Epoch ms at which the status turned online (or its boot changed), as this tool saw it. */
  onlineSince?: number;
  /** Epoch ms of the last live heartbeat. */
  heartbeatAt?: number;
  /** `expires` of the last live heartbeat, seconds. */
  expires?: number;
  groups?: string[];
  /** Board type, from its OTA reports. */
  board?: string;
  ota?: OtaReportView;
}

export type FleetMessage = { id: string; kind: 'status' | 'heartbeat' | 'ota'; body: Record<string, unknown> };

export class FleetView {
  readonly devices = new Map<string, DeviceView>();
  /** Messages dropped because their device id is not one (control characters, too long). */
  ignored = 0;

  constructor(readonly prefix: string) {}

  get filters(): string[] {
    return ['status', 'heartbeat', 'ota'].map((k) => `${this.prefix}/+/${k}`);
  }

  /** Parses one message of the filters above; returns what it was, or undefined when it is not ours. */
  handle(topic: string, payload: Uint8Array, retained: boolean, now = Date.now()): FleetMessage | undefined {
    const head = `${this.prefix}/`;
    if (!topic.startsWith(head)) return undefined;
    const parts = topic.slice(head.length).split('/');
    if (parts.length !== 2 || !parts[0]) return undefined;
    const [id, kind] = parts as [string, FleetMessage['kind']];
    if (kind !== 'status' && kind !== 'heartbeat' && kind !== 'ota') return undefined;
    if (!isDeviceId(id)) {
      this.ignored++;
      return undefined;
    }
    if (!payload.length) return undefined; // a cleared retained message
    let body: Record<string, unknown>;
    try {
      const v = JSON.parse(Buffer.from(payload).toString('utf8'));
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
      body = v as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const d = this.devices.get(id) ?? { id };
    this.devices.set(id, d);
    if (!retained) d.lastSeen = now;
    if (typeof body.version === 'string') d.version = body.version;
    const bootBefore = d.boot;
    if (typeof body.boot === 'number') d.boot = body.boot;
    if (kind === 'status') {
      const was = d.online;
      d.online = body.status === 'online';
      if (typeof body.state === 'string') d.state = body.state;
      if (!d.online) d.onlineSince = undefined;
      else if (!was || d.onlineSince === undefined || d.boot !== bootBefore) d.onlineSince = now;
    } else if (kind === 'heartbeat') {
      // a retained heartbeat is an old one: it proves nothing about now
      if (!retained) {
        if (d.onlineSince === undefined) d.onlineSince = now;
        d.online = true;
        d.heartbeatAt = now;
        d.expires = heartbeatExpires(body) ?? d.expires;
      }
    } else {
      d.ota = body as OtaReportView;
      if (Array.isArray(body.groups)) d.groups = body.groups.filter((g): g is string => typeof g === 'string');
      if (typeof body.board === 'string' && isBoard(body.board)) d.board = body.board;
    }
    return { id, kind, body };
  }

  /**
   * Whether the device is there. `fallbackMs` stands in for the `expires` of a device not heard yet:
   * its status turned online at most that long ago, so it may still be between two heartbeats.
   */
  presence(d: DeviceView, fallbackMs: number, now = Date.now()): Presence {
    if (d.online === undefined) return 'unknown';
    if (!d.online) return 'offline';
    const l = livenessOf({ onlineSince: d.onlineSince ?? now, heartbeatAt: d.heartbeatAt, expires: d.expires }, now, fallbackMs);
    return l === 'live' ? 'online' : l;
  }

  list(): DeviceView[] {
    return [...this.devices.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

/** Ms between looks at the devices still waiting for a heartbeat. */
const WAIT_POLL = 100;

/**
 * Listens `wait` ms, then on while a device whose status says online has not sent a heartbeat yet and
 * its status turned online less than `heartbeatWait` ago; a device still silent then is stale. The
 * wait is bounded: at most `wait` + `heartbeatWait`. `note` hears why the tool waits.
 */
export async function listenForHeartbeats(view: FleetView, o: { wait: number; heartbeatWait: number; note?: (line: string) => void; concerns?: (d: DeviceView) => boolean }): Promise<void> {
  const start = Date.now();
  await sleep(o.wait);
  const deadline = start + o.wait + o.heartbeatWait;
  const waiting = () => view.list().filter((d) => (o.concerns?.(d) ?? true) && view.presence(d, o.heartbeatWait) === 'waiting');
  const first = waiting();
  if (!first.length || Date.now() >= deadline) return;
  o.note?.(`waiting up to ${Math.ceil((deadline - Date.now()) / 1000)} s for a heartbeat from ${first.length} device(s) whose retained status says online: ${first.slice(0, 8).map((d) => printable(d.id)).join(' ')}${first.length > 8 ? ' ...' : ''} (--heartbeat-wait sets the bound)`);
  while (Date.now() < deadline && waiting().length) await sleep(WAIT_POLL);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
