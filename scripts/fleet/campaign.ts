// A rollout campaign's state, persisted in the state directory after every change so that a
// restarted tool resumes it, and `fleet status` / `fleet abort` work from another shell.
//
//   <state>/campaign.json   the campaign (replaced atomically)
//   <state>/image.bin       the image being rolled out (a copy: the source may change)
//   <state>/lock            pid of the tool running the campaign
//   <state>/abort           an abort request (reason) for the running tool
//   <state>/report.json, report.txt   the final report
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from './errors';
import type { SignedJob } from './sign';

export type DeviceRunState = 'waiting' | 'sent' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface DeviceRun {
  stage: number;
  state: DeviceRunState;
  /** Epoch ms when the job was published to it. */
  sentAt?: number;
  finishedAt?: number;
  percent?: number;
  /** Last OTA state the device reported for this job. */
  ota?: string;
  /** Version the device reported last. */
  version?: string;
  error?: string;
  reason?: string;
  /** Epoch ms at which to publish the job again (the device said it was busy). */
  resendAt?: number;
}

export interface StageRun {
  percent: number;
  devices: string[];
  startedAt?: number;
  endedAt?: number;
}

export interface Campaign {
  format: 1;
  id: string;
  createdAt: number;
  broker: string;
  prefix: string;
  version: string;
  size: number;
  sha256: string;
  /** Path part of the image URL served by the tool. */
  urlPath: string;
  /** The image server; `concurrency`: downloads served at once (absent in campaigns of older tools: the default). */
  http: { host: string; port: number; url: string; concurrency?: number };
  job: SignedJob;
  target: string;
  stagePercents: number[];
  failureThreshold: number;
  minSample: number;
  deviceTimeout: number;
  /** Ms a device whose status says online may stay silent before its first heartbeat (absent: the default). */
  heartbeatWait?: number;
  /** Offline and stale devices are taken too (their retained job waits for them). */
  includeOffline?: boolean;
  stages: StageRun[];
  /** Index of the stage in progress (stages.length when all are done). */
  current: number;
  devices: Record<string, DeviceRun>;
  /** Devices matched by the target but left out (when planned, or stale when their stage started), and why. */
  skipped: { id: string; why: string }[];
  status: 'running' | 'succeeded' | 'aborted';
  abortReason?: string;
  /** Set when nothing is in flight any more and the report is written. */
  finishedAt?: number;
  /** Each start (or resume) of the tool. */
  runs: { pid: number; at: number }[];
}

export class CampaignStore {
  /** Nothing is created until the campaign is locked (reading a status creates no directory). */
  constructor(readonly dir: string) {}

  get file(): string {
    return join(this.dir, 'campaign.json');
  }

  get imageFile(): string {
    return join(this.dir, 'image.bin');
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  load(): Campaign {
    let c: Campaign;
    try {
      c = JSON.parse(readFileSync(this.file, 'utf8')) as Campaign;
    } catch (error) {
      throw new FleetError('state', `cannot read the campaign in ${this.file}: ${(error as Error).message}`);
    }
    if (c.format !== 1 || typeof c.id !== 'string' || !c.devices || !Array.isArray(c.stages)) {
      throw new FleetError('state', `${this.file} is not a campaign of this tool (format 1)`);
    }
    return c;
  }

  save(c: Campaign): void {
    writeAtomic(this.file, JSON.stringify(c, null, 1) + '\n');
  }

  writeImage(bytes: Uint8Array): void {
    const temp = `${this.imageFile}.tmp`;
    writeFileSync(temp, bytes);
    renameSync(temp, this.imageFile);
  }

  writeReport(json: unknown, text: string): void {
    writeAtomic(join(this.dir, 'report.json'), JSON.stringify(json, null, 1) + '\n');
    writeAtomic(join(this.dir, 'report.txt'), text);
  }

  requestAbort(reason: string): void {
    writeAtomic(join(this.dir, 'abort'), reason + '\n');
  }

  /** The pending abort request, removed as it is taken. */
  takeAbortRequest(): string | undefined {
    const path = join(this.dir, 'abort');
    if (!existsSync(path)) return undefined;
    const reason = readFileSync(path, 'utf8').trim() || 'aborted by the operator';
    rmSync(path, { force: true });
    return reason;
  }

  /** Pid of a live tool holding the campaign, if any. */
  holder(): number | undefined {
    const path = join(this.dir, 'lock');
    if (!existsSync(path)) return undefined;
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      process.kill(pid, 0);
      return pid;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
    }
  }

  lock(): void {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw new FleetError('state', `cannot use ${this.dir} as the campaign directory: ${(error as Error).message}; give --state a directory (it is created)`);
    }
    const other = this.holder();
    if (other !== undefined && other !== process.pid) {
      throw new FleetError('busy', `another fleet tool (pid ${other}) runs the campaign in ${this.dir}; use \`fleet status\` or \`fleet abort\` from here`);
    }
    writeAtomic(join(this.dir, 'lock'), `${process.pid}\n`);
  }

  unlock(): void {
    if (this.holder() === process.pid) rmSync(join(this.dir, 'lock'), { force: true });
  }
}

function writeAtomic(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}
