// A small fleet of simulated devices with OTA, each booted like hardware: bootSim picks the slot, the
// firmware (main + otaExtension) runs the image's version, and the image's behaviour is enacted
// (crash-loop: a panic restart shortly after every boot; no-connect: no network; fail-health: free
// memory below the floor). Restarts, crashes and power cuts boot the device again from its state dir.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootSim, SimPowerCutError, type SimBoot, type SimImage, type SimLayout } from '../../hosts/sim/bootloader';
import { SimI2CBus } from '../../hosts/sim/chips/i2c-bus';
import { createSimPlatform } from '../../hosts/sim/platform';
import type { Device } from '../../src/device/device';
import { main } from '../../src/main';
import { otaExtension, type OtaOptions } from '../../src/ota/extension';
import type { ResetReason } from '../../src/ports';
import { envSensor } from './device';
import { PowerDomain } from './ota-power';

export interface FleetDeviceOptions {
  dir: string;
  id: string;
  broker: { host: string; port: number };
  prefix: string;
  publicKey: Uint8Array | string;
  groups?: string[];
  /** The built-in image. Default 1.0.0, ok. */
  factory?: SimImage;
  /** OTA options over the test defaults (short windows). */
  ota?: Partial<OtaOptions>;
  /** Ms after boot at which a crash-loop image panics. Default 300. */
  crashAfter?: number;
  /** Boots of a pending image before the bootloader rolls back. Default 3. */
  maxBoots?: number;
  /** Free memory of a fail-health image, bytes. Default 2048 (below the default floor). */
  lowMemory?: number;
  /** How the flash keeps images: 'esp32' (two slots run in place, the default) or 'esp8266' (staged, copied into the app area). */
  layout?: SimLayout;
  /** The board type (build setting `board`), checked against jobs and images. Default: none set ('nodemcu'). */
  board?: string;
}

export interface BootInfo {
  version: string;
  behaviour: string;
  pending: boolean;
  slot: number;
  /** The factory image runs (no slot holds a committed image). */
  factory: boolean;
  reset: ResetReason;
  notes: string[];
}

/** Short OTA timings for tests. */
export const TEST_OTA: Partial<OtaOptions> = {
  healthWindow: 2500,
  healthSettle: 800,
  healthPoll: 100,
  progressInterval: 200,
  download: { retryDelay: 200, stallTimeout: 2000, maxAttempts: 6 },
};

export class SimFleetDevice {
  readonly boots: BootInfo[] = [];
  readonly logs: string[] = [];
  /** Bytes the device received from servers other than the broker (image downloads, with HTTP heads). */
  downloaded = 0;
  /** Power cuts that hit the bootloader's copies (ESP8266 layout). */
  copyCuts = 0;
  private copyCutAt: number | undefined;
  device: Device | undefined;
  boot: SimBoot | undefined;
  private domain: PowerDomain | undefined;
  private stopped = false;
  private pendingStart: NodeJS.Timeout | undefined;

  constructor(readonly o: FleetDeviceOptions) {}

  get id(): string {
    return this.o.id;
  }

  /** Version running now (undefined while off). */
  get version(): string | undefined {
    return this.domain?.alive ? this.boot?.image.version : undefined;
  }

  /** Makes the next update written in this boot lose power at this byte offset. */
  armPowerCut(offset: number): void {
    this.boot?.flash.setFaults({ powerCutAt: offset, onPowerCut: () => this.powerCut() });
  }

  /** ESP8266 layout: the next boot loses power when its copies have programmed this many bytes. */
  armCopyCut(offset: number): void {
    this.copyCutAt = offset;
  }

