// The staged rollout: serve the image, publish signed jobs stage by stage to the devices the plan
// picked, follow each device's retained OTA reports, advance when a stage is done and within the
// failure threshold, abort (no new jobs, retained jobs of devices that did not start withdrawn)
// when it is not, and write a report. Every change is saved, so a restarted tool resumes.
import type { KeyObject } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { DEFAULT_EXPIRES_S } from '../sim/dashboard/liveness';
import { CampaignStore, type Campaign, type DeviceRun } from './campaign';
import { connectBroker } from './broker';
import { FleetError } from './errors';
import { FleetView, listenForHeartbeats, type DeviceView, type OtaReportView } from './fleet-view';
import { DEFAULT_CONCURRENCY, serveImage, type ImageServer } from './image-server';
import { describeTarget, matchesTarget, planStages, rolloutOrder, type Target } from './plan';
import { describeImage, signJob } from './sign';
import { printable } from './validate';
import { buildReport, formatReport, headerLine, LIST_LIMIT, listSome, ProgressPrinter, stageLines, type Report, type RunCost } from './view';

export interface NewCampaign {
  broker: string;
  prefix: string;
  key: KeyObject;
  image: Uint8Array;
  version: string;
  target: Target;
  stages: number[];
  failureThreshold: number;
  minSample: number;
  deviceTimeout: number;
  /** The image server: where it listens, the URL devices are given, and how many it serves at once. */
  http: { host: string; port: number; publicUrl?: string; concurrency?: number };
  /** Ms to collect retained device state before planning. */
  discover: number;
  /**
   * Ms a device whose retained status says online may stay silent before its first heartbeat is heard;
   * then it is stale and skipped. Default DEFAULT_EXPIRES_S (see scripts/sim/dashboard/liveness.ts).
   */
  heartbeatWait?: number;
  includeOffline?: boolean;
  allowDowngrade?: boolean;
  id?: string;
}

export interface RolloutOptions {
  store: CampaignStore;
  out?: { write(s: string): unknown; isTTY?: boolean };
  /** Ms between checks of timeouts, thresholds and abort requests. Default 250. */
  tick?: number;
  /** Ms before a job refused as "busy" is published again. Default 5000. */
  busyRetry?: number;
  /** Least ms between two saves of the campaign while devices report (stage changes are saved at once). Default 1000. */
  saveInterval?: number;
}

const TERMINAL = ['succeeded', 'failed', 'cancelled'];
/** Campaigns of more devices than this print progress less often when the output is not a terminal. */
const LARGE_CAMPAIGN = 1000;
/** Ms a device whose status says online may be silent before its first heartbeat, unless configured. */
const DEFAULT_HEARTBEAT_WAIT = DEFAULT_EXPIRES_S * 1000;
const jobTopic = (c: Campaign, id: string) => `${c.prefix}/${id}/ota/job`;

export class Rollout {
  private client: MqttClient | undefined;
  private server: ImageServer | undefined;
  private c!: Campaign;
  /** What the broker shows of the fleet, kept up to date while the campaign runs. */
  private view: FleetView | undefined;
  private printer: ProgressPrinter;
  private dirty = false;
  private savedAt = 0;
  /** Position in the current stage's devices up to which jobs were released. */
  private releaseFrom = 0;
  /** Device events printed one by one (failures, skips); beyond LIST_LIMIT they are only counted. */
  private told = 0;
  private untold = 0;

  constructor(private readonly o: RolloutOptions) {
    this.printer = new ProgressPrinter(o.out ?? process.stdout);
  }

  private get out(): { write(s: string): unknown; isTTY?: boolean } {
    return this.o.out ?? process.stdout;
  }

  /** At this size, a line per device would bury the progress: the first few, then a count per stage. */
  private deviceEvent(line: string): void {
    if (this.told < LIST_LIMIT) {
      this.told++;
      this.printer.event(line);
    } else this.untold++;
  }

  /** Large campaigns off a terminal: progress every 5 s at most, only the stage in progress. */
  private sized(devices: number): void {
    if (devices > LARGE_CAMPAIGN && !this.out.isTTY) this.printer = new ProgressPrinter(this.out, 5000, 30000);
  }

  get campaign(): Campaign {
    return this.c;
  }

