// Device configuration: typed defaults, overridden by the platform's build-time values, overridden by
// values persisted in the key-value store (set-config). Every value is validated against SCHEMA (its
// own keys only: inherited names such as "toString" are refused); a change is written all or nothing
// through the journal (config-journal.ts); secrets never leave through get-config or logs. Settings
// only the build may set (the OTA key, the board description, ...) are the typed `build` section.
// Config is the only reader of Platform.config: everything else reads the typed values here.
import type { KeyValueStore, Platform } from '../ports';
import { readBuildSettings, type BuildSettings } from './build-settings';
import { DEFAULT_REPLY_TOPICS, replyTopicsProblem } from './reply-space';
import { commitJournal, recoverJournal, type JournalOutcome } from './config-journal';
import { isTopicLevel } from './topics';
import { hasControl, isDigits } from '../text/chars';

type Kind = 'string' | 'int' | 'bool';

interface Field {
  kind: Kind;
  /** Key-value store key (at most 15 characters, as ESP32 NVS allows). */
  kv: string;
  def: string | number | boolean;
  min?: number;
  max?: number;
  /** Allowed values for strings. */
  values?: string[];
  /** Longest string (bytes). */
  maxLength?: number;
  secret?: boolean;
  /** Takes effect without a restart. */
  live?: boolean;
  check?: (v: string) => string | undefined;
}

const level = (v: string) => (isTopicLevel(v) ? undefined : 'must be 1-64 characters without + # or /');
const groupsCheck = (v: string) => (v === '' || v.split(',').every((g) => isTopicLevel(g.trim())) ? undefined : 'must be group names separated by commas, without + # or /');
const prefixCheck = (v: string) => (v.split('/').every(isTopicLevel) ? undefined : 'must be topic levels without + or #, separated by /');

export const SCHEMA = {
  prefix: { kind: 'string', kv: 'c.prefix', def: 'nodemcu', maxLength: 48, check: prefixCheck },
  name: { kind: 'string', kv: 'c.name', def: '', maxLength: 32, live: true },
  brokerHost: { kind: 'string', kv: 'c.bhost', def: '127.0.0.1', maxLength: 63 },
  brokerPort: { kind: 'int', kv: 'c.bport', def: 1883, min: 1, max: 65535 },
  brokerTls: { kind: 'bool', kv: 'c.btls', def: false },
  brokerUser: { kind: 'string', kv: 'c.buser', def: '', maxLength: 63 },
  brokerPassword: { kind: 'string', kv: 'c.bpass', def: '', maxLength: 63, secret: true },
  keepAlive: { kind: 'int', kv: 'c.ka', def: 30, min: 5, max: 3600 },
  heartbeatInterval: { kind: 'int', kv: 'c.hb', def: 60, min: 1, max: 86400, live: true },
  telemetryInterval: { kind: 'int', kv: 'c.ti', def: 30, min: 1, max: 86400, live: true },
  telemetryQos: { kind: 'int', kv: 'c.tq', def: 1, min: 0, max: 2, live: true },
  discovery: { kind: 'bool', kv: 'c.disc', def: true, live: true },
  discoveryPrefix: { kind: 'string', kv: 'c.dprefix', def: 'homeassistant', maxLength: 32, check: level },
  outboxMessages: { kind: 'int', kv: 'c.obn', def: 64, min: 1, max: 5000 },
  outboxBytes: { kind: 'int', kv: 'c.obb', def: 16384, min: 256, max: 1048576 },
  persistOutbox: { kind: 'bool', kv: 'c.obp', def: false },
  ledPin: { kind: 'int', kv: 'c.led', def: 2, min: -1, max: 48 },
  /** OTA group topics this device follows, comma-separated (e.g. "greenhouse,beta"). */
  otaGroups: { kind: 'string', kv: 'c.groups', def: '', maxLength: 63, check: groupsCheck },
  /** Topic filters a request's response topic must match, comma-separated ({prefix}, {id} filled in). */
  replyTopics: { kind: 'string', kv: 'c.reply', def: DEFAULT_REPLY_TOPICS, maxLength: 127, live: true, check: replyTopicsProblem },
} satisfies Record<string, Field>;

