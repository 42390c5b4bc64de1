// Build-time configuration: the manifest's `config` section, overridden by `key=value` arguments
// of mcconfig. mcconfig passes every override as a string, so keys the firmware reads as numbers or
// booleans (its config schema, src/device/config.ts) and the host's own numeric keys are converted
// back here. The firmware validates ranges of its keys itself; host keys are checked here, and a
// bad value is reported and replaced by its default rather than stopping the device.
import { BUILD_JSON_KEYS } from '../../src/device/build-settings';
import { SCHEMA } from '../../src/device/config';
import { asciiLower, isDigits } from '../../src/text/chars';

/** Host-only numeric keys, with the inclusive range a sane build uses. */
const HOST_NUMBERS: Record<string, [number, number]> = {
  otaHealthMs: [10_000, 3_600_000],
  otaMaxBoots: [1, 20],
};

export interface NormalizedConfig {
  config: Record<string, unknown>;
  /** One message per value that was dropped, for the log. */
  problems: string[];
}

/**
 * A plain copy of `raw` (the frozen mc/config object) with numeric and boolean keys converted.
 * Unknown keys pass through unchanged.
 */
export const normalizeConfig = (raw: Record<string, unknown>): NormalizedConfig => {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(raw)) config[key] = raw[key];
  for (const key of Object.keys(SCHEMA)) {
    const kind = (SCHEMA as Record<string, { kind: string }>)[key]!.kind;
    const value = config[key];
    if (typeof value !== 'string') continue;
    if (kind === 'int') {
      const n = toNumber(value);
      if (n !== undefined) config[key] = n;
    } else if (kind === 'bool') {
      const b = toBoolean(value);
      if (b !== undefined) config[key] = b;
    }
  }
  for (const key of BUILD_JSON_KEYS) {
    // a JSON structure (the board description); an override arrives as text
    const value = config[key];
    if (typeof value !== 'string') continue;
    try {
      config[key] = JSON.parse(value);
    } catch {
      delete config[key];
      problems.push(`config ${key} is not valid JSON; write it as in the manifest, e.g. sensors='[{"type":"bme280","address":118}]'`);
    }
  }
  for (const key of Object.keys(HOST_NUMBERS)) {
    const value = config[key];
    if (value === undefined) continue;
    const n = typeof value === 'number' ? value : toNumber(String(value));
    const [min, max] = HOST_NUMBERS[key]!;
    if (n !== undefined && n >= min && n <= max) {
      config[key] = n;
    } else {
      delete config[key];
      problems.push(`config ${key}="${String(value)}" is not a number in ${min}..${max}; using the default (fix the mcconfig argument ${key}=...)`);
    }
  }
  return { config, problems };
};

const toNumber = (text: string): number | undefined => {
  // [-]digits[.digits]
  const trimmed = text.trim();
  const unsigned = trimmed[0] === '-' ? trimmed.slice(1) : trimmed;
  const dot = unsigned.indexOf('.');
  const valid = dot < 0 ? isDigits(unsigned) : isDigits(unsigned.slice(0, dot)) && isDigits(unsigned.slice(dot + 1));
  return valid ? Number(trimmed) : undefined;
};

const toBoolean = (text: string): boolean | undefined => {
  const lower = asciiLower(text.trim());
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  return undefined;
};

/** Reads a string key, or undefined when it is missing or empty. */
export const configString = (config: Record<string, unknown>, key: string): string | undefined => {
  const value = config[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** Reads a numeric key (already normalized), or `fallback`. */
export const configNumber = (config: Record<string, unknown>, key: string, fallback: number): number => {
  const value = config[key];
  return typeof value === 'number' ? value : fallback;
};
