// Wi-Fi provisioning state machine: join a stored network (strongest first, retried with backoff),
// fall back to an access point with a captive portal when none works, keep retrying in the
// background, and accept new credentials from the portal or Improv only once they are proven.
import { utf8Length } from '../text/utf8';
import type { Clock, Logger, TimerId, WiFi, WiFiDisconnectReason, WiFiEvent, WiFiNetwork } from '../ports';
import { Backoff } from './backoff';
import { pickCandidates, strongestPerSsid, type Candidate } from './candidates';
import { DEFAULT_MAX_NETWORKS, NetworkStore } from './network-store';
import { ProvisioningBusyError, type PortalContext, type PortalStatus } from './portal';
import type { PageView } from './portal-page';
import { PortalServers } from './portal-servers';
import { Scanner } from './scanner';
import {
  accessPointName,
  failureMessage,
  ProvisioningConfigError,
  securityLabel,
  type AttemptResult,
  type ProvisioningOptions,
  type ProvisioningState,
} from './types';
import { validateCredentials, validateExtras, type ExtraSettings, type WiFiCredentials } from './validate';

export type { AttemptResult, ProvisioningOptions, ProvisioningState } from './types';

/** Told of every state change: an object whose method this is (the Improv service), so no closure is kept. */
export interface StateListener {
  provisioningState(state: ProvisioningState): void;
}

interface Attempt {
  ssid: string;
  timer: TimerId;
  done(result: AttemptResult): void;
}

export class Provisioning {
  readonly deviceId: string;
  readonly apSsid: string;
  readonly store: NetworkStore;
  private readonly wifi: WiFi;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly o: Required<
    Pick<ProvisioningOptions, 'fallbackMs' | 'lostFallbackMs' | 'attemptTimeoutMs' | 'testTimeoutMs' | 'apLingerMs' | 'portalIdleMs'>
  >;
  private current: ProvisioningState = 'idle';
  private attempt: Attempt | undefined;
  /** Bumped to abandon a round over the stored networks. */
  private round = 0;
  private link: { ssid: string; ip: string } | undefined;
  private associatedSsid: string | undefined;
  private ap: { ip: string } | undefined;
  private portal: PortalServers | undefined;
  private retryTimer: TimerId | undefined;
  private fallbackTimer: TimerId | undefined;
  private apStopTimer: TimerId | undefined;
  private readonly scanner: Scanner;
  private test: { ssid: string; status: 'pending' | 'failed' | 'ok'; message: string; ip: string } | undefined;
  private lastPortalUse = -Infinity;
  private stations = 0;
  /** Made at the first subscribe(). */
  private listeners: StateListener[] | undefined;

  constructor(private readonly options: ProvisioningOptions) {
    const { platform } = options;
    if (!platform.wifi) throw new ProvisioningConfigError('this platform has no Wi-Fi port: provisioning needs platform.wifi');
    this.wifi = platform.wifi;
    this.clock = platform.clock;
    this.log = platform.log;
    this.deviceId = options.deviceId ?? platform.system.deviceId();
    this.apSsid = accessPointName(options.prefix, this.deviceId);
    if (utf8Length(this.apSsid) > 32) {
      throw new ProvisioningConfigError(`access point name "${this.apSsid}" is longer than 32 bytes: shorten the prefix`);
    }
    if (options.apPassword !== undefined && (options.apPassword.length < 8 || options.apPassword.length > 63)) {
      throw new ProvisioningConfigError('apPassword must be 8 to 63 characters (WPA2), or left out for an open access point');
    }
    this.store = new NetworkStore(platform.storage, options.maxNetworks ?? DEFAULT_MAX_NETWORKS);
    this.scanner = new Scanner(this.wifi, this.clock, this.log);
    this.backoff = new Backoff(options.retryInitialMs ?? 2_000, options.retryMaxMs ?? 60_000, platform.system);
    this.o = {
      fallbackMs: options.fallbackMs ?? 90_000,
      lostFallbackMs: options.lostFallbackMs ?? 300_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 15_000,
      testTimeoutMs: options.testTimeoutMs ?? 20_000,
      apLingerMs: options.apLingerMs ?? 15_000,
      portalIdleMs: options.portalIdleMs ?? 60_000,
    };
  }