  /** Discovers the fleet, plans the stages, signs the job and saves the new campaign. */
  async create(n: NewCampaign): Promise<Campaign> {
    const store = this.o.store;
    if (store.exists()) {
      const old = store.load();
      throw new FleetError('state', old.finishedAt
        ? `${store.dir} holds the finished campaign ${old.id}; use a new --state directory for a new campaign`
        : `${store.dir} holds the unfinished campaign ${old.id}; run \`fleet rollout --state ${store.dir}\` to resume it, or \`fleet abort --state ${store.dir}\``);
    }
    store.lock();
    const view = (this.view = new FleetView(n.prefix));
    this.client = await connect(n.broker, (topic, payload, retained) => {
      const m = view.handle(topic, payload, retained);
      if (m?.kind === 'ota' && this.c) this.onReport(m.id, m.body as OtaReportView);
    });
    await this.client.subscribeAsync(view.filters, { qos: 1 });
    const heartbeatWait = n.heartbeatWait ?? DEFAULT_HEARTBEAT_WAIT;
    const candidate = (d: DeviceView) => matchesTarget(d, n.target) && d.version !== n.version;
    // a retained "online" can outlive its device: the devices that would get the job must be heard
    await listenForHeartbeats(view, { wait: n.discover, heartbeatWait, concerns: n.includeOffline ? () => false : candidate, note: (line) => this.printer.event(line) });

    const skipped: { id: string; why: string }[] = [];
    const chosen: string[] = [];
    for (const d of view.list()) {
      if (!matchesTarget(d, n.target)) continue;
      const presence = view.presence(d, heartbeatWait);
      if (d.version === n.version) skipped.push({ id: d.id, why: `already runs ${n.version}` });
      else if (n.includeOffline) chosen.push(d.id);
      else if (presence === 'stale') skipped.push({ id: d.id, why: staleWhy(d, heartbeatWait) });
      else if (!d.online) skipped.push({ id: d.id, why: 'offline' });
      else chosen.push(d.id);
    }
    if (!chosen.length) {
      throw new FleetError('usage', `no device to update: ${view.devices.size} known on ${n.broker} under "${n.prefix}", none matches ${describeTarget(n.target)}${skipped.length ? ` and needs ${n.version} (${skipped.length} skipped: ${skipped.slice(0, 5).map((s) => `${s.id} ${s.why}`).join(', ')})` : ''}; \`fleet devices\` lists them`);
    }
    const plan = planStages(rolloutOrder(chosen, n.version), n.stages);
    const id = n.id ?? `c${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
    const { size, sha256 } = describeImage(n.image);
    store.writeImage(n.image);
    const urlPath = `/ota/${id}/${n.version}.bin`;
    this.server = await serveImage({ file: store.imageFile, path: urlPath, host: n.http.host, port: n.http.port, concurrency: n.http.concurrency });
    const base = (n.http.publicUrl ?? `http://${n.http.host.includes(':') ? `[${n.http.host}]` : n.http.host}:${this.server.port}`).replace(/\/$/, '');
    const job = signJob({ id, version: n.version, url: base + urlPath, size, sha256, allowDowngrade: n.allowDowngrade }, n.key);
    const devices: Record<string, DeviceRun> = {};
    plan.forEach((s, i) => s.devices.forEach((d) => (devices[d] = { stage: i, state: 'waiting' })));
    this.c = {
      format: 1,
      id,
      createdAt: Date.now(),
      broker: n.broker,
      prefix: n.prefix,
      version: n.version,
      size,
      sha256,
      urlPath,
      http: { host: n.http.host, port: this.server.port, url: base + urlPath, concurrency: n.http.concurrency ?? DEFAULT_CONCURRENCY },
      job,
      target: describeTarget(n.target),
      stagePercents: n.stages,
      failureThreshold: n.failureThreshold,
      minSample: n.minSample,
      deviceTimeout: n.deviceTimeout,
      heartbeatWait,
      includeOffline: n.includeOffline || undefined,
      stages: plan.map((s) => ({ percent: s.percent, devices: s.devices })),
      current: 0,
      devices,
      skipped,
      status: 'running',
      runs: [{ pid: process.pid, at: Date.now() }],
    };
    store.save(this.c);
    this.sized(chosen.length);
    this.printer.event(headerLine(this.c));
    this.printer.event(`serving the image at ${this.c.http.url} (${this.c.http.concurrency} downloads at once)`);
    for (const s of skipped.slice(0, LIST_LIMIT)) this.printer.event(`skipped ${s.id}: ${s.why}`);
    if (skipped.length > LIST_LIMIT) this.printer.event(`... and ${skipped.length - LIST_LIMIT} more skipped (\`fleet status\` and the report list them)`);
    return this.c;
  }

