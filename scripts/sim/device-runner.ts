// One simulated NodeMCU: boots the firmware from src/ (main()) on the sim host the way the board's
// bootloader would, in its own state dir (device id, key-value store with boot counter, Wi-Fi
// settings and config, flash slots), with its own seeded environment, radio, sensors and network
// faults. restart() and powerCut() boot it again from the state dir, as hardware does.
//
// Per device there is no Node timer: its clock is a view on the process's TimerWheel.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '../../src/device/device';
import type { PresenceState } from '../../src/device/presence';
import { main } from '../../src/main';
import type { HostClientOptions } from '../../src/device/client-options';
import type { FlashUpdate, KeyValueStore, Logger, LogLevel, Network, Platform, ResetReason, UpdateWriter, WiFiEvent } from '../../src/ports';
import type { Provisioning } from '../../src/provisioning/provisioning';
import type { ProvisioningState } from '../../src/provisioning/types';
import { FIRMWARE_VERSION } from '../../src/version';
import { bootSim, type SimImage, type SimLayout } from '../../hosts/sim/bootloader';
import { buildBoard, setChipBroken, type BoardParts, type BoardProfile, type SiteSource } from './device-board';
import type { Environment, Site, SiteValues } from './environment';
import { hash32 } from './environment';
import { FaultNetwork, LinkState } from './faults';
import { MemoryKeyValueStore } from '../../hosts/sim/memory-kv';
import { createSimPlatform } from '../../hosts/sim/platform';
import { SimRadio } from '../../hosts/sim/radio';
import type { SharedClock, TimerWheel } from '../../hosts/sim/shared-clock';
import { SimSystem } from '../../hosts/sim/system';
import { CheckedStore } from '../../src/device/checked-store';

// ---- images and the bootloader ---------------------------------------------------------------------

export type { SimImage, SimImageBehaviour } from '../../hosts/sim/bootloader';

/** What a bootloader hands to one boot: the image to run and, with flash slots, the update port. */
export interface SimBootChoice {
  image: SimImage;
  update?: FlashUpdate;
  /** The bootloader's decisions, for the log. */
  notes?: string[];
}
/** Chooses the image of a boot from the state dir (the flash slots), like the board's bootloader. */
export type BootLoader = (stateDir: string, factory: SimImage, boardType?: SimBoardType) => SimBootChoice;

/** The chip a simulated device is: how its flash keeps images (see hosts/sim/bootloader.ts), and the board type it reports. */
export type SimBoardType = SimLayout;

/** Without flash slots (a device without a state dir): always the built-in firmware, no updates. */
export const builtInFirmware: BootLoader = (_stateDir, factory) => ({ image: factory });

/**
 * Two flash slots in the state dir, with rollback of images that fail their trial (hosts/sim/bootloader.ts);
 * an ESP8266 board type stages them and copies the chosen one into its app area.
 */
export const flashBootLoader: BootLoader = (stateDir, factory, boardType) => bootSim(stateDir, factory, boardType ? { layout: boardType, board: boardType } : {});

// ---- options ----------------------------------------------------------------------------------------

/** The Wi-Fi network every simulated device lives in. */
export const SIM_WIFI = { ssid: 'simnet', password: 'simulated-wifi' };

export type DevicePower = 'on' | 'off';

export interface DeviceLogSink {
  (runner: SimDeviceRunner, level: LogLevel, message: string): void;
}

