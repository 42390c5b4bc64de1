// Runs inside the 32-bit XS worker (scripts/xs32): how deep the firmware goes on the XS stack. On a
// device every piece of firmware work starts with a call from the runtime's event loop (a timer
// fires, a socket has bytes, main() at boot) on a nearly empty stack, so what must fit in the
// device's stack is the depth of each such call. probePlatform() wraps the platform so that:
//   - each call from the host into the firmware (an "entry": timer callbacks, socket handlers) is
//     measured from the level it starts at, with xs32.stackMark() / xs32.stackPeak(), through a
//     closure that stands for the Moddable adapter's own callback (hosts/moddable/clock.ts, tcp.ts);
//   - each call from the firmware into the socket or the I2C bus (a "leaf") counts as deep as the
//     device's own code below it would go (`extra`, calibrated by the stack bench: QueuedTcpSocket and
//     the native socket; a native I2C call), not as deep as the bench's fake goes: the scripted broker
//     answers inside write(), which a device's socket does not.
// The other ports are measured as they are: the stack bench gives the firmware the device's own
// storage and logger adapters (firmware-stack.bench.ts).
import type { Xs32Globals } from '../../hosts/xs/in-xs/globals';
import type { Clock, I2C, I2CConstructor, I2COptions, Network, Platform, TcpOptions, TcpSocket } from '../../src/ports';
import { Resources } from '../../hosts/moddable/resources';
import { QueuedTcpSocket } from '../../hosts/moddable/tcp';

export type LeafKind = 'socket' | 'i2c';

export class StackProbe {
  /** Most slots an entry used below its starting level since reset(). */
  peak = 0;
  /** Entries measured since reset(). */
  entries = 0;
  /** With `tracing`: the frames at the deepest point since reset() (xs32.stackTrace()), innermost first. */
  trace = '';
  /** Whether to keep the frames at the deepest point (slower; for finding what to make shallower). */
  tracing = false;
  /**
   * Per kind of leaf: the slots the device uses below the firmware's call, less what the probe's own
   * frames already count (negative when the probe's frames are deeper than the device's code).
   */
  readonly extra: Record<LeafKind, number> = { socket: 0, i2c: 0 };
  /** Absolute depth (slots below the top of the stack) where the current entry started; -1 outside one. */
  private base = -1;
  /** Absolute depth of the deepest point of the current entry measured so far. */
  private deepest = 0;

  constructor(private readonly xs: Xs32Globals) {}

  reset(): void {
    this.peak = 0;
    this.entries = 0;
    this.trace = '';
  }

  /** Runs `fn` as an entry: the host calling into the firmware. Nested entries belong to the outer one. */
  enter<T>(fn: () => T): T {
    if (this.base >= 0) return fn();
    const xs = this.xs;
    this.base = xs.stackMark(this.tracing);
    this.deepest = this.base;
    try {
      return fn();
    } finally {
      this.deeper(xs.stackPeak());
      this.entries++;
      this.base = -1;
    }
  }

  /** Runs `fn` as a call into a port: counted as the device's code would go, not as the fake goes. */
  leaf<T>(kind: LeafKind, fn: () => T): T {
    if (this.base < 0) return fn();
    const xs = this.xs;
    this.deeper(xs.stackPeak() + this.extra[kind]);
    try {
      return fn();
    } finally {
      xs.stackMark(this.tracing);
    }
  }

  /** `peak` (absolute depth) was reached in the current entry. */
  private deeper(peak: number): void {
    if (peak <= this.deepest) return;
    this.deepest = peak;
    if (peak - this.base <= this.peak) return;
    this.peak = peak - this.base;
    if (this.tracing) this.trace = this.xs.stackTrace();
  }
}

/** The platform with its entries, socket and I2C calls measured by `probe`. */
export function probePlatform(platform: Platform, probe: StackProbe): Platform & { network: ProbedNetwork } {
  return {
    ...platform,
    clock: probeClock(platform.clock, probe),
    network: probeNetwork(platform.network, probe),
    i2c: platform.i2c && probeI2C(platform.i2c, probe),
  };
}

