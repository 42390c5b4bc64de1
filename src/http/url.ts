// Image URLs the device can fetch: http://host[:port]/path and https://..., host a name, an IPv4
// address or a bracketed IPv6 address. No user info (credentials do not belong in a signed job).
import { HttpClientError } from './errors';
import { allChars, isAlnumCode, isDigitCode, isHexCode, runEnd, startsWithIgnoringCase } from '../text/chars';

export interface ImageUrl {
  secure: boolean;
  host: string;
  port: number;
  /** Path and query, starting with "/". */
  path: string;
  /** The Host header value. */
  authority: string;
}

const MAX_PORT_DIGITS = 5;

const isPrintableCode = (c: number): boolean => {
  return c >= 0x21 && c <= 0x7e;
};

const isNameCode = (c: number): boolean => {
  return isAlnumCode(c) || c === 0x2e || c === 0x2d; // . -
};

const isAddressCode = (c: number): boolean => {
  return isHexCode(c) || c === 0x3a || c === 0x2e; // : .
};

/**
 * http[s]://host[:port][/path][#fragment] in printable ASCII, host a name of letters, digits, '.'
 * and '-' or [hex digits : .]: its scheme, host as written, port digits and path (undefined when
 * absent); undefined for anything else.
 */
const splitUrl = (text: string): [scheme: string, host: string, port: string | undefined, path: string | undefined] | undefined => {
  if (!allChars(text, isPrintableCode, 0)) return undefined;
  const scheme = text.startsWith('http://') ? 'http' : text.startsWith('https://') ? 'https' : '';
  if (!scheme) return undefined;
  const start = scheme.length + 3;
  let at = text[start] === '[' ? runEnd(text, start + 1, isAddressCode) + 1 : runEnd(text, start, isNameCode);
  if (text[start] === '[' && (at === start + 2 || text[at - 1] !== ']')) return undefined;
  if (at === start) return undefined;
  const host = text.slice(start, at);
  let port: string | undefined;
  if (text[at] === ':') {
    const end = runEnd(text, at + 1, isDigitCode);
    if (end === at + 1 || end - at - 1 > MAX_PORT_DIGITS) return undefined;
    port = text.slice(at + 1, end);
    at = end;
  }
  let path: string | undefined;
  if (text[at] === '/') {
    const hash = text.indexOf('#', at);
    path = text.slice(at, hash < 0 ? text.length : hash);
    at += path.length;
  }
  return at === text.length || text[at] === '#' ? [scheme, host, port, path] : undefined;
};

export const parseImageUrl = (text: string): ImageUrl => {
  const m = splitUrl(text);
  if (!m) {
    throw new HttpClientError('bad-url', `cannot fetch "${text.slice(0, 80)}": the image URL must be http:// or https://, a host, an optional port and a path, in printable ASCII without spaces or credentials`);
  }
  const secure = m[0] === 'https';
  const port = m[2] === undefined ? (secure ? 443 : 80) : Number(m[2]);
  if (port < 1 || port > 65535) throw new HttpClientError('bad-url', `port ${m[2]} of the image URL is not in 1..65535`);
  const bracketed = m[1].startsWith('[');
  const host = bracketed ? m[1].slice(1, -1) : m[1];
  const defaultPort = port === (secure ? 443 : 80);
  return { secure, host, port, path: m[3] || '/', authority: defaultPort ? m[1] : `${m[1]}:${port}` };
};

/** Resolves a redirect's Location against the URL that answered it. */
export const resolveLocation = (base: ImageUrl, location: string): string => {
  if (startsWithIgnoringCase(location, 'http://') || startsWithIgnoringCase(location, 'https://')) return location;
  const origin = `${base.secure ? 'https' : 'http'}://${base.authority}`;
  if (location.startsWith('//')) return `${base.secure ? 'https' : 'http'}:${location}`;
  if (location.startsWith('/')) return origin + location;
  let end = base.path.length;
  while (end > 0 && base.path[end - 1] !== '/') end--;
  const dir = base.path.slice(0, end);
  return origin + dir + location;
};
