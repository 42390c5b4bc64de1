// OTA for the device application: signed jobs over MQTT, streamed download into the inactive slot,
// restart into the new image, health-gated commit, and reports of every step (and of rollbacks).
//
// Topics: jobs on <prefix>/<id>/ota/job and <prefix>/group/<group>/ota/job; reports retained on
// <prefix>/<id>/ota (see report.ts for the states).
import type { Device, DeviceListener } from '../device/device';
import { isTopicLevel } from '../device/topics';
import { base64Decode } from '../text/base64';
import type { Hash, HashFactory } from '../crypto/hash';
import { hexDecode, hexEncode } from '../text/hex';
import { Sha256 } from '../crypto/sha256';
import type { FlashUpdate, TimerId, UpdateWriter } from '../ports';
import { Download, type DownloadOptions } from './download';
import { OtaError, describeError } from './errors';
import { HealthGate } from './health';
import { decodeJob, jobId, validateJob, verifyJob, type OtaJob } from './job';
import { FINAL_STATES, OtaMemory, type JobRecord, type OtaReport } from './report';
import { compareVersions, parseVersion } from './semver';
import { allChars, asciiLower, isHexCode } from '../text/chars';

export interface OtaOptions {
  /** Ed25519 public key of the fleet (32 bytes, or 64 hex digits, or base64). Default: the build setting `otaPublicKey`. */
  publicKey?: Uint8Array | string;
  /** Groups whose job topics this device follows. Default: the `otaGroups` setting (comma-separated). */
  groups?: string[];
  /** Ms after booting a new image within which every health check must pass. Default 60000. */
  healthWindow?: number;
  /** Ms the checks must hold without a break before the new image is committed. Default 15000. */
  healthSettle?: number;
  /** Ms between health checks. Default 1000. */
  healthPoll?: number;
  /** Free heap floor of the health check, bytes. Default 16384. */
  memoryFloor?: number;
  /** false drops "each configured sensor sampled once" from the health check. Default true. */
  requireSensors?: boolean;
  /** Least ms between two "downloading" progress reports. Default 2000. */
  progressInterval?: number;
  /** Restarts of the same job (e.g. power lost during the download) before it is given up. Default 3. */
  maxTries?: number;
  /** Download tuning and TLS settings for https:// image URLs. */
  download?: Pick<DownloadOptions, 'chunkSize' | 'stallTimeout' | 'maxAttempts' | 'retryDelay' | 'tls'>;
  /** SHA-256 factory; a host may supply a native one. Default: the pure TypeScript one. */
  sha256?: HashFactory;
}

/** Attaches OTA to a device: pass the result in DeviceOptions.extensions. */
export const otaExtension = (options: OtaOptions = {}): (device: Device) => void => {
  return (device) => {
    // the boot state is read once the constructor has returned, so its frame is off the XS stack
    // while the store is read (an ESP8266 has 256 slots)
    new OtaAgent(device, options).readBootState();
  };
};

interface Active {
  job: OtaJob;
  writer: UpdateWriter;
  download: Download;
}

class OtaAgent implements DeviceListener {
  private readonly update: FlashUpdate | undefined;
  private readonly memory: OtaMemory;
  /** Why the configured key cannot check jobs; undefined when it can (it is decoded again for each job: no copy kept). */
  private readonly keyProblem: string | undefined;
  private readonly groups: string[];
  private readonly gate: HealthGate | undefined;
  /** Set by readBootState(), right after the constructor. */
  private report!: OtaReport;
  private active: Active | undefined;
  private subscribed = false;
  private stopped = false;
  private lastProgressAt = -Infinity;
  private restartTimer: TimerId | undefined;