export function probeI2C(Bus: I2CConstructor, probe: StackProbe): I2CConstructor {
  class ProbedI2C implements I2C {
    private readonly bus: I2C;
    constructor(options: I2COptions) {
      this.bus = probe.leaf('i2c', () => new Bus(options));
    }
    read(count: number, stop?: boolean): Uint8Array;
    read(buffer: Uint8Array, stop?: boolean): void;
    read(countOrBuffer: number | Uint8Array, stop?: boolean): Uint8Array | void {
      const bus = this.bus;
      return probe.leaf('i2c', () => (typeof countOrBuffer === 'number' ? bus.read(countOrBuffer, stop) : bus.read(countOrBuffer, stop)));
    }
    write(bytes: Uint8Array, stop?: boolean): void {
      const bus = this.bus;
      probe.leaf('i2c', () => bus.write(bytes, stop));
    }
    close(): void {
      const bus = this.bus;
      probe.leaf('i2c', () => bus.close());
    }
  }
  return ProbedI2C;
}

function probeClock(clock: Clock, probe: StackProbe): Clock {
  return {
    now: () => clock.now(),
    wallTime: () => clock.wallTime(),
    // a block body, as the adapter's callback (not a tail call, which would hide its frame)
    set: (callback, ms, repeat) =>
      clock.set(
        () =>
          probe.enter(() => {
            callback();
          }),
        ms,
        repeat,
      ),
    clear: (id) => clock.clear(id),
  };
}

/** The broker side can drop the connection (dropConnection), as a broker restart or a lost route does. */
export interface ProbedNetwork extends Network {
  /** Closes the open connection from the far end: the device gets onError. */
  dropConnection(): void;
}

export function probeNetwork(network: Network, probe: StackProbe): ProbedNetwork {
  let open: { socket: TcpSocket; options: TcpOptions } | undefined;
  return {
    connect(options) {
      const wrapped: TcpOptions = {
        host: options.host,
        port: options.port,
        tls: options.tls,
        onReadable: (count) =>
          probe.enter(() => {
            options.onReadable(count);
          }),
        onWritable:
          options.onWritable &&
          ((count) =>
            probe.enter(() => {
              options.onWritable!(count);
            })),
        onError: (error) =>
          probe.enter(() => {
            options.onError(error);
          }),
      };
      const socket = probe.leaf('socket', () => network.connect(wrapped));
      open = { socket, options: wrapped };
      return {
        read: () => probe.leaf('socket', () => socket.read()),
        write: (bytes) => probe.leaf('socket', () => socket.write(bytes)),
        close: () => {
          if (open?.socket === socket) open = undefined;
          probe.leaf('socket', () => socket.close());
        },
      };
    },
    dropConnection() {
      const o = open;
      if (!o) throw new Error('no open connection to drop');
      open = undefined;
      o.socket.close();
      o.options.onError(new Error('connection reset by the broker'));
    },
  };
}

/**
 * The slots the device's code uses below a socket or I2C call, less what the probe's frames count: the
 * device's socket adapter (QueuedTcpSocket, hosts/moddable/tcp.ts) over a stand-in for the native
 * socket, and for I2C a native call (a stand-in of one shallow function).
 */
export function calibrate(probe: StackProbe): void {
  const bytes = new Uint8Array(40);
  const depth = (call: () => void) => {
    probe.reset();
    probe.enter(() => {
      call();
    });
    return probe.peak;
  };
  // the socket
  const raw = { read: () => new ArrayBuffer(4), write: (b: Uint8Array) => b.length, close() {} };
  const device = new QueuedTcpSocket({ onReadable() {}, onWritable() {}, onError() {} }, new Resources(), 'calibration');
  device.attach(raw);
  device.callbacks().onReadable(4);
  device.callbacks().onWritable(1 << 20);
  const fake: Network = { connect: () => ({ read: () => undefined, write() {}, close() {} }) };
  const probed = probeNetwork(fake, probe).connect({ host: 'calibration', port: 1, onReadable() {}, onError() {} });
  probe.extra.socket = Math.max(depth(() => device.write(bytes)) - depth(() => probed.write(bytes)), depth(() => device.read()) - depth(() => probed.read()));
  // I2C: the native call
  const native = { write: (b: Uint8Array, stop?: boolean) => void (stop && b), read: (count: number, stop?: boolean) => (stop ? bytes : bytes.subarray(0, count)) };
  const Bus = probeI2C(
    class {
      write = native.write;
      read = native.read as I2C['read'];
      close() {}
    },
    probe,
  );
  const bus = new Bus({ address: 0x76 });
  probe.extra.i2c = depth(() => native.write(bytes, true)) - depth(() => bus.write(bytes, true));
  probe.reset();
}
