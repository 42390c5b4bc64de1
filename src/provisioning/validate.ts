// Checks of everything a user types into the portal or sends over Improv, with messages meant
// to be shown on the page as they are.
import { allChars, isAlnumCode, isDigits, isHexCode, isSpaceCode, runEnd, startsWithIgnoringCase } from '../text/chars';
import { utf8Length } from '../text/utf8';

export type ProvisioningField = 'ssid' | 'password' | 'deviceName' | 'brokerUrl' | 'brokerUser' | 'brokerPassword';

export class ProvisioningInputError extends Error {
  readonly code = 'invalid-input';
  constructor(
    readonly field: ProvisioningField,
    message: string,
  ) {
    super(message);
  }
}
ProvisioningInputError.prototype.name = 'ProvisioningInputError';

/** Longest value the key-value store keeps in one entry on every target (ESP8266 Preference). */
const MAX_STORED_VALUE_BYTES = 63;
const MAX_DEVICE_NAME_CHARS = 32;

export interface WiFiCredentials {
  ssid: string;
  /** "" for an open network. */
  password: string;
}

export interface ExtraSettings {
  deviceName?: string;
  brokerUrl?: string;
  brokerUser?: string;
  brokerPassword?: string;
}

// C0 controls, DEL and C1 controls
const controlCharAt = (text: string): number => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return i;
  }
  return -1;
};

const noControls = (field: ProvisioningField, label: string, value: string): void => {
  const at = controlCharAt(value);
  if (at >= 0) {
    throw new ProvisioningInputError(field, `${label} contains an invisible control character (position ${at + 1}); remove it and try again.`);
  }
};

const charCount = (text: string): number => {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!(c >= 0xdc00 && c <= 0xdfff && i > 0 && (text.charCodeAt(i - 1) & 0xfc00) === 0xd800)) n++;
  }
  return n;
};

/** UTF-8 length; a lone UTF-16 surrogate (not encodable) is reported as invalid input. */
const byteLength = (field: ProvisioningField, label: string, text: string): number => {
  try {
    return utf8Length(text);
  } catch {
    throw new ProvisioningInputError(field, `${label} contains a broken character; type it again.`);
  }
};

export const validateSsid = (ssid: string): string => {
  const bytes = byteLength('ssid', 'The network name', ssid);
  if (bytes < 1 || bytes > 32) {
    throw new ProvisioningInputError('ssid', bytes === 0 ? 'Enter the network name (SSID).' : `The network name must be at most 32 bytes; this one has ${bytes}.`);
  }
  noControls('ssid', 'The network name', ssid);
  return ssid;
};

/** WPA passphrase: 8 to 63 characters (at most 63 bytes, the storage limit), or "" for an open network. */
export const validatePassphrase = (password: string): string => {
  if (password === '') return password;
  const chars = charCount(password);
  if (chars < 8 || chars > 63) {
    throw new ProvisioningInputError(
      'password',
      `The Wi-Fi password must be 8 to 63 characters (it has ${chars}), or empty for an open network.`,
    );
  }
  if (byteLength('password', 'The Wi-Fi password', password) > MAX_STORED_VALUE_BYTES) {
    throw new ProvisioningInputError('password', `The Wi-Fi password is too long: at most ${MAX_STORED_VALUE_BYTES} bytes (accented letters count as 2).`);
  }
  noControls('password', 'The Wi-Fi password', password);
  return password;
};

export const validateCredentials = (ssid: string, password: string): WiFiCredentials => {
  return { ssid: validateSsid(ssid), password: validatePassphrase(password) };
};

const shortText = (field: ProvisioningField, label: string, value: string, maxBytes: number): string => {
  if (byteLength(field, label, value) > maxBytes) throw new ProvisioningInputError(field, `${label} must be at most ${maxBytes} bytes.`);
  noControls(field, label, value);
  return value;
};

const MAX_LABEL_CHARS = 63;

const isLabelCode = (c: number): boolean => {
  return isAlnumCode(c) || c === 0x2d; // -
};