  constructor(private readonly device: Device, private readonly o: OtaOptions) {
    const p = device.platform;
    this.update = p.update;
    this.memory = new OtaMemory(p.storage, device.storage);
    // The key comes from the options or the build settings only: whoever could change it over MQTT
    // (set-config) could sign their own jobs. The groups are a runtime setting.
    this.keyProblem = readKey(o.publicKey ?? device.config.build.otaPublicKey).problem;
    if (this.keyProblem) this.log('error', `${this.keyProblem}; every job will be rejected`);
    this.groups = o.groups ? checkGroups(o.groups, (m) => this.log('warn', m)) : device.config.otaGroups;

    const running = this.update?.running();
    if (running?.state === 'pending-verify') {
      this.gate = new HealthGate({
        clock: p.clock,
        window: o.healthWindow ?? 60000,
        settle: Math.min(o.healthSettle ?? 15000, (o.healthWindow ?? 60000) / 2),
        poll: o.healthPoll ?? 1000,
        memoryFloor: o.memoryFloor ?? 16384,
        requireSensors: o.requireSensors ?? true,
        probe: () => {
          const h = device.health();
          const wifi = p.wifi ? p.wifi.rssi() !== undefined : true;
          const unsampled: string[] = [];
          if (!h.sensorsSampled) {
            const statuses = device.telemetry.statuses();
            for (const name of Object.keys(statuses)) if (!statuses[name].samples) unsampled.push(`${name}: ${statuses[name].state}`);
          }
          return { wifi, mqtt: h.mqtt, birthAcknowledged: h.birthAcknowledged, sensorsSampled: h.sensorsSampled, unsampled, freeMemory: h.freeMemory };
        },
        onPass: () => this.passed(),
        onFail: (reason) => this.failedHealth(reason),
      });
      this.gate.start();
    }
    device.listen(this);
  }

  // ---- boot and connection ----------------------------------------------------------------

  /** Reads what the last boot left (the store, the update port): the report of this boot. */
  readBootState(): void {
    this.report = this.bootReport();
  }

  /** What to report after this boot; says so when the bootloader had to rebuild its boot state. */
  private bootReport(): OtaReport {
    const recovered = this.update?.running().recovered;
    // a tail call when there is nothing to add: one frame less on the XS stack at boot (an ESP8266 has 256 slots)
    if (!recovered) return this.jobReport();
    const report = this.jobReport();
    this.log('error', `ota: the bootloader could not trust its boot state: ${recovered}`);
    return { ...report, recovered };
  }

  /** The job's state after this boot, from the update port's view and what the last boot left. */
  private jobReport(): OtaReport {
    const version = this.device.version;
    const running = this.update?.running();
    const job = this.memory.job;
    const last = this.memory.last;
    if (running?.state === 'pending-verify') {
      this.log('warn', `image ${version} is on trial: committed only if healthy within ${(this.o.healthWindow ?? 60000) / 1000} s`);
      return { state: 'pending', version, job: job?.id, target: version };
    }
    const rolled = running?.rolledBack;
    if (rolled) {
      // The port keeps reporting a rollback until the next update is written: report each one once.
      const seen = `${rolled.fromVersion}|${rolled.reason}`;
      if (this.memory.rollbackSeen !== seen) {
        const jobOf = job?.target === rolled.fromVersion ? job.id : undefined;
        const report: OtaReport = { state: 'rolled-back', version, job: jobOf, target: rolled.fromVersion, error: 'rolled-back', reason: rolled.reason || 'the bootloader went back to the previous image' };
        this.log('error', `update to ${rolled.fromVersion} was rolled back: ${report.reason}`);
        this.memory.last = report;
        this.memory.rollbackSeen = seen;
        return report;
      }
    }
    if (last?.state === 'rebooting') {
      // we restarted into a new image but run a committed one without a rollback record
      const report: OtaReport =
        last.target === version
          ? { state: 'success', version, job: last.job, target: version }
          : { state: 'failed', version, job: last.job, target: last.target, error: 'rolled-back', reason: `the new image ${last.target} did not boot; ${version} runs` };
      this.memory.last = report;
      return report;
    }
    return last ? { ...last, version } : { state: 'idle', version };
  }

  /** The device connected (DeviceListener). */
  connected(): void {
    if (!this.subscribed) {
      this.subscribed = true;
      const t = this.device.topics;
      const topics = [`${t.base}/ota/job`, ...this.groups.map((g) => `${t.prefix}/group/${g}/ota/job`)];
      // a small arrow made in a method: its call is a tail call, and it copies little code into the heap
      this.device.client.subscribe(topics, { qos: 1, onMessage: (_topic, payload) => this.jobArrived(payload) });
    }
    this.publish(this.report);
    this.gate?.check();
  }

