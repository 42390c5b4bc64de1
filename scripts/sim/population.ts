// A fleet of simulated devices in one process: one timer wheel, one environment, one real network
// port, one set of options and one set of reading specs for all of them; per device only what
// really differs (its firmware objects, state dir, chips, radio and faults).
//
// A fleet can be a shard of a larger one: `shard` {index, count} runs the devices whose 0-based
// number n has n % count === index, so n processes (or machines) given the same size, seed and
// prefix run one fleet between them, each device exactly once, with the ids, names, state dirs and
// values it would have in one process. The partition is by remainder, not by blocks, so a fleet
// that grows (a larger --devices on every shard) keeps every device on the shard it was on.
import { join } from 'node:path';
import type { Device } from '../../src/device/device';
import type { HostClientOptions } from '../../src/device/client-options';
import type { Network } from '../../src/ports';
import type { BoardProfile } from './device-board';
import { SimDeviceRunner, type BootLoader, type DeviceLogSink, type SimDeviceOptions } from './device-runner';
import { Environment } from './environment';
import { createNodeNetwork } from '../../hosts/sim/net';
import { TimerWheel } from '../../hosts/sim/shared-clock';

export interface FleetBroker {
  host: string;
  port: number;
  /**
   * More listener ports of the same broker: device n connects to [port, ...ports][n % (1 + length)].
   * On one machine every TCP connection to one address and port needs its own ephemeral port (about
   * 28,000 on Linux), so 100,000 devices on loopback need four listeners or more.
   */
  ports?: number[];
  tls?: boolean;
  /** PEM of the CA that signed the broker's certificate (mqtts). */
  ca?: string;
  username?: string;
  password?: string;
}

/** Shard `index` (0-based) of `count`: the devices whose 0-based number n has n % count === index. */
export interface Shard {
  index: number;
  count: number;
}

export interface FleetOptions {
  /** Devices in the whole fleet (in every shard together). */
  devices: number;
  /** Run only this shard of the fleet. Default: all of it. */
  shard?: Shard;
  broker: FleetBroker;
  /** Topic prefix. Default "nodemcu" (the firmware's). */
  prefix?: string;
  /** Parent of the devices' state dirs (device-001, ...); without it state is kept in memory. */
  stateDir?: string;
  /** Storage writes wait for the disk (fsync). Default true; a fleet of thousands boots faster without. */
  flushStorage?: boolean;
  seed?: number;
  /** Seconds. Default 10. */
  heartbeat?: number;
  /** Seconds. Default 5. */
  telemetry?: number;
  /** Seconds. Default: the firmware's (30). */
  keepAlive?: number;
  /** Publish Home Assistant discovery. Default: the firmware's (true). */
  discovery?: boolean;
  board?: BoardProfile;
  wifi?: boolean;
  /** Devices booted per second at start (a fleet does not power up in one instant). Default 200. */
  startRate?: number;
  /** Minutes to add to UTC for the environment's time of day. Default: local time. */
  utcOffsetMinutes?: number;
  /** Further build-time config for every device. */
  config?: Record<string, unknown>;
  client?: HostClientOptions;
  bootLoader?: BootLoader;
  extensions?: (runner: SimDeviceRunner) => ((device: Device) => void)[];
  log?: DeviceLogSink;
  onChange?: (runner: SimDeviceRunner) => void;
  /** The device application of a runner started (see SimDeviceOptions.onStart). */
  onStart?: (runner: SimDeviceRunner) => void;
  wheel?: TimerWheel;
  network?: Network;
}

export class FleetError extends Error {
  override name = 'FleetError';
  constructor(
    readonly code: 'bad-target' | 'bad-option',
    message: string,
  ) {
    super(message);
  }
}

/** Devices in a fleet (all shards together). One process runs what its memory and file descriptors allow. */
export const MAX_DEVICES = 1_000_000;
/** Shards of one fleet. */
export const MAX_SHARDS = 1000;