const isBracketHostCode = (c: number): boolean => {
  return isHexCode(c) || c === 0x3a || c === 0x2e; // : .
};

/** Dot-separated labels of 1-63 letters, digits and '-' (not first or last), or [hex digits : .]. */
const isHostName = (host: string): boolean => {
  if (host[0] === '[') return host.length > 2 && host[host.length - 1] === ']' && allChars(host.slice(1, -1), isBracketHostCode);
  const labels = host.split('.');
  for (const label of labels) {
    if (!allChars(label, isLabelCode, 1, MAX_LABEL_CHARS) || label[0] === '-' || label[label.length - 1] === '-') return false;
  }
  return true;
};

const isUrlHostCode = (c: number): boolean => {
  return c !== 0x2f && c !== 0x3a && c !== 0x3f && c !== 0x23 && c !== 0x40 && !isSpaceCode(c); // / : ? # @
};

/** After the host: nothing, "/", ":port" or ":port/"; the port's digits, '' without one, undefined when it is none of these. */
const portOf = (rest: string): string | undefined => {
  if (rest === '' || rest === '/') return '';
  if (rest[0] !== ':') return undefined;
  const port = rest[rest.length - 1] === '/' ? rest.slice(1, -1) : rest.slice(1);
  return isDigits(port, 1, 5) ? port : undefined;
};

/** The host and port of mqtt[s]://host[:port][/] (scheme in any case); undefined for anything else. */
const splitBrokerUrl = (url: string): { host: string; port: string } | undefined => {
  const start = startsWithIgnoringCase(url, 'mqtt://') ? 7 : startsWithIgnoringCase(url, 'mqtts://') ? 8 : -1;
  if (start < 0) return undefined;
  // a name (none of / : ? # @ or spaces), or failing that a bracketed address
  const end = runEnd(url, start, isUrlHostCode);
  let port = end > start ? portOf(url.slice(end)) : undefined;
  if (port !== undefined) return { host: url.slice(start, end), port };
  const close = url[start] === '[' ? url.indexOf(']', start) : -1;
  port = close > 0 ? portOf(url.slice(close + 1)) : undefined;
  return port === undefined ? undefined : { host: url.slice(start, close + 1), port };
};

/** mqtt://host[:port] or mqtts://host[:port]; credentials go in their own fields, not in the URL. */
export const validateBrokerUrl = (url: string): string => {
  shortText('brokerUrl', 'The broker URL', url, MAX_STORED_VALUE_BYTES);
  const m = splitBrokerUrl(url);
  if (!m) {
    throw new ProvisioningInputError('brokerUrl', 'The broker URL must look like mqtt://broker.local:1883 or mqtts://host:8883 (no user name or path in it).');
  }
  if (!isHostName(m.host)) throw new ProvisioningInputError('brokerUrl', `"${m.host}" is not a valid host name in the broker URL.`);
  if (m.port && (Number(m.port) < 1 || Number(m.port) > 65535)) {
    throw new ProvisioningInputError('brokerUrl', 'The broker port must be between 1 and 65535.');
  }
  return url;
};

/** Keeps only the fields given (empty strings mean "not given"); nothing is trimmed. */
export const validateExtras = (input: ExtraSettings): ExtraSettings => {
  const out: ExtraSettings = {};
  if (input.deviceName) {
    if (charCount(input.deviceName) > MAX_DEVICE_NAME_CHARS) {
      throw new ProvisioningInputError('deviceName', `The device name must be at most ${MAX_DEVICE_NAME_CHARS} characters.`);
    }
    out.deviceName = shortText('deviceName', 'The device name', input.deviceName, MAX_STORED_VALUE_BYTES);
  }
  if (input.brokerUrl) out.brokerUrl = validateBrokerUrl(input.brokerUrl);
  if (input.brokerUser) out.brokerUser = shortText('brokerUser', 'The broker user name', input.brokerUser, MAX_STORED_VALUE_BYTES);
  if (input.brokerPassword) {
    out.brokerPassword = shortText('brokerPassword', 'The broker password', input.brokerPassword, MAX_STORED_VALUE_BYTES);
  }
  return out;
};
