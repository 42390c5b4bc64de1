// What the terminal view and the dashboard show: one row per device, from what a back end hears on
// the broker (status, heartbeat, telemetry, OTA reports) plus, for simulated devices, what only the
// simulator knows (power, Wi-Fi, injected faults, live outbox depth).
import { DEFAULT_EXPIRES_S, heartbeatExpires, livenessOf } from './liveness';

/** Values kept per reading for the sparkline. */
export const HISTORY = 40;

export interface OtaView {
  state: string;
  percent?: number;
  /** Version running now. */
  version?: string;
  /** Version the job installs. */
  target?: string;
  error?: string;
  reason?: string;
  at: number;
}

export interface SimView {
  /** 1-based number in the fleet. */
  label: number;
  power: string;
  wifi: string;
  presence: string;
  stalled: boolean;
  wifiDown: boolean;
  broken: string[];
  otaCutArmed: boolean;
  /** Live outbox depth (the heartbeat's can be a minute old). */
  outbox?: number;
  /** Percent of an OTA image written to flash right now. */
  flashing?: number;
  version?: string;
  boot?: number;
  /** The chip the simulator runs it as (board type). */
  board?: string;
}

export interface DeviceRow {
  id: string;
  /** From the retained status: "online" / "offline", undefined before anything was heard. */
  status?: string;
  /** Homie-style state from the status: ready, lost (will), disconnected (clean stop). */
  state?: string;
  version?: string;
  boot?: number;
  /** Board type (esp32, esp8266, ...), from the OTA reports. */
  board?: string;
  rssi?: number;
  outbox?: number;
  mem?: number;
  reset?: string;
  /**
   * The status says online but no heartbeat came within `expires` (see liveness.ts): a retained
   * "online" its device left behind, or a forged one. Shown as stale, not online.
   */
  stale?: boolean;
  /** Epoch ms at which the status turned online (or its boot changed), as heard here. */
  onlineSince?: number;
  /** Epoch ms of the last heartbeat. */
  heartbeatAt?: number;
  /** `expires` of the last heartbeat, seconds. */
  expires?: number;
  /** Epoch ms of the last message of any kind. */
  lastSeen?: number;
  /** Epoch ms of the last telemetry message. */
  lastTelemetry?: number;
  /** "sensor.reading" -> latest value. */
  values: Record<string, number>;
  /** "sensor.reading" -> recent values, oldest first. */
  history: Record<string, number[]>;
  /** sensor -> error code, while failing. */
  sensorErrors: Record<string, string>;
  ota?: OtaView;
  sim?: SimView;
}

export interface CampaignView {
  /** Devices with an OTA report. */
  devices: number;
  /** Devices per OTA state. */
  states: Record<string, number>;
  /** Most common target version among reports that name one. */
  target?: string;
  /** Mean progress over the reporting devices: finished ones count 100 %, failed ones 0. */
  percent: number;
  active: boolean;
}

export interface FleetSnapshot {
  prefix: string;
  broker: string;
  at: number;
  /** Devices online and not stale. */
  online: number;
  stale: number;
  total: number;
  campaign: CampaignView;
  rows: DeviceRow[];
}

const FINAL_OK = new Set(['success']);
const FINAL_BAD = new Set(['failed', 'rejected', 'rolled-back', 'unsupported']);

