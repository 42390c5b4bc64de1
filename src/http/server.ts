// A small HTTP/1.1 server on the Listener port: one request per connection, bounded in size,
// time and number of connections, answered synchronously by a handler.
import type { Clock, IncomingConnection, Network, TcpSocket, TimerId } from '../ports';
import { HttpError } from './errors';
import { defaultHttpLimits, type HttpLimits } from './limits';
import { RequestParser, type HttpRequest } from './request-parser';
import { serializeResponse, type HttpResponse } from './response';

export type HttpHandler = (request: HttpRequest) => HttpResponse;

export interface HttpServerOptions {
  network: Network;
  clock: Clock;
  /** TCP port; 0 picks a free one (the simulator). */
  port: number;
  address?: string;
  limits?: Partial<HttpLimits>;
  handler: HttpHandler;
  /** Told about handler exceptions and listener errors (the client got a 500 or nothing). */
  onError?(error: Error): void;
}

export class HttpServerError extends Error {
  override name = 'HttpServerError';
  readonly code = 'no-listener';
}

export interface HttpServerStats {
  served: number;
  /** Requests answered with a 4xx/5xx by the parser (malformed, too large, ...). */
  rejected: number;
  /** Connections closed for taking too long (slow or idle clients). */
  timedOut: number;
  /** Connections closed on arrival because `maxConnections` were open. */
  refused: number;
}

export class HttpServer {
  readonly limits: HttpLimits;
  readonly stats: HttpServerStats = { served: 0, rejected: 0, timedOut: 0, refused: 0 };
  private readonly listener;
  private readonly open = new Set<Connection>();
  private closed = false;

  constructor(private readonly options: HttpServerOptions) {
    if (!options.network.listen) throw new HttpServerError('this platform cannot listen for TCP connections: the portal cannot run');
    this.limits = { ...defaultHttpLimits, ...options.limits };
    this.listener = options.network.listen({
      port: options.port,
      address: options.address,
      onConnection: (incoming) => this.accept(incoming),
      onError: (error) => options.onError?.(error),
    });
  }

  get port(): number {
    return this.listener.port;
  }

  get connections(): number {
    return this.open.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.close();
    for (const c of [...this.open]) c.close();
  }

  private accept(incoming: IncomingConnection): void {
    if (this.closed || this.open.size >= this.limits.maxConnections) {
      this.stats.refused++;
      const socket = incoming.accept({ onReadable() {}, onError() {} });
      socket.close();
      return;
    }
    const connection = new Connection(this, incoming, this.options.clock, this.limits);
    this.open.add(connection);
  }

  /** @internal */
  forget(connection: Connection): void {
    this.open.delete(connection);
  }

  /** @internal */
  handle(request: HttpRequest): HttpResponse {
    try {
      const response = this.options.handler(request);
      this.stats.served++;
      return response;
    } catch (error) {
      this.options.onError?.(error as Error);
      return { status: 500, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: 'Internal error\n' };
    }
  }
}

class Connection {
  private readonly socket: TcpSocket;
  private readonly parser: RequestParser;
  private readonly acceptedAt: number;
  private timer: TimerId | undefined;
  private done = false;
  /** Bytes the socket takes now, from the last onWritable. */
  private writable = 0;
  private out: Uint8Array | undefined;
  private sent = 0;

  constructor(
    private readonly server: HttpServer,
    incoming: IncomingConnection,
    private readonly clock: Clock,
    private readonly limits: HttpLimits,
  ) {
    this.parser = new RequestParser(limits);
    this.acceptedAt = clock.now();
    this.socket = incoming.accept({
      onReadable: () => this.readable(),
      onWritable: (count) => {
        this.writable = count;
        this.pump();
      },
      onError: () => this.close(),
    });
    this.timer = clock.set(() => this.timeout(), Math.min(limits.idleTimeoutMs, limits.requestTimeoutMs));
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) this.clock.clear(this.timer);
    this.timer = undefined;
    this.server.forget(this);
    try {
      this.socket.close();
    } catch {
      // already closed by the peer
    }
  }

  private readable(): void {
    if (this.done || this.out) return;
    const bytes = this.socket.read();
    if (!bytes) return;
    let request: HttpRequest | undefined;
    try {
      request = this.parser.push(bytes);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      this.server.stats.rejected++;
      this.respond(errorResponse(error), false);
      return;
    }
    if (request) this.respond(this.server.handle(request), request.method === 'HEAD');
  }

  private timeout(): void {
    this.timer = undefined;
    if (this.done) return;
    if (this.out) {
      this.close(); // the client does not read its answer
      return;
    }
    const elapsed = this.clock.now() - this.acceptedAt;
    if (this.parser.received > 0 && elapsed < this.limits.requestTimeoutMs) {
      this.timer = this.clock.set(() => this.timeout(), this.limits.requestTimeoutMs - elapsed);
      return;
    }
    this.server.stats.timedOut++;
    if (this.parser.received === 0) this.close();
    else this.respond(errorResponse(new HttpError('timeout', 408, 'the request took too long to arrive')), false);
  }

  private respond(response: HttpResponse, headOnly: boolean): void {
    if (this.done || this.out) return;
    this.out = serializeResponse(response, headOnly);
    this.pump();
  }

  /**
   * Writes no more than the socket says it takes, and closes once all is handed over: a host
   * may drop bytes still queued on its side at close().
   */
  private pump(): void {
    const out = this.out;
    if (!out || this.done) return;
    try {
      while (this.writable > 0 && this.sent < out.length) {
        const n = Math.min(this.writable, out.length - this.sent);
        this.socket.write(out.subarray(this.sent, this.sent + n));
        this.sent += n;
        this.writable -= n;
      }
    } catch {
      this.close(); // the peer went away; nothing more to answer
      return;
    }
    if (this.sent >= out.length) this.close();
  }
}

function errorResponse(error: HttpError): HttpResponse {
  const headers: Array<[string, string]> = [['Content-Type', 'text/plain; charset=utf-8']];
  if (error.status === 405) headers.push(['Allow', 'GET, HEAD, POST']);
  return { status: error.status, headers, body: `${error.status} ${error.message}\n` };
}