  /**
   * A job is checked (Ed25519 over SHA-512) on a fresh stack, from a timer: under the MQTT delivery's
   * frames the check overflows the 256 XS stack slots of an ESP8266. The client reuses its buffer.
   */
  private jobArrived(payload: Uint8Array): void {
    const job = payload.slice();
    this.device.platform.clock.set(() => this.onJob(job), 0);
  }

  /** The device stops (DeviceListener). */
  stopping(): void {
    this.stopped = true;
    this.gate?.stop();
    if (this.restartTimer !== undefined) this.device.platform.clock.clear(this.restartTimer);
    const a = this.active;
    if (!a) return;
    // A stop (restart, reboot command) only pauses the job: its retained copy starts it again after
    // the restart, a bounded number of times (maxTries).
    this.active = undefined;
    a.download.abort();
    try {
      // what was written and checkpointed stays, so the job continues from there
      if (a.writer.suspend) a.writer.suspend();
      else a.writer.cancel();
    } catch {
      // nothing more to undo
    }
  }

  // ---- jobs ---------------------------------------------------------------------------------

  private onJob(payload: Uint8Array): void {
    if (!payload.length || this.stopped) return; // an empty retained message clears a job
    let raw: Record<string, unknown>;
    try {
      raw = decodeJob(payload);
    } catch (error) {
      return this.reject(undefined, undefined, error);
    }
    const id = jobId(raw);
    const stored = this.memory.job;
    // Ignoring a repeat before the signature check is safe: ignoring cannot be abused.
    if (id !== undefined && (this.active?.job.id === id || (stored?.id === id && stored.done))) return;
    if (this.keyProblem) return this.reject(id, undefined, new OtaError('no-key', this.keyProblem), true);
    let job: OtaJob;
    try {
      verifyJob(raw, this.publicKey());
      job = validateJob(raw);
    } catch (error) {
      return this.reject(id, undefined, error, true);
    }
    this.start(job);
  }

  private start(job: OtaJob): void {
    const version = this.device.version;
    const update = this.update;
    const board = this.device.config.build.board;
    if (job.board !== undefined && job.board !== board) {
      return this.reject(job.id, job.version, new OtaError('wrong-board', `the image is built for ${job.board} boards; this device is a ${board}: send it the ${board} image`), true);
    }
    if (!update) {
      this.remember(job, true);
      return this.setReport({ state: 'unsupported', version, job: job.id, target: job.version, error: 'unsupported', reason: 'this device cannot update over the air (its host has no update port)' }, true);
    }
    if (this.active || this.gate?.running) {
      const why = this.active ? `job ${this.active.job.id} is still running` : 'the running image is still on trial';
      return this.reject(job.id, job.version, new OtaError('busy', `${why}; publish the job again later`));
    }
    const wall = this.device.platform.clock.wallTime();
    if (job.expires !== undefined && wall !== undefined && wall / 1000 > job.expires) {
      return this.reject(job.id, job.version, new OtaError('expired', `the job expired at ${job.expires} (epoch seconds)`), true);
    }
    const order = versionOrder(job.version, version);
    if (order === undefined && !job.allowDowngrade) {
      return this.reject(job.id, job.version, new OtaError('downgrade', `the running version "${version}" is not a semantic version, so the job's ${job.version} cannot be ordered against it; set allowDowngrade to install anyway`), true);
    }
    if (order !== undefined && order < 0 && !job.allowDowngrade) {
      return this.reject(job.id, job.version, new OtaError('downgrade', `${job.version} is older than the running ${version}; sign the job with allowDowngrade to install it`), true);
    }
    if (job.version === version) {
      this.remember(job, true);
      return this.setReport({ state: 'success', version, job: job.id, target: job.version, reason: `${version} is already running` }, true);
    }
    const stored = this.memory.job;
    const maxTries = this.o.maxTries ?? 3;
    const hash = (this.o.sha256 ?? (() => new Sha256()))();
    let opened: { writer: UpdateWriter; start: number };
    try {
      opened = openWriter(update, job, hash);
    } catch (error) {
      const code = asciiLower(String((error as { code?: unknown }).code)).indexOf('unsupported') >= 0 ? 'unsupported' : 'flash';
      this.remember(job, true);
      return this.setReport({ state: code === 'unsupported' ? 'unsupported' : 'failed', version, job: job.id, target: job.version, error: code, reason: `cannot open the update slot: ${describeError(error)}` }, true);
    }
    const { writer, start } = opened;
    // a restart during the download starts the job again: a bounded number of times without progress
    const tries = stored?.id === job.id ? (start > (stored.at ?? 0) ? 1 : stored.tries + 1) : 1;
    if (tries > maxTries) {
      writer.cancel();
      this.remember(job, true, tries);
      return this.setReport({ state: 'failed', version, job: job.id, target: job.version, error: 'cancelled', reason: `the job was started ${maxTries} times without finishing (the device restarted during each download)` }, true);
    }
    this.remember(job, false, tries, start);
    this.log('info', `ota: job ${job.id}: downloading ${job.version} (${job.size} bytes) from ${job.url}${start ? `, continuing from byte ${start}` : ''}`);
    this.lastProgressAt = -Infinity;
    this.setReport({ state: 'downloading', version, job: job.id, target: job.version, percent: Math.floor((start * 100) / job.size) }, false);
    const p = this.device.platform;
    const a: Active = { job, writer, download: undefined! };
    this.active = a;
    a.download = new Download({
      ...this.o.download,
      network: p.network,
      clock: p.clock,
      log: p.log,
      url: job.url,
      size: job.size,
      sha256: job.sha256,
      writer,
      hash,
      start,
      onProgress: (received, size) => this.progress(a, received, size),
      onDone: (error) => this.finishJob(a, error),
    });
  }