/** How many of `devices` the shard runs. */
export function shardSize(devices: number, shard: Shard | undefined): number {
  if (!shard) return devices;
  return devices > shard.index ? Math.ceil((devices - shard.index) / shard.count) : 0;
}

/** "2/4" for the second of four shards (1-based, as the flag is written). */
export function describeShard(shard: Shard): string {
  return `${shard.index + 1}/${shard.count}`;
}

export class Fleet {
  readonly wheel: TimerWheel;
  readonly environment: Environment;
  /** This shard's devices, by number. */
  readonly devices: SimDeviceRunner[] = [];
  readonly prefix: string;
  readonly seed: number;
  /** Devices in the whole fleet. */
  size: number;
  readonly shard: Shard | undefined;
  private readonly byId = new Map<string, SimDeviceRunner>();
  private readonly shared: Omit<SimDeviceOptions, 'index'>;

  constructor(readonly options: FleetOptions) {
    const n = options.devices;
    if (!Number.isInteger(n) || n < 0 || n > MAX_DEVICES) throw new FleetError('bad-option', `devices must be a whole number from 0 to ${MAX_DEVICES}, not ${n}`);
    const shard = options.shard && options.shard.count > 1 ? options.shard : undefined;
    if (shard && !(Number.isInteger(shard.count) && Number.isInteger(shard.index) && shard.count <= MAX_SHARDS && shard.index >= 0 && shard.index < shard.count)) {
      throw new FleetError('bad-option', `shard must be i/n with 1 <= i <= n <= ${MAX_SHARDS}, not ${shard.index + 1}/${shard.count}`);
    }
    if (shard && options.seed === undefined) throw new FleetError('bad-option', 'a shard needs the fleet seed: every shard must derive the same device ids and values (give every shard the same seed)');
    this.shard = shard;
    this.wheel = options.wheel ?? new TimerWheel();
    this.seed = options.seed ?? (Math.random() * 2 ** 32) >>> 0;
    this.environment = new Environment({ seed: this.seed, utcOffsetMinutes: options.utcOffsetMinutes });
    this.prefix = options.prefix ?? 'nodemcu';
    const b = options.broker;
    const config: Record<string, unknown> = {
      prefix: this.prefix,
      brokerHost: b.host,
      brokerPort: b.port,
      brokerTls: !!b.tls,
      heartbeatInterval: options.heartbeat ?? 10,
      telemetryInterval: options.telemetry ?? 5,
      ...(options.keepAlive !== undefined ? { keepAlive: options.keepAlive } : {}),
      ...(options.discovery !== undefined ? { discovery: options.discovery } : {}),
      ...(b.username ? { brokerUser: b.username, brokerPassword: b.password ?? '' } : {}),
      ...options.config,
    };
    const client: HostClientOptions | undefined = b.tls && b.ca ? { ...options.client, tls: { ca: b.ca } } : options.client;
    const onChange = (runner: SimDeviceRunner) => {
      if (runner.deviceId && this.byId.get(runner.deviceId) !== runner) this.byId.set(runner.deviceId, runner);
      options.onChange?.(runner);
    };
    // What every runner shares; each one adds only its number and state dir.
    this.shared = {
      wheel: this.wheel,
      environment: this.environment,
      network: options.network ?? createNodeNetwork(),
      seed: options.seed,
      flushStorage: options.flushStorage,
      config,
      brokerPorts: b.ports?.length ? [b.port, ...b.ports] : undefined,
      named: true,
      client,
      board: options.board,
      wifi: options.wifi,
      bootLoader: options.bootLoader,
      extensions: options.extensions,
      log: options.log,
      onChange,
      onStart: options.onStart,
    };
    this.size = 0;
    this.grow(n);
  }

