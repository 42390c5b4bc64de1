// Runs inside XS: a clock that never fires on its own and one TCP socket that keeps the last write,
// so a benchmark measures the firmware and not the host. The Moddable comparison figures were taken
// the same way (fake socket, DNS and timers).
import type { Clock, Network, TcpOptions, TcpSocket } from '../../src/ports';

export class FakeClock implements Clock {
  time = 1000;
  now(): number {
    return this.time;
  }
  wallTime(): number | undefined {
    return undefined;
  }
  set(): unknown {
    return 1;
  }
  clear(): void {}
}

export class FakeNetwork implements Network {
  handlers: TcpOptions | undefined;
  /** The bytes of the last write, not copied. */
  lastWrite: Uint8Array | undefined;
  writes = 0;
  private inbound: Uint8Array | undefined;

  connect(options: TcpOptions): TcpSocket {
    this.handlers = options;
    return {
      read: () => {
        const bytes = this.inbound;
        this.inbound = undefined;
        return bytes;
      },
      write: (bytes) => {
        this.lastWrite = bytes;
        this.writes++;
      },
      close: () => {},
    };
  }

  /** Hands bytes to the client as if they arrived from the broker. */
  deliver(bytes: Uint8Array): void {
    this.inbound = bytes;
    this.handlers!.onReadable(bytes.length);
  }
}
