// TcpSocket port on ECMA-419 embedded:io/socket/tcp (and the TLS socket, which has the same shape).
// ECMA-419 write() throws when asked to send more than the socket reported writable, so this class
// keeps the queue the port promises and drains it as onWritable reports room.
import type { TcpOptions, TcpSocket } from '../../src/ports';
import { ModdableHostError, describe } from './errors';
import type { Resources } from './resources';

/** What both `embedded:io/socket/tcp` and `embedded:io/socket/tcp/tls` instances offer. */
export interface RawSocket {
  read(): unknown;
  write(bytes: Uint8Array): unknown;
  close(): unknown;
}

export interface RawCallbacks {
  onReadable(count: number): void;
  onWritable(count: number): void;
  /** `why` when the host knows more than "the connection failed" (a refused TLS certificate). */
  onError(why?: string): void;
}

type Handlers = Pick<TcpOptions, 'onReadable' | 'onWritable' | 'onError'>;

export class QueuedTcpSocket implements TcpSocket {
  private raw: RawSocket | undefined;
  private readonly queue: Uint8Array[] = [];
  private writable = 0;
  private readable = 0;
  private connected = false;
  private closed = false;

  constructor(
    private readonly handlers: Handlers,
    private readonly resources: Resources,
    private readonly label: string,
  ) {
    resources.track(this, () => this.shutdown());
  }

  /** Callbacks to hand to the raw socket's constructor. */
  callbacks(): RawCallbacks {
    return {
      onReadable: (count) => {
        if (this.closed) return;
        this.readable = count;
        this.handlers.onReadable(count);
      },
      onWritable: (count) => {
        if (this.closed) return;
        this.writable = count;
        const first = !this.connected;
        this.connected = true;
        this.flush();
        if (!this.closed && (first || this.queue.length === 0)) this.handlers.onWritable?.(this.writable);
      },
      onError: (why) => this.fail(new ModdableHostError('TCP_FAILED', `connection to ${this.label} ${this.connected ? 'ended' : 'failed'}${why ? `: ${why}` : ''}`)),
    };
  }

  attach(raw: RawSocket): void {
    if (this.closed) {
      raw.close();
      return;
    }
    this.raw = raw;
  }

  read(): Uint8Array | undefined {
    if (!this.raw || this.readable <= 0) return undefined;
    let data: unknown;
    try {
      data = this.raw.read();
    } catch {
      data = undefined; // nothing buffered after all
    }
    this.readable = 0;
    return data instanceof ArrayBuffer && data.byteLength > 0 ? new Uint8Array(data) : undefined;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) throw new ModdableHostError('TCP_CLOSED', `write to ${this.label} after close: open a new connection`);
    const n = bytes.length;
    if (n === 0) return;
    const raw = this.raw;
    if (raw && this.connected && this.queue.length === 0 && n <= this.writable) {
      // Room now: straight to the socket, which copies (ECMA-419; lwIP's tcp_write with
      // TCP_WRITE_FLAG_COPY, a write(2) on the desktop), so a publish makes no copy of its own.
      // inline, not through a helper: every frame here is one more on a device's 256-slot stack
      try {
        raw.write(bytes);
      } catch (error) {
        this.writeFailed(error);
        return;
      }
      this.writable -= n;
      return;
    }
    // kept until the socket has room: a copy, since the caller may reuse its buffer once write returns
    this.queue.push(bytes.slice());
    this.flush();
  }

  close(): void {
    this.resources.release(this);
  }

  /** Fails the connection: one onError, then silence. */
  fail(error: Error): void {
    if (this.closed) return;
    this.resources.release(this);
    this.handlers.onError(error);
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    const raw = this.raw;
    this.raw = undefined;
    try {
      raw?.close();
    } catch {
      // the runtime already closed it
    }
  }

  private flush(): void {
    const raw = this.raw;
    if (!raw || !this.connected) return;
    while (this.queue.length > 0 && this.writable > 0) {
      const head = this.queue[0]!;
      const n = Math.min(head.length, this.writable);
      try {
        raw.write(n === head.length ? head : head.subarray(0, n));
      } catch (error) {
        this.writeFailed(error);
        return;
      }
      this.writable -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
  }

  private writeFailed(error: unknown): void {
    this.fail(new ModdableHostError('TCP_FAILED', `write to ${this.label} failed: ${describe(error)}`));
  }
}
