// New broker settings are on trial, as a new image is under the OTA health gate. The broker settings
// that last got a CONNACK (accepted) are kept as the "last known good" (keys "cg.*"). When a boot runs
// with stored broker settings (set-config, the set-up page) that differ from them, the device must be
// accepted within TRIAL_MAX_ATTEMPTS connection attempts and TRIAL_MAX_MS; otherwise the last known
// good settings are written back (one journal commit, with a report) and the device restarts. Once
// back, it tells: a log line, an error on <base>/cmd/set-config/result, and "config": {"rolledBack"}
// in its heartbeats of that boot.
//
// Without a last known good (the device never connected) there is nothing to go back to: it keeps
// trying. Build-time settings (manifest, simulator flags) are never tried: only stored ones are.
import type { Clock, Logger, TimerId } from '../ports';
import { decodeValue, encodeValue, storeKey, validate, type Config, type ConfigKey } from './config';

/** Failed connection attempts after which new broker settings are rolled back. */
export const TRIAL_MAX_ATTEMPTS = 3;
/** Ms (with the station up) within which new broker settings must get a CONNACK. */
export const TRIAL_MAX_MS = 120_000;
/** Longest reason kept in a rollback report (an error message can be long). */
const MAX_REASON = 120;

export const BROKER_KEYS: readonly ConfigKey[] = ['brokerHost', 'brokerPort', 'brokerTls', 'brokerUser', 'brokerPassword'];
/** The report of a rollback, kept until the device has told the broker about it. */
export const ROLLBACK_KEY = 'cg.rb';

type Value = string | number | boolean;

export interface RollbackReport {
  /** The broker that did not accept the device (host:port, " tls" when TLS), and the one restored. */
  from: string;
  to: string;
  /** The settings that were restored. */
  keys: string[];
  reason: string;
}

export interface TrialHost {
  config: Config;
  clock: Clock;
  log: Logger;
  /** Whether the station has an address: attempts without one say nothing about the broker. */
  wifiUp(): boolean;
  /** A stored entry is unusable: reset it and report it (CheckedStore.discard). */
  discard(key: string, why: string): void;
  /** Restarts the device with the restored settings. */
  restart(reason: string): void;
}

/** The store key of a broker setting's last known good value ("cg.bhost" for brokerHost). */
export const goodKey = (key: ConfigKey) => 'cg' + storeKey(key).slice(1);

export class BrokerTrial {
  /** The broker settings that last got a CONNACK, once stored. */
  private good: Value[] | undefined;
  private attempts = 0;
  private timer: TimerId | undefined;
  private trying = false;
  /** A rollback made by an earlier boot: reported in this boot's heartbeats. */
  readonly rolledBack: RollbackReport | undefined;
  private told = false;

  constructor(private readonly host: TrialHost) {
    this.good = this.readGood();
    this.rolledBack = this.readReport();
  }

  /** True when this boot runs stored broker settings the broker has not accepted yet. */
  get onTrial(): boolean {
    const good = this.good;
    if (!good) return false;
    const config = this.host.config;
    for (let i = 0; i < BROKER_KEYS.length; i++) {
      const key = BROKER_KEYS[i];
      if (config.isStored(key) && config.values[key] !== good[i]) return true;
    }
    return false;
  }

  /** The device application starts (first connection attempt). */
  start(): void {
    if (this.trying || !this.onTrial) return;
    this.trying = true;
    const h = this.host;
    h.log.log('info', `config: broker ${label(this.current())} is on trial: ${TRIAL_MAX_ATTEMPTS} attempts or ${TRIAL_MAX_MS / 1000} s, then back to ${label(this.good!)}`);
    this.timer = h.clock.set(() => this.expire(), TRIAL_MAX_MS);
  }

