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
/** First size of a socket's write batch; it doubles up to MAX_BATCH while a turn writes more. */
const MIN_BATCH = 1024;
const MAX_BATCH = 65536;

/** The port's side of a Node socket: hands received bytes to `received`, and is then the TcpSocket. */
interface Wrapped {
  tcp: TcpSocket;
  received(chunk: Uint8Array): void;
}

/** Wraps a connected or connecting Node socket in the port's TcpSocket. */
function wrapSocket(socket: net.Socket, handlers: Handlers, where: string, secure: boolean, connected: boolean): Wrapped {
  // Bytes received and not yet read: the first chunk, and any after it (rare: the owner reads in onReadable).
  let head: Uint8Array | undefined;
  const more: Uint8Array[] = [];
  let buffered = 0;
  let closedByOwner = false;
  let failed = false;

  const fail = (error: NetworkError) => {
    if (closedByOwner || failed) return;
    failed = true;
    socket.destroy();
    handlers.onError(error);
  };
  const writable = () => {
    if (closedByOwner || failed) return;
    handlers.onWritable?.(Math.max(1, socket.writableHighWaterMark - socket.writableLength));
  };
  const received = (chunk: Uint8Array) => {
    if (closedByOwner || failed) return;
    if (head) more.push(chunk);
    else head = chunk;
    buffered += chunk.length;
    handlers.onReadable(buffered);
  };

  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => received(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
  socket.on('drain', writable);
  socket.on('end', () => fail(new NetworkError('ECLOSED', `TCP ${where}: connection closed by peer`)));
  socket.on('error', (error: NodeJS.ErrnoException) => fail(describeFailure(error, where, secure)));
  socket.on('close', () => fail(new NetworkError('ECLOSED', `TCP ${where}: connection closed`)));
  if (connected) {
    setImmediate(writable);
  } else {
    socket.once(secure ? 'secureConnect' : 'connect', writable);
  }

  // Writes made in one turn of the event loop are copied into one buffer and leave in one socket
  // write (TCP_NODELAY is on: otherwise every small packet would be its own syscall and segment, and
  // Node's stream would do its work once per packet).
  let batch: Buffer | undefined;
  let used = 0;
  let size = MIN_BATCH;
  /** The last batch, when the socket took all of it at once (nothing refers to it then): the next one. */
  let spare: Buffer | undefined;
  const onWritten = (error?: Error | null) => {
    if (error) fail(describeFailure(error as NodeJS.ErrnoException, where, secure));
  };
  const flush = () => {
    const out = batch;
    if (!out) return;
    batch = undefined;
    if (failed) return;
    socket.write(out.subarray(0, used), onWritten);
    if (socket.writableLength === 0) spare = out;
  };

  const tcp: TcpSocket = {
    read() {
      const first = head;
      if (!first) return undefined;
      head = undefined;
      if (!more.length) {
        buffered = 0;
        return first;
      }
      const out = new Uint8Array(buffered);
      out.set(first, 0);
      let offset = first.length;
      for (const chunk of more) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      more.length = 0;
      buffered = 0;
      return out;
    },
    write(bytes: Uint8Array) {
      if (closedByOwner) throw new NetworkError('ECLOSED', `TCP ${where}: write after close()`);
      if (failed) throw new NetworkError('ECLOSED', `TCP ${where}: write on a failed connection (onError was called)`);
      const n = bytes.length;
      if (batch && used + n > batch.length) {
        // this turn writes more than the batch holds: out with it, and a larger one next
        flush();
        size = Math.min(MAX_BATCH, size * 2);
      }
      if (!batch) {
        batch = spare && spare.length >= n ? spare : Buffer.allocUnsafe(Math.max(size, n));
        spare = undefined;
        used = 0;
        process.nextTick(flush);
      }
      // Copied: the caller may reuse its buffer as soon as write returns.
      batch.set(bytes, used);
      used += n;
    },
    close() {
      if (closedByOwner) return;
      flush();
      closedByOwner = true;
      if (failed) return;
      socket.end();
      // Give queued bytes a moment to leave, then make sure the descriptor is released.
      socket.setTimeout(2000, () => socket.destroy());
    },
  };
  return { tcp, received };
}

function connect(options: TcpOptions): TcpSocket {
  const { host, port } = options;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new NetworkError('EINVAL', `TCP connect: port ${port} is not in 1..65535`);
  }
  const where = `${host}:${port}`;
  if (!options.tls) {
    let wrapped: Wrapped | undefined;
    const socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback(n: number) {
          // copied out of the shared buffer before the next read of any socket reuses it
          wrapped!.received(READ_BYTES.slice(0, n));
          return true;
        },
      },
    });
    return (wrapped = wrapSocket(socket, options, where, false, false)).tcp;
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
  });
  return wrapSocket(socket, options, where, true, false).tcp;
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
        const wrapped = wrapSocket(socket, handlers, where, false, true);
        socket.resume();
        return wrapped.tcp;
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