  /**
   * Makes the fleet `devices` large (this shard's part of it): the new runners, not started yet (start()
   * powers them on). A fleet only grows; every device keeps its number, shard and state dir.
   */
  grow(devices: number): SimDeviceRunner[] {
    if (!Number.isInteger(devices) || devices < this.size || devices > MAX_DEVICES) {
      throw new FleetError('bad-option', `a fleet of ${this.size} devices grows to a whole number from ${this.size} to ${MAX_DEVICES}, not ${devices}`);
    }
    const shard = this.shard;
    const step = shard?.count ?? 1;
    const first = shard ? this.size + ((shard.index - (this.size % step) + step) % step) : this.size;
    const added: SimDeviceRunner[] = [];
    for (let index = first; index < devices; index += step) {
      const own: SimDeviceOptions = Object.create(this.shared);
      own.index = index;
      if (this.options.stateDir !== undefined) own.stateDir = join(this.options.stateDir, deviceDirName(index));
      const runner = new SimDeviceRunner(own);
      this.devices.push(runner);
      added.push(runner);
    }
    this.size = devices;
    return added;
  }

  /** The runner whose device has this id (known once it booted). */
  byDeviceId(id: string): SimDeviceRunner | undefined {
    return this.byId.get(id);
  }

  /** This shard's runner of device `number` (1-based, in the whole fleet), if it runs it. */
  byNumber(number: number): SimDeviceRunner | undefined {
    const index = number - 1;
    if (!Number.isInteger(index) || index < 0 || index >= this.size) return undefined;
    const shard = this.shard;
    if (!shard) return this.devices[index];
    return index % shard.count === shard.index ? this.devices[(index - shard.index) / shard.count] : undefined;
  }

  /**
   * Boots the devices (default: all of this shard's), `startRate` per second; resolves when the last
   * one was powered on (not when they are online: that takes Wi-Fi and MQTT).
   */
  start(runners: SimDeviceRunner[] = this.devices, rate = this.options.startRate ?? 200): Promise<void> {
    const perSecond = Math.max(1, rate);
    const clock = this.wheel.hostClock;
    const batch = Math.max(1, Math.ceil(perSecond / 20)); // 20 batches per second
    return new Promise((resolve) => {
      let next = 0;
      const step = () => {
        const end = Math.min(runners.length, next + batch);
        for (; next < end; next++) runners[next].start();
        if (next >= runners.length) {
          clock.clear(timer);
          resolve();
        }
      };
      const timer = clock.set(step, 0, (1000 * batch) / perSecond);
      if (!runners.length) {
        clock.clear(timer);
        resolve();
      }
    });
  }

  /** Stops every device cleanly ("offline" for each), in parallel; bounded by the firmware's stop timeout. */
  async stop(reason = 'simulator stopped'): Promise<void> {
    await Promise.all(this.devices.map((d) => d.stop(reason)));
  }

  /**
   * Devices by 1-based number ("3"), a range ("2-5"), a list ("1,4") or "all". Throws FleetError
   * with the valid range otherwise. In a shard, numbers are the whole fleet's: a range selects the
   * devices of this shard in it, and a single number run by another shard is refused.
   */
  select(target: string | number): SimDeviceRunner[] {
    const n = this.size;
    const text = String(target).trim().toLowerCase();
    if (text === 'all' || text === '*') return this.devices.slice();
    const out: SimDeviceRunner[] = [];
    for (const part of text.split(',')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
      const from = m ? Number(m[1]) : NaN;
      const to = m?.[2] !== undefined ? Number(m[2]) : from;
      if (!m || from < 1 || to > n || to < from) {
        throw new FleetError('bad-target', `"${target}" is not a device: use a number from 1 to ${n}, a range like 1-${Math.max(1, n)}, a list like 1,3, or "all"`);
      }
      if (from === to && !this.byNumber(from)) {
        throw new FleetError('bad-target', `device ${from} is run by shard ${describeShard({ index: (from - 1) % this.shard!.count, count: this.shard!.count })}, not by this one (${describeShard(this.shard!)})`);
      }
      for (let i = from; i <= to; i++) {
        const runner = this.byNumber(i);
        if (runner) out.push(runner);
      }
    }
    return out;
  }

  close(): void {
    this.wheel.close();
  }
}

export function deviceDirName(index: number): string {
  return `device-${String(index + 1).padStart(3, '0')}`;
}
