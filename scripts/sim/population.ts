// A fleet of simulated devices in one process: one timer wheel, one environment, one real network
// port and one set of reading specs for all of them; per device only what really differs (its
// firmware objects, state dir, chips, radio and faults).
import { join } from 'node:path';
import type { Device } from '../../src/device/device';
import type { HostClientOptions } from '../../src/device/client-options';
import type { Network } from '../../src/ports';
import type { BoardProfile } from './device-board';
import { SimDeviceRunner, type BootLoader, type DeviceLogSink, type SimBoardType } from './device-runner';
import { Environment } from './environment';
import { createNodeNetwork } from '../../hosts/sim/net';
import { TimerWheel } from '../../hosts/sim/shared-clock';

export interface FleetBroker {
  host: string;
  port: number;
  tls?: boolean;
  /** PEM of the CA that signed the broker's certificate (mqtts). */
  ca?: string;
  username?: string;
  password?: string;
}

export interface FleetOptions {
  devices: number;
  broker: FleetBroker;
  /** Topic prefix. Default "nodemcu" (the firmware's). */
  prefix?: string;
  /** Parent of the devices' state dirs (device-001, ...); without it state is kept in memory. */
  stateDir?: string;
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
  /** The chip of each device: esp32, esp8266, or mixed (every third device an ESP8266). Default: none set. */
  boardTypes?: SimBoardType | 'mixed';
  extensions?: (runner: SimDeviceRunner) => ((device: Device) => void)[];
  log?: DeviceLogSink;
  onChange?: (runner: SimDeviceRunner) => void;
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

export const MAX_DEVICES = 20_000;

export class Fleet {
  readonly wheel: TimerWheel;
  readonly environment: Environment;
  readonly devices: SimDeviceRunner[] = [];
  readonly prefix: string;
  readonly seed: number;
  private readonly byId = new Map<string, SimDeviceRunner>();

  constructor(readonly options: FleetOptions) {
    const n = options.devices;
    if (!Number.isInteger(n) || n < 0 || n > MAX_DEVICES) throw new FleetError('bad-option', `devices must be a whole number from 0 to ${MAX_DEVICES}, not ${n}`);
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
    const network = options.network ?? createNodeNetwork();
    for (let index = 0; index < n; index++) {
      this.devices.push(
        new SimDeviceRunner({
          index,
          wheel: this.wheel,
          environment: this.environment,
          network,
          stateDir: options.stateDir === undefined ? undefined : join(options.stateDir, deviceDirName(index)),
          seed: options.seed,
          config: { ...config, name: `Sim ${index + 1}` },
          client,
          board: options.board,
          wifi: options.wifi,
          bootLoader: options.bootLoader,
          boardType: boardTypeOf(options.boardTypes, index),
          extensions: options.extensions,
          log: options.log,
          onChange: (runner) => {
            if (runner.deviceId && this.byId.get(runner.deviceId) !== runner) this.byId.set(runner.deviceId, runner);
            options.onChange?.(runner);
          },
        }),
      );
    }
  }

  /** The runner whose device has this id (known once it booted). */
  byDeviceId(id: string): SimDeviceRunner | undefined {
    return this.byId.get(id);
  }

  /**
   * Boots every device, `startRate` per second; resolves when the last one was powered on (not when
   * they are online: that takes Wi-Fi and MQTT).
   */
  start(): Promise<void> {
    const rate = Math.max(1, this.options.startRate ?? 200);
    const clock = this.wheel.clock();
    const batch = Math.max(1, Math.ceil(rate / 20)); // 20 batches per second
    return new Promise((resolve) => {
      let next = 0;
      const step = () => {
        const end = Math.min(this.devices.length, next + batch);
        for (; next < end; next++) this.devices[next].start();
        if (next >= this.devices.length) {
          clock.clear(timer);
          resolve();
        }
      };
      const timer = clock.set(step, 0, (1000 * batch) / rate);
      if (!this.devices.length) {
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
   * with the valid range otherwise.
   */
  select(target: string | number): SimDeviceRunner[] {
    const n = this.devices.length;
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
      for (let i = from; i <= to; i++) out.push(this.devices[i - 1]);
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

/** The chip of device `index` in a fleet of `types`: mixed makes every third device an ESP8266. */
export function boardTypeOf(types: SimBoardType | 'mixed' | undefined, index: number): SimBoardType | undefined {
  if (types !== 'mixed') return types;
  return index % 3 === 2 ? 'esp8266' : 'esp32';
}
