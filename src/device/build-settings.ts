// Settings only the build sets (Moddable manifest `config`, the simulator's options): the typed,
// read-only section of the configuration. Config reads them from Platform.config together with the
// runtime settings; they are never stored, and set-config cannot change them (whoever could change the
// OTA key over MQTT could sign their own jobs). An invalid value is reported and its default used.
import { hasControl } from '../text/chars';

export interface BuildSettings {
  /** Ed25519 public key of the fleet's OTA jobs, 64 hex digits or base64; '' for none (every job is refused). */
  readonly otaPublicKey: string;
  /** The board's name, as Improv reports it. */
  readonly board: string;
  /** The board description: one entry per sensor, checked by src/device/hardware.ts. */
  readonly sensors: readonly unknown[];
  /** I2C bus options for the sensors (pins, speed). */
  readonly i2c: Readonly<Record<string, unknown>>;
  /** A Wi-Fi network stored at boot when missing, so a fresh board joins it without the set-up portal; '' for none. */
  readonly wifiSsid: string;
  readonly wifiPassword: string;
}

/** Keys whose value is a JSON structure (a host that gets them as text parses them first). */
export const BUILD_JSON_KEYS = ['sensors', 'i2c'];

// The defaults of the structured settings: one of each, never changed (BuildSettings is read-only).
const NO_SENSORS: readonly unknown[] = [];
const NO_I2C_OPTIONS: Readonly<Record<string, unknown>> = {};

const hasOwn = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);

/**
 * The build-time settings in `source` (its own keys only; others are ignored). A value of the wrong
 * type or length is reported through `onInvalid` and replaced by its default.
 */
export const readBuildSettings = (source: Record<string, unknown>, onInvalid: (key: string, message: string) => void): BuildSettings => {
  const given = (key: keyof BuildSettings) => (hasOwn(source, key) ? source[key] : undefined);
  const text = (key: keyof BuildSettings, def: string, maxLength: number): string => {
    const value = given(key);
    if (value === undefined) return def;
    if (typeof value === 'string' && value.length <= maxLength && !hasControl(value)) return value;
    onInvalid(key, `${key} must be text of at most ${maxLength} characters without control characters`);
    return def;
  };
  const sensors = given('sensors');
  const i2c = given('i2c');
  const isList = Array.isArray(sensors);
  const isObject = typeof i2c === 'object' && i2c !== null && !Array.isArray(i2c);
  if (sensors !== undefined && !isList) onInvalid('sensors', 'sensors (the board description) must be a list of sensor entries, e.g. [{"type":"bme280","address":118}]');
  if (i2c !== undefined && !isObject) onInvalid('i2c', 'i2c must be an object of bus options, e.g. {"data":21,"clock":22}');
  return {
    otaPublicKey: text('otaPublicKey', '', 88),
    board: text('board', 'nodemcu', 32),
    sensors: isList ? (sensors as unknown[]) : NO_SENSORS,
    i2c: isObject ? (i2c as Record<string, unknown>) : NO_I2C_OPTIONS,
    wifiSsid: text('wifiSsid', '', 32),
    wifiPassword: text('wifiPassword', '', 63),
  };
};