  start(reset: ResetReason = 'power-on'): void {
    if (this.stopped) return;
    const o = this.o;
    const copyCutAt = this.copyCutAt;
    this.copyCutAt = undefined;
    let boot: SimBoot;
    try {
      boot = this.boot = bootSim(o.dir, o.factory ?? { version: '1.0.0', behaviour: 'ok' }, {
        maxBoots: o.maxBoots,
        layout: o.layout,
        board: o.board,
        faults: copyCutAt === undefined ? undefined : { copyCutAt },
      });
    } catch (error) {
      if (!(error instanceof SimPowerCutError)) throw error;
      this.copyCuts++;
      this.logs.push(`#${this.boots.length + 1} bootloader: ${error.message}`);
      this.restartSoon('power-on');
      return;
    }
    const behaviour = boot.image.behaviour;
    this.boots.push({ version: boot.image.version, behaviour, pending: boot.pending, slot: boot.slot, factory: boot.factory, reset, notes: boot.notes });
    const domain = (this.domain = new PowerDomain({ refuse: behaviour === 'no-connect', onRead: (port, n) => port !== o.broker.port && (this.downloaded += n) }));
    const n = this.boots.length;
    for (const note of boot.notes) this.logs.push(`#${n} bootloader: ${note}`);
    const platform = createSimPlatform({
      stateDir: o.dir,
      deviceId: o.id,
      clock: domain.clock,
      network: domain.network,
      resetReason: reset,
      freeMemory: behaviour === 'fail-health' ? o.lowMemory ?? 2048 : 200_000,
      log: { log: (level, message) => this.logs.push(`#${n} ${level} ${message}`) },
      onRestart: () => this.restartSoon('software'),
    });
    platform.update = boot.update;
    const ports = { ...platform, storage: domain.guardStore(platform.storage) };
    const bus = new SimI2CBus();
    const { sensor } = envSensor(domain.clock, bus);
    this.device = main(ports, {
      version: boot.image.version,
      sensors: [sensor],
      config: { brokerHost: o.broker.host, brokerPort: o.broker.port, prefix: o.prefix, discovery: false, heartbeatInterval: 2, telemetryInterval: 1, keepAlive: 10, ...(o.board ? { board: o.board } : {}) },
      client: { reconnect: { minDelay: 100, maxDelay: 1000, stableAfter: 2000 } },
      extensions: [otaExtension({ publicKey: o.publicKey, groups: o.groups, ...TEST_OTA, ...o.ota })],
    });
    if (behaviour === 'crash-loop') domain.clock.set(() => this.crash(), o.crashAfter ?? 300);
  }

  /** Loses power now and boots again shortly after. */
  powerCut(): void {
    this.domain?.kill();
    this.restartSoon('power-on');
  }

  /** Off for good (test cleanup). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.pendingStart);
    this.domain?.kill();
  }

  private crash(): void {
    this.logs.push(`#${this.boots.length} panic: the image crashed`);
    this.domain?.kill();
    this.restartSoon('panic');
  }

  private restartSoon(reset: ResetReason): void {
    this.domain?.kill();
    clearTimeout(this.pendingStart);
    this.pendingStart = setTimeout(() => this.start(reset), 20);
  }
}

export interface Fleet {
  root: string;
  devices: SimFleetDevice[];
  stop(): void;
}

/** Boots `count` devices with ids `<idPrefix>00..`, each in its own state dir under a temp root. */
export function startFleet(
  count: number,
  options: Omit<FleetDeviceOptions, 'dir' | 'id'> & { idPrefix?: string; groupsOf?: (i: number) => string[]; each?: (i: number) => Partial<FleetDeviceOptions> },
): Fleet {
  const root = mkdtempSync(join(tmpdir(), 'ota-fleet-'));
  const devices: SimFleetDevice[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${options.idPrefix ?? 'dev'}${String(i).padStart(2, '0')}`;
    const dir = join(root, id);
    mkdirSync(dir, { recursive: true });
    const d = new SimFleetDevice({ ...options, dir, id, groups: options.groupsOf?.(i) ?? options.groups, ...options.each?.(i) });
    d.start();
    devices.push(d);
  }
  return {
    root,
    devices,
    stop() {
      for (const d of devices) d.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
