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
  constructor(
    readonly code: ModdableErrorCode,
    message: string,
  ) {
    super(message);
  }
}
// Every error class of ours names itself this way, once, when its module loads (preloaded, before
// Error.prototype is read-only). An assignment of `name` per error throws on a device ("set name:
// not writable"), and a class field is one: the SDK compiles with useDefineForClassFields false.
ModdableHostError.prototype.name = 'ModdableHostError';

/** Text of whatever a Moddable native call threw (they throw Error objects with short messages). */
export const describe = (error: unknown): string => {
  if (error instanceof Error) return error.message;
  return String(error);
};
