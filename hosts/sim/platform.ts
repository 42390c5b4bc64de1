// Assembles a simulated device's Platform: real clock and sockets by default, storage and device
// id in its own state dir, so a restarted process is the same device.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Logger, Network, Platform, ResetReason } from '../../src/ports';
import { RealClock } from './clock';
import { FileKeyValueStore } from './kv';
import { SimLogger, type SimLoggerOptions } from './logger';
import { createNodeNetwork } from './net';
import { SimRestartError, SimSystem } from './system';

export interface SimPlatformOptions {
  /** The device's own folder: device id, key-value store, restart marker. Created if missing. */
  stateDir: string;
  /** Default: the id stored in stateDir, or a new random one (12 hex digits, like a MAC) saved there. */
  deviceId?: string;
  clock?: Clock;
  seed?: number;
  network?: Network;
  /** A Logger, or options for a SimLogger (the device id is filled in). */
  log?: Logger | SimLoggerOptions;
  /** Default: 'software' after a restart() of the previous run, else 'power-on'. */
  resetReason?: ResetReason;
  freeMemory?: number | (() => number);
  /**
   * Called on restart(reason) after the restart is recorded for the next boot. Without it restart()
   * throws SimRestartError (no firmware code runs after a restart, as on hardware).
   */
  onRestart?: (reason: string) => void;
  config?: Record<string, unknown>;
  /** Storage writes wait for the disk (fsync). Default true; see FileKeyValueStore. */
  flushStorage?: boolean;
}

export interface SimPlatform extends Platform {
  system: SimSystem;
  storage: FileKeyValueStore;
  stateDir: string;
  deviceId: string;
}

const idFile = 'device-id';
const restartFile = 'restart-reason';

function writeAtomic(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

function loadOrCreateDeviceId(stateDir: string): string {
  const path = join(stateDir, idFile);
  if (existsSync(path)) {
    const id = readFileSync(path, 'utf8').trim();
    if (id) return id;
  }
  const bytes = randomBytes(6);
  bytes[0] = (bytes[0] & 0xfe) | 0x02; // a locally administered unicast MAC
  const id = bytes.toString('hex');
  writeAtomic(path, id + '\n');
  return id;
}

/** Reads and clears the marker a restart() left for this boot. */
function takeRestartMarker(stateDir: string): boolean {
  const path = join(stateDir, restartFile);
  if (!existsSync(path)) return false;
  rmSync(path, { force: true });
  return true;
}

export function createSimPlatform(options: SimPlatformOptions): SimPlatform {
  const { stateDir } = options;
  mkdirSync(stateDir, { recursive: true });
  const deviceId = options.deviceId ?? loadOrCreateDeviceId(stateDir);
  const softwareRestart = takeRestartMarker(stateDir);
  const clock = options.clock ?? new RealClock();
  const log =
    options.log && 'log' in options.log
      ? options.log
      : new SimLogger({ time: () => clock.wallTime(), ...(options.log as SimLoggerOptions | undefined), deviceId });
  const system = new SimSystem({
    deviceId,
    seed: options.seed,
    freeMemory: options.freeMemory,
    resetReason: options.resetReason ?? (softwareRestart ? 'software' : 'power-on'),
    onRestart: (reason) => {
      writeAtomic(join(stateDir, restartFile), reason + '\n');
      if (!options.onRestart) {
        throw new SimRestartError(`device ${deviceId} restarted (${reason}); pass onRestart to createSimPlatform to boot it again`);
      }
      options.onRestart(reason);
    },
  });
  return {
    clock,
    system,
    log,
    storage: new FileKeyValueStore(join(stateDir, 'nvs'), { flush: options.flushStorage }),
    network: options.network ?? createNodeNetwork(),
    config: options.config,
    stateDir,
    deviceId,
  };
}