  stop(): void {
    this.trying = false;
    if (this.timer !== undefined) this.host.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** A connection attempt failed (the client's onError before any CONNACK). */
  failed(error: Error): void {
    if (!this.trying || !this.host.wifiUp()) return;
    this.attempts++;
    this.host.log.log('warn', `config: broker ${label(this.current())} on trial, attempt ${this.attempts} of ${TRIAL_MAX_ATTEMPTS} failed: ${error.message}`);
    if (this.attempts >= TRIAL_MAX_ATTEMPTS) this.rollBack(`${this.attempts} connection attempts failed, the last: ${error.message}`);
  }

  /** A CONNACK accepted the device: these settings are the last known good from now on. */
  accepted(): void {
    const was = this.trying;
    this.stop();
    const current = this.current();
    const good = this.good;
    if (good && !differs(good, current)) return;
    try {
      this.host.config.journal.commit(BROKER_KEYS.map((key, i) => [goodKey(key), encodeValue(current[i])]));
    } catch (error) {
      this.host.log.log('warn', `config: the last known good broker settings were not saved: ${(error as Error).message}`);
      return;
    }
    this.good = current;
    if (was) this.host.log.log('info', `config: broker ${label(current)} accepted the device; kept as the last known good`);
  }

  /**
   * Tells the broker, once per rollback, about a rollback an earlier boot made: `publish` sends the
   * message and calls back on its acknowledgement. Call when connected.
   */
  announce(publish: (payload: string, acknowledged: (error?: Error) => void) => void): void {
    const report = this.rolledBack;
    if (!report || this.told) return;
    const message = `broker settings rolled back: ${report.from} did not accept the device (${report.reason}); back on ${report.to}`;
    this.host.log.log('warn', `config: ${message}`);
    publish(JSON.stringify({ id: null, status: 'error', error: message, rolledBack: report }), (error) => {
      if (error || this.told) return;
      this.told = true;
      this.host.config.journal.store.delete(ROLLBACK_KEY);
    });
  }

  private expire(): void {
    this.timer = undefined;
    if (!this.trying) return;
    // time without a station says nothing about the broker: wait for a fair trial
    if (!this.host.wifiUp()) this.timer = this.host.clock.set(() => this.expire(), TRIAL_MAX_MS);
    else this.rollBack(`no connection accepted within ${TRIAL_MAX_MS / 1000} s`);
  }

  private rollBack(reason: string): void {
    this.stop();
    const good = this.good!;
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
    const h = this.host;
    try {
      h.config.journal.commit(entries);
    } catch (error) {
      // nothing was changed: restarting would only try the same broker again
      h.log.log('error', `config: broker ${report.from} did not accept the device, but restoring ${report.to} failed: ${(error as Error).message}`);
      return;
    }
    h.log.log('warn', `config: broker ${report.from} did not accept the device (${report.reason}); restoring ${report.to} (${keys.join(', ')}) and restarting`);
    h.restart('broker settings rolled back');
  }

  private current(): Value[] {
    const values = this.host.config.values;
    return BROKER_KEYS.map((key) => values[key]);
  }

  /** All five values, or none: the journal writes them together, so a gap is damage (reset). */
  private readGood(): Value[] | undefined {
    const store = this.host.config.journal.store;
    const good: Value[] = [];
    const present: string[] = [];
    let problem = 'the last known good broker settings are incomplete';
    for (const key of BROKER_KEYS) {
      const raw = store.get(goodKey(key));
      if (raw === undefined) continue;
      present.push(goodKey(key));
      try {
        good.push(validate(key, decodeValue(key, raw)));
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    if (good.length === BROKER_KEYS.length) return good;
    for (const key of present) this.host.discard(key, problem);
    return undefined;
  }

  private readReport(): RollbackReport | undefined {
    const raw = this.host.config.journal.store.get(ROLLBACK_KEY);
    if (raw === undefined) return undefined;
    try {
      const r = JSON.parse(typeof raw === 'string' ? raw : '') as RollbackReport;
      if (typeof r.from === 'string' && typeof r.to === 'string' && typeof r.reason === 'string' && Array.isArray(r.keys)) return r;
    } catch {
      // reported below
    }
    this.host.discard(ROLLBACK_KEY, 'not a rollback report');
    return undefined;
  }
}

function differs(a: Value[], b: Value[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return true;
  return false;
}

/** host:port, with " tls" for TLS; never the user name or password. */
function label(v: Value[]): string {
  const host = String(v[0]);
  return `${host.indexOf(':') >= 0 ? `[${host}]` : host}:${v[1]}${v[2] ? ' tls' : ''}`;
}