  /** Loads an unfinished campaign from the store to continue it. */
  async resume(): Promise<Campaign> {
    const store = this.o.store;
    if (!store.exists()) throw new FleetError('state', `no campaign in ${store.dir}: start one with --image, --version and --key`);
    store.lock();
    this.c = store.load();
    if (this.c.finishedAt) throw new FleetError('state', `campaign ${this.c.id} in ${store.dir} finished (${this.c.status}); see report.txt there`);
    this.c.runs.push({ pid: process.pid, at: Date.now() });
    store.save(this.c);
    this.server = await serveImage({ file: store.imageFile, path: this.c.urlPath, host: this.c.http.host, port: this.c.http.port, concurrency: this.c.http.concurrency });
    this.sized(Object.keys(this.c.devices).length);
    const view = (this.view = new FleetView(this.c.prefix));
    this.client = await connect(this.c.broker, (topic, payload, retained) => {
      const m = view.handle(topic, payload, retained);
      if (m?.kind === 'ota') this.onReport(m.id, m.body as OtaReportView);
    });
    await this.client.subscribeAsync(view.filters, { qos: 1 });
    this.printer.event(`resuming ${headerLine(this.c)}`);
    // jobs published before the restart may not have reached the broker: publish them again
    for (const [id, d] of Object.entries(this.c.devices)) if (d.state === 'sent') this.publishJob(id);
    return this.c;
  }

