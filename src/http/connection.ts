// One accepted connection of HttpServer: reads one request, answers it and closes, within the
// limits' timeouts (on the Clock port).
import type { Clock, IncomingConnection, TcpSocket, TimerId } from '../ports';
import { HttpError } from './errors';
import type { HttpLimits } from './limits';
import { RequestParser, type HttpRequest } from './request-parser';
import { bodyLength, responseHead, serializeResponse, type HttpResponse } from './response';
import { utf8Encode } from '../text/utf8';

/** What a connection reports to its server. */
export interface ConnectionOwner {
  /** The request is complete: the answer to send. */
  handle(request: HttpRequest): HttpResponse;
  /** The parser refused the request (the client gets its 4xx/5xx). */
  rejected(): void;
  /** Closed for taking too long: idle, slow, or not reading its answer. */
  timedOut(): void;
  closed(connection: HttpConnection): void;
}

type Phase = 'waiting' | 'receiving' | 'answering' | 'closed';

export class HttpConnection {
  /** The peer's address: connections are bounded per client. */
  readonly client: string;
  private readonly socket: TcpSocket;
  /** Made on the first byte: an idle connection costs no buffer. */
  private parser: RequestParser | undefined;
  private readonly acceptedAt: number;
  private phase: Phase;
  private timer: TimerId | undefined;
  /** Bytes the socket takes now, from the last onWritable. */
  private writable = 0;
  /** The bytes being sent, and how many of them went. */
  private out: Uint8Array | undefined;
  private sent = 0;
  /** What follows `out`: the body's text parts from `part` on (encoded one at a time). */
  private rest: string[] | undefined;
  private part = 0;

  /** With `answer`, the request is not read: the bytes are sent as they are (a busy server's 503). */
  constructor(
    private readonly owner: ConnectionOwner,
    incoming: IncomingConnection,
    private readonly clock: Clock,
    private readonly limits: HttpLimits,
    answer?: Uint8Array,
  ) {
    this.client = incoming.remoteAddress;
    this.acceptedAt = clock.now();
    this.phase = answer ? 'answering' : 'waiting';
    this.out = answer;
    // this connection's own methods are the socket's handlers (the host calls them on it): no closures in the heap
    this.socket = incoming.accept(this);
    if (answer) this.timer = clock.set(() => this.timeout(), limits.answerTimeoutMs);
    else this.timer = clock.set(() => this.timeout(), Math.min(limits.idleTimeoutMs, limits.requestTimeoutMs));
  }

  /** No complete request yet: the server may close it to make room for a new one. */
  get idle(): boolean {
    return this.phase === 'waiting' || this.phase === 'receiving';
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.stopTimer();
    this.owner.closed(this);
    try {
      this.socket.close();
    } catch {
      // already closed by the peer
    }
  }

  /** The socket's handlers. */
  onReadable(): void {
    this.readable();
  }

  onWritable(count: number): void {
    this.writable = count;
    this.pump();
  }

  onError(): void {
    this.close();
  }

  private readable(): void {
    if (this.phase === 'closed') return;
    const bytes = this.socket.read();
    // Bytes after the request (or to a busy answer) are read and dropped: lwIP resets a connection
    // closed with unread data, and the answer could be lost.
    if (!bytes || this.phase === 'answering') return;
    this.phase = 'receiving';
    const parser = (this.parser ??= new RequestParser(this.limits));
    let request: HttpRequest | undefined;
    try {
      request = parser.push(bytes);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      this.owner.rejected();
      this.respond(errorResponse(error), false);
      return;
    }
    if (request) this.respond(this.owner.handle(request), request.method === 'HEAD');
  }

  private timeout(): void {
    this.timer = undefined;
    if (this.phase === 'closed') return;
    if (this.phase === 'answering') {
      this.owner.timedOut();
      this.close(); // the client does not read its answer
      return;
    }
    const elapsed = this.clock.now() - this.acceptedAt;
    if (this.phase === 'receiving' && elapsed < this.limits.requestTimeoutMs) {
      this.timer = this.clock.set(() => this.timeout(), this.limits.requestTimeoutMs - elapsed);
      return;
    }
    this.owner.timedOut();
    if (this.phase === 'waiting') this.close();
    else this.respond(errorResponse(new HttpError('timeout', 408, 'the request took too long to arrive')), false);
  }

  private respond(response: HttpResponse, headOnly: boolean): void {
    if (this.phase === 'closed' || this.phase === 'answering') return;
    this.phase = 'answering';
    this.parser = undefined;
    const body = response.body;
    this.sent = 0;
    this.part = 0;
    if (Array.isArray(body) && !headOnly) {
      // a body in parts (the portal page): the head, then each part encoded when the socket takes it
      this.out = responseHead(response, bodyLength(body));
      this.rest = body;
    } else {
      // one buffer: small answers go out in one write
      this.out = serializeResponse(response, headOnly);
      this.rest = undefined;
    }
    this.stopTimer();
    this.timer = this.clock.set(() => this.timeout(), this.limits.answerTimeoutMs);
    this.pump();
  }

  /**
   * Writes no more than the socket says it takes, and closes once all is handed over: a host
   * may drop bytes still queued on its side at close().
   */
  private pump(): void {
    if (!this.out || this.phase !== 'answering') return;
    let done = false;
    try {
      while (this.writable > 0) {
        const out = this.sent < this.out.length ? this.out : this.next();
        if (!out) {
          done = true;
          break;
        }
        const n = Math.min(this.writable, out.length - this.sent);
        this.socket.write(out.subarray(this.sent, this.sent + n));
        this.sent += n;
        this.writable -= n;
      }
      if (!done && this.sent >= this.out.length && !this.rest) done = true;
    } catch {
      this.close(); // the peer went away; nothing more to answer
      return;
    }
    if (done) this.close();
  }

  /** Moves to the next bytes to send (the body, or its next non-empty part encoded); undefined at the end. */
  private next(): Uint8Array | undefined {
    const rest = this.rest;
    if (!rest) return undefined;
    let out: Uint8Array | undefined;
    while (this.part < rest.length && !out) {
      const text = rest[this.part++];
      if (text) out = utf8Encode(text);
    }
    if (this.part >= rest.length) this.rest = undefined;
    if (!out) return undefined;
    this.out = out;
    this.sent = 0;
    return out;
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.clock.clear(this.timer);
    this.timer = undefined;
  }
}

const errorResponse = (error: HttpError): HttpResponse => {
  const headers: Array<[string, string]> = [['Content-Type', 'text/plain; charset=utf-8']];
  if (error.status === 405) headers.push(['Allow', 'GET, HEAD, POST']);
  return { status: error.status, headers, body: `${error.status} ${error.message}\n` };
};