export type ConfigKey = keyof typeof SCHEMA;
export type ConfigValues = { [K in ConfigKey]: (typeof SCHEMA)[K]['def'] extends number ? number : (typeof SCHEMA)[K]['def'] extends boolean ? boolean : string };

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}
ConfigError.prototype.name = 'ConfigError';

const hasOwn = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);

/** The schema entry of a setting: own keys of SCHEMA only, never what every object inherits. */
const fieldOf = (key: string): Field | undefined => {
  return hasOwn(SCHEMA, key) ? (SCHEMA as Record<string, Field>)[key] : undefined;
};

/** Validates and converts one value; throws ConfigError with a message for people. */
export const validate = (key: string, value: unknown): string | number | boolean => {
  const field = fieldOf(key);
  if (!field) {
    const known = Object.keys(SCHEMA).join(', ');
    // "toString", "__proto__", "constructor", ...: inherited by every object, so named as such
    if (key in Object.prototype) throw new ConfigError(key, `"${key}" is not a setting (every JavaScript object has that name); known: ${known}`);
    throw new ConfigError(key, `unknown setting "${key}"; known: ${known}`);
  }
  if (field.kind === 'bool') {
    if (typeof value !== 'boolean') throw new ConfigError(key, `${key} must be true or false`);
    return value;
  }
  if (field.kind === 'int') {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new ConfigError(key, `${key} must be a whole number`);
    if (value < field.min! || value > field.max!) throw new ConfigError(key, `${key} must be between ${field.min} and ${field.max}, not ${value}`);
    return value;
  }
  if (typeof value !== 'string') throw new ConfigError(key, `${key} must be a string`);
  if (hasControl(value)) throw new ConfigError(key, `${key} must not contain control characters`);
  if (value.length > field.maxLength!) throw new ConfigError(key, `${key} must be at most ${field.maxLength} characters`);
  const problem = field.check?.(value);
  if (problem) throw new ConfigError(key, `${key} ${problem}`);
  return value;
};

const isSecret = (key: string): boolean => {
  return !!fieldOf(key)?.secret;
};

const isLive = (key: string): boolean => {
  return !!fieldOf(key)?.live;
};

/** The key-value store key of a setting ("c.bport" for brokerPort). */
export const storeKey = (key: ConfigKey): string => {
  return (SCHEMA as Record<string, Field>)[key].kv;
};

/** A value as the store keeps it: text, booleans as "1"/"0". */
export const encodeValue = (value: string | number | boolean): string => {
  return typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
};

/** A stored text back to a candidate value (validated by the caller); undefined when absent. */
const decodeValue = (key: ConfigKey, raw: string | Uint8Array | undefined): unknown => {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') return raw; // bytes where text belongs: validation refuses it
  const kind = (SCHEMA as Record<string, Field>)[key].kind;
  if (kind === 'string') return raw;
  if (kind === 'bool') return raw === '1' ? true : raw === '0' ? false : raw;
  return isDigits(raw[0] === '-' ? raw.slice(1) : raw) ? Number(raw) : raw;
};

export class Config {
  readonly values: ConfigValues;
  /** The settings only the build sets; never stored, never changed at run time. */
  readonly build: BuildSettings;
  /** What the journal did at boot with a change a power cut had interrupted. */
  readonly recovered: JournalOutcome;
  /** Bit i: the i-th setting of SCHEMA has its value from the store (set-config, the set-up page). SCHEMA has under 32 settings. */
  private fromStore = 0;

