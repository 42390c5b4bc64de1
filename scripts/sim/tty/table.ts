// The terminal view's device table as plain lines (the screen adds colour and cursor control):
// state, version, boot counter, RSSI, last telemetry, outbox depth and injected faults per device.
import type { CampaignView, DeviceRow } from '../dashboard/model';

export interface TableOptions {
  width: number;
  /** Rows to show at most; the rest is summarised in one line. */
  maxRows: number;
  /** Index into `rows` of the selected device (drawn with a marker), or -1 when the target is all. */
  selected: number;
  now?: number;
}

export interface TableLine {
  text: string;
  /** How the screen should colour it. */
  tone?: 'head' | 'ok' | 'bad' | 'warn' | 'dim' | 'selected';
}

const COLUMNS = [
  ['#', 4],
  ['device', 13],
  ['state', 14],
  ['version', 9],
  ['boot', 5],
  ['rssi', 5],
  ['outbox', 6],
  ['last telemetry', 32],
  ['faults', 24],
] as const;

const pad = (text: string, width: number) => (text.length > width ? text.slice(0, Math.max(0, width - 1)) + '…' : text.padEnd(width));

export function stateOf(row: DeviceRow): { text: string; tone: TableLine['tone'] } {
  const sim = row.sim;
  if (sim?.power === 'off') return { text: 'power off', tone: 'dim' };
  if (sim && sim.presence !== 'ready' && sim.wifi !== 'connected' && sim.wifi !== 'off') return { text: `wifi ${sim.wifi}`, tone: 'warn' };
  if (sim?.presence === 'init') return { text: 'connecting', tone: 'warn' };
  if (sim?.presence === 'lost') return { text: 'reconnecting', tone: 'warn' };
  if (row.status === 'online' && row.stale) return { text: 'stale', tone: 'warn' };
  if (row.status === 'online') return { text: 'online', tone: 'ok' };
  if (row.status === 'offline') return { text: row.state === 'lost' ? 'offline (will)' : 'offline', tone: 'bad' };
  return { text: sim?.presence ?? 'unknown', tone: 'dim' };
}

function short(key: string, value: number): string {
  const name = key.split('.').pop()!;
  if (name === 'temperature') return `${value.toFixed(1)}°C`;
  if (name === 'humidity') return `${value.toFixed(0)}%`;
  if (name === 'pressure') return `${(value / 100).toFixed(0)}hPa`;
  if (name === 'illuminance') return `${Math.round(value)}lx`;
  if (name === 'value') return `${value.toFixed(0)}%`;
  return String(Math.round(value * 10) / 10);
}

const READING_ORDER = ['temperature', 'humidity', 'pressure', 'illuminance', 'value'];

/** Sensor first, then temperature before humidity before pressure, and so on. */
export function byReading(a: string, b: string): number {
  const [sa, ra] = a.split('.');
  const [sb, rb] = b.split('.');
  if (sa !== sb) return sa < sb ? -1 : 1;
  const ia = READING_ORDER.indexOf(ra);
  const ib = READING_ORDER.indexOf(rb);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (ra < rb ? -1 : ra > rb ? 1 : 0);
}

export function ago(at: number | undefined, now: number): string {
  if (!at) return '–';
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 100 ? `${s}s` : s < 6000 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function telemetryOf(row: DeviceRow, now: number): string {
  const errors = Object.entries(row.sensorErrors).map(([s, code]) => `${s}:${code}`);
  const values = Object.keys(row.values)
    .sort(byReading)
    .map((k) => short(k, row.values[k]));
  if (!row.lastTelemetry) return '–';
  return `${ago(row.lastTelemetry, now)} ${[...errors, ...values].join(' ')}`;
}

function faultsOf(row: DeviceRow): string {
  const sim = row.sim;
  const out: string[] = [];
  if (sim?.wifiDown) out.push('wifi-down');
  if (sim?.stalled) out.push('stalled');
  if (sim?.broken.length) out.push(`sensor:${sim.broken.join('+')}`);
  if (sim?.otaCutArmed) out.push('ota-cut armed');
  if (sim?.flashing !== undefined) out.push(`flashing ${sim.flashing}%`);
  else if (row.ota && row.ota.state !== 'idle' && row.ota.state !== 'success') out.push(`ota ${row.ota.state}${row.ota.percent !== undefined && row.ota.state === 'downloading' ? ` ${row.ota.percent}%` : ''}`);
  return out.join(' ');
}

export function renderTable(rows: DeviceRow[], options: TableOptions): TableLine[] {
  const now = options.now ?? Date.now();
  const width = Math.max(20, options.width);
  const fit = (text: string) => (text.length > width ? text.slice(0, width) : text);
  const lines: TableLine[] = [{ text: fit(COLUMNS.map(([name, w]) => pad(name, w)).join(' ').trimEnd()), tone: 'head' }];
  const shown = rows.slice(0, Math.max(0, options.maxRows));
  shown.forEach((row, i) => {
    const state = stateOf(row);
    const cells = [
      `${i === options.selected ? '>' : ' '}${row.sim?.label ?? ''}`,
      row.id,
      state.text,
      // what the simulator knows is current; what the broker said may be from before a restart
      row.sim?.version ?? row.version ?? '–',
      String(row.sim?.boot ?? row.boot ?? '–'),
      row.rssi === undefined ? '–' : String(row.rssi),
      String(row.sim?.outbox ?? row.outbox ?? '–'),
      telemetryOf(row, now),
      faultsOf(row),
    ];
    const text = fit(cells.map((c, j) => pad(c, COLUMNS[j][1])).join(' ').trimEnd());
    lines.push({ text, tone: i === options.selected ? 'selected' : state.tone });
  });
  if (rows.length > shown.length) lines.push({ text: fit(`  … and ${rows.length - shown.length} more devices`), tone: 'dim' });
  return lines;
}

export function campaignLine(c: CampaignView): string {
  if (!c.devices) return 'OTA: no campaign';
  const states = Object.entries(c.states)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return `OTA${c.target ? ` to ${c.target}` : ''}: ${c.percent}% over ${c.devices} device${c.devices === 1 ? '' : 's'} (${states})${c.active ? '' : ', finished'}`;
}
