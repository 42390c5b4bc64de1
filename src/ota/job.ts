// The OTA job: what the operator's tool publishes and the device checks before touching anything.
//
//   {"id": "2024-06-rollout-1", "version": "1.4.0", "url": "http://10.0.0.2:8070/image.bin",
//    "size": 262144, "sha256": "<64 hex digits>", "board": "esp8266", "allowDowngrade": false,
//    "expires": 1718000000, "signature": "<base64 of 64 bytes>"}
//
// The signature is Ed25519 over manifestBytes(job) (see canonical.ts). It is checked first: no other
// field is trusted, or even validated, before it verifies. Unknown members are signed and ignored.
import { base64Decode } from '../text/base64';
import { ed25519Verify } from '../crypto/ed25519';
import { hexDecode } from '../text/hex';
import { utf8Decode } from '../text/utf8';
import { manifestBytes } from './canonical';
import { OtaError, describeError, otaErrorOf } from './errors';
import { parseVersion } from './semver';
import { HttpClientError } from '../http/errors';
import { parseImageUrl } from '../http/url';
import { allChars, isAlnumCode, isLowerHexCode } from '../text/chars';

const SHA256_HEX_DIGITS = 64;
const MAX_ID_CHARS = 64;

export interface OtaJob {
  id: string;
  version: string;
  url: string;
  size: number;
  /** SHA-256 of the image, 32 bytes. */
  sha256: Uint8Array;
  allowDowngrade: boolean;
  /** Epoch seconds after which the job is refused (when the device knows the time). */
  expires?: number;
  /** The board type the image is built for (a device of another type refuses it); absent: any. */
  board?: string;
}

/** Largest job message accepted, bytes. */
const MAX_JOB_BYTES = 2048;
/** Largest image a job may announce (the biggest ESP32 app slot is well below). */
export const MAX_IMAGE_BYTES = 16 * 1024 * 1024;

/** Decodes the message to a JSON object with a signature; nothing else is looked at yet. */
export const decodeJob = (payload: Uint8Array): Record<string, unknown> => {
  if (payload.length > MAX_JOB_BYTES) throw new OtaError('bad-job', `job message of ${payload.length} bytes is over the ${MAX_JOB_BYTES}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(payload));
  } catch (error) {
    throw new OtaError('bad-job', `job message is not UTF-8 JSON: ${describeError(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OtaError('bad-job', 'job message must be a JSON object');
  return value as Record<string, unknown>;
};

/** The job's id when it is a plausible one (for reports), without trusting it. */
export const jobId = (raw: Record<string, unknown>): string | undefined => {
  return typeof raw.id === 'string' && isId(raw.id) ? raw.id : undefined;
};

/** Throws OtaError 'bad-signature' unless `raw` carries a valid signature by `publicKey`. */
export const verifyJob = (raw: Record<string, unknown>, publicKey: Uint8Array): void => {
  const text = raw.signature;
  if (typeof text !== 'string') throw new OtaError('bad-signature', 'job has no "signature" (base64 Ed25519 signature of the canonical manifest)');
  let signature: Uint8Array;
  try {
    signature = base64Decode(text);
  } catch (error) {
    throw new OtaError('bad-signature', `job signature is not base64: ${describeError(error)}`);
  }
  let message: Uint8Array;
  try {
    message = manifestBytes(raw);
  } catch (error) {
    throw new OtaError('bad-signature', `job manifest cannot be canonicalized, so it cannot carry a valid signature: ${describeError(error)}`);
  }
  if (!ed25519Verify(publicKey, message, signature)) {
    throw new OtaError('bad-signature', 'job signature does not verify with this device\'s OTA public key: it was not signed by the fleet key, or was altered after signing');
  }
};

/** Validates the fields of a (verified) job. Throws OtaError 'bad-job' naming the field. */
export const validateJob = (raw: Record<string, unknown>): OtaJob => {
  const id = raw.id;
  if (typeof id !== 'string' || !isId(id)) throw new OtaError('bad-job', 'job "id" must be 1-64 characters of A-Z a-z 0-9 . _ -');
  const version = raw.version;
  if (typeof version !== 'string' || !parseVersion(version)) throw new OtaError('bad-job', `job "version" must be a semantic version like 1.4.0, not ${JSON.stringify(version)}`);
  const url = raw.url;
  if (typeof url !== 'string' || url.length > 512) throw new OtaError('bad-job', 'job "url" must be a string of at most 512 characters');
  try {
    parseImageUrl(url);
  } catch (error) {
    throw error instanceof HttpClientError ? otaErrorOf(error) : error;
  }
  const size = raw.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_IMAGE_BYTES) {
    throw new OtaError('bad-job', `job "size" must be a whole number of bytes from 1 to ${MAX_IMAGE_BYTES}`);
  }
  const sha = raw.sha256;
  if (typeof sha !== 'string' || !allChars(sha, isLowerHexCode, SHA256_HEX_DIGITS, SHA256_HEX_DIGITS)) throw new OtaError('bad-job', 'job "sha256" must be 64 lower-case hex digits');
  const allow = raw.allowDowngrade;
  if (allow !== undefined && typeof allow !== 'boolean') throw new OtaError('bad-job', 'job "allowDowngrade" must be true or false');
  const expires = raw.expires;
  if (expires !== undefined && (typeof expires !== 'number' || !Number.isSafeInteger(expires) || expires < 0)) {
    throw new OtaError('bad-job', 'job "expires" must be epoch seconds');
  }
  const board = raw.board;
  if (board !== undefined && (typeof board !== 'string' || !isBoard(board))) throw new OtaError('bad-job', 'job "board" must be 1-32 characters of A-Z a-z 0-9 . _ -');
  const job: OtaJob = { id, version, url, size, sha256: hexDecode(sha), allowDowngrade: allow === true, expires: expires as number | undefined };
  if (board !== undefined) job.board = board;
  return job;
};

/** A board type as jobs and reports carry it (the build setting `board`, e.g. esp32, esp8266). */
export const isBoard = (text: string): boolean => {
  return allChars(text, isIdCode, 1, MAX_BOARD_CHARS);
};

const isId = (text: string): boolean => {
  return allChars(text, isIdCode, 1, MAX_ID_CHARS);
};

const MAX_BOARD_CHARS = 32;

const isIdCode = (c: number): boolean => {
  return isAlnumCode(c) || c === 0x2e || c === 0x5f || c === 0x2d; // . _ -
};