  /**
   * `base` holds build-time or host defaults (Moddable manifest config, simulator flags); invalid ones
   * are reported through `onInvalid` and ignored. Stored overrides win; an invalid one is reported with
   * its store key (the caller resets it) and ignored too.
   */
  constructor(readonly store: KeyValueStore, base: Record<string, unknown> = {}, onInvalid?: (error: ConfigError, storedKey?: string) => void) {
    let recovered: JournalOutcome;
    try {
      recovered = recoverJournal(store);
    } catch (error) {
      // the store refused a write; the commit mark stays, so the next boot tries again
      onInvalid?.(new ConfigError('', `an interrupted settings change could not be finished (${(error as Error).message}); retried at the next boot`));
    }
    this.recovered = recovered;
    const values: Record<string, unknown> = {};
    const keys = Object.keys(SCHEMA) as ConfigKey[];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const field = (SCHEMA as Record<string, Field>)[key];
      values[key] = field.def;
      if (hasOwn(base, key) && base[key] !== undefined) {
        try {
          values[key] = validate(key, base[key]);
        } catch (error) {
          onInvalid?.(error as ConfigError);
        }
      }
      const stored = decodeValue(key, store.get(field.kv));
      if (stored === undefined) continue;
      try {
        values[key] = validate(key, stored);
        this.fromStore |= 1 << i;
      } catch (error) {
        onInvalid?.(error as ConfigError, field.kv);
      }
    }
    this.values = values as ConfigValues;
    this.build = readBuildSettings(base, (key, message) => onInvalid?.(new ConfigError(key, message)));
  }

  /**
   * The base values of a device on `platform` (pass them to the constructor): its build-time values
   * (Platform.config, read here and nowhere else), then the host's `overrides` (DeviceOptions.config);
   * what is stored wins over both. A function of its own rather than a factory, so its frame is gone
   * before the constructor reads the store (boot's deepest path; an ESP8266 has 256 XS stack slots).
   */
  static base(platform: Pick<Platform, 'config'>, overrides?: Record<string, unknown>): Record<string, unknown> {
    return { ...platform.config, ...overrides };
  }

  /** The OTA groups this device follows: the otaGroups setting split at its commas (checked when it was set). */
  get otaGroups(): string[] {
    const text = this.values.otaGroups;
    if (!text) return [];
    const groups = text.split(',');
    for (let i = 0; i < groups.length; i++) groups[i] = groups[i].trim();
    return groups;
  }

  /** Whether the value of `key` was set at run time (set-config, set-up page) rather than built in. */
  isStored(key: ConfigKey): boolean {
    return (this.fromStore & (1 << Object.keys(SCHEMA).indexOf(key))) !== 0;
  }

  /** Writes settings keys ("c.*") and their values as one step (the journal). */
  commit(entries: [key: string, value: string][]): void {
    // returned, here and below the journal: tail calls, so fewer frames stay on the XS stack under
    // the store's writes (an ESP8266 has 256 slots)
    return commitJournal(this.store, entries);
  }

  /**
   * Validates every change first, then persists them all in one journal commit: a bad value, or a
   * power cut, changes nothing. Returns the keys that need a restart to take effect.
   */
  set(changes: Record<string, unknown>): { changed: string[]; restartRequired: string[] } {
    const valid: [ConfigKey, string | number | boolean][] = [];
    for (const key of Object.keys(changes)) valid.push([key as ConfigKey, validate(key, changes[key])]);
    if (!valid.length) throw new ConfigError('', 'set-config needs at least one setting');
    this.commit(valid.map(([key, value]) => [storeKey(key), encodeValue(value)]));
    const changed: string[] = [];
    const restartRequired: string[] = [];
    for (const [key, value] of valid) {
      this.fromStore |= 1 << Object.keys(SCHEMA).indexOf(key);
      if ((this.values as Record<string, unknown>)[key] === value) continue;
      (this.values as Record<string, unknown>)[key] = value;
      changed.push(key);
      if (!isLive(key)) restartRequired.push(key);
    }
    return { changed, restartRequired };
  }

  /** All values, secrets replaced by "***" when set. */
  redacted(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.values)) {
      const value = this.values[key as ConfigKey];
      out[key] = isSecret(key) && value ? '***' : value;
    }
    return out;
  }
}