  // ---- public API ------------------------------------------------------------------------------

  get state(): ProvisioningState {
    return this.current;
  }

  /** Station address while connected. */
  get ip(): string | undefined {
    return this.link?.ip;
  }

  get ssid(): string | undefined {
    return this.link?.ssid;
  }

  get accessPointActive(): boolean {
    return this.ap !== undefined;
  }

  /** Port of the portal's HTTP server while the access point is up (useful when 0 was asked for). */
  get portalHttpPort(): number | undefined {
    return this.portal?.httpPort;
  }

  get portalDnsPort(): number | undefined {
    return this.portal?.dnsPort;
  }

  /** Absolute URL of the portal page while the access point is up. */
  get portalUrl(): string | undefined {
    return this.ap ? this.origin() : undefined;
  }

  /** Networks seen in the last scan, strongest first, one entry per SSID. */
  get scanResults(): WiFiNetwork[] {
    return this.scanner.last;
  }

  /** Listens to state changes (besides options.onState). */
  subscribe(listener: StateListener): void {
    (this.listeners ??= []).push(listener);
  }

  unsubscribe(listener: StateListener): void {
    const list = this.listeners;
    const i = list ? list.indexOf(listener) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  start(): void {
    if (this.current !== 'idle') return;
    this.wifi.onEvent((event) => this.onWiFiEvent(event));
    if (this.store.size === 0) {
      this.log.log('info', 'provisioning: no stored Wi-Fi network, opening the access point');
      this.openAccessPoint();
      return;
    }
    this.setState('connecting');
    this.fallbackTimer = this.clock.set(() => this.fallBack('no stored network connected in time'), this.o.fallbackMs);
    this.runRound();
  }

  stop(): void {
    if (this.current === 'stopped') return;
    this.round++;
    this.clearTimer('retryTimer');
    this.clearTimer('fallbackTimer');
    this.clearTimer('apStopTimer');
    this.finishAttempt({ ok: false, ssid: this.attempt?.ssid ?? '', reason: 'stopped', message: 'provisioning stopped' });
    this.scanner.cancel();
    this.closeAccessPoint();
    this.wifi.onEvent(() => {});
    this.setState('stopped');
  }

  /** Opens the access point and portal now (e.g. on a long button press); the device keeps retrying stored networks. */
  openAccessPoint(): void {
    this.clearTimer('fallbackTimer');
    this.clearTimer('apStopTimer');
    if (this.ap || this.current === 'stopped') return;
    let ip: string;
    try {
      ip = this.wifi.startAccessPoint({ ssid: this.apSsid, password: this.options.apPassword }).ip;
    } catch (error) {
      // Without the access point nobody can set the device up: keep trying.
      this.log.log('error', `provisioning: access point did not start (${(error as Error).message}); retrying in 10 s`);
      this.fallbackTimer = this.clock.set(() => this.fallBack('retrying the access point'), 10_000);
      return;
    }
    this.ap = { ip };
    this.log.log('info', `provisioning: access point "${this.apSsid}" up at ${ip}`);
    this.startPortal(ip);
    if (this.current !== 'testing' && this.current !== 'connected') this.setState('ap');
    if (this.link) this.apStopTimer = this.clock.set(() => this.lingerOver(), this.o.portalIdleMs);
    if (!this.attempt) this.scan(() => {});
  }

  /** Stored SSIDs, most recently successful first (passwords stay inside). */
  savedNetworks(): string[] {
    return this.store.list().map((n) => n.ssid);
  }

  forget(ssid: string): boolean {
    return this.store.forget(ssid);
  }

  /** Scans (or, while a join attempt runs, answers from the last scan). Strongest first, one entry per SSID. */
  scan(callback: (networks: WiFiNetwork[]) => void): void {
    if (this.attempt) {
      callback(this.scanner.last);
      return;
    }
    this.scanner.scan((networks) => callback(networks ? strongestPerSsid(networks) : this.scanner.last));
  }

  /**
   * Tries credentials from the user; they are stored only when the device gets an address with
   * them, and `extras` are handed to onExtraSettings only then. `done` hears how the attempt ended.
   * Throws ProvisioningInputError for invalid input and ProvisioningBusyError while another attempt
   * from a user runs. (A callback, not a Promise: a build with no Promise leaves the engine's out.)
   */
  tryCredentials(credentials: WiFiCredentials, extras: ExtraSettings = {}, done?: (result: AttemptResult) => void): void {
    const creds = validateCredentials(credentials.ssid, credentials.password);
    const checkedExtras = validateExtras(extras);
    if (this.current === 'stopped' || this.current === 'idle') {
      throw new ProvisioningConfigError('provisioning is not running: call start() first');
    }
    if (this.test?.status === 'pending') {
      throw new ProvisioningBusyError(`Still trying “${this.test.ssid}”; wait a moment and reload.`);
    }
    this.round++;
    this.clearTimer('retryTimer');
    this.clearTimer('apStopTimer');
    this.finishAttempt({ ok: false, ssid: this.attempt?.ssid ?? '', reason: 'cancelled', message: 'replaced by new credentials' });
    if (this.link) {
      this.link = undefined;
      this.wifi.disconnect();
    }
    this.test = { ssid: creds.ssid, status: 'pending', message: '', ip: '' };
    this.setState('testing');
    this.join(creds, this.o.testTimeoutMs, (result) => {
      if (result.ok) {
        this.store.save(creds);
        this.test = { ssid: creds.ssid, status: 'ok', message: '', ip: result.ip };
        if (Object.keys(checkedExtras).length) {
          try {
            this.options.onExtraSettings?.(checkedExtras);
          } catch (error) {
            this.log.log('error', `provisioning: onExtraSettings failed: ${(error as Error).message}`);
          }
        }
        this.connected(result.ssid, result.ip);
      } else {
        this.test = { ssid: creds.ssid, status: 'failed', message: result.message, ip: '' };
        this.log.log('warn', `provisioning: new credentials for "${creds.ssid}" failed (${result.reason}); nothing stored`);
        if (result.reason !== 'stopped') this.afterFailedTest();
      }
      done?.(result);
    });
  }

  // ---- rounds over the stored networks -----------------------------------------------------------

  private runRound(): void {
    this.retryTimer = undefined;
    if (this.link || this.attempt || this.current === 'testing' || this.current === 'stopped') return;
    if (this.store.size === 0) return;
    if (this.ap && this.clock.now() - this.lastPortalUse < this.o.portalIdleMs) {
      // Someone is using the portal: a scan or join would disturb their link to the access point.
      this.retryTimer = this.clock.set(() => this.runRound(), 5_000);
      return;
    }
    const round = ++this.round;
    this.scanner.scan((networks) => {
      if (round !== this.round) return;
      this.tryCandidates(round, pickCandidates(this.store.list(), networks), 0);
    });
  }

  private tryCandidates(round: number, candidates: Candidate[], index: number): void {
    if (round !== this.round) return;
    if (index >= candidates.length) {
      this.scheduleRound(this.backoff.next());
      return;
    }
    const candidate = candidates[index];
    this.join(candidate, this.o.attemptTimeoutMs, (result) => {
      if (round !== this.round) return;
      if (result.ok) this.connected(result.ssid, result.ip);
      else {
        this.log.log('info', `provisioning: "${candidate.ssid}" failed (${result.reason})`);
        this.tryCandidates(round, candidates, index + 1);
      }
    });
  }

  private scheduleRound(delay: number): void {
    this.clearTimer('retryTimer');
    if (this.current === 'stopped') return;
    this.retryTimer = this.clock.set(() => this.runRound(), delay);
  }

  private afterFailedTest(): void {
    this.setState(this.ap ? 'ap' : 'connecting');
    if (!this.ap && this.fallbackTimer === undefined) {
      this.fallbackTimer = this.clock.set(() => this.fallBack('no network connected in time'), this.o.fallbackMs);
    }
    this.backoff.reset();
    this.scheduleRound(this.backoff.next());
  }

  private fallBack(why: string): void {
    this.fallbackTimer = undefined;
    if (this.link || this.current === 'stopped') return;
    this.log.log('warn', `provisioning: ${why}, opening the access point`);
    this.openAccessPoint();
  }

  // ---- joining -----------------------------------------------------------------------------------

  private join(candidate: Candidate, timeoutMs: number, done: (result: AttemptResult) => void): void {
    const ssid = candidate.ssid;
    this.attempt = {
      ssid,
      done,
      timer: this.clock.set(() => {
        if (this.attempt) this.attempt.timer = undefined;
        this.finishAttempt({ ok: false, ssid, reason: 'timeout', message: failureMessage(ssid, 'timeout') });
      }, timeoutMs),
    };
    this.associatedSsid = undefined;
    this.wifi.connect({ ssid, password: candidate.password || undefined, bssid: candidate.bssid });
  }

  private finishAttempt(result: AttemptResult): void {
    const a = this.attempt;
    if (!a) return;
    this.attempt = undefined;
    if (a.timer !== undefined) this.clock.clear(a.timer);
    // Stop the radio's own retries with credentials that did not work.
    if (!result.ok) this.wifi.disconnect();
    a.done(result.ok ? result : { ...result, ssid: a.ssid });
  }

  private connected(ssid: string, ip: string): void {
    this.link = { ssid, ip };
    // the page shows no networks once connected: their list needs no memory (a new scan makes another)
    this.scanner.forget();
    this.store.promote(ssid);
    this.backoff.reset();
    this.clearTimer('retryTimer');
    this.clearTimer('fallbackTimer');
    this.setState('connected');
    this.log.log('info', `provisioning: connected to "${ssid}" as ${ip}`);
    if (this.ap) {
      const inUse = this.stations > 0 || this.clock.now() - this.lastPortalUse < this.o.portalIdleMs;
      this.clearTimer('apStopTimer');
      if (inUse) this.apStopTimer = this.clock.set(() => this.lingerOver(), this.o.apLingerMs);
      else this.closeAccessPoint();
    }
    this.options.onConnected?.(ip, ssid);
  }

  /** While connected, the access point closes once the portal has been unused for apLingerMs. */
  private lingerOver(): void {
    this.apStopTimer = undefined;
    if (!this.link || !this.ap) return;
    const idle = this.clock.now() - this.lastPortalUse;
    if (idle < this.o.apLingerMs) this.apStopTimer = this.clock.set(() => this.lingerOver(), this.o.apLingerMs - idle);
    else this.closeAccessPoint();
  }

  private lost(reason: WiFiDisconnectReason): void {
    const previous = this.link;
    this.link = undefined;
    this.log.log('warn', `provisioning: lost "${previous?.ssid}" (${reason}); reconnecting`);
    this.setState(this.ap ? 'ap' : 'connecting');
    this.options.onDisconnected?.(reason);
    if (!this.ap) this.fallbackTimer = this.clock.set(() => this.fallBack('the network stayed lost'), this.o.lostFallbackMs);
    this.backoff.reset();
    // The network that just worked first, without waiting for a scan.
    const stored = previous ? this.store.list().find((n) => n.ssid === previous.ssid) : undefined;
    if (!stored) {
      this.runRound();
      return;
    }
    const round = ++this.round;
    this.join(stored, this.o.attemptTimeoutMs, (result) => {
      if (round !== this.round) return;
      if (result.ok) this.connected(result.ssid, result.ip);
      else this.scheduleRound(this.backoff.next());
    });
  }

  private onWiFiEvent(event: WiFiEvent): void {
    switch (event.type) {
      case 'connected':
        this.associatedSsid = event.ssid;
        break;
      case 'got-ip':
        if (this.attempt) this.finishAttempt({ ok: true, ssid: this.attempt.ssid, ip: event.ip });
        else if (this.link) this.link = { ...this.link, ip: event.ip };
        else if (this.associatedSsid && this.current !== 'stopped' && this.current !== 'testing') {
          // The radio reconnected on its own between our attempts.
          this.round++;
          this.connected(this.associatedSsid, event.ip);
        }
        break;
      case 'disconnected':
        this.associatedSsid = undefined;
        if (this.attempt) {
          // "by-request" comes from our own disconnect() of an earlier attempt.
          if (event.reason !== 'by-request') {
            const ssid = this.attempt.ssid;
            this.finishAttempt({ ok: false, ssid, reason: event.reason, message: failureMessage(ssid, event.reason) });
          }
        } else if (this.link && event.reason !== 'by-request') this.lost(event.reason);
        break;
      case 'station-joined':
        this.stations++;
        break;
      case 'station-left':
        this.stations = Math.max(0, this.stations - 1);
        if (this.stations === 0) this.lastPortalUse = -Infinity;
        break;
    }
  }

  // ---- access point and portal -------------------------------------------------------------------

  /** @internal Absolute URL of the page. */
  origin(): string {
    const portal = this.options.portal;
    const host = portal?.listenAddress ?? this.ap?.ip ?? '';
    const port = this.portal?.httpPort ?? 80;
    return `http://${host.indexOf(':') >= 0 ? `[${host}]` : host}${port === 80 ? '' : `:${port}`}/`;
  }

  private startPortal(ip: string): void {
    const options = this.options.portal ?? {};
    if (options.enabled === false) return;
    const { network } = this.options.platform;
    this.portal = new PortalServers(network, this.clock, this.log, ip, options, new PortalLink(this, this.options.firmwareVersion));
  }

  private closeAccessPoint(): void {
    this.clearTimer('apStopTimer');
    this.portal?.close();
    this.portal = undefined;
    if (this.ap) {
      this.ap = undefined;
      this.stations = 0;
      this.wifi.stopAccessPoint();
      this.log.log('info', 'provisioning: access point closed');
    }
    // nobody sees the page now: the last attempt's outcome needs no memory
    if (this.link && this.test?.status !== 'pending') this.test = undefined;
  }

  /** @internal What the portal page shows (PortalLink). */
  portalStatus(): PortalStatus {
    const t = this.test;
    if (t?.status === 'pending') return { kind: 'testing', ssid: t.ssid };
    if (this.link) return { kind: 'connected', ssid: this.link.ssid, ip: this.link.ip };
    if (t?.status === 'failed') return { kind: 'failed', ssid: t.ssid, message: t.message };
    if (this.scanner.busy && !this.scanner.last.length) return { kind: 'scanning' };
    return { kind: 'idle' };
  }

  /** @internal The page's list of networks (PortalLink). */
  portalNetworks(): PageView['networks'] {
    return this.scanner.last.slice(0, 12).map((n) => ({ ssid: n.ssid, rssi: n.rssi, security: securityLabel(n.auth) }));
  }

  /** @internal The page asked for a scan (PortalLink). */
  portalScan(): void {
    if (!this.attempt) this.scanner.scan(() => {});
  }

  /** @internal A request reached the portal: it is in use (PortalLink). */
  portalUsed(): void {
    this.lastPortalUse = this.clock.now();
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private setState(state: ProvisioningState): void {
    if (state === this.current) return;
    this.current = state;
    this.options.onState?.(state);
    const list = this.listeners;
    if (list) for (const l of list.slice()) l.provisioningState(state);
  }

  private clearTimer(name: 'retryTimer' | 'fallbackTimer' | 'apStopTimer'): void {
    const id = this[name];
    if (id !== undefined) this.clock.clear(id);
    this[name] = undefined;
  }
}

/** The portal's view of provisioning (PortalContext), as methods of a class: no closures in the heap while the access point is up. */
class PortalLink implements PortalContext {
  readonly title: string;
  readonly deviceId: string;

  constructor(
    private readonly p: Provisioning,
    readonly firmwareVersion: string,
  ) {
    this.title = p.apSsid;
    this.deviceId = p.deviceId;
  }

  origin(): string {
    return this.p.origin();
  }

  networks(): PageView['networks'] {
    return this.p.portalNetworks();
  }

  status(): PortalStatus {
    return this.p.portalStatus();
  }

  requestScan(): void {
    this.p.portalScan();
  }

  submit(credentials: WiFiCredentials, extras: ExtraSettings): void {
    this.p.tryCredentials(credentials, extras);
  }

  activity(): void {
    this.p.portalUsed();
  }
}

