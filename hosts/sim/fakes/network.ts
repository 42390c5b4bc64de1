// The scripted network of the test kit: the code under test connects (or a test hands it an incoming
// connection), and the test plays the peer by hand: open the socket, feed it bytes, read what was
// written, fail it. Pure TypeScript: portable cases and the XS budgets run it inside XS.
import type { IncomingConnection, Listener, ListenerOptions, Network, TcpOptions, TcpSocket } from '../../../src/ports';
import { hex } from '../../xs/harness';

/** Bytes as hex pairs separated by spaces ("10 0c 00"), the format of sent() and receive(). */
export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const all = new Uint8Array(a.length + b.length);
  all.set(a, 0);
  all.set(b, a.length);
  return all;
}

export interface ScriptedNetworkOptions {
  /**
   * 'all' (default): every write is copied and kept until sent() takes it. 'last': only the last
   * write is kept, not copied (with a count), so nothing grows: for benchmarks.
   */
  keep?: 'all' | 'last';
}

/** The socket's handlers: an outgoing connection's TcpOptions, or what an incoming one was accepted with. */
export type SocketHandlers = Omit<TcpOptions, 'host' | 'port' | 'tls'> & Partial<Pick<TcpOptions, 'host' | 'port' | 'tls'>>;

export class ScriptedSocket implements TcpSocket {
  /** Copies of the writes not yet taken by sent() (keep 'all'). */
  readonly written: Uint8Array[] = [];
  /** The last write, not copied (keep 'last'). */
  lastWrite: Uint8Array | undefined;
  /** Writes so far. */
  writes = 0;
  closed = false;
  private unread: Uint8Array | undefined;

  constructor(
    readonly options: SocketHandlers,
    /** The peer's address, for an incoming connection. */
    readonly remoteAddress?: string,
  ) {}

  read(): Uint8Array | undefined {
    const bytes = this.unread;
    this.unread = undefined;
    return bytes;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) throw new Error('write after close');
    this.writes++;
    this.written.push(new Uint8Array(bytes));
  }

  close(): void {
    this.closed = true;
  }

  /** The connection is up (or has room again): onWritable with `count` bytes. */
  open(count = 4096): void {
    this.options.onWritable?.(count);
  }

  /** Bytes from the peer, as hex pairs. */
  receive(hexText: string): void {
    this.receiveBytes(hex(hexText));
  }

  /** Text from the peer, one byte per character (ASCII and Latin-1). */
  receiveText(text: string): void {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) throw new RangeError(`receiveText() takes one byte per character; "${text}" has U+${c.toString(16)}: use receiveBytes() with UTF-8 bytes`);
      bytes[i] = c;
    }
    this.receiveBytes(bytes);
  }

  /** Bytes from the peer; they join any the code has not read yet, and onReadable tells it. */
  receiveBytes(bytes: Uint8Array): void {
    if (this.unread) bytes = join(this.unread, bytes);
    this.unread = bytes;
    this.options.onReadable(bytes.length);
  }

  /** The connection fails (refused, reset by the peer): onError. */
  fail(error: Error | string = 'connection reset by peer'): void {
    this.options.onError(typeof error === 'string' ? new Error(error) : error);
  }

  /** The writes since the last call, each as hex pairs. */
  sent(): string[] {
    return this.written.splice(0).map(toHex);
  }

  /** The writes not yet taken by sent(), as text (one character per byte). */
  text(): string {
    let s = '';
    for (const chunk of this.written) for (let i = 0; i < chunk.length; i++) s += String.fromCharCode(chunk[i]);
    return s;
  }
}

/** Keeps only the last write, not copied: nothing grows, and a benchmark measures the code, not the fake. */
class LastWriteSocket extends ScriptedSocket {
  override write(bytes: Uint8Array): void {
    if (this.closed) throw new Error('write after close');
    this.writes++;
    this.lastWrite = bytes;
  }
}

export class ScriptedNetwork implements Network {
  /** Every connection, outgoing and accepted, oldest first. */
  readonly sockets: ScriptedSocket[] = [];
  /** Open listeners (listen() without close()). */
  readonly listeners: ListenerOptions[] = [];
  private readonly Socket: typeof ScriptedSocket;

  constructor(options: ScriptedNetworkOptions = {}) {
    this.Socket = options.keep === 'last' ? LastWriteSocket : ScriptedSocket;
  }

  connect(options: TcpOptions): TcpSocket {
    const socket = new this.Socket(options);
    this.sockets.push(socket);
    return socket;
  }

  listen(options: ListenerOptions): Listener {
    const listeners = this.listeners;
    listeners.push(options);
    return {
      port: options.port,
      close() {
        const i = listeners.indexOf(options);
        if (i >= 0) listeners.splice(i, 1);
      },
    };
  }

  /** A peer at `remoteAddress` connects to the newest listener; the socket it was accepted with, if it was. */
  incoming(remoteAddress = '192.168.4.2'): ScriptedSocket | undefined {
    const listener = this.listeners[this.listeners.length - 1];
    if (!listener) throw new Error('nothing listens: the code under test did not call listen()');
    let socket: ScriptedSocket | undefined;
    const Socket = this.Socket;
    const sockets = this.sockets;
    const connection: IncomingConnection = {
      remoteAddress,
      accept(handlers) {
        socket = new Socket(handlers, remoteAddress);
        sockets.push(socket);
        return socket;
      },
    };
    listener.onConnection(connection);
    return socket;
  }

  /** The newest connection. */
  get last(): ScriptedSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) throw new Error('no connection yet: the code under test did not connect');
    return socket;
  }
}
