// Errors of the fleet tool: a code for scripts, a message that says what to do.

/**
 * usage: a bad command line (exit status 2); key, image, job: a file that cannot be used; state: the
 * campaign directory; broker: the MQTT connection; busy: another tool holds the campaign; io: serving
 * the image.
 */
export type FleetErrorCode = 'usage' | 'key' | 'image' | 'job' | 'state' | 'broker' | 'busy' | 'io';

export class FleetError extends Error {
  override name = 'FleetError';
  constructor(
    readonly code: FleetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