  private progress(a: Active, received: number, size: number): void {
    if (this.active !== a) return;
    const now = this.device.platform.clock.now();
    const percent = Math.floor((received * 100) / size);
    if (percent === this.report.percent || now - this.lastProgressAt < (this.o.progressInterval ?? 2000)) return;
    this.lastProgressAt = now;
    this.setReport({ ...this.report, percent }, false);
  }

  private finishJob(a: Active, error: OtaError | undefined): void {
    if (this.active !== a) return;
    this.active = undefined;
    a.download.abort();
    const { job } = a;
    const version = this.device.version;
    if (!error) {
      try {
        a.writer.complete();
      } catch (e) {
        error = new OtaError('flash', `the update slot refused the image: ${describeError(e)}`);
      }
    } else {
      try {
        a.writer.cancel();
      } catch {
        // nothing more to undo
      }
    }
    this.memory.job = { ...this.memory.job!, done: true };
    if (error) {
      this.log('error', `ota: job ${job.id} failed: ${error.message}`);
      return this.setReport({ state: 'failed', version, job: job.id, target: job.version, error: error.code, reason: error.message }, true);
    }
    this.memory.rollbackSeen = undefined; // the update port forgets the last rollback now, so do we
    this.log('info', `ota: job ${job.id}: ${job.version} written and verified; restarting into it`);
    this.setReport({ state: 'rebooting', version, job: job.id, target: job.version, percent: 100 }, true);
    if (!this.stopped) this.restartTimer = this.device.platform.clock.set(() => this.device.restart(`ota: booting ${job.version}`), 0);
  }

  private reject(id: string | undefined, target: string | undefined, error: unknown, remember = false): void {
    const e = error instanceof OtaError ? error : new OtaError('bad-job', describeError(error));
    this.log('warn', `ota: job ${id ?? '(no id)'} rejected: ${e.message}`);
    if (remember && id !== undefined && e.code !== 'bad-signature' && e.code !== 'no-key') {
      this.memory.job = { id, target: target ?? '', from: this.device.version, tries: 0, done: true };
    }
    // A refusal while a job runs is reported without replacing that job's retained report.
    const report: OtaReport = { state: 'rejected', version: this.device.version, job: id, target, error: e.code, reason: e.message };
    if (this.active || this.gate?.running) this.publish(report, false);
    else this.setReport(report, false);
  }

  private remember(job: OtaJob, done: boolean, tries = 1, at = 0): void {
    const record: JobRecord = { id: job.id, target: job.version, from: this.device.version, tries, done };
    if (at) record.at = at;
    this.memory.job = record;
  }

  /** The configured key, decoded (it was checked at start: keyProblem is undefined). */
  private publicKey(): Uint8Array {
    return readKey(this.o.publicKey ?? this.device.config.build.otaPublicKey).key!;
  }