function parse(payload: Uint8Array | string): Record<string, unknown> | undefined {
  const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export interface FleetModelOptions {
  /**
   * Seconds a device whose status says online may stay silent before its first heartbeat is heard
   * (after that, its heartbeat's own `expires` counts). Default DEFAULT_EXPIRES_S.
   */
  expires?: number;
}

export class FleetModel {
  private readonly rows = new Map<string, DeviceRow>();
  private readonly dirty = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly fallbackMs: number;

  constructor(
    readonly prefix: string,
    readonly broker: string,
    private readonly now: () => number = Date.now,
    options: FleetModelOptions = {},
  ) {
    this.fallbackMs = (options.expires ?? DEFAULT_EXPIRES_S) * 1000;
  }

  /** Called (at most once per change burst is up to the listener) whenever a row changes. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  row(id: string): DeviceRow {
    let row = this.rows.get(id);
    if (!row) {
      row = { id, values: {}, history: {}, sensorErrors: {} };
      this.rows.set(id, row);
    }
    return row;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Feeds one message heard on `<prefix>/#`. Unknown topics are ignored. */
  message(topic: string, payload: Uint8Array | string): void {
    if (!topic.startsWith(this.prefix + '/')) return;
    const parts = topic.slice(this.prefix.length + 1).split('/');
    const [id, kind, sensor] = parts;
    if (!id || !kind) return;
    const body = parse(payload);
    const now = this.now();
    if (kind === 'status' && parts.length === 2) {
      const row = this.row(id);
      if (!body) {
        // an empty retained payload clears the device
        this.rows.delete(id);
        this.touch(id);
        return;
      }
      const wasOnline = row.status === 'online';
      const before = row.boot;
      row.status = str(body.status) ?? row.status;
      row.state = str(body.state) ?? row.state;
      row.version = str(body.version) ?? row.version;
      row.boot = num(body.boot) ?? row.boot;
      row.lastSeen = now;
      // the same "online" heard again (a resubscription gets the retained one) does not restart the clock
      if (row.status !== 'online') row.onlineSince = undefined;
      else if (!wasOnline || row.boot !== before || row.onlineSince === undefined) row.onlineSince = now;
      this.judge(row, now);
    } else if (kind === 'heartbeat' && parts.length === 2 && body) {
      const row = this.row(id);
      row.rssi = num(body.rssi) ?? row.rssi;
      row.outbox = num(body.outbox) ?? row.outbox;
      row.mem = num(body.mem) ?? row.mem;
      row.version = str(body.version) ?? row.version;
      row.boot = num(body.boot) ?? row.boot;
      row.reset = str(body.reset) ?? row.reset;
      row.expires = heartbeatExpires(body) ?? row.expires;
      row.lastSeen = row.heartbeatAt = now;
      this.judge(row, now);
    } else if (kind === 'telemetry' && parts.length === 3 && sensor && body) {
      const row = this.row(id);
      row.lastSeen = row.lastTelemetry = now;
      const error = str(body.error);
      if (error) row.sensorErrors[sensor] = error;
      else delete row.sensorErrors[sensor];
      for (const [key, value] of Object.entries(body)) {
        if (key === 'ts' || key === 'up' || typeof value !== 'number' || !Number.isFinite(value)) continue;
        const name = `${sensor}.${key}`;
        row.values[name] = value;
        const h = (row.history[name] ??= []);
        h.push(value);
        if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
      }
    } else if (kind === 'ota' && parts.length === 2) {
      const row = this.row(id);
      if (!body || typeof body.state !== 'string') row.ota = undefined;
      else {
        row.ota = { state: body.state, percent: num(body.percent), version: str(body.version), target: str(body.target), error: str(body.error), reason: str(body.reason), at: now };
      }
      if (body) row.board = str(body.board) ?? row.board;
    } else return;
    this.touch(id);
  }

  /** Sets what the simulator knows of a device it runs. */
  simulated(id: string, sim: SimView): void {
    const row = this.row(id);
    const before = row.sim;
    row.sim = sim;
    if (!before || JSON.stringify(before) !== JSON.stringify(sim)) this.touch(id);
  }

  /** Ids changed since the last call (and forgets them). */
  takeDirty(): string[] {
    const ids = [...this.dirty];
    this.dirty.clear();
    return ids;
  }

  get(id: string): DeviceRow | undefined {
    return this.rows.get(id);
  }

  /** Marks the rows that turned stale (or stopped being so) since the last look; they count as changed. */
  refreshStale(): void {
    const now = this.now();
    for (const row of this.rows.values()) if (this.judge(row, now)) this.touch(row.id);
  }

  /** Rows sorted by fleet number (simulated devices first), then id; stale marks are brought up to date. */
  list(): DeviceRow[] {
    this.refreshStale();
    return [...this.rows.values()].sort((a, b) => (a.sim?.label ?? Infinity) - (b.sim?.label ?? Infinity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  campaign(): CampaignView {
    const states: Record<string, number> = {};
    const targets = new Map<string, number>();
    let devices = 0;
    let sum = 0;
    let active = false;
    for (const row of this.rows.values()) {
      const ota = row.ota;
      if (!ota || ota.state === 'idle') continue;
      devices++;
      states[ota.state] = (states[ota.state] ?? 0) + 1;
      if (ota.target) targets.set(ota.target, (targets.get(ota.target) ?? 0) + 1);
      if (FINAL_OK.has(ota.state)) sum += 100;
      else if (FINAL_BAD.has(ota.state)) sum += 0;
      else {
        active = true;
        // rebooting and pending come after the download: count them as written
        sum += ota.state === 'downloading' ? (ota.percent ?? 0) : 100;
      }
    }
    let target: string | undefined;
    let best = 0;
    for (const [t, n] of targets) if (n > best) [target, best] = [t, n];
    return { devices, states, target, percent: devices ? Math.round(sum / devices) : 0, active };
  }

  snapshot(limit = Infinity): FleetSnapshot {
    const all = this.list();
    return {
      prefix: this.prefix,
      broker: this.broker,
      at: this.now(),
      online: all.filter((r) => r.status === 'online' && !r.stale).length,
      stale: all.filter((r) => r.stale).length,
      total: all.length,
      campaign: this.campaign(),
      rows: all.slice(0, limit),
    };
  }

  /** Sets the row's stale mark; true when it changed. */
  private judge(row: DeviceRow, now: number): boolean {
    const stale = row.status === 'online' && row.onlineSince !== undefined && livenessOf({ onlineSince: row.onlineSince, heartbeatAt: row.heartbeatAt, expires: row.expires }, now, this.fallbackMs) === 'stale';
    if (stale === !!row.stale) return false;
    if (stale) row.stale = true;
    else delete row.stale;
    return true;
  }

  private touch(id: string): void {
    this.dirty.add(id);
    for (const l of this.listeners) l();
  }
}
