// System port: device id, restart, free memory, reset reason, randomness.
import { deviceIdProblem } from '../../src/device/device-id';
import type { KeyValueStore, Logger, ResetReason, System } from '../../src/ports';
import Net from 'net';
import { freeHeap, resetReason } from './native/sysinfo';
import { allChars, asciiLower, isHexCode, isLowerHexCode, keepChars } from '../../src/text/chars';

export interface SystemDeps {
  /** config.deviceId, when the build sets one. */
  configuredId: string | undefined;
  storage: KeyValueStore;
  log: Logger;
  /** Does not return on hardware; the desktop build reboots the firmware in place. */
  restart(reason: string): void;
  /** Set after a restart without a hardware reset (desktop build): the chip cannot tell. */
  softResetReason?: ResetReason;
}

const ID_KEY = 'sys.id';

export const createSystem = (deps: SystemDeps): System => {
  let id: string | undefined;
  return {
    deviceId() {
      id ??= usableConfiguredId(deps) ?? macId() ?? storedRandomId(deps.storage);
      return id;
    },
    restart(reason) {
      deps.log.log('warn', `restart: ${reason}`);
      deps.restart(reason);
    },
    freeMemory: () => freeHeap(),
    resetReason: () => deps.softResetReason ?? resetReason(),
    random: () => Math.random(),
  };
};

/** config.deviceId when it can name the device in topics; otherwise the hardware id is used, with a log line. */
const usableConfiguredId = (deps: SystemDeps): string | undefined => {
  const configured = deps.configuredId;
  if (configured === undefined) return undefined;
  const problem = deviceIdProblem(configured);
  if (!problem) return configured;
  deps.log.log('warn', `config.deviceId ${JSON.stringify(configured)} is unusable (${problem}); using the hardware id`);
  return undefined;
};

/** The station MAC as 12 lowercase hex digits, or undefined where there is none (desktop). */
const macId = (): string | undefined => {
  let mac: string | undefined;
  try {
    mac = Net.get('MAC');
  } catch {
    mac = undefined;
  }
  if (typeof mac !== 'string') return undefined;
  const hex = asciiLower(keepChars(mac, isHexCode));
  return hex.length === 12 && hex !== '000000000000' ? hex : undefined;
};

/** A random id made once and kept, for hosts without a MAC address. */
const storedRandomId = (storage: KeyValueStore): string => {
  const stored = storage.get(ID_KEY);
  if (typeof stored === 'string' && allChars(stored, isLowerHexCode, 12, 12)) return stored;
  let hex = '';
  for (let i = 0; i < 12; i++) hex += Math.floor(Math.random() * 16).toString(16);
  storage.set(ID_KEY, hex);
  return hex;
};
