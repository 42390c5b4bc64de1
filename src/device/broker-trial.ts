// New broker settings are on trial, as a new image is under the OTA health gate. The broker settings
// that last got a CONNACK (accepted) are kept as the "last known good" (GOOD_KEY). When a boot runs
// with stored broker settings (set-config, the set-up page) that differ from them, the device must be
// accepted before TRIAL_MAX_ATTEMPTS connection attempts have failed and within TRIAL_MAX_MS;
// otherwise the last known good settings are written back (one journal commit, with a report) and the
// device restarts. Once back, it tells: a log line, an error on <base>/cmd/set-config/result, and
// "config": {"rolledBack": {...}} in its heartbeats of that boot.
//
// Without a last known good (the device never connected) there is nothing to go back to: it keeps
// trying. Build-time settings (manifest, simulator flags) are never tried: only stored ones are.
import type { Clock, Logger, TimerId } from '../ports';
import { encodeValue, storeKey, validate, type Config, type ConfigKey } from './config';

/** Failed connection attempts after which new broker settings are rolled back. */
export const TRIAL_MAX_ATTEMPTS = 3;
/** Ms (with the station up) within which new broker settings must get a CONNACK. */
export const TRIAL_MAX_MS = 120_000;
/** Longest reason kept in a rollback report (an error message can be long). */
const MAX_REASON = 120;

const BROKER_KEYS: readonly ConfigKey[] = ['brokerHost', 'brokerPort', 'brokerTls', 'brokerUser', 'brokerPassword'];
/** The last known good broker settings: one entry (a single write cannot be split), a JSON array in BROKER_KEYS order. */
export const GOOD_KEY = 'c.lkg';
/** The report of a rollback, kept until the device has told the broker about it. */
export const ROLLBACK_KEY = 'c.rollbk';

type Value = string | number | boolean;

export interface RollbackReport {
  /** The broker that did not accept the device (host:port, " tls" when TLS), and the one restored. */
  from: string;
  to: string;
  /** The settings that were restored. */
  keys: string[];
  reason: string;
}

/** What the trial needs of the device (the Device itself). */
export interface TrialDevice {
  readonly config: Config;
  readonly platform: { readonly clock: Clock; readonly log: Logger };
  /** Whether the station has an address: attempts without one say nothing about the broker. */
  readonly wifiUp: boolean;
  /** Resets and reports a stored entry that is unusable (CheckedStore). */
  readonly storage: { discard(key: string, why: string): void };
  restart(reason: string): void;
}

export class BrokerTrial {
  private attempts = 0;
  private timer: TimerId | undefined;
  private trying = false;
  private told = false;
  /** A rollback made by an earlier boot: reported in this boot's heartbeats. */
  readonly rolledBack: RollbackReport | undefined;

  constructor(private readonly device: TrialDevice) {
    this.rolledBack = this.readReport();
  }

  /** The device application starts: with stored broker settings not yet accepted, the trial begins. */
  start(): void {
    if (this.trying) return;
    const good = this.readGood();
    if (!good || !this.differsFromStored(good)) return;
    this.trying = true;
    const d = this.device;
    this.log('info', `config: broker ${label(this.current())} is on trial: ${TRIAL_MAX_ATTEMPTS} attempts or ${TRIAL_MAX_MS / 1000} s, then back to ${label(good)}`);
    this.timer = d.platform.clock.set(() => this.expire(), TRIAL_MAX_MS);
  }

