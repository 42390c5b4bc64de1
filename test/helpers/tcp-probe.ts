// Drives a Network port connection from a test: records every read and the error, and offers
// promises to wait for bytes, for the connection, and for the end.
import type { Network, TcpSocket, TlsOptions } from '../../src/ports';

export interface TcpProbe {
  socket: TcpSocket;
  /** Each read() result, in order, as returned (one entry per onReadable). */
  reads: Uint8Array[];
  /** Every onError call (the port promises at most one). */
  errors: Error[];
  /** onWritable counts; the first one means connected. */
  writables: number[];
  connected: Promise<void>;
  /** Resolves with the first onError. */
  failed: Promise<Error>;
  /** All bytes read so far, concatenated. */
  bytes(): Uint8Array;
  /** Resolves when at least `count` bytes arrived; rejects on error or timeout. */
  waitForBytes(count: number, timeoutMs?: number): Promise<Uint8Array>;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function openProbe(network: Network, options: { host: string; port: number; tls?: TlsOptions }): TcpProbe {
  const reads: Uint8Array[] = [];
  const errors: Error[] = [];
  const writables: number[] = [];
  const waiters = new Set<() => void>();
  let onConnected!: () => void;
  let onFailed!: (error: Error) => void;
  const failed = new Promise<Error>((resolve) => {
    onFailed = resolve;
  });
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    void failed.then(reject);
  });
  connected.catch(() => {});
  const socket: TcpSocket = network.connect({
    ...options,
    onWritable(count) {
      writables.push(count);
      if (writables.length === 1) onConnected();
    },
    onReadable() {
      const chunk = socket.read();
      if (chunk) reads.push(chunk);
      for (const w of [...waiters]) w();
    },
    onError(error) {
      errors.push(error);
      onFailed(error);
      for (const w of [...waiters]) w();
    },
  });
  const bytes = () => concatBytes(reads);
  return {
    socket,
    reads,
    errors,
    writables,
    connected,
    failed,
    bytes,
    waitForBytes(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const all = bytes();
          if (all.length >= count) finish(() => resolve(all));
          else if (errors.length) finish(() => reject(new Error(`connection failed after ${all.length}/${count} bytes: ${errors[0].message}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`got ${bytes().length}/${count} bytes in ${timeoutMs} ms`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
}
