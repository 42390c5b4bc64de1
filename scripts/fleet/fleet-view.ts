// The fleet as the broker shows it: retained status (online/offline, version, boot counter), live
// heartbeats (last seen) and retained OTA reports (version, groups, last job), per device id.
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
}

export interface DeviceView {
  id: string;
  version?: string;
  online?: boolean;
  /** Presence state (ready, lost, disconnected). */
  state?: string;
  boot?: number;
  /** Epoch ms of the last live (not retained) message from the device. */
  lastSeen?: number;
  groups?: string[];
  ota?: OtaReportView;
}

export type FleetMessage = { id: string; kind: 'status' | 'heartbeat' | 'ota'; body: Record<string, unknown> };

export class FleetView {
  readonly devices = new Map<string, DeviceView>();

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
    if (!payload.length) return undefined; // a cleared retained message
    let body: Record<string, unknown>;
    try {
      const v = JSON.parse(Buffer.from(payload).toString('utf8'));
      if (typeof v !== 'object' || v === null) return undefined;
      body = v as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const d = this.devices.get(id) ?? { id };
    this.devices.set(id, d);
    if (!retained) d.lastSeen = now;
    if (typeof body.version === 'string') d.version = body.version;
    if (typeof body.boot === 'number') d.boot = body.boot;
    if (kind === 'status') {
      d.online = body.status === 'online';
      if (typeof body.state === 'string') d.state = body.state;
    } else if (kind === 'heartbeat') {
      d.online = true;
    } else {
      d.ota = body as OtaReportView;
      if (Array.isArray(body.groups)) d.groups = body.groups.filter((g): g is string => typeof g === 'string');
    }
    return { id, kind, body };
  }

  list(): DeviceView[] {
    return [...this.devices.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
