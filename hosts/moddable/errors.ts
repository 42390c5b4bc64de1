// Typed errors of the Moddable host. `code` is stable for programs; messages say what to do.

export type ModdableErrorCode =
  | 'TCP_CLOSED'
  | 'TCP_FAILED'
  | 'DNS_FAILED'
  | 'TLS_UNAVAILABLE'
  | 'UDP_FAILED'
  | 'KV_BAD_KEY'
  | 'KV_TOO_LARGE'
  | 'KV_WRITE_FAILED'
  | 'KV_CORRUPT'
  | 'WIFI_FAILED'
  | 'IO_UNAVAILABLE'
  | 'OTA_UNSUPPORTED'
  | 'OTA_BUSY'
  | 'OTA_SIZE'
  | 'OTA_FAILED'
  | 'OTA_NO_ROLLBACK';

export class ModdableHostError extends Error {
  // A class field, not `this.name = ...`: Moddable freezes Error.prototype, and assigning over a
  // frozen inherited property throws in strict code ("set name: not writable").
  override name = 'ModdableHostError';

  constructor(
    readonly code: ModdableErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Text of whatever a Moddable native call threw (they throw Error objects with short messages). */
export const describe = (error: unknown): string => {
  if (error instanceof Error) return error.message;
  return String(error);
};
