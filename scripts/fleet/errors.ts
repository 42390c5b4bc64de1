// Errors of the fleet tool: a code for scripts, a message that says what to do.

export class FleetError extends Error {
  override name = 'FleetError';
  constructor(
    /** usage, key, image, state, broker, busy, aborted, io */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
