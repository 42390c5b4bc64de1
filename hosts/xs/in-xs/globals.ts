// The globals xsnap-worker adds to XS, typed for code that runs inside the engine (hosts/xs only;
// firmware in src/ never touches them). xsnap also provides TextEncoder and TextDecoder.

export interface XsnapGlobals {
  print(...values: unknown[]): void;
  /** Synchronous call to the Node parent; blocks until it answers. */
  issueCommand(request: ArrayBuffer): ArrayBuffer;
  /** Called by the parent for each command() delivery. */
  handleCommand?: (request: ArrayBuffer) => ArrayBuffer | undefined;
  gc(): void;
  /** Only in the 32-bit worker of scripts/xs32 (XsWorkerOptions.xs32). */
  xs32?: Xs32Globals;
}

/** Measurements of the 32-bit worker (scripts/xs32/xsnap-xs32.patch). */
export interface Xs32Globals {
  /**
   * Starts measuring the stack at the caller's level; returns that level's depth in slots. With
   * `trace`, stackTrace() tells which frames were on the stack at the deepest point (slower).
   */
  stackMark(trace?: boolean): number;
  /** The most slots used below the level of the last stackMark() (at least this call's own frame). */
  stackPeak(): number;
  /** After stackMark(true): "name depth" lines of the frames at the deepest point, innermost first. */
  stackTrace(): string;
  /** Collects garbage, then restarts the live-bytes peak (MeterRecord.xs32.livePeak) at what is live now. */
  resetPeak(): { slots: number; chunks: number; bytes: number };
  /**
   * Collects garbage and marks what is live now; from then on XS stops the worker (memory full, exit
   * 11) when a collection finds more than `bytes` live above the mark. 0 removes the cap. Returns the
   * mark in bytes.
   */
  setHeapCap(bytes: number): number;
}

export function xsnap(): XsnapGlobals {
  return globalThis as unknown as XsnapGlobals;
}

/** Bytes as a standalone ArrayBuffer (what issueCommand and handleCommand exchange). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
}
