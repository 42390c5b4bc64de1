// The globals xsnap-worker adds to XS, typed for code that runs inside the engine (hosts/xs only;
// firmware in src/ never touches them). xsnap also provides TextEncoder and TextDecoder.

export interface XsnapGlobals {
  print(...values: unknown[]): void;
  /** Synchronous call to the Node parent; blocks until it answers. */
  issueCommand(request: ArrayBuffer): ArrayBuffer;
  /** Called by the parent for each command() delivery. */
  handleCommand?: (request: ArrayBuffer) => ArrayBuffer | undefined;
  gc(): void;
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
