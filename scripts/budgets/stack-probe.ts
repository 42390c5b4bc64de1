// Runs inside the 32-bit XS worker (scripts/xs32): how deep the firmware goes on the XS stack. On a
// device every piece of firmware work starts with a call from the runtime's event loop (a timer
// fires, a socket has bytes, main() at boot) on a nearly empty stack, so what must fit in the
// device's stack is the depth of each such call. probePlatform() wraps the platform so that:
//   - each call from the host into the firmware (an "entry": timer callbacks, socket handlers) is
//     measured from the level it starts at, with xs32.stackMark() / xs32.stackPeak(), through a
//     closure that stands for the Moddable adapter's own callback (hosts/moddable/clock.ts, tcp.ts);
//   - each call from the firmware into the socket (a "leaf") counts up to the probe's frame plus
//     `socketExtra`, the depth the device's socket adapter (QueuedTcpSocket.write and its flush into
//     the native socket) has beyond it; not what the bench's fake does below: the scripted broker
//     answers inside write(), which a device's socket does not.
// The other ports are measured as they are: the stack bench gives the firmware the device's own
// storage and logger adapters (firmware-stack.bench.ts).
import type { Xs32Globals } from '../../hosts/xs/in-xs/globals';
import type { Clock, Network, Platform, TcpOptions, TcpSocket } from '../../src/ports';

export class StackProbe {
  /** Most slots an entry used below its starting level since reset(). */
  peak = 0;
  /** Entries measured since reset(). */
  entries = 0;
  /** With `tracing`: the frames at the deepest point since reset() (xs32.stackTrace()), innermost first. */
  trace = '';
  /** Whether to keep the frames at the deepest point (slower; for finding what to make shallower). */
  tracing = false;
  /** Slots the device's socket adapter uses below a socket call beyond the probe's own frames (calibrate()). */
  socketExtra = 0;
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

  /** Runs `fn` as a socket call: counted as the device's adapter would be, not as the fake goes. */
  leaf<T>(fn: () => T): T {
    if (this.base < 0) return fn();
    const xs = this.xs;
    this.deeper(xs.stackPeak() + this.socketExtra);
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

/** The platform with its entries and socket calls measured by `probe`. */
export function probePlatform(platform: Platform, probe: StackProbe): Platform & { network: ProbedNetwork } {
  return { ...platform, clock: probeClock(platform.clock, probe), network: probeNetwork(platform.network, probe) };
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
      const socket = probe.leaf(() => network.connect(wrapped));
      open = { socket, options: wrapped };
      return {
        read: () => probe.leaf(() => socket.read()),
        write: (bytes) => probe.leaf(() => socket.write(bytes)),
        close: () => {
          if (open?.socket === socket) open = undefined;
          probe.leaf(() => socket.close());
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
