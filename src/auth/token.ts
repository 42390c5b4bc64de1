// Signed, expiring MQTT passwords: the client asks for a fresh one at every connect and reconnects
// before the current one expires.
import type { Clock } from '../ports';
import { AuthError } from './errors';

export interface TokenProvider {
  /** Makes a password valid from `nowSeconds` (Unix time, s) until `expiresAt`. */
  password(nowSeconds: number): string;
  /** Unix time (s) at which the last password made stops being accepted; 0 before the first. */
  readonly expiresAt: number;
  /** Unix time (s) at which the last password was made; 0 before the first. */
  readonly issuedAt: number;
}

/**
 * Earliest wall time (s) we believe: an unset clock counts from 1970, or from 2000 on RTC chips
 * such as the DS3231.
 */
const MIN_PLAUSIBLE_WALL_TIME = 1_000_000_000; // 2001-09-09T01:46:40Z

/** Default slack before expiry for renewalDelay: covers clock skew and a slow reconnect. */
const DEFAULT_RENEWAL_MARGIN = 300;

/**
 * The MQTT client's `password` option: a fresh token from the Clock port's wall time at every
 * connect. Throws AuthError 'no-wall-time' while the clock is unset, since a token dated 1970 would
 * only be refused by the server as bad credentials.
 */
export function tokenPassword(provider: TokenProvider, clock: Pick<Clock, 'wallTime'>): () => string {
  return () => provider.password(wallSeconds(clock));
}

/** Wall time in whole seconds; throws AuthError 'no-wall-time' when unknown or implausibly early. */
export function wallSeconds(clock: Pick<Clock, 'wallTime'>): number {
  const ms = clock.wallTime();
  if (ms === undefined || !(ms / 1000 >= MIN_PLAUSIBLE_WALL_TIME)) {
    throw new AuthError(
      'no-wall-time',
      ms === undefined
        ? 'wall-clock time is unknown, so no token can be signed: wait for SNTP (or set the time) before connecting'
        : `wall-clock time reads ${Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms)}, which is before 2001-09-09: the clock is not set; sync it (SNTP) before connecting`,
    );
  }
  return Math.floor(ms / 1000);
}

/**
 * Milliseconds from `nowSeconds` until the client should reconnect with a new token: `margin`
 * seconds before expiry (default 300), but never more than a fifth of the token's lifetime.
 * 0 when no token was made yet or the renewal point has passed.
 */
export function renewalDelay(provider: TokenProvider, nowSeconds: number, margin = DEFAULT_RENEWAL_MARGIN): number {
  if (provider.expiresAt <= 0) return 0;
  const lifetime = provider.expiresAt - provider.issuedAt;
  const renewAt = provider.expiresAt - Math.min(margin, lifetime / 5);
  return Math.max(0, Math.round((renewAt - nowSeconds) * 1000));
}

/** Checks a lifetime option: a whole number of seconds, at least 60. */
export function checkLifetime(lifetime: number, what: string): number {
  if (!Number.isInteger(lifetime) || lifetime < 60) {
    throw new AuthError('bad-option', `${what} lifetime must be a whole number of seconds, at least 60; got ${lifetime}`);
  }
  return lifetime;
}
