// What the operator sees: one progress bar per stage while the rollout runs, and the final report.
import type { Campaign, DeviceRun } from './campaign';

const WIDTH = 30;

export interface StageCounts {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
  sent: number;
  cancelled: number;
  waiting: number;
  /** Completed fraction, in-flight devices counted by their percent. */
  progress: number;
}

export function stageCounts(c: Campaign, stage: number): StageCounts {
  const counts: StageCounts = { total: 0, succeeded: 0, failed: 0, running: 0, sent: 0, cancelled: 0, waiting: 0, progress: 0 };
  let done = 0;
  for (const id of c.stages[stage].devices) {
    const d = c.devices[id];
    counts.total++;
    counts[d.state]++;
    if (d.state === 'succeeded' || d.state === 'failed' || d.state === 'cancelled') done += 1;
    // a device in flight: the download is most of the way, then the reboot and the health check
    else if (d.state === 'running') done += d.ota === 'pending' ? 0.95 : d.ota === 'rebooting' ? 0.9 : (0.85 * (d.percent ?? 0)) / 100;
  }
  counts.progress = counts.total ? done / counts.total : 1;
  return counts;
}

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function stageLines(c: Campaign, now = Date.now()): string[] {
  const n = c.stages.length;
  return c.stages.map((s, i) => {
    const k = stageCounts(c, i);
    const label = `stage ${i + 1}/${n} ${String(s.percent).padStart(3)}%`;
    if (s.startedAt === undefined) return `${label}  [${' '.repeat(WIDTH)}]  ${k.total} devices, not started`;
    const filled = Math.round(k.progress * WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(WIDTH - filled);
    const done = k.succeeded + k.failed + k.cancelled;
    const parts = [`ok ${k.succeeded}`, `failed ${k.failed}`];
    if (k.running + k.sent) parts.push(`in flight ${k.running + k.sent}`);
    if (k.cancelled) parts.push(`cancelled ${k.cancelled}`);
    return `${label}  [${bar}]  ${String(done).padStart(String(k.total).length)}/${k.total}  ${parts.join('  ')}  ${clock((s.endedAt ?? now) - s.startedAt)}`;
  });
}

export function headerLine(c: Campaign): string {
  return `campaign ${c.id}: ${c.version} (${c.size} bytes, sha256 ${c.sha256.slice(0, 12)}...) to ${c.target}, ${Object.keys(c.devices).length} devices in ${c.stages.length} stages; abort above ${Math.round(c.failureThreshold * 1000) / 10}% failures (min sample ${c.minSample})`;
}

/**
 * Redraws the bars in place on a terminal. Elsewhere (logs, CI) prints them when a count changes, at
 * most once a second, and otherwise every `quiet` ms so a long stage still shows it is alive.
 */
export class ProgressPrinter {
  private drawn = 0;
  private lastText = '';
  private lastAt = 0;

  constructor(
    private readonly out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean },
    private readonly interval = 1000,
    private readonly quiet = 15000,
  ) {}

  /** A line that stays (events); printed above the bars. */
  event(line: string): void {
    this.clear();
    this.out.write(line + '\n');
  }

  bars(lines: string[], force = false): void {
    const text = lines.join('\n');
    if (this.out.isTTY) {
      this.clear();
      this.out.write(text + '\n');
      this.drawn = lines.length;
      return;
    }
    const now = Date.now();
    const counts = text.replace(/ {2}\d\d:\d\d$/gm, ''); // the same counts with another elapsed time are no news
    const due = counts !== this.lastText ? now - this.lastAt >= this.interval : now - this.lastAt >= this.quiet;
    if (!force && !due) return;
    if (force && counts === this.lastText) return;
    this.lastText = counts;
    this.lastAt = now;
    this.out.write(text + '\n');
  }

  private clear(): void {
    if (this.out.isTTY && this.drawn) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }
}

/** Devices a line names one by one; a longer list is cut with a count (report.json keeps every one). */
export const LIST_LIMIT = 10;

/** `items` joined, at most `limit` of them, then "... and N more". */
export function listSome(items: string[], limit = LIST_LIMIT, sep = ' '): string {
  if (items.length <= limit) return items.join(sep);
  return `${items.slice(0, limit).join(sep)}${sep}... and ${items.length - limit} more`;
}

/** What the tool itself cost and what its image server did, in the run that finished the campaign. */
export interface RunCost {
  tool: { peakRssMb: number; cpuSeconds: number };
  imageServer: { requests: number; ranges: number; busy: number; peakConcurrent: number; peakQueued: number; megabytes: number; activeSeconds: number; megabytesPerSecond: number };
}

