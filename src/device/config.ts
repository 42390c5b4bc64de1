// Device configuration: typed defaults, overridden by the platform's build-time values, overridden by
// values persisted in the key-value store (set-config). Every value is validated; secrets never
// leave through get-config or logs.
import type { KeyValueStore } from '../ports';
import { DEFAULT_REPLY_TOPICS, replyTopicsProblem } from './reply-space';
import { isTopicLevel } from './topics';

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
  override name = 'ConfigError';
  constructor(readonly key: string, message: string) {
    super(message);
  }
}

/** Validates and converts one value; throws ConfigError with a message for people. */
export function validate(key: string, value: unknown): string | number | boolean {
  const field = (SCHEMA as Record<string, Field>)[key];
  if (!field) throw new ConfigError(key, `unknown setting "${key}"; known: ${Object.keys(SCHEMA).join(', ')}`);
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
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ConfigError(key, `${key} must not contain control characters`);
  if (value.length > field.maxLength!) throw new ConfigError(key, `${key} must be at most ${field.maxLength} characters`);
  const problem = field.check?.(value);
  if (problem) throw new ConfigError(key, `${key} ${problem}`);
  return value;
}

export function isSecret(key: string): boolean {
  return !!(SCHEMA as Record<string, Field>)[key]?.secret;
}

export function isLive(key: string): boolean {
  return !!(SCHEMA as Record<string, Field>)[key]?.live;
}

export class Config {
  readonly values: ConfigValues;

  /**
   * `base` holds build-time or host defaults (Moddable manifest config, simulator flags); invalid ones
   * are reported through `onInvalid` and ignored. Stored overrides win; a corrupt one is ignored too.
   */
  constructor(private readonly store: KeyValueStore, base: Record<string, unknown> = {}, onInvalid?: (error: ConfigError) => void) {
    const values: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(SCHEMA) as [string, Field][]) {
      values[key] = field.def;
      for (const candidate of [base[key], this.stored(field)]) {
        if (candidate === undefined) continue;
        try {
          values[key] = validate(key, candidate);
        } catch (error) {
          onInvalid?.(error as ConfigError);
        }
      }
    }
    this.values = values as ConfigValues;
  }

  private stored(field: Field): unknown {
    const raw = this.store.get(field.kv);
    if (typeof raw !== 'string') return undefined;
    if (field.kind === 'string') return raw;
    if (field.kind === 'bool') return raw === '1' ? true : raw === '0' ? false : raw;
    return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }

  /**
   * Validates every change first, then persists them all: a bad value changes nothing.
   * Returns the keys that need a restart to take effect.
   */
  set(changes: Record<string, unknown>): { changed: string[]; restartRequired: string[] } {
    const valid: [string, string | number | boolean][] = [];
    for (const [key, value] of Object.entries(changes)) valid.push([key, validate(key, value)]);
    if (!valid.length) throw new ConfigError('', 'set-config needs at least one setting');
    const changed: string[] = [];
    const restartRequired: string[] = [];
    for (const [key, value] of valid) {
      const field = (SCHEMA as Record<string, Field>)[key];
      this.store.set(field.kv, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
      if ((this.values as Record<string, unknown>)[key] === value) continue;
      (this.values as Record<string, unknown>)[key] = value;
      changed.push(key);
      if (!field.live) restartRequired.push(key);
    }
    return { changed, restartRequired };
  }

  /** All values, secrets replaced by "***" when set. */
  redacted(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.values)) out[key] = isSecret(key) && value ? '***' : value;
    return out;
  }
}
