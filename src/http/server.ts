// A small HTTP/1.1 server on the Listener port: one request per connection, bounded in size and
// time, answered synchronously by a handler. Connections are bounded per client and in total; a new
// connection closes the oldest idle one to get in, so idle sockets cannot lock real clients out.
import type { Clock, IncomingConnection, ListenerOptions, Network } from '../ports';
import { HttpConnection, type ConnectionOwner } from './connection';
import { defaultHttpLimits, type HttpLimits } from './limits';
import type { HttpRequest } from './request-parser';
import { serializeResponse, type HttpResponse } from './response';

type HttpHandler = (request: HttpRequest) => HttpResponse;

/** The server calls `handler` and `onError` as methods of this object, so it may be a class instance whose methods they are. */
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
  constructor(
    readonly code: 'no-listener' | 'bad-limits',
    message: string,
  ) {
    super(message);
  }
}
HttpServerError.prototype.name = 'HttpServerError';

export interface HttpServerStats {
  served: number;
  /** Requests answered with a 4xx/5xx by the parser (malformed, too large, ...). */
  rejected: number;
  /** Connections closed for taking too long (idle, slow, or not reading the answer). */
  timedOut: number;
  /** Idle connections closed to make room for a new connection. */
  evicted: number;
  /** New connections answered 503: every connection was being answered. */
  busy: number;
  /** New connections closed on arrival without an answer (server closed, or too many 503s in flight). */
  refused: number;
}

/** Seconds a client turned away with 503 is told to wait: answers take well under that. */
const BUSY_RETRY_AFTER_SECONDS = 2;
/** 503 answers being sent at once; each holds a TCP control block, so more are closed unanswered. */
const MAX_BUSY_ANSWERS = 2;

export class HttpServer implements ConnectionOwner {
  readonly limits: HttpLimits;
  readonly stats: HttpServerStats = { served: 0, rejected: 0, timedOut: 0, evicted: 0, busy: 0, refused: 0 };
  private readonly listener;
  /** In accept order, so the first idle one found is the oldest. */
  private readonly open = new Set<HttpConnection>();
  private readonly busyAnswers = new Set<HttpConnection>();
  private stopped = false;

  constructor(private readonly options: HttpServerOptions) {
    if (!options.network.listen) throw new HttpServerError('no-listener', 'this platform cannot listen for TCP connections: the portal cannot run');
    // the defaults themselves when nothing is overridden: a module constant costs the heap nothing
    this.limits = options.limits ? { ...defaultHttpLimits, ...options.limits } : defaultHttpLimits;
    for (const key of ['maxConnections', 'maxIdlePerClient'] as const) {
      const n = this.limits[key];
      if (!Number.isInteger(n) || n < 1) throw new HttpServerError('bad-limits', `limits.${key} must be a whole number of at least 1, got ${n}`);
    }
    this.listener = options.network.listen(new ServerListen(this, options));
  }

  get port(): number {
    return this.listener.port;
  }

  /** Open connections, not counting 503 answers on their way out. */
  get connections(): number {
    return this.open.size;
  }

  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.listener.close();
    for (const c of [...this.open, ...this.busyAnswers]) c.close();
  }

  /** @internal A connection arrived (ServerListen). */
  accept(incoming: IncomingConnection): void {
    if (this.stopped) {
      this.refuse(incoming);
      return;
    }
    if (this.makeRoom(incoming.remoteAddress)) {
      this.open.add(new HttpConnection(this, incoming, this.options.clock, this.limits));
      return;
    }
    if (this.busyAnswers.size >= MAX_BUSY_ANSWERS) {
      this.refuse(incoming);
      return;
    }
    this.stats.busy++;
    this.busyAnswers.add(new HttpConnection(this, incoming, this.options.clock, this.limits, this.busyAnswer()));
  }

  /**
   * Frees a place for a new connection from `client`: over its own idle bound it closes that
   * client's oldest idle connection; with all places taken, the oldest idle connection of the
   * client holding the most. False when every connection is being answered.
   */
  private makeRoom(client: string): boolean {
    let victim: HttpConnection | undefined;
    if (this.idleOf(client) >= this.limits.maxIdlePerClient) {
      for (const c of this.open) {
        if (c.idle && c.client === client) {
          victim = c;
          break;
        }
      }
    } else if (this.open.size >= this.limits.maxConnections) {
      let most = 0;
      for (const c of this.open) {
        if (!c.idle) continue;
        const held = this.idleOf(c.client) + (c.client === client ? 1 : 0);
        if (held > most) {
          victim = c;
          most = held;
        }
      }
    } else return true;
    if (!victim) return false;
    this.stats.evicted++;
    victim.close();
    return true;
  }

  private idleOf(client: string): number {
    let n = 0;
    for (const c of this.open) if (c.idle && c.client === client) n++;
    return n;
  }

  private refuse(incoming: IncomingConnection): void {
    this.stats.refused++;
    const socket = incoming.accept({ onReadable() {}, onError() {} });
    socket.close();
  }

  private busyAnswer(): Uint8Array {
    const body = `503 all ${this.limits.maxConnections} connections are busy answering other requests; try again in ${BUSY_RETRY_AFTER_SECONDS} seconds\n`;
    const headers: Array<[string, string]> = [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Retry-After', String(BUSY_RETRY_AFTER_SECONDS)],
      ['Cache-Control', 'no-store'],
    ];
    return serializeResponse({ status: 503, headers, body }, false);
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

  /** @internal */
  rejected(): void {
    this.stats.rejected++;
  }

  /** @internal */
  timedOut(): void {
    this.stats.timedOut++;
  }

  /** @internal */
  closed(connection: HttpConnection): void {
    this.open.delete(connection);
    this.busyAnswers.delete(connection);
  }
}

/** The listener's options, with its callbacks as methods (the host calls them on this object): no closures in the heap. */
class ServerListen implements ListenerOptions {
  readonly port: number;
  readonly address: string | undefined;

  constructor(
    private readonly server: HttpServer,
    private readonly options: HttpServerOptions,
  ) {
    this.port = options.port;
    this.address = options.address;
  }

  onConnection(incoming: IncomingConnection): void {
    this.server.accept(incoming);
  }

  onError(error: Error): void {
    this.options.onError?.(error);
  }
}