export interface SimDeviceOptions {
  /** Position in the fleet: picks the site, the board and the seed. */
  index: number;
  wheel: TimerWheel;
  environment: Environment;
  /** The process's real network (shared by every device). */
  network: Network;
  /** The device's own folder; without it the device keeps its state in memory (benchmarks). */
  stateDir?: string;
  /** Storage writes in the state dir wait for the disk (fsync). Default true. */
  flushStorage?: boolean;
  /** Fleet seed: with it, device ids (of new state dirs), jitter and values repeat from run to run. */
  seed?: number;
  /** Build-time configuration defaults: brokerHost, brokerPort, brokerTls, prefix, intervals, ... (shared: never changed). */
  config: Record<string, unknown>;
  /** Listener ports of the broker: the device connects to brokerPorts[index % length] instead of config.brokerPort. */
  brokerPorts?: number[];
  /** Name the device "Sim <index + 1>" (config.name). */
  named?: boolean;
  /** Extra MQTT client options (a TLS CA for mqtts://). */
  client?: HostClientOptions;
  board?: BoardProfile;
  /** Simulate Wi-Fi (radio and the firmware's provisioning). Default true. */
  wifi?: boolean;
  /** Default: flashBootLoader with a state dir, builtInFirmware without one. */
  bootLoader?: BootLoader;
  /** The chip: 'esp32' (two slots run in place) or 'esp8266' (staged, copied into the app area); reported as the board type. Default: none (the firmware's default board, the esp32 layout). */
  boardType?: SimBoardType;
  /** Firmware features (OTA) for each boot. */
  extensions?: (runner: SimDeviceRunner) => ((device: Device) => void)[];
  log?: DeviceLogSink;
  /** Something changed that a view shows (state, boot, faults). */
  onChange?: (runner: SimDeviceRunner) => void;
  /** The firmware of a new boot has started (main() returned). */
  onBoot?: (runner: SimDeviceRunner) => void;
  /**
   * The device application started (with Wi-Fi: once the station had an address), called inside
   * its start() just before the heartbeat timer is set.
   */
  onStart?: (runner: SimDeviceRunner) => void;
  /** Ms a board takes from reset to main(). Default 150. After panics in a row it waits longer: crashRestartDelay(). */
  bootMs?: number;
  /** Ms the power stays off after powerCut(). Default 3000. */
  powerOffMs?: number;
  /** Free heap an 'ok' image reports. Default 180,000 (an ESP32 with Wi-Fi and TLS up). */
  freeMemory?: number;
}

export class SimDeviceError extends Error {
  override name = 'SimDeviceError';
  constructor(
    readonly code: 'not-running' | 'no-sensor',
    message: string,
  ) {
    super(message);
  }
}

/** Free heap an image that fails its health check reports: below any sane floor. */
export const UNHEALTHY_FREE_MEMORY = 1_024;
/** Ms after boot a crash-looping image panics. */
export const CRASH_AFTER_MS = 3_000;
/** Longest wait before booting again after panics in a row (the crash-loop backoff's cap). */
export const CRASH_BACKOFF_MAX_MS = 60_000;
/** A boot that runs this long without a panic ends a crash loop: the next panic waits bootMs again. */
export const CRASH_LOOP_RESET_MS = 30_000;

/**
 * Ms from a panic to the next boot, like a board that keeps a crash counter across resets: bootMs
 * after the first panic, doubling with each panic in a row (`streak` before this one), at most
 * CRASH_BACKOFF_MAX_MS.
 */
export function crashRestartDelay(streak: number, bootMs: number): number {
  return Math.min(CRASH_BACKOFF_MAX_MS, bootMs * 2 ** Math.min(streak, 30));
}

const ID_FILE = 'device-id';

/** The simulator's boards enter their Wi-Fi password without the captive portal (one object for all). */
const NO_PORTAL = Object.freeze({ enabled: false });

/** The image built into every simulated board (one description for all of them; never changed). */
const FACTORY_IMAGE: SimImage = Object.freeze({ version: FIRMWARE_VERSION, behaviour: 'ok' });

/** Writes through to the sim logger of the fleet, tagged with the runner. One per runner, for every boot. */
class RunnerLog implements Logger {
  constructor(private readonly runner: SimDeviceRunner) {}
  log(level: LogLevel, message: string): void {
    this.runner.emitLog(level, message);
  }
}

/** The Wi-Fi network of every simulated device (one description for all of them). */
const SIM_NETWORKS = [{ ssid: SIM_WIFI.ssid, password: SIM_WIFI.password, rssi: -60 }];