  // ---- the new image's health -----------------------------------------------------------------

  private passed(): void {
    const update = this.update!;
    const version = this.device.version;
    try {
      update.markValid();
    } catch (error) {
      return this.failedHealth(`committing the image failed: ${describeError(error)}`);
    }
    this.log('info', `ota: image ${version} passed its health check and is committed`);
    this.setReport({ state: 'success', version, job: this.report.job, target: version }, true);
  }

  private failedHealth(reason: string): void {
    const version = this.device.version;
    this.log('error', `ota: image ${version} failed: ${reason}; rolling back`);
    this.setReport({ state: 'failed', version, job: this.report.job, target: version, error: 'health', reason }, true);
    try {
      this.update!.rollback(reason); // does not return on hardware
    } catch (error) {
      this.log('error', `ota: rollback impossible (${describeError(error)}); keeping ${version}`);
      return;
    }
    this.device.restart(`ota rollback: ${reason}`);
  }

  // ---- reports --------------------------------------------------------------------------------

  private setReport(report: OtaReport, persist: boolean): void {
    this.report = report;
    if (persist) this.memory.last = FINAL_STATES.indexOf(report.state) >= 0 || report.state === 'rebooting' ? report : undefined;
    this.publish(report);
  }

  /** Retained, QoS 1, and only while connected: the current report is sent again at every connect. */
  private publish(report: OtaReport, retain = true): boolean {
    const client = this.device.client;
    if (!client.connected || this.stopped) return false;
    const body: OtaReport = { ...report, version: this.device.version, board: this.device.config.build.board, boot: this.device.boot };
    if (this.groups.length) body.groups = this.groups;
    // a tail call: this frame is not on the XS stack under the publish (an ESP8266 has 256 slots)
    return client.publish(this.device.topics.ota, JSON.stringify(body), { qos: 1, retain });
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.device.platform.log.log(level, message);
  }
}

/**
 * Opens the update slot for `job`, continuing an interrupted download of the same job and image hash
 * when the port kept a checkpoint and `hash` can be restored to it; `start` is where it continues.
 */
const openWriter = (update: FlashUpdate, job: OtaJob, hash: Hash): { writer: UpdateWriter; start: number } => {
  const key = hash.save && hash.restore ? `${job.id}/${hexEncode(job.sha256)}` : undefined;
  const writer = update.open(job.size, job.version, key);
  const start = writer.resumedAt ?? 0;
  if (!start) return { writer, start: 0 };
  try {
    hash.restore!(writer.resumedState ?? new Uint8Array(0));
    return { writer, start };
  } catch {
    writer.cancel(); // the saved hash state is not usable: start from byte 0
    return { writer: update.open(job.size, job.version), start: 0 };
  }
};

/** Order of two versions, or undefined when either is not a semantic version. */
const versionOrder = (a: string, b: string): number | undefined => {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  return va && vb ? compareVersions(va, vb) : undefined;
};

/** An Ed25519 public key written in hex. */
const KEY_HEX_DIGITS = 64;

const readKey = (value: unknown): { key?: Uint8Array; problem?: string } => {
  if (value instanceof Uint8Array) return value.length === 32 ? { key: value } : { problem: `the OTA public key has ${value.length} bytes; an Ed25519 key has 32` };
  if (typeof value !== 'string' || !value) return { problem: 'no OTA public key configured (otaPublicKey: 64 hex digits from `fleet keygen`)' };
  try {
    const key = allChars(value, isHexCode, KEY_HEX_DIGITS, KEY_HEX_DIGITS) ? hexDecode(value) : base64Decode(value);
    if (key.length === 32) return { key };
  } catch {
    // reported below
  }
  return { problem: 'the OTA public key must be 32 bytes as 64 hex digits or base64' };
};

/** The groups of `list` (from the options) that can be topic levels; the others are named to `warn`. */
const checkGroups = (list: string[], warn: (message: string) => void): string[] => {
  const groups: string[] = [];
  for (const item of list) {
    const g = typeof item === 'string' ? item.trim() : '';
    if (!g) continue;
    if (isTopicLevel(g)) groups.push(g);
    else warn(`ota: group "${String(item).slice(0, 70)}" ignored: a group must be 1-64 characters without + # or /`);
  }
  return groups;
};
