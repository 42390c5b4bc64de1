// The device id names the device in every topic, the client id and Home Assistant's unique ids, so it
// must be one safe topic level. An id that is not (U+FFFD from undecodable bytes, '/', a wildcard, a
// control character, empty, too long) is replaced by an id derived from it: the System port has no
// second id to fall back to, and a derived one stays the same across boots.
import { hexEncode } from '../text/hex';
import { sha256 } from '../crypto/sha256';
import { allChars, isAlnumCode } from '../text/chars';

export const MAX_DEVICE_ID_LENGTH = 32;
/** Hex digits of a derived id: as many as a MAC address has. */
const DERIVED_ID_DIGITS = 12;

/** 0-9 A-Z a-z _ - */
const isIdCode = (c: number): boolean => {
  return isAlnumCode(c) || c === 0x5f || c === 0x2d;
};

/** Why `id` cannot be a device id, or '' when it can. */
export const deviceIdProblem = (id: string): string => {
  if (!id) return 'it is empty';
  if (id.length > MAX_DEVICE_ID_LENGTH) return `it is longer than ${MAX_DEVICE_ID_LENGTH} characters`;
  if (!allChars(id, isIdCode)) return 'only letters A-Z and a-z, digits, "_" and "-" are allowed';
  return '';
};

export interface ResolvedDeviceId {
  id: string;
  /** Set when the given id was replaced: a log line for people. */
  warning?: string;
}

/** The given id when it is safe, else 12 hex digits of the SHA-256 of its UTF-16 code units. */
export const resolveDeviceId = (given: string): ResolvedDeviceId => {
  const problem = deviceIdProblem(given);
  if (!problem) return { id: given };
  // code units, not UTF-8: a lone surrogate has no UTF-8 form, and this id must always be derivable
  const units = new Uint8Array(given.length * 2);
  for (let i = 0; i < given.length; i++) {
    const c = given.charCodeAt(i);
    units[2 * i] = c >> 8;
    units[2 * i + 1] = c & 0xff;
  }
  const id = hexEncode(sha256(units).subarray(0, DERIVED_ID_DIGITS / 2));
  // JSON quoting shows control characters as escapes; long ids are cut for the log
  const shown = JSON.stringify(given.length > 2 * MAX_DEVICE_ID_LENGTH ? `${given.slice(0, 2 * MAX_DEVICE_ID_LENGTH)}...` : given);
  return { id, warning: `device id ${shown} is unusable (${problem}); using "${id}", derived from it, in topics and the client id` };
};