/** The radio with the signal strength of the device's site; its runner hears its events first. */
class SiteRadio extends SimRadio {
  constructor(
    clock: SharedClock,
    private readonly runner: SimDeviceRunner,
  ) {
    super({ clock, networks: SIM_NETWORKS, recordConnects: false });
  }

  override rssi(): number | undefined {
    if (this.connectedSsid === undefined) return undefined;
    const o = this.runner.options;
    return o.environment.rssi(o.index, Math.floor(Date.now() / 1000) * 1000);
  }

  protected override emit(event: WiFiEvent): void {
    this.runner.radioEvent(this, event);
    super.emit(event);
  }
}

interface OtaProgress {
  version: string;
  size: number;
  written: number;
}

/** What lives only for one boot; thrown away at restart or power cut. */
interface Boot {
  clock: SharedClock;
  network: FaultNetwork;
  platform: Platform;
  device?: Device;
  radio?: SiteRadio;
  started: boolean;
  board: BoardParts;
  image: SimImage;
  update?: FlashUpdate;
}

export class SimDeviceRunner implements SiteSource {
  readonly index: number;
  readonly link = new LinkState();
  deviceId = '';
  power: DevicePower = 'off';
  /** Presence state of the running firmware ('init' until the birth). */
  presence: PresenceState | 'off' = 'off';
  wifiState: ProvisioningState | 'off' = 'off';
  /** Boots of this runner in this process. */
  boots = 0;
  lastResetReason: ResetReason = 'power-on';
  ota: OtaProgress | undefined = undefined;
  /** A power cut waits for the next OTA download to reach half way. */
  otaCutArmed = false;
  /** Wi-Fi stays down until this wheel time (an outage survives a reboot). */
  private wifiDownUntil = 0;
  // fields set later start as undefined here, so that V8 keeps them in the object (not in a second array)
  private current: Boot | undefined = undefined;
  private generation = 0;
  private memoryStore: KeyValueStore | undefined = undefined;
  private broken: Set<string> | undefined = undefined;
  private logger: RunnerLog | undefined = undefined;
  /** A firmware exception escaped (a timer callback, a socket callback): the device panics. */
  private readonly panic = (error: unknown) => this.crash(describe(error));
  private nextReset: ResetReason = 'power-on';
  private stopping: Promise<void> | undefined = undefined;
  /** Panics in a row (each within CRASH_LOOP_RESET_MS of its boot); power-on clears it. */
  private crashStreak = 0;
  private bootedAt = 0;

  constructor(readonly options: SimDeviceOptions) {
    this.index = options.index;
  }

  /** Where the device is (made when asked: a few numbers derived from the seed and the index). */
  get site(): Site {
    return this.options.environment.site(this.index);
  }

  /** The physical values at the device's site this second (what its chips sense). */
  siteValues(): SiteValues {
    return this.site.values(Math.floor(Date.now() / 1000) * 1000);
  }

  /** Telemetry sensor names whose chips are broken; survives restarts (a broken chip stays broken). */
  get brokenSensors(): ReadonlySet<string> {
    return this.broken ?? NONE_BROKEN;
  }

  /** The runner's own timers (power coming back, the Wi-Fi outage ending) are the world's, not the firmware's. */
  private get hostClock(): SharedClock {
    return this.options.wheel.hostClock;
  }

  /** The firmware of the current boot, while powered. */
  get device(): Device | undefined {
    return this.current?.device;
  }

  get image(): SimImage | undefined {
    return this.current?.image;
  }

  /** The firmware's Wi-Fi provisioning of this boot (main() runs it when the board has a radio). */
  get provisioning(): Provisioning | undefined {
    return this.current?.device?.provisioning as Provisioning | undefined;
  }

  get version(): string | undefined {
    return this.current?.device?.version ?? this.current?.image.version;
  }

  get board(): BoardParts | undefined {
    return this.current?.board;
  }

  get clock(): SharedClock | undefined {
    return this.current?.clock;
  }

