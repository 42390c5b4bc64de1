// The fleet tool's command-line values, checked before anything is read, signed or published. Each
// parser returns the value or throws FleetError 'usage' naming the option and what would be accepted.
// Versions and image URLs are checked with the device's own parsers (src/ota), so the tool never signs
// a job that every device would refuse.
import { isIP } from 'node:net';
import { isTopicLevel } from '../../src/device/topics';
import { MAX_IMAGE_BYTES } from '../../src/ota/job';
import { parseVersion } from '../../src/ota/semver';
import { parseImageUrl } from '../../src/http/url';
import { FleetError } from './errors';

/** Longest version string: the job must fit the device's 2 KB job limit with room to spare. */
const MAX_VERSION = 64;
/** Longest image URL the device accepts (src/ota/job.ts). */
const MAX_URL = 512;
/** Longest topic prefix the device accepts (src/device/config.ts). */
const MAX_PREFIX = 48;
const MAX_REASON = 200;
const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'];
export const BEHAVIOURS = ['ok', 'crash-loop', 'no-connect', 'fail-health'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

const usage = (message: string) => new FleetError('usage', message);
/** The value as it can be quoted in a message: control characters escaped, long ones cut. */
export const quote = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A semantic version the device accepts (MAJOR.MINOR.PATCH[-prerelease][+build]). */
export function parseVersionArg(text: string, flag: string): string {
  if (text.length > MAX_VERSION || !parseVersion(text)) {
    throw usage(`${flag} ${quote(text)} is not a semantic version: give MAJOR.MINOR.PATCH, e.g. 1.4.0 or 1.4.0-rc.1 (at most ${MAX_VERSION} characters)`);
  }
  return text;
}

function parseUrl(text: string, flag: string, what: string): URL {
  try {
    return new URL(text);
  } catch {
    throw usage(`${flag} ${quote(text)} is not a URL: give ${what}`);
  }
}

/** An image URL devices can fetch: http or https, no credentials (it is signed into the job and published). */
export function parseImageUrlArg(text: string, flag: string): string {
  const url = parseUrl(text, flag, 'http://<host>[:<port>]/<path> or https://...');
  if (url.username || url.password) {
    // the URL is not repeated: it holds a password
    throw usage(`${flag} carries credentials (user:password@): the URL is signed into the job and published on the broker for anyone subscribed to read; serve the image without them`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usage(`${flag} ${quote(text)}: devices fetch images over http:// or https:// only, not ${url.protocol.slice(0, -1)}`);
  }
  if (text.length > MAX_URL) throw usage(`${flag} is ${text.length} characters long; devices accept image URLs of at most ${MAX_URL}`);
  try {
    parseImageUrl(text);
  } catch (error) {
    throw usage(`${flag}: ${(error as Error).message}`);
  }
  return text;
}

/** The base URL the rollout's image path is appended to: an image URL without query or fragment. */
export function parsePublicUrl(text: string, flag: string): string {
  parseImageUrlArg(text, flag);
  const url = new URL(text);
  if (url.search || url.hash || text.includes('?') || text.includes('#')) {
    throw usage(`${flag} ${quote(text)} must be a base like http://192.168.1.10:8070 (the image path is appended): no ? or #`);
  }
  return text;
}

/** An MQTT broker URL MQTT.js connects to. Credentials are allowed here (the broker's own login). */
export function parseBrokerUrl(text: string, flag = '--broker'): string {
  const what = 'mqtt://<host>[:<port>], mqtts://, ws:// or wss://';
  // "localhost:1883" parses as a URL of scheme "localhost"
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) throw usage(`${flag} ${quote(text)} is not a URL: give ${what}`);
  const url = parseUrl(text, flag, what);
  if (BROKER_PROTOCOLS.indexOf(url.protocol) < 0) {
    throw usage(`${flag}: ${url.protocol.slice(0, -1)} is not a broker protocol; use mqtt://, mqtts://, ws:// or wss://`);
  }
  if (!url.hostname) throw usage(`${flag} names no host: give e.g. mqtt://127.0.0.1:1883`);
  return text;
}

/** A broker URL with its password hidden, for messages and logs. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

/** A topic prefix the device accepts: topic levels without + # or control characters, not starting with $. */
export function parsePrefix(text: string, flag = '--prefix'): string {
  if (text.length > MAX_PREFIX || !text.split('/').every(isTopicLevel) || CONTROL.test(text) || text.startsWith('$')) {
    throw usage(`${flag} ${quote(text)} must be up to ${MAX_PREFIX} characters of topic levels separated by /, without + # or control characters, not starting with $ (e.g. nodemcu or site-1/nodemcu)`);
  }
  return text;
}

/** A device id as a topic level: 1-64 printable ASCII characters without + # or /. */
export function isDeviceId(text: string): boolean {
  return /^[\x21-\x7e]{1,64}$/.test(text) && isTopicLevel(text);
}

export function parseDeviceId(text: string, flag = '--device'): string {
  if (!isDeviceId(text)) throw usage(`${flag} ${quote(text)} is not a device id: 1-64 printable ASCII characters without spaces, + # or / (\`fleet devices\` lists the ids)`);
  return text;
}

/** An OTA group name, as the device checks its own (a topic level). */
export function parseGroup(text: string, flag = '--group'): string {
  if (!isTopicLevel(text) || CONTROL.test(text)) throw usage(`${flag} ${quote(text)} is not a group name: 1-64 characters without + # / or control characters`);
  return text;
}

/** A job or campaign id the device accepts. */
export function parseJobId(text: string, flag: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) throw usage(`${flag} ${quote(text)} must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  return text;
}

/** A whole number written in decimal digits, within [min, max]. */
export function parseWhole(text: string, flag: string, min: number, max: number, unit = ''): number {
  const n = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw usage(`${flag} ${quote(text)} must be a whole number from ${min} to ${max}${unit}`);
  return n;
}

export function parsePort(text: string, flag: string): number {
  return parseWhole(text, flag, 0, 65535, ' (0 picks a free port)');
}

/** An address to listen on: an IP address or a host name. */
export function parseHost(text: string, flag: string): string {
  if (isIP(text) || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/.test(text)) return text;
  throw usage(`${flag} ${quote(text)} is not an address to listen on: give an IP address (0.0.0.0 for all) or a host name`);
}

export function parseBehaviour(text: string, flag = '--behaviour'): Behaviour {
  const b = BEHAVIOURS.find((x) => x === text);
  if (!b) throw usage(`${flag} ${quote(text)} is not one of ${BEHAVIOURS.join(', ')}`);
  return b;
}

/** One line of text for the campaign and its report. */
export function parseReason(text: string, flag = '--reason'): string {
  const t = text.trim();
  if (!t || t.length > MAX_REASON || CONTROL.test(t)) throw usage(`${flag} must be 1-${MAX_REASON} characters on one line`);
  return t;
}

/** An image size for `fleet image`: what the device accepts, from `min` up. */
export function checkImageSize(bytes: number, min: number, flag = '--size'): number {
  if (bytes < min) throw usage(`${flag}: an image needs at least ${min} bytes, not ${bytes}`);
  if (bytes > MAX_IMAGE_BYTES) throw usage(`${flag}: ${bytes} bytes is more than the ${MAX_IMAGE_BYTES / 1024 / 1024}M a device accepts`);
  return bytes;
}

/** A file name option: non-empty, one line. */
export function parsePath(text: string, flag: string): string {
  if (!text || CONTROL.test(text)) throw usage(`${flag} needs a file or directory name`);
  return text;
}

/** Text a device published, made safe to print on a terminal: control characters replaced, length cut. */
export function printable(text: string, max = 64): string {
  const clean = text.replace(new RegExp(CONTROL.source, 'g'), '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
