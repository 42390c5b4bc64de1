// Simulated Wi-Fi radio implementing the WiFi port: networks with SSID, password and RSSI that can
// vanish and come back, a wrong password that fails with 'auth-failed' like ESP-IDF's
// WIFI_REASON_AUTH_FAIL, DHCP after association, and an access point beside the station.
// All timing goes through the Clock port, so tests can run it on the test kit's ManualClock.
import type {
  AccessPointOptions,
  Clock,
  TimerId,
  WiFi,
  WiFiAuth,
  WiFiDisconnectReason,
  WiFiEvent,
  WiFiNetwork,
} from '../../src/ports';

export interface SimNetwork {
  ssid: string;
  /** Passphrase; absent or "" for an open network. */
  password?: string;
  rssi: number;
  channel?: number;
  bssid?: string;
  /** Address DHCP hands out on this network. Default 192.168.1.<100 + index>. */
  ip?: string;
  /** Hidden networks are joinable but do not appear in scans. */
  hidden?: boolean;
}

export interface SimRadioOptions {
  clock: Clock;
  networks?: SimNetwork[];
  /** Time from connect() to association or to the failure. Default 300 ms (ESP-IDF: ~0.3-3 s). */
  associateMs?: number;
  /** Time a wrong password takes to fail (4-way handshake timeout on real radios). Default 1000 ms. */
  authFailMs?: number;
  /** Time from association to 'got-ip'. Default 200 ms. */
  dhcpMs?: number;
  /** Time a scan takes. Default 500 ms (active scan over 13 channels is ~1-2 s). */
  scanMs?: number;
  /** Time until a vanished network is noticed (missed beacons). Default 0: at once. */
  beaconLossMs?: number;
  /** Address of our own access point. Default 192.168.4.1. */
  apIp?: string;
  /** Keep a ConnectRecord of every connect() in `connects`. Default true; a fleet of thousands turns it off. */
  recordConnects?: boolean;
}

export class SimRadioError extends Error {
  override name = 'SimRadioError';
  constructor(
    readonly code: 'unknown-network' | 'bad-ap-config',
    message: string,
  ) {
    super(message);
  }
}

export type RadioTiming = Required<Omit<SimRadioOptions, 'clock' | 'networks' | 'recordConnects'>>;

const DEFAULT_TIMING: Readonly<RadioTiming> = { associateMs: 300, authFailMs: 1000, dhcpMs: 200, scanMs: 500, beaconLossMs: 0, apIp: '192.168.4.1' };

/**
 * A network as this radio sees it: the description (shared, never changed) and what changes at run
 * time. Channel, BSSID and address default from the position, computed when asked for.
 */
interface Entry {
  readonly network: SimNetwork;
  readonly index: number;
  ssid: string;
  password: string | undefined;
  rssi: number;
  visible: boolean;
}

const channelOf = (n: Entry) => n.network.channel ?? 1 + ((n.index * 5) % 13);
const bssidOf = (n: Entry) => n.network.bssid ?? `02:00:00:00:00:${(n.index + 1).toString(16).padStart(2, '0')}`;
/** Default addresses by position, made once per process (every radio of a fleet gets the first). */
const DEFAULT_IPS: string[] = [];
const ipOf = (n: Entry) => n.network.ip ?? (DEFAULT_IPS[n.index] ??= `192.168.1.${100 + n.index}`);
const ignore = () => {};

/** A connect() call as the radio saw it, for assertions. */
export interface ConnectRecord {
  at: number;
  ssid: string;
  password?: string;
  bssid?: string;
}

export class SimRadio implements WiFi {
  scans = 0;
  /** When set, scans fail with this error (a busy or broken radio). */
  scanError: Error | undefined;
  private readonly clock: Clock;
  /** Own step durations, made when given or asked for (a fleet's radios share DEFAULT_TIMING). */
  #timing: RadioTiming | undefined;
  /** The networks as this radio sees them: shared by every radio of the same list until one changes (own()). */
  private nets: Entry[];
  private ownNets = false;
  private readonly record: boolean;
  #connects: ConnectRecord[] | undefined;
  private handler: (event: WiFiEvent) => void = ignore;
  /** Bumped by every connect/disconnect, so pending steps of an older attempt do nothing. */
  private generation = 0;
  private pending: TimerId[] | undefined;
  /** The network the station is associated with (two fields, not an object per radio). */
  private stationSsid: string | undefined;
  /** Its address once DHCP answered. */
  private stationIp: string | undefined;
  private ap: (AccessPointOptions & { ip: string }) | undefined;
  private stationsOnAp = 0;

