// One error type for everything OTA; `code` is what the device reports in its progress message.
import type { HttpClientError } from '../http/errors';

export type OtaErrorCode =
  | 'bad-job' // the job message is not a valid job (JSON, fields)
  | 'bad-signature' // the Ed25519 signature does not verify with the configured key
  | 'no-key' // the firmware has no (valid) OTA public key configured
  | 'expired' // the job's "expires" time has passed
  | 'downgrade' // the job's version is older than the running one and does not allow it
  | 'busy' // another job runs, or the running image is still on trial
  | 'wrong-board' // the job's image is built for another board type
  | 'unsupported' // this device cannot update over the air (no update port, e.g. ESP8266)
  | 'bad-url' // the image URL cannot be fetched by this client
  | 'http' // the server answered with a status we cannot use
  | 'bad-response' // the server's answer is not HTTP we understand
  | 'network' // connection failed or broke, after all retries
  | 'timeout' // the server stalled
  | 'size-mismatch' // the image is not the size the job says
  | 'hash-mismatch' // the image's SHA-256 is not the one the job says
  | 'flash' // writing the update slot failed
  | 'health' // the new image failed its health check
  | 'cancelled'; // the device stopped while the job ran

export class OtaError extends Error {
  readonly code: OtaErrorCode;
  /** True when trying again (a later attempt, or resuming) may succeed. */
  readonly retryable: boolean;

  constructor(code: OtaErrorCode, message: string, retryable = false) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}
OtaError.prototype.name = 'OtaError';

/** Message of any thrown value, for reports. */
export const describeError = (error: unknown): string => {
  return error instanceof Error ? error.message : String(error);
};

/** An HTTP client failure as the OTA reports it: the same code, except that too many redirects is 'http'. */
export const otaErrorOf = (error: HttpClientError): OtaError => {
  return new OtaError(error.code === 'too-many-redirects' ? 'http' : error.code, error.message, error.retryable);
};