  /** Runs the campaign to its end; resolves with the report. */
  async run(): Promise<Report> {
    const tick = this.o.tick ?? 250;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          try {
            if (this.step()) {
              clearInterval(timer);
              resolve();
            }
          } catch (error) {
            clearInterval(timer);
            reject(error);
          }
        }, tick);
      });
      const report = buildReport(this.c, this.cost());
      const text = formatReport(report);
      this.o.store.writeReport(report, text);
      this.printer.bars(stageLines(this.c), true);
      this.printer.event(text.trimEnd());
      return report;
    } finally {
      await this.close();
    }
  }

  /** What this run of the tool cost, and what its image server did. */
  private cost(): RunCost {
    const usage = process.resourceUsage();
    const s = this.server?.stats;
    const megabytes = Math.round(((s?.bytes ?? 0) / 1e6) * 10) / 10;
    const activeSeconds = Math.round((s?.activeMs ?? 0) / 100) / 10;
    return {
      tool: { peakRssMb: Math.round(usage.maxRSS / 1024), cpuSeconds: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1e5) / 10 },
      imageServer: {
        requests: s?.requests ?? 0,
        ranges: s?.ranges ?? 0,
        busy: s?.busy ?? 0,
        peakConcurrent: s?.peakConcurrent ?? 0,
        peakQueued: s?.peakQueued ?? 0,
        megabytes,
        activeSeconds,
        megabytesPerSecond: activeSeconds > 0 ? Math.round((megabytes / activeSeconds) * 10) / 10 : 0,
      },
    };
  }

  async close(): Promise<void> {
    await this.client?.endAsync().catch(() => undefined);
    await this.server?.close();
    this.o.store.unlock();
  }

  // ---------------------------------------------------------------------------------------------

  /** One tick; true when the campaign is over. */
  private step(): boolean {
    const c = this.c;
    const now = Date.now();
    const request = this.o.store.takeAbortRequest();
    if (request && c.status === 'running') this.abort(request);
    for (const [id, d] of Object.entries(c.devices)) {
      if ((d.state === 'sent' || d.state === 'running') && now - d.sentAt! > c.deviceTimeout) {
        const last = d.ota ? ` (last report: ${d.ota}${d.percent !== undefined ? ` ${d.percent}%` : ''})` : ' (no report)';
        this.finishDevice(id, d, 'failed', 'timeout', `no result within ${Math.round(c.deviceTimeout / 1000)} s${last}`);
      }
      if (d.state === 'sent' && d.resendAt !== undefined && now >= d.resendAt) {
        d.resendAt = undefined;
        this.publishJob(id);
      }
    }
    if (c.status === 'running') this.evaluate(now);
    this.release(now);
    const inFlight = Object.values(c.devices).some((d) => d.state === 'sent' || d.state === 'running');
    if (c.status !== 'running' && !inFlight) {
      c.finishedAt = now;
      this.dirty = true;
    }
    // every change is saved, at most once a second (10,000 devices report many times a second); the
    // devices' reports are retained, so a tool restarted in between hears what it had not saved
    if (this.dirty && (c.finishedAt !== undefined || now - this.savedAt >= (this.o.saveInterval ?? 1000))) {
      this.o.store.save(c);
      this.savedAt = now;
      this.dirty = false;
    }
    this.progress(now);
    return c.finishedAt !== undefined;
  }

  /** The progress bars: every stage on a terminal; off one, the stage in progress. */
  private progress(now: number): void {
    const c = this.c;
    const lines = stageLines(c, now);
    if (this.out.isTTY) return this.printer.bars(lines);
    const live = lines.filter((_, i) => c.stages[i].startedAt !== undefined && c.stages[i].endedAt === undefined);
    if (live.length) this.printer.bars(live);
  }

  private evaluate(now: number): void {
    const c = this.c;
    const stage = c.stages[c.current];
    if (stage.startedAt === undefined) return this.startStage(c.current, now);
    const runs = Object.values(c.devices);
    const failed = runs.filter((d) => d.state === 'failed').length;
    const executed = failed + runs.filter((d) => d.state === 'succeeded').length;
    const stageDone = stage.devices.every((id) => TERMINAL.indexOf(c.devices[id].state) >= 0);
    if (failed > 0 && failed / executed > c.failureThreshold && (executed >= c.minSample || stageDone)) {
      return this.abort(`${failed} of ${executed} devices failed (${Math.round((failed / executed) * 100)}%), above the ${Math.round(c.failureThreshold * 100)}% threshold`);
    }
    if (!stageDone) return;
    stage.endedAt = now;
    this.dirty = true;
    const ok = stage.devices.filter((id) => c.devices[id].state === 'succeeded').length;
    const bad = stage.devices.filter((id) => c.devices[id].state === 'failed').length;
    this.printer.bars(stageLines(c, now), true);
    this.printer.event(`stage ${c.current + 1}/${c.stages.length} done: ${ok} of ${stage.devices.length} updated${bad ? `, ${bad} failed` : ''} in ${Math.round((now - stage.startedAt) / 100) / 10} s`);
    if (this.untold) {
      this.printer.event(`(${this.untold} more device events not shown one by one: \`fleet status\` and the report list them)`);
      this.untold = 0;
    }
    c.current++;
    if (c.current < c.stages.length) this.startStage(c.current, now);
    else c.status = 'succeeded';
  }

  private startStage(k: number, now: number): void {
    const c = this.c;
    const stage = c.stages[k];
    stage.startedAt = now;
    // a device that went silent since it was planned would only time out: it is skipped, and says why
    const stale = c.includeOffline ? [] : stage.devices.filter((id) => this.isStale(id, now));
    for (const id of stale) {
      const why = staleWhy(this.view!.devices.get(id)!, c.heartbeatWait ?? DEFAULT_HEARTBEAT_WAIT);
      Object.assign(c.devices[id], { state: 'cancelled', error: 'stale', reason: why, finishedAt: now });
      c.skipped.push({ id, why });
      this.deviceEvent(`skipped ${id}: ${why}`);
    }
    const staleSet = new Set(stale);
    const send = stage.devices.filter((id) => !staleSet.has(id));
    this.releaseFrom = 0;
    this.o.store.save(c);
    this.savedAt = now;
    if (!send.length) return;
    const paced = send.length > this.window();
    this.printer.event(
      `stage ${k + 1}/${c.stages.length} (${stage.percent}%): publishing the job to ${send.length} device(s)` +
        `${paced ? `, at most ${this.window()} downloading or restarting at a time` : ''}: ${listSome(send)}`,
    );
    this.release(now);
  }

  /**
   * Devices of a stage that may be between their job and their restart into the new image at once:
   * what the image server has to serve, and the devices' own busiest moments (download, verification,
   * restart). A fleet that slows down gets its next jobs later.
   */
  private window(): number {
    return 2 * (this.c.http.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /**
   * Publishes the jobs of the stage's waiting devices while fewer than window() are downloading or
   * restarting: the jobs go out as devices come back on their new image, so no device waits in the
   * image server's line long enough to be turned away, however large the stage.
   */
  private release(now: number): void {
    const c = this.c;
    const stage = c.stages[c.current];
    if (c.status !== 'running' || !stage || stage.startedAt === undefined) return;
    let downloading = 0;
    for (const id of stage.devices) {
      const d = c.devices[id];
      if (d.state === 'sent' || (d.state === 'running' && (d.ota === 'downloading' || d.ota === 'rebooting'))) downloading++;
    }
    const released: string[] = [];
    for (let i = this.releaseFrom; i < stage.devices.length && downloading < this.window(); i++) {
      const id = stage.devices[i];
      this.releaseFrom = i + 1;
      if (c.devices[id].state !== 'waiting') continue;
      Object.assign(c.devices[id], { state: 'sent', sentAt: now });
      released.push(id);
      downloading++;
    }
    if (!released.length) return;
    this.o.store.save(c); // before publishing: a resumed tool must know these were sent
    this.savedAt = now;
    for (const id of released) this.publishJob(id);
  }


  private isStale(id: string, now: number): boolean {
    const d = this.view?.devices.get(id);
    return d !== undefined && this.view!.presence(d, this.c.heartbeatWait ?? DEFAULT_HEARTBEAT_WAIT, now) === 'stale';
  }

  private abort(reason: string): void {
    const c = this.c;
    c.status = 'aborted';
    c.abortReason = reason;
    const stage = c.stages[c.current];
    if (stage?.startedAt !== undefined && stage.endedAt === undefined) stage.endedAt = Date.now();
    this.dirty = true;
    let withdrawn = 0;
    for (const [id, d] of Object.entries(c.devices)) {
      if (d.state !== 'sent') continue;
      this.finishDevice(id, d, 'cancelled', 'cancelled', 'the campaign was aborted before the device started');
      withdrawn++;
    }
    this.printer.event(`ABORT: ${reason}; no new jobs${withdrawn ? `, ${withdrawn} unstarted job(s) withdrawn` : ''}`);
  }

  private onReport(id: string, r: OtaReportView): void {
    const c = this.c;
    const d = c.devices[id];
    if (!d || r.job !== c.id || d.state === 'waiting') return;
    if (typeof r.version === 'string') d.version = r.version;
    const terminal = TERMINAL.indexOf(d.state) >= 0;
    this.dirty = true;
    switch (r.state) {
      case 'downloading':
      case 'rebooting':
      case 'pending':
        if (terminal && d.state !== 'cancelled') return;
        d.state = 'running';
        d.ota = r.state;
        d.percent = r.state === 'downloading' ? r.percent ?? 0 : 100;
        return;
      case 'success':
        if (r.version === c.version) return this.finishDevice(id, d, 'succeeded');
        return this.finishDevice(id, d, 'failed', 'wrong-version', `reported success but runs ${r.version}`);
      case 'rejected':
        if (r.error === 'busy') {
          d.resendAt = Date.now() + (this.o.busyRetry ?? 5000);
          d.ota = 'busy';
          return;
        }
        return this.finishDevice(id, d, 'failed', r.error, r.reason);
      case 'rolled-back':
        // the old image reports what happened to the new one: the best reason there is
        if (d.state === 'failed') {
          d.error = 'rolled-back';
          d.reason = r.reason;
          return;
        }
        return this.finishDevice(id, d, 'failed', 'rolled-back', r.reason);
      case 'failed':
      case 'unsupported':
        return this.finishDevice(id, d, 'failed', r.error ?? r.state, r.reason);
    }
  }

  private finishDevice(id: string, d: DeviceRun, state: 'succeeded' | 'failed' | 'cancelled', error?: string, reason?: string): void {
    if (TERMINAL.indexOf(d.state) >= 0 && d.state !== 'cancelled') return;
    const was = d.state;
    d.state = state;
    d.finishedAt = Date.now();
    d.error = error;
    d.reason = reason;
    d.resendAt = undefined;
    this.dirty = true;
    // withdraw the retained job: it must not start on a later connect
    this.client?.publish(jobTopic(this.c, id), '', { qos: 1, retain: true });
    if (state === 'failed') this.deviceEvent(`${id}: FAILED (${error}): ${reason ?? ''}`);
    else if (state === 'succeeded' && was === 'cancelled') this.deviceEvent(`${id}: updated although its job was withdrawn`);
  }

  private publishJob(id: string): void {
    this.client?.publish(jobTopic(this.c, id), JSON.stringify(this.c.job), { qos: 1, retain: true }, (error) => {
      if (error) this.printer.event(`${id}: publishing the job failed: ${error.message} (it is published again on resume)`);
    });
  }
}

/** Why a stale device is left out, for the operator and the report. */
function staleWhy(d: DeviceView, heartbeatWait: number): string {
  const seconds = Math.round((d.expires !== undefined ? d.expires * 1000 : heartbeatWait) / 100) / 10;
  const claims = [d.boot !== undefined ? `boot ${d.boot}` : '', d.version !== undefined ? `version ${printable(d.version, 24)}` : ''].filter(Boolean).join(', ');
  return `stale: its retained status says online${claims ? ` (${claims})` : ''}, but no heartbeat came within ${seconds} s`;
}

async function connect(url: string, onMessage: (topic: string, payload: Uint8Array, retained: boolean) => void): Promise<MqttClient> {
  const client = await connectBroker(url);
  client.on('message', (topic, payload, packet) => onMessage(topic, payload, packet.retain));
  return client;
}
