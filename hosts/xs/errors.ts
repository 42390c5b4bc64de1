// Typed errors of the XS runner. `code` is stable for programs; messages say what to do.

export class XsError extends Error {
  /** Lines the failed delivery print()ed before it failed. */
  output: string[] = [];

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** JavaScript code inside XS threw and did not catch (xsnap exit status 15 when it is the last delivery). */
export class XsExceptionError extends XsError {
  static readonly exitCode = 15;
  constructor(
    /** The exception as XS printed it, e.g. "ReferenceError: f: get x: undefined variable". */
    readonly xsMessage: string,
    what: string,
  ) {
    super('XS_EXCEPTION', `${what} threw inside XS: ${xsMessage}${hintFor(xsMessage)}`);
  }
}

/** The delivery used more computrons than the meter limit; XS aborts the whole worker (exit status 17). */
export class XsMeterLimitError extends XsError {
  static readonly exitCode = 17;
  constructor(
    readonly limit: number,
    what: string,
  ) {
    super(
      'XS_METER_LIMIT',
      `${what} exceeded the meter limit of ${limit} computrons, so XS stopped the worker ` +
        `(an endless loop, or raise meterLimit when the work is legitimately large)`,
    );
  }
}

/**
 * XS ran out of memory (exit status 11): its heap could not grow, or, in the 32-bit worker with a
 * fixed heap (xs32.setHeapCap(), XsBench.capHeap()), more bytes were live after a collection than the cap.
 */
export class XsMemoryFullError extends XsError {
  static readonly exitCode = 11;
  constructor(what: string, stderr: string) {
    super('XS_MEMORY_FULL', `XS ran out of memory during ${what} and stopped the worker${stderr ? `; it said: ${stderr.trim()}` : ''}`);
  }
}

/** A script went deeper than the XS stack allows (exit status 12): XS stops the whole worker. */
export class XsStackOverflowError extends XsError {
  static readonly exitCode = 12;
  constructor(what: string, stderr: string) {
    super('XS_STACK_OVERFLOW', `the XS stack overflowed during ${what}, so XS stopped the worker${stderr ? `; it said: ${stderr.trim()}` : ''}`);
  }
}

/** The worker process ended for another reason (killed, I/O error, property names exhausted). */
export class XsExitError extends XsError {
  constructor(
    readonly exitCode: number | null,
    readonly signal: string | null,
    what: string,
    stderr: string,
  ) {
    const reason = signal ? `signal ${signal}` : `exit status ${exitCode} (${EXIT_REASONS[exitCode ?? -1] ?? 'unknown'})`;
    super('XS_EXIT', `the XS worker ended with ${reason} during ${what}${stderr ? `; it said: ${stderr.trim()}` : ''}`);
  }
}

/** The parent's issueCommand handler threw; XS got an empty answer and the delivery is reported failed. */
export class XsCommandHandlerError extends XsError {
  constructor(cause: unknown, what: string) {
    super('XS_COMMAND_HANDLER', `the Node handler of issueCommand threw during ${what}: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
}

export class XsTimeoutError extends XsError {
  constructor(ms: number, what: string) {
    super('XS_TIMEOUT', `${what} did not finish within ${ms} ms, so the XS worker was killed (raise timeoutMs if it is expected)`);
  }
}

export class XsProtocolError extends XsError {
  constructor(message: string) {
    super('XS_PROTOCOL', `xsnap protocol error: ${message}`);
  }
}

export class XsClosedError extends XsError {
  constructor(what: string) {
    super('XS_CLOSED', `${what}: the XS worker is closed; start a new one`);
  }
}

const EXIT_REASONS: Record<number, string> = {
  1: 'bad argument usage',
  2: 'I/O error between Node and the worker',
  11: 'not enough memory',
  12: 'stack overflow',
  15: 'unhandled exception',
  16: 'property name space exhausted',
  17: 'too much computation',
};

/** Globals the firmware may not use because XS lacks them (docs/xs.md lists the alternatives). */
const MISSING_ON_XS: Record<string, string> = {
  structuredClone: 'copy the fields by hand',
  queueMicrotask: 'use Promise.resolve().then(fn)',
  setTimeout: 'use the Clock port (platform.clock.set)',
  setInterval: 'use the Clock port (platform.clock.set with repeat)',
  clearTimeout: 'use the Clock port (platform.clock.clear)',
  clearInterval: 'use the Clock port (platform.clock.clear)',
  console: 'log through the Logger port',
  Intl: 'format by hand',
  Buffer: 'use Uint8Array',
  process: 'read settings through the device configuration (src/device/config.ts)',
};

/** Advice to append to an XS error text when it names something XS lacks, or ''. */
export function hintFor(xsMessage: string): string {
  const missing = /get (\w+): undefined variable/.exec(xsMessage)?.[1];
  if (missing && missing in MISSING_ON_XS) return ` (${missing} does not exist on XS: ${MISSING_ON_XS[missing]})`;
  return '';
}
