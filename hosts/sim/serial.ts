// Serial ports for the simulator. createSerialPipe() links the device to a host end in-process;
// openSerialPath() puts the device on an OS pipe or terminal: a pseudo-terminal (e.g. made with
// `socat -d -d pty,raw,echo=0 pty,raw,echo=0`), a tty, or a pair of FIFOs (mkfifo), so outside
// programs can talk to the simulated device as they would to a USB serial adapter.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tty from 'node:tty';
import type { Serial, SerialOptions } from '../../src/ports';

export type SerialFactory = (options: SerialOptions) => Serial;

export class SimSerialError extends Error {
  override name = 'SimSerialError';
  constructor(
    readonly code: 'closed' | 'busy' | 'open-failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The computer's side of a serial link. */
export interface SerialHostEnd {
  write(bytes: Uint8Array | string): void;
  /** Sets the handler for bytes from the device (replaces any earlier one). */
  onData(handler: (bytes: Uint8Array) => void): void;
  close(): void;
}

/** Queues incoming chunks and hands them out through the port's read(). */
class DeviceSerial implements Serial {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  closed = false;

  constructor(
    private readonly options: SerialOptions,
    private readonly send: (bytes: Uint8Array) => void,
    private readonly onClose: () => void,
  ) {}

  deliver(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    this.options.onReadable(this.buffered);
  }

  fail(error: Error): void {
    if (!this.closed) this.options.onError?.(error);
  }

  read(): Uint8Array | undefined {
    if (this.buffered === 0) return undefined;
    const out = new Uint8Array(this.buffered);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks = [];
    this.buffered = 0;
    return out;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) throw new SimSerialError('closed', 'serial write after close()');
    this.send(new Uint8Array(bytes));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

export interface SerialPipeOptions {
  /** Bytes per delivery, like a UART FIFO handing over a few bytes at a time. Default 64. */
  chunkSize?: number;
}

/**
 * An in-process serial link. Bytes cross asynchronously (one event-loop turn per chunk), split
 * into chunks, in order. The device side may be opened once at a time, like a real UART.
 */
export function createSerialPipe(options: SerialPipeOptions = {}): { device: SerialFactory; host: SerialHostEnd } {
  const chunkSize = Math.max(1, options.chunkSize ?? 64);
  let port: DeviceSerial | undefined;
  let hostHandler: (bytes: Uint8Array) => void = () => {};
  let hostClosed = false;

  const deliverChunks = (bytes: Uint8Array, to: (chunk: Uint8Array) => void) => {
    for (let i = 0; i < bytes.length; i += chunkSize) {
      const chunk = bytes.slice(i, i + chunkSize);
      setImmediate(() => to(chunk));
    }
  };

  const device: SerialFactory = (serialOptions) => {
    if (port && !port.closed) throw new SimSerialError('busy', 'the simulated serial port is already open; close() it first');
    const opened: DeviceSerial = new DeviceSerial(
      serialOptions,
      (bytes) => deliverChunks(bytes, (chunk) => !hostClosed && !opened.closed && hostHandler(chunk)),
      () => {},
    );
    port = opened;
    return opened;
  };

  const host: SerialHostEnd = {
    write(bytes) {
      if (hostClosed) throw new SimSerialError('closed', 'serial host write after close()');
      const data = typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes, 'utf8')) : new Uint8Array(bytes);
      deliverChunks(data, (chunk) => port?.deliver(chunk));
    },
    onData(handler) {
      hostHandler = handler;
    },
    close() {
      hostClosed = true;
    },
  };
  return { device, host };
}

type Stream = (net.Socket | tty.ReadStream | tty.WriteStream) & NodeJS.EventEmitter;

function openFd(path: string): number {
  try {
    return fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw new SimSerialError('open-failed', `cannot open serial path ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Binary-clean terminal settings. Node's setRawMode keeps ONLCR (LF written as CR LF), which
 * would corrupt packets, so stty's "raw" (cfmakeraw: no input or output translation) is used.
 */
function makeRaw(path: string): void {
  try {
    execFileSync('stty', ['-F', path, 'raw', '-echo'], { stdio: 'pipe' });
  } catch (error) {
    throw new SimSerialError('open-failed', `cannot put ${path} in raw mode with stty (coreutils): ${(error as Error).message}`, { cause: error });
  }
}

function readStreamOn(fd: number): Stream {
  return tty.isatty(fd) ? new tty.ReadStream(fd) : new net.Socket({ fd, readable: true, writable: false });
}

function writeStreamOn(fd: number): Stream {
  return tty.isatty(fd) ? new tty.WriteStream(fd) : new net.Socket({ fd, readable: false, writable: true });
}

/**
 * A serial port on OS paths: one path for a terminal (pty or tty, put in raw mode), or separate
 * `read` and `write` FIFOs. FIFOs are opened read-write so that opening never blocks and a
 * writer going away does not end the stream.
 */
export function openSerialPath(path: string | { read: string; write: string }): SerialFactory {
  return (serialOptions) => {
    const readPath = typeof path === 'string' ? path : path.read;
    const writePath = typeof path === 'string' ? path : path.write;
    // Separate descriptors for each direction (a terminal path is opened twice), so each
    // stream owns and closes its own.
    const readFd = openFd(readPath);
    const writeFd = openFd(writePath);
    if (tty.isatty(readFd)) makeRaw(readPath);
    if (writePath !== readPath && tty.isatty(writeFd)) makeRaw(writePath);
    const input = readStreamOn(readFd);
    const output = writeStreamOn(writeFd);
    const port: DeviceSerial = new DeviceSerial(
      serialOptions,
      (bytes) => (output as net.Socket).write(bytes),
      () => {
        input.destroy();
        output.destroy();
      },
    );
    input.on('data', (chunk: Buffer) => port.deliver(new Uint8Array(chunk)));
    const failed = (error: Error) => port.fail(new SimSerialError('open-failed', `serial ${readPath}: ${error.message}`, { cause: error }));
    input.on('error', failed);
    output.on('error', failed);
    return port;
  };
}