  stop(): void {
    this.trying = false;
    if (this.timer !== undefined) this.device.platform.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** A connection attempt failed (the client's onError before any CONNACK). */
  failed(error: Error): void {
    if (!this.trying || !this.device.wifiUp) return;
    this.attempts++;
    this.log('warn', `config: broker ${label(this.current())} on trial, attempt ${this.attempts} of ${TRIAL_MAX_ATTEMPTS} failed: ${error.message}`);
    if (this.attempts >= TRIAL_MAX_ATTEMPTS) this.rollBack(`${this.attempts} connection attempts failed, the last: ${error.message}`);
  }

  /** A CONNACK accepted the device: these settings are the last known good from now on. */
  accepted(): void {
    const was = this.trying;
    this.stop();
    const current = this.current();
    const text = JSON.stringify(current);
    const store = this.device.config.store;
    if (store.get(GOOD_KEY) === text) return;
    try {
      store.set(GOOD_KEY, text);
    } catch (error) {
      this.log('warn', `config: the last known good broker settings were not saved: ${(error as Error).message}`);
      return;
    }
    if (was) this.log('info', `config: broker ${label(current)} accepted the device; kept as the last known good`);
  }

  /**
   * Tells the broker, once per rollback, about a rollback an earlier boot made: `publish` sends the
   * message and calls back on its acknowledgement. Call when connected.
   */
  announce(publish: (payload: string, acknowledged: (error?: Error) => void) => void): void {
    const report = this.rolledBack;
    if (!report || this.told) return;
    const message = `broker settings rolled back: ${report.from} did not accept the device (${report.reason}); back on ${report.to}`;
    this.log('warn', `config: ${message}`);
    publish(JSON.stringify({ id: null, status: 'error', error: message, rolledBack: report }), (error) => {
      if (error || this.told) return;
      this.told = true;
      this.device.config.store.delete(ROLLBACK_KEY);
    });
  }

  private expire(): void {
    this.timer = undefined;
    if (!this.trying) return;
    // time without a station says nothing about the broker: wait for a fair trial
    if (!this.device.wifiUp) this.timer = this.device.platform.clock.set(() => this.expire(), TRIAL_MAX_MS);
    else this.rollBack(`no connection accepted within ${TRIAL_MAX_MS / 1000} s`);
  }

  private rollBack(reason: string): void {
    this.stop();
    const good = this.readGood();
    if (!good) return;
    const current = this.current();
    const keys: string[] = [];
    const entries: [string, string][] = [];
    for (let i = 0; i < BROKER_KEYS.length; i++) {
      if (current[i] === good[i]) continue;
      keys.push(BROKER_KEYS[i]);
      entries.push([storeKey(BROKER_KEYS[i]), encodeValue(good[i])]);
    }
    const report: RollbackReport = { from: label(current), to: label(good), keys, reason: reason.slice(0, MAX_REASON) };
    entries.push([ROLLBACK_KEY, JSON.stringify(report)]);
    try {
      this.device.config.commit(entries);
    } catch (error) {
      // nothing was changed: restarting would only try the same broker again
      this.log('error', `config: broker ${report.from} did not accept the device, but restoring ${report.to} failed: ${(error as Error).message}`);
      return;
    }
    this.log('warn', `config: broker ${report.from} did not accept the device (${report.reason}); restoring ${report.to} (${keys.join(', ')}) and restarting`);
    this.device.restart('broker settings rolled back');
  }

  private differsFromStored(good: Value[]): boolean {
    const config = this.device.config;
    for (let i = 0; i < BROKER_KEYS.length; i++) {
      const key = BROKER_KEYS[i];
      if (config.isStored(key) && config.values[key] !== good[i]) return true;
    }
    return false;
  }

  private current(): Value[] {
    const values = this.device.config.values;
    return BROKER_KEYS.map((key) => values[key]);
  }

  /** The last known good settings, or undefined when none are stored (an unusable entry is reset). */
  private readGood(): Value[] | undefined {
    const raw = this.device.config.store.get(GOOD_KEY);
    if (raw === undefined) return undefined;
    try {
      const list = JSON.parse(typeof raw === 'string' ? raw : '') as unknown[];
      if (list.length !== BROKER_KEYS.length) throw new Error(`${list.length} values instead of ${BROKER_KEYS.length}`);
      return BROKER_KEYS.map((key, i) => validate(key, list[i]));
    } catch (error) {
      this.device.storage.discard(GOOD_KEY, `not the last known good broker settings: ${(error as Error).message}`);
      return undefined;
    }
  }

  private readReport(): RollbackReport | undefined {
    const raw = this.device.config.store.get(ROLLBACK_KEY);
    if (raw === undefined) return undefined;
    try {
      const r = JSON.parse(typeof raw === 'string' ? raw : '') as RollbackReport;
      if (typeof r.from === 'string' && typeof r.to === 'string' && typeof r.reason === 'string' && Array.isArray(r.keys)) return r;
    } catch {
      // reported below
    }
    this.device.storage.discard(ROLLBACK_KEY, 'not a rollback report');
    return undefined;
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.device.platform.log.log(level, message);
  }
}

/** host:port, with " tls" for TLS; never the user name or password. */
const label = (v: Value[]): string => {
  const host = String(v[0]);
  return `${host.indexOf(':') >= 0 ? `[${host}]` : host}:${v[1]}${v[2] ? ' tls' : ''}`;
};
