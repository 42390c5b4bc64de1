// Image URLs the device can fetch: http://host[:port]/path and https://..., host a name, an IPv4
// address or a bracketed IPv6 address. No user info (credentials do not belong in a signed job).
import { HttpClientError } from './errors';

export interface ImageUrl {
  secure: boolean;
  host: string;
  port: number;
  /** Path and query, starting with "/". */
  path: string;
  /** The Host header value. */
  authority: string;
}

const PATTERN = /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s#]*)?(?:#.*)?$/;

export function parseImageUrl(text: string): ImageUrl {
  const m = /^[\x21-\x7e]*$/.test(text) ? PATTERN.exec(text) : null;
  if (!m) {
    throw new HttpClientError('bad-url', `cannot fetch "${text.slice(0, 80)}": the image URL must be http:// or https://, a host, an optional port and a path, in printable ASCII without spaces or credentials`);
  }
  const secure = m[1] === 'https';
  const port = m[3] === undefined ? (secure ? 443 : 80) : Number(m[3]);
  if (port < 1 || port > 65535) throw new HttpClientError('bad-url', `port ${m[3]} of the image URL is not in 1..65535`);
  const bracketed = m[2].startsWith('[');
  const host = bracketed ? m[2].slice(1, -1) : m[2];
  const defaultPort = port === (secure ? 443 : 80);
  return { secure, host, port, path: m[4] || '/', authority: defaultPort ? m[2] : `${m[2]}:${port}` };
}

/** Resolves a redirect's Location against the URL that answered it. */
export function resolveLocation(base: ImageUrl, location: string): string {
  if (/^https?:\/\//i.test(location)) return location;
  const origin = `${base.secure ? 'https' : 'http'}://${base.authority}`;
  if (location.startsWith('//')) return `${base.secure ? 'https' : 'http'}:${location}`;
  if (location.startsWith('/')) return origin + location;
  const dir = base.path.slice(0, base.path.lastIndexOf('/') + 1);
  return origin + dir + location;
}
