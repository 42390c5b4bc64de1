// Network port on Node sockets (node:net, node:tls, node:dgram) with ECMA-419 callback semantics:
// the first onWritable means connected, onReadable(count) announces buffered bytes that read()
// returns as one plain Uint8Array, and onError fires exactly once (failure or peer close), never
// after the owner's close().
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type {
  IncomingConnection,
  Listener,
  ListenerOptions,
  Network,
  TcpOptions,
  TcpSocket,
  UdpOptions,
  UdpPacket,
  UdpSocket,
} from '../../src/ports';

export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(
    /** ECONNREFUSED, ECONNRESET, ECLOSED (peer closed), ETLS (handshake/verification), ... */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface NodeNetworkOptions {
  /** Address listeners and UDP sockets bind to when the caller gives none. Default 127.0.0.1. */
  bindAddress?: string;
}

type Handlers = Omit<TcpOptions, 'host' | 'port' | 'tls'>;

const tlsVerifyCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function describeFailure(error: NodeJS.ErrnoException, where: string, secure: boolean): NetworkError {
  const code = error.code ?? 'EIO';
  if (secure && tlsVerifyCodes.has(code)) {
    const hint =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'the certificate does not name this host: set tls.serverName to a name in its subjectAltName'
        : 'the server certificate is not trusted by tls.ca: pass the PEM of the CA that signed it';
    return new NetworkError('ETLS', `TLS to ${where} failed (${code}): ${hint}. ${error.message}`, { cause: error });
  }
  if (secure && /SSL|TLS|ssl|tls/.test(code + error.message)) {
    return new NetworkError('ETLS', `TLS to ${where} failed: ${error.message}`, { cause: error });
  }
  return new NetworkError(code, `TCP ${where}: ${error.message}`, { cause: error });
}

/**
 * Reads of plain outgoing TCP connections land here (Node's `onread`: no stream machinery, no buffer
 * per read) and are copied out at once, so one buffer serves every socket of the process.
 */
const READ_BUFFER = Buffer.allocUnsafe(65536);
/** The same bytes as a plain Uint8Array: its slice() is one native copy into a new plain array (a Buffer's would be a Buffer). */
const READ_BYTES = new Uint8Array(READ_BUFFER.buffer, READ_BUFFER.byteOffset, READ_BUFFER.length);
/** First size of a socket's write batch; it doubles up to MAX_BATCH while its turns write more. */
const MIN_BATCH = 1024;
const MAX_BATCH = 65536;
/**
 * Write batches the sockets took all of at once (nothing refers to them then), for the next batch of
 * any socket of the process: a socket holds no buffer between turns.
 */
const spareBatches: Buffer[] = [];
const MAX_SPARE_BATCHES = 16;

/** The port's side of a Node socket, kept on the socket under this key for the shared listeners. */
const PORT = Symbol('tcp port');
type PortSocket = net.Socket & { [PORT]: NodeTcpSocket };

// Listeners shared by every socket (Node calls them with the socket as `this`): thousands of
// sockets in a process, no closures per socket.
function onData(this: PortSocket, chunk: Buffer): void {
  this[PORT].received(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
}
function onWritableEvent(this: PortSocket): void {
  this[PORT].writable();
}
function onEnd(this: PortSocket): void {
  const port = this[PORT];
  port.fail(new NetworkError('ECLOSED', `TCP ${port.where}: connection closed by peer`));
}
function onSocketError(this: PortSocket, error: NodeJS.ErrnoException): void {
  const port = this[PORT];
  port.fail(describeFailure(error, port.where, port.secure));
}
function onClose(this: PortSocket): void {
  const port = this[PORT];
  port.fail(new NetworkError('ECLOSED', `TCP ${port.where}: connection closed`));
}
/** Node's `onread` callback of plain outgoing connections. */
function onRead(this: PortSocket, n: number): boolean {
  // copied out of the shared buffer (one native copy) before the next read of any socket reuses it
  this[PORT].received(READ_BYTES.slice(0, n));
  return true;
}
const PLAIN_READ = { buffer: READ_BUFFER, callback: onRead };
const writableSoon = (port: NodeTcpSocket) => port.writable();
const flushSoon = (port: NodeTcpSocket) => port.flush();

/** The port's TcpSocket on a connected or connecting Node socket. */
class NodeTcpSocket implements TcpSocket {
  /** Bytes received and not yet read: the first chunk, and any after it (rare: the owner reads in onReadable). */
  private head: Uint8Array | undefined;
  private more: Uint8Array[] | undefined;
  private buffered = 0;
  private closedByOwner = false;
  private failed = false;
  // Writes made in one turn of the event loop are copied into one buffer and leave in one socket
  // write (TCP_NODELAY is on: otherwise every small packet would be its own syscall and segment, and
  // Node's stream would do its work once per packet).
  private batch: Buffer | undefined;
  private used = 0;
  private size = MIN_BATCH;

  constructor(
    private readonly socket: PortSocket,
    private readonly handlers: Handlers,
    private readonly host: string,
    private readonly port: number,
    readonly secure: boolean,
    /** Where, for messages, when it is more than host:port (an accepted connection). */
    private readonly label?: string,
  ) {}

  get where(): string {
    return this.label ?? `${this.host}:${this.port}`;
  }

  /**
   * Listens to the socket; the first onWritable comes when it is connected (now, when it already is).
   * `ownReads`: received bytes come through PLAIN_READ, not as 'data' events.
   */
  attach(connected: boolean, ownReads = false): void {
    const socket = this.socket;
    socket[PORT] = this;
    socket.setNoDelay(true);
    if (!ownReads) socket.on('data', onData);
    socket.on('drain', onWritableEvent);
    socket.on('end', onEnd);
    socket.on('error', onSocketError);
    socket.on('close', onClose);
    if (connected) setImmediate(writableSoon, this);
    else socket.once(this.secure ? 'secureConnect' : 'connect', onWritableEvent);
  }

  fail(error: NetworkError): void {
    if (this.closedByOwner || this.failed) return;
    this.failed = true;
    this.socket.destroy();
    this.handlers.onError(error);
  }

  writable(): void {
    if (this.closedByOwner || this.failed) return;
    const socket = this.socket;
    this.handlers.onWritable?.(Math.max(1, socket.writableHighWaterMark - socket.writableLength));
  }

  received(chunk: Uint8Array): void {
    if (this.closedByOwner || this.failed) return;
    if (!this.head) this.head = chunk;
    else if (this.more) this.more.push(chunk);
    else this.more = [chunk];
    this.buffered += chunk.length;
    this.handlers.onReadable(this.buffered);
  }

  flush(): void {
    const out = this.batch;
    if (!out) return;
    this.batch = undefined;
    // the next turn's batch holds as much as this one wrote
    while (this.size < this.used && this.size < MAX_BATCH) this.size *= 2;
    if (this.failed) return;
    const socket = this.socket;
    // a write error also comes as the socket's 'error' event
    socket.write(out.subarray(0, this.used));
    if (socket.writableLength === 0 && spareBatches.length < MAX_SPARE_BATCHES) spareBatches.push(out);
  }

  read(): Uint8Array | undefined {
    const first = this.head;
    if (!first) return undefined;
    this.head = undefined;
    const more = this.more;
    if (!more) {
      this.buffered = 0;
      return first;
    }
    const out = new Uint8Array(this.buffered);
    out.set(first, 0);
    let offset = first.length;
    for (const chunk of more) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    this.more = undefined;
    this.buffered = 0;
    return out;
  }

  write(bytes: Uint8Array): void {
    if (this.closedByOwner) throw new NetworkError('ECLOSED', `TCP ${this.where}: write after close()`);
    if (this.failed) throw new NetworkError('ECLOSED', `TCP ${this.where}: write on a failed connection (onError was called)`);
    const n = bytes.length;
    if (this.batch && this.used + n > this.batch.length) {
      // this turn writes more than the batch holds: out with it, and a larger one next
      this.flush();
      this.size = Math.min(MAX_BATCH, this.size * 2);
    }
    let batch = this.batch;
    if (!batch) {
      // a spare smaller than this socket's batch size would split its turn into several writes: it
      // is dropped, so that the spares grow to what the busiest sockets need
      const want = Math.max(this.size, n);
      const spare = spareBatches.pop();
      batch = spare && spare.length >= want ? spare : Buffer.allocUnsafeSlow(want);
      this.batch = batch;
      this.used = 0;
      process.nextTick(flushSoon, this);
    }
    // Copied: the caller may reuse its buffer as soon as write returns.
    batch.set(bytes, this.used);
    this.used += n;
  }

  close(): void {
    if (this.closedByOwner) return;
    this.flush();
    this.closedByOwner = true;
    if (this.failed) return;
    const socket = this.socket;
    socket.end();
    // Give queued bytes a moment to leave, then make sure the descriptor is released.
    socket.setTimeout(2000, () => socket.destroy());
  }
}

function connect(options: TcpOptions): TcpSocket {
  const { host, port } = options;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new NetworkError('EINVAL', `TCP connect: port ${port} is not in 1..65535`);
  }
  if (!options.tls) {
    const socket = net.connect({ host, port, noDelay: true, onread: PLAIN_READ }) as PortSocket;
    const tcp = new NodeTcpSocket(socket, options, host, port, false);
    tcp.attach(false, true);
    return tcp;
  }
  const t = options.tls;
  const name = t.serverName ?? host;
  const socket = tls.connect({
    host,
    port,
    ca: t.ca,
    cert: t.cert,
    key: t.key,
    rejectUnauthorized: true,
    // SNI must be a DNS name (RFC 6066); IP addresses are still verified against the certificate.
    servername: net.isIP(name) ? undefined : name,
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
  }) as unknown as PortSocket;
  const tcp = new NodeTcpSocket(socket, options, host, port, true);
  tcp.attach(false);
  return tcp;
}

function listen(options: ListenerOptions, bindAddress: string): Listener {
  const address = options.address ?? bindAddress;
  if (net.isIP(address) === 0) {
    throw new NetworkError('EINVAL', `listen: address "${address}" must be an IP address`);
  }
  const server = net.createServer({ pauseOnConnect: true, noDelay: true });
  let closed = false;
  server.on('connection', (socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    const remoteAddress = socket.remoteAddress ?? '';
    const where = `${remoteAddress}:${socket.remotePort} -> ${address}:${options.port}`;
    let accepted = false;
    const connection: IncomingConnection = {
      remoteAddress,
      accept(handlers) {
        if (accepted) throw new NetworkError('EINVAL', 'accept() was already called for this connection');
        accepted = true;
        const tcp = new NodeTcpSocket(socket as PortSocket, handlers, address, options.port, false, where);
        tcp.attach(true);
        socket.resume();
        return tcp;
      },
    };
    options.onConnection(connection);
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (closed) return;
    const err = new NetworkError(error.code ?? 'EIO', `listen on ${address}:${options.port}: ${error.message}`, { cause: error });
    if (options.onError) options.onError(err);
    else throw err;
  });
  // Node binds on the next tick: with port 0 the real port is known after that (any await).
  server.listen(options.port, address);
  return {
    get port() {
      const bound = server.address();
      return typeof bound === 'object' && bound ? bound.port : options.port;
    },
    close() {
      if (closed) return;
      closed = true;
      server.close();
    },
  };
}

function udp(options: UdpOptions, bindAddress: string): UdpSocket {
  const address = options.address ?? bindAddress;
  const family = net.isIP(address);
  if (family === 0) throw new NetworkError('EINVAL', `udp: address "${address}" must be an IP address`);
  const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  const queue: UdpPacket[] = [];
  let closed = false;
  socket.on('message', (msg, rinfo) => {
    if (closed) return;
    queue.push({ data: new Uint8Array(msg), address: rinfo.address, port: rinfo.port });
    options.onReadable(queue.length);
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (closed) return;
    options.onError?.(new NetworkError(error.code ?? 'EIO', `UDP ${address}:${options.port}: ${error.message}`, { cause: error }));
  });
  socket.bind(options.port, address);
  return {
    get port() {
      try {
        return socket.address().port;
      } catch {
        return options.port;
      }
    },
    read() {
      return queue.shift();
    },
    write(data, toAddress, toPort) {
      if (closed) throw new NetworkError('ECLOSED', 'UDP write after close()');
      socket.send(Buffer.from(data), toPort, toAddress, (error) => {
        if (error && !closed) {
          const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
          options.onError?.(new NetworkError(code, `UDP send to ${toAddress}:${toPort}: ${error.message}`, { cause: error }));
        }
      });
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}

export function createNodeNetwork(options: NodeNetworkOptions = {}): Network {
  const bindAddress = options.bindAddress ?? '127.0.0.1';
  return {
    connect,
    listen: (o) => listen(o, bindAddress),
    udp: (o) => udp(o, bindAddress),
  };
}