  constructor(options: SimRadioOptions) {
    this.clock = options.clock;
    const o = options;
    if (o.associateMs !== undefined || o.authFailMs !== undefined || o.dhcpMs !== undefined || o.scanMs !== undefined || o.beaconLossMs !== undefined || o.apIp !== undefined) {
      this.#timing = {
        associateMs: o.associateMs ?? DEFAULT_TIMING.associateMs,
        authFailMs: o.authFailMs ?? DEFAULT_TIMING.authFailMs,
        dhcpMs: o.dhcpMs ?? DEFAULT_TIMING.dhcpMs,
        scanMs: o.scanMs ?? DEFAULT_TIMING.scanMs,
        beaconLossMs: o.beaconLossMs ?? DEFAULT_TIMING.beaconLossMs,
        apIp: o.apIp ?? DEFAULT_TIMING.apIp,
      };
    }
    this.record = options.recordConnects ?? true;
    this.nets = pristine(options.networks ?? []);
  }

  /** Step durations; tests may change them between steps (e.g. a DHCP server that stops answering). */
  get timing(): RadioTiming {
    return (this.#timing ??= { ...DEFAULT_TIMING });
  }

  private get steps(): RadioTiming {
    return this.#timing ?? DEFAULT_TIMING;
  }

  // ---- scenario controls -----------------------------------------------------------------------

  addNetwork(network: SimNetwork): void {
    const nets = this.own();
    nets.push(entry(network, nets.length));
  }

  /** The network goes away (router off, out of range); a station on it loses the link. */
  vanish(ssid: string): void {
    for (const n of this.matching(ssid, true)) n.visible = false;
    if (this.stationSsid === ssid) {
      const gen = this.generation;
      this.later(() => {
        if (gen !== this.generation || this.stationSsid !== ssid) return;
        this.leaveStation();
        this.emit({ type: 'disconnected', reason: 'beacon-timeout' });
      }, this.steps.beaconLossMs);
    }
  }

  /** The network is back. */
  restore(ssid: string): void {
    for (const n of this.matching(ssid, true)) n.visible = true;
  }

  setRssi(ssid: string, rssi: number): void {
    for (const n of this.matching(ssid, true)) n.rssi = rssi;
  }

  /** The router's password changed: a station on it is dropped and must authenticate again. */
  changePassword(ssid: string, password: string): void {
    for (const n of this.matching(ssid, true)) n.password = password;
    if (this.stationSsid === ssid) {
      this.leaveStation();
      this.generation++;
      this.later(() => this.emit({ type: 'disconnected', reason: 'auth-failed' }), 0);
    }
  }

  /** A phone joins or leaves our access point. */
  stationJoins(): void {
    if (!this.ap) return;
    this.stationsOnAp++;
    this.defer(() => this.emit({ type: 'station-joined' }), 0);
  }

  stationLeaves(): void {
    if (!this.ap || this.stationsOnAp === 0) return;
    this.stationsOnAp--;
    this.defer(() => this.emit({ type: 'station-left' }), 0);
  }

  /** Every connect() call, oldest first (empty with recordConnects: false). */
  get connects(): ConnectRecord[] {
    return (this.#connects ??= []);
  }

  get connectedSsid(): string | undefined {
    return this.stationIp ? this.stationSsid : undefined;
  }

  get accessPoint(): (AccessPointOptions & { ip: string }) | undefined {
    return this.ap;
  }

  // ---- WiFi port -------------------------------------------------------------------------------

  onEvent(handler: (event: WiFiEvent) => void): void {
    this.handler = handler;
  }

  scan(callback: (networks: WiFiNetwork[] | undefined, error?: Error) => void): void {
    this.scans++;
    this.defer(() => {
      if (this.scanError) {
        callback(undefined, this.scanError);
        return;
      }
      const found: WiFiNetwork[] = this.nets
        .filter((n) => n.visible && !n.network.hidden)
        .map((n) => ({ ssid: n.ssid, bssid: bssidOf(n), rssi: n.rssi, channel: channelOf(n), auth: authOf(n) }));
      found.sort((a, b) => b.rssi - a.rssi);
      callback(found);
    }, this.steps.scanMs);
  }

  connect(options: { ssid: string; password?: string; bssid?: string }): void {
    if (this.record) this.connects.push({ at: this.clock.now(), ...options });
    const wasUp = this.stationSsid !== undefined;
    this.cancelPending();
    const gen = ++this.generation;
    if (wasUp) {
      // Joining another network drops the current one first, as on ESP-IDF.
      this.leaveStation();
      this.later(() => this.emit({ type: 'disconnected', reason: 'by-request' }), 0);
    }
    const target = this.pick(options.ssid, options.bssid);
    if (!target) {
      this.later(() => gen === this.generation && this.emit({ type: 'disconnected', reason: 'no-ap-found' }), this.steps.associateMs);
      return;
    }
    const secured = !!target.password;
    if (secured && options.password !== target.password) {
      this.later(() => gen === this.generation && this.fail('auth-failed'), this.steps.associateMs + this.steps.authFailMs);
      return;
    }
    const index = target.index;
    this.later(() => {
      if (gen !== this.generation) return;
      // this radio's entry now (a change since connect() may have made its own copy)
      const target = this.nets[index];
      if (!target.visible) {
        this.fail('no-ap-found');
        return;
      }
      this.stationSsid = target.ssid;
      this.stationIp = undefined;
      this.emit({ type: 'connected', ssid: target.ssid });
      this.later(() => {
        if (gen !== this.generation || this.stationSsid !== target.ssid) return;
        const ip = ipOf(target);
        this.stationIp = ip;
        this.emit({ type: 'got-ip', ip });
      }, this.steps.dhcpMs);
    }, this.steps.associateMs);
  }

  disconnect(): void {
    const wasUp = this.stationSsid !== undefined;
    const wasTrying = this.pending !== undefined;
    this.cancelPending();
    this.generation++;
    this.leaveStation();
    if (wasUp || wasTrying) this.later(() => this.emit({ type: 'disconnected', reason: 'by-request' }), 0);
  }

  rssi(): number | undefined {
    if (!this.stationIp) return undefined;
    return this.matching(this.stationSsid!).find((n) => n.visible)?.rssi;
  }

  startAccessPoint(options: AccessPointOptions): { ip: string } {
    if (!options.ssid || options.ssid.length > 32) {
      throw new SimRadioError('bad-ap-config', `access point SSID must be 1..32 characters, got "${options.ssid}"`);
    }
    if (options.password !== undefined && (options.password.length < 8 || options.password.length > 63)) {
      throw new SimRadioError('bad-ap-config', 'access point password must be 8..63 characters (WPA2)');
    }
    this.ap = { ...options, ip: this.steps.apIp };
    return { ip: this.steps.apIp };
  }

  stopAccessPoint(): void {
    this.ap = undefined;
    this.stationsOnAp = 0;
  }

  // ---- internals -------------------------------------------------------------------------------

  /** The entries of the SSID; `change`: this radio's own copies, to change. */
  private matching(ssid: string, change = false): Entry[] {
    const found = (change ? this.own() : this.nets).filter((n) => n.ssid === ssid);
    if (!found.length) throw new SimRadioError('unknown-network', `no simulated network "${ssid}"; add it with addNetwork()`);
    return found;
  }

  /** This radio's own entries, copied from the shared ones at the first change. */
  private own(): Entry[] {
    if (!this.ownNets) {
      this.nets = this.nets.map((n) => ({ ...n }));
      this.ownNets = true;
    }
    return this.nets;
  }

  /** The visible access point for the SSID (the given BSSID, else the strongest). */
  private pick(ssid: string, bssid?: string): Entry | undefined {
    const candidates = this.nets.filter((n) => n.ssid === ssid && n.visible && (!bssid || bssidOf(n) === bssid));
    candidates.sort((a, b) => b.rssi - a.rssi);
    return candidates[0];
  }

  private leaveStation(): void {
    this.stationSsid = undefined;
    this.stationIp = undefined;
  }

  private fail(reason: WiFiDisconnectReason): void {
    this.leaveStation();
    this.emit({ type: 'disconnected', reason });
  }

  /** Hands an event to the firmware's handler (a subclass may look at it first). */
  protected emit(event: WiFiEvent): void {
    this.handler(event);
  }

  /** A step of the station link; connect() and disconnect() cancel the ones still pending. */
  private later(fn: () => void, ms: number): void {
    const id = this.clock.set(() => {
      const left = this.pending?.filter((p) => p !== id);
      this.pending = left?.length ? left : undefined;
      fn();
    }, ms);
    if (this.pending) this.pending.push(id);
    else this.pending = [id];
  }

  /** Scan results and access point events, which link changes do not cancel. */
  private defer(fn: () => void, ms: number): void {
    this.clock.set(fn, ms);
  }

  private cancelPending(): void {
    for (const id of this.pending ?? []) this.clock.clear(id);
    this.pending = undefined;
  }
}

/** Unchanged entries of each list of networks, shared by the radios given that list (a fleet shares one). */
const PRISTINE = new WeakMap<SimNetwork[], Entry[]>();

function pristine(networks: SimNetwork[]): Entry[] {
  let entries = PRISTINE.get(networks);
  if (!entries) {
    entries = networks.map((n, index) => entry(n, index));
    PRISTINE.set(networks, entries);
  }
  return entries;
}

function entry(network: SimNetwork, index: number): Entry {
  return { network, index, ssid: network.ssid, password: network.password, rssi: network.rssi, visible: true };
}

function authOf(n: Entry): WiFiAuth {
  return n.password ? 'wpa2' : 'open';
}