export interface Report {
  campaign: string;
  version: string;
  status: Campaign['status'];
  abortReason?: string;
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  target: string;
  devices: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  untouched: number;
  stages: { percent: number; devices: number; succeeded: number; failed: number; cancelled: number; untouched: number; seconds?: number }[];
  failures: { id: string; error?: string; reason?: string; stage: number }[];
  untouchedDevices: string[];
  skipped: { id: string; why: string }[];
  /** Set by the tool that finished the campaign. */
  cost?: RunCost;
}

export function buildReport(c: Campaign, cost?: RunCost): Report {
  const runs = Object.entries(c.devices);
  const count = (state: DeviceRun['state']) => runs.filter(([, d]) => d.state === state).length;
  return {
    campaign: c.id,
    version: c.version,
    status: c.status,
    abortReason: c.abortReason,
    startedAt: new Date(c.createdAt).toISOString(),
    finishedAt: c.finishedAt === undefined ? undefined : new Date(c.finishedAt).toISOString(),
    durationSeconds: c.finishedAt === undefined ? undefined : Math.round((c.finishedAt - c.createdAt) / 100) / 10,
    target: c.target,
    devices: runs.length,
    succeeded: count('succeeded'),
    failed: count('failed'),
    cancelled: count('cancelled'),
    untouched: count('waiting'),
    stages: c.stages.map((s, i) => {
      const k = stageCounts(c, i);
      const seconds = s.startedAt !== undefined && s.endedAt !== undefined ? Math.round((s.endedAt - s.startedAt) / 100) / 10 : undefined;
      return { percent: s.percent, devices: k.total, succeeded: k.succeeded, failed: k.failed, cancelled: k.cancelled, untouched: k.waiting, seconds };
    }),
    failures: runs.filter(([, d]) => d.state === 'failed').map(([id, d]) => ({ id, error: d.error, reason: d.reason, stage: d.stage + 1 })),
    untouchedDevices: runs.filter(([, d]) => d.state === 'waiting').map(([id]) => id).sort(),
    skipped: c.skipped,
    cost,
  };
}

export function formatReport(r: Report): string {
  const lines = [
    `campaign ${r.campaign}: ${r.status.toUpperCase()}${r.abortReason ? ` (${r.abortReason})` : ''}`,
    `version ${r.version} to ${r.target}: ${r.devices} devices, ${r.succeeded} updated, ${r.failed} failed, ${r.cancelled} cancelled, ${r.untouched} not touched${r.durationSeconds === undefined ? '' : `, ${r.durationSeconds} s`}`,
  ];
  r.stages.forEach((s, i) => {
    const time = s.seconds === undefined ? '' : `, ${s.seconds} s`;
    lines.push(`  stage ${i + 1} (${s.percent}%): ${s.devices} devices: ${s.succeeded} ok, ${s.failed} failed${s.cancelled ? `, ${s.cancelled} cancelled` : ''}${s.untouched ? `, ${s.untouched} not touched` : ''}${time}`);
  });
  if (r.failures.length) {
    lines.push('failures:');
    for (const f of r.failures.slice(0, LIST_LIMIT)) lines.push(`  ${f.id} (stage ${f.stage}): ${f.error ?? 'failed'}: ${f.reason ?? ''}`);
    if (r.failures.length > LIST_LIMIT) lines.push(`  ... and ${r.failures.length - LIST_LIMIT} more (report.json lists every one)`);
  }
  if (r.untouchedDevices.length) lines.push(`not touched: ${listSome(r.untouchedDevices)}`);
  if (r.skipped.length) lines.push(skippedLine(r.skipped));
  if (r.cost) {
    const { tool, imageServer: s } = r.cost;
    lines.push(`fleet tool: peak RSS ${tool.peakRssMb} MB, CPU ${tool.cpuSeconds} s`);
    lines.push(`image server: ${s.requests} requests (${s.ranges} resumed with Range, ${s.busy} told to come back), ${s.megabytes} MB in ${s.activeSeconds} s busy: ${s.megabytesPerSecond} MB/s; at most ${s.peakConcurrent} at once, ${s.peakQueued} waiting`);
  }
  return lines.join('\n') + '\n';
}

/** Devices left out of the campaign, and why (offline, stale, already on the version). */
export function skippedLine(skipped: { id: string; why: string }[]): string {
  return `skipped: ${listSome(skipped.map((s) => `${s.id} (${s.why})`), LIST_LIMIT, ', ')}`;
}