  get network(): FaultNetwork | undefined {
    return this.current?.network;
  }

  get wifiDown(): boolean {
    return this.wifiDownUntil > this.options.wheel.now();
  }

  get stalled(): boolean {
    return this.link.stalled;
  }

  /** Powers the device on (first boot, or after stop()). */
  start(): void {
    if (this.power === 'on') return;
    this.crashStreak = 0;
    this.boot();
  }

  /** Clean stop: "offline" published and acknowledged (bounded), DISCONNECT, power off. */
  stop(reason = 'simulator stopped'): Promise<void> {
    if (this.stopping) return this.stopping;
    const boot = this.current;
    if (!boot?.device) {
      this.powerOff();
      return Promise.resolve();
    }
    this.generation++; // no reboot after this stop
    this.stopping = new Promise<void>((resolve) => {
      boot.device!.stop(reason, () => {
        this.powerOff();
        resolve();
      });
    }).finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  /** Clean restart through the firmware: "offline", then a software reset and a new boot. */
  restart(reason = 'restart requested'): void {
    const device = this.requireDevice('restart');
    device.restart(reason);
  }

  /** Power is cut now: no "offline" (the broker publishes the will); power returns after `offMs`. */
  powerCut(offMs = this.options.powerOffMs ?? 3000): void {
    if (this.power === 'off') return;
    this.log('warn', `power cut (back in ${offMs / 1000} s)`);
    this.powerOff();
    this.nextReset = 'power-on';
    this.crashStreak = 0;
    this.later(() => this.boot(), offMs);
  }

  /** The firmware crashes: a panic reset, then it boots again, later with each panic in a row. */
  crash(why: string): void {
    if (this.power === 'off') return;
    if (this.options.wheel.now() - this.bootedAt >= CRASH_LOOP_RESET_MS) this.crashStreak = 0;
    const delay = crashRestartDelay(this.crashStreak++, this.options.bootMs ?? 150);
    this.log('error', `panic: ${why}${this.crashStreak > 1 ? ` (panic ${this.crashStreak} in a row; booting again in ${delay / 1000} s)` : ''}`);
    this.powerOff();
    this.nextReset = 'panic';
    this.later(() => this.boot(), delay);
  }

  /** The Wi-Fi network vanishes for `ms` (the router reboots, the device is out of range). */
  dropWifi(ms = 15_000): void {
    const wheel = this.options.wheel;
    this.wifiDownUntil = Math.max(this.wifiDownUntil, wheel.now() + ms);
    this.log('warn', `Wi-Fi network "${SIM_WIFI.ssid}" gone for ${ms / 1000} s`);
    this.applyWifiOutage();
    const until = this.wifiDownUntil;
    this.hostClock.set(() => {
      if (this.wifiDownUntil !== until) return;
      this.wifiDownUntil = 0;
      this.current?.radio?.restore(SIM_WIFI.ssid);
      if (!this.current?.radio) this.link.wifiUp = true;
      this.log('info', `Wi-Fi network "${SIM_WIFI.ssid}" is back`);
      this.changed();
    }, ms);
    this.changed();
  }

  /** Resets the device's TCP connections (a NAT or firewall dropping them). */
  cutConnection(): number {
    const n = this.current?.network.cutAll() ?? 0;
    this.log('warn', `connection cut (${n} socket${n === 1 ? '' : 's'})`);
    return n;
  }

  /** Half-open link on or off: nothing flows either way and nobody is told. */
  stall(on: boolean): void {
    if (this.current) this.current.network.setStalled(on);
    else this.link.stalled = on;
    this.log('warn', on ? 'connection stalled (half-open)' : 'stall over');
    this.changed();
  }

  /** Breaks or repairs a sensor chip (all of the board's when `name` is absent). */
  failSensor(on: boolean, name?: string): string[] {
    const board = this.current?.board;
    if (name !== undefined && board && !(name in board.chips)) {
      throw new SimDeviceError('no-sensor', `device ${this.index + 1} has no sensor "${name}"; it has ${Object.keys(board.chips).join(', ') || 'none'}`);
    }
    const names = name ? [name] : board ? Object.keys(board.chips) : [...this.brokenSensors];
    for (const n of names) {
      if (on) (this.broken ??= new Set()).add(n);
      else this.broken?.delete(n);
      const chip = board?.chips[n];
      if (chip) setChipBroken(chip, on);
    }
    this.log('warn', `sensor${names.length === 1 ? '' : 's'} ${names.join(', ')} ${on ? 'failed' : 'repaired'}`);
    this.changed();
    return names;
  }

  /** Cuts the power when the next (or current) OTA download is half written. */
  armOtaPowerCut(): void {
    this.otaCutArmed = true;
    if (!this.current?.update) this.log('warn', 'power cut armed for the next OTA download, but this boot has no update port');
    else this.log('warn', 'power cut armed for the next OTA download (at 50 %)');
    this.checkOtaCut();
    this.changed();
  }

  // ---------------------------------------------------------------------------------------------

  /** @internal */
  emitLog(level: LogLevel, message: string): void {
    this.options.log?.(this, level, message);
  }

  private log(level: LogLevel, message: string): void {
    this.emitLog(level, `[sim] ${message}`);
  }

  private changed(): void {
    this.options.onChange?.(this);
  }

  private requireDevice(what: string): Device {
    const device = this.current?.device;
    if (!device) throw new SimDeviceError('not-running', `device ${this.index} is not running (power ${this.power}); ${what} needs it on`);
    return device;
  }

  private later(fn: () => void, ms: number): void {
    const generation = this.generation;
    this.hostClock.set(() => {
      if (generation === this.generation) fn();
    }, ms);
  }

  private stateDir(): string | undefined {
    return this.options.stateDir;
  }

  /** The id kept in the state dir; a new one (seeded, else random) is saved on the first boot. */
  private resolveDeviceId(): string {
    const dir = this.stateDir();
    const stored = dir ? readIdFile(dir) : this.deviceId || undefined;
    if (stored) return stored;
    const id = this.options.seed === undefined ? randomId() : seededId(this.options.seed, this.index);
    if (dir) writeIdFile(dir, id);
    return id;
  }

  private boot(): void {
    const o = this.options;
    this.generation++;
    this.boots++;
    this.bootedAt = o.wheel.now();
    this.power = 'on';
    this.presence = 'init';
    const resetReason = this.nextReset;
    this.lastResetReason = resetReason;
    this.nextReset = 'power-on';
    this.deviceId = this.resolveDeviceId();
    this.changed();

    const factory = FACTORY_IMAGE;
    const dir = this.stateDir();
    const loader = o.bootLoader ?? (dir ? flashBootLoader : builtInFirmware);
    let chosen: SimBootChoice;
    try {
      chosen = loader(dir ?? '', factory, o.boardType);
    } catch (error) {
      this.log('error', `bootloader failed (${(error as Error).message}); booting the factory image`);
      chosen = { image: factory };
    }
    for (const note of chosen.notes ?? []) this.log('info', `bootloader: ${note}`);
    const image = chosen.image;

    const clock = o.wheel.clock({ onError: this.panic });
    this.link.refusing = image.behaviour === 'no-connect';
    const network = new FaultNetwork({ base: o.network, link: this.link, onPanic: this.panic });
    // With a radio the link comes up at 'got-ip'; without one it is up unless an outage is on.
    this.link.wifiUp = o.wifi === false ? !this.wifiDown : false;

    const seed = o.seed === undefined ? undefined : hash32(o.seed, this.index, this.boots);
    const freeMemory = image.behaviour === 'fail-health' ? UNHEALTHY_FREE_MEMORY : (o.freeMemory ?? 180_000);
    const generation = this.generation;
    const onRestart = (reason: string) => {
      if (generation !== this.generation) return;
      this.log('info', `restarting (${reason})`);
      this.powerOff();
      this.nextReset = 'software';
      this.later(() => this.boot(), o.bootMs ?? 150);
    };
    const log = (this.logger ??= new RunnerLog(this));
    const config = o.config;
    let platform: Platform;
    if (dir) {
      platform = createSimPlatform({ stateDir: dir, deviceId: this.deviceId, clock, network, log, resetReason, freeMemory, onRestart, config, seed, flushStorage: o.flushStorage });
    } else {
      this.memoryStore ??= new MemoryKeyValueStore();
      const system = new SimSystem({ deviceId: this.deviceId, seed, resetReason, freeMemory, onRestart });
      platform = { clock, system, log, storage: this.memoryStore, network, config, i2c: undefined, analog: undefined, wifi: undefined, update: undefined };
    }
    // checked here, so that the firmware uses this platform as it is (see Device)
    platform.storage = new CheckedStore(platform.storage, log);

    const board = buildBoard({ profile: o.board ?? 'mixed', index: this.index, reader: this, broken: this.broken });
    platform.i2c = board.i2c.io;
    if (board.analog) platform.analog = board.analog.io;
    if (o.boardType) platform.config = { ...platform.config, board: o.boardType };
    const update = chosen.update && this.watchUpdate(chosen.update);
    if (update) platform.update = update;
    const boot: Boot = { clock, network, platform, device: undefined, radio: undefined, started: false, board, image, update };
    this.current = boot;

    if (o.wifi !== false) {
      const radio = new SiteRadio(clock, this);
      boot.radio = radio;
      platform.wifi = radio;
      if (this.wifiDown) radio.vanish(SIM_WIFI.ssid);
    }

    try {
      boot.device = main(platform, {
        version: image.version,
        sensors: board.sensors,
        config: this.ownConfig(),
        client: o.client,
        extensions: o.extensions?.(this),
        // the firmware's own provisioning, without the captive portal: a fleet enters its Wi-Fi
        // password from here (firstJoin) instead of from a phone
        wifi: {
          portal: NO_PORTAL,
          improv: false,
          fallbackMs: 60_000,
          onState: (state) => {
            if (this.current !== boot) return;
            this.wifiState = state;
            this.changed();
          },
        },
        onState: (state) => {
          if (this.current !== boot) return;
          if (!boot.started) {
            boot.started = true;
            o.onStart?.(this);
          }
          this.presence = state as PresenceState;
          this.changed();
        },
      });
      if (boot.radio) this.firstJoin(boot);
    } catch (error) {
      // As on the board: the firmware threw at start-up; it panics and boots again.
      this.later(() => this.crash(`firmware failed to start: ${describe(error)}`), 0);
      this.changed();
      return;
    }
    if (image.behaviour === 'crash-loop') clock.set(() => this.crash(`image ${image.version} crashed`), CRASH_AFTER_MS);
    o.onBoot?.(this);
    this.changed();
  }

  /** First boot of a fresh state dir: someone enters the Wi-Fi password, as in the set-up page. */
  private firstJoin(boot: Boot): void {
    const provisioning = boot.device?.provisioning as Provisioning | undefined;
    if (provisioning && provisioning.savedNetworks().length === 0) {
      // First boot of a fresh state dir: someone enters the Wi-Fi password (as in the portal).
      this.log('info', `first boot: joining "${SIM_WIFI.ssid}" with the simulator's credentials`);
      provisioning.tryCredentials(SIM_WIFI, undefined, (result) => {
        if (!result.ok && this.current === boot) this.log('warn', `joining "${SIM_WIFI.ssid}" failed: ${result.message}`);
      });
    }
  }

  /** @internal An event of a boot's radio, before the firmware hears it. */
  radioEvent(radio: SimRadio, event: WiFiEvent): void {
    const boot = this.current;
    if (boot?.radio !== radio) return;
    if (event.type === 'got-ip') {
      this.link.wifiUp = true;
    } else if (event.type === 'disconnected') {
      boot.network.linkLost();
    }
  }

  /** What differs from the fleet's shared config: the device's name and broker port. */
  private ownConfig(): Record<string, unknown> | undefined {
    const o = this.options;
    const ports = o.brokerPorts;
    if (!o.named && !ports) return undefined;
    const own: Record<string, unknown> = {};
    if (o.named) own.name = `Sim ${this.index + 1}`;
    if (ports) own.brokerPort = ports[this.index % ports.length];
    return own;
  }

  private applyWifiOutage(): void {
    const boot = this.current;
    if (!boot) return;
    if (boot.radio) boot.radio.vanish(SIM_WIFI.ssid);
    else boot.network.linkLost();
  }

  /** Counts the bytes of an OTA image as they are written, for the views and the OTA power cut. */
  private watchUpdate(update: FlashUpdate): FlashUpdate {
    const runner = this;
    return {
      open(size, version, resumeKey) {
        const writer = update.open(size, version, resumeKey);
        runner.ota = { version, size, written: writer.resumedAt ?? 0 };
        runner.changed();
        // the port's resume members pass through: without them a download cut by a power failure
        // would start again from byte 0
        const wrapped: UpdateWriter = {
          resumedAt: writer.resumedAt,
          resumedState: writer.resumedState,
          checkpoint: writer.checkpoint ? (state) => writer.checkpoint!(state) : undefined,
          suspend: writer.suspend
            ? () => {
                writer.suspend!();
                runner.ota = undefined;
                runner.changed();
              }
            : undefined,
          write(bytes) {
            writer.write(bytes);
            if (runner.ota) runner.ota.written += bytes.length;
            runner.checkOtaCut();
          },
          complete() {
            writer.complete();
            runner.ota = undefined;
            runner.changed();
          },
          cancel() {
            writer.cancel();
            runner.ota = undefined;
            runner.changed();
          },
        };
        return wrapped;
      },
      running: () => update.running(),
      markValid: () => update.markValid(),
      rollback: (reason) => update.rollback(reason),
    };
  }

  private checkOtaCut(): void {
    const ota = this.ota;
    if (!this.otaCutArmed || !ota || ota.written < ota.size / 2) return;
    this.otaCutArmed = false;
    this.log('warn', `power cut during OTA to ${ota.version} at ${Math.round((100 * ota.written) / ota.size)} %`);
    // not inside the writer's call: the firmware's stack unwinds first, then the power is gone
    const boot = this.current;
    setImmediate(() => {
      if (this.current !== boot) return;
      // The slot keeps the bytes written so far (never the image magic, which is written last) and
      // the boot state is untouched, as after a real power cut: the writer is not cancelled.
      this.powerCut();
    });
  }

  private powerOff(): void {
    const boot = this.current;
    this.current = undefined;
    this.generation++;
    this.power = 'off';
    this.presence = 'off';
    this.wifiState = 'off';
    this.ota = undefined;
    if (boot) {
      boot.clock.halt();
      boot.network.shutdown();
      try {
        boot.device?.client.destroy();
      } catch {
        // a dead client cannot be destroyed twice
      }
    }
    this.changed();
  }
}

const NONE_BROKEN: ReadonlySet<string> = new Set();

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A locally administered MAC-like id (12 hex digits) from the seed, the same in every run. */
export function seededId(seed: number, index: number): string {
  const a = hash32(seed, index, 0x1d);
  const b = hash32(seed, index, 0x2e);
  const first = ((a >>> 24) & 0xfe) | 0x02;
  const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');
  return hex(first, 2) + hex(a & 0xffffff, 6) + hex(b & 0xffff, 4);
}

function randomId(): string {
  return seededId((Math.random() * 2 ** 32) >>> 0, 0);
}

function readIdFile(dir: string): string | undefined {
  try {
    const id = readFileSync(join(dir, ID_FILE), 'utf8').trim();
    return id || undefined;
  } catch {
    return undefined;
  }
}

function writeIdFile(dir: string, id: string): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, ID_FILE);
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, id + '\n');
  renameSync(temp, path);
}
