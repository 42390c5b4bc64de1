// A small HTTP/1.1 GET client over the TCP port (TLS through the same port's `tls` option), made for
// streaming firmware images: the response head is held in one bounded buffer, body bytes are handed on
// as they arrive (de-chunked when needed) and never collected, and a stall ends the request.
//
// Body length: Content-Length when given, else chunked coding, else until the server closes (then the
// caller must check the length it got). Redirects (301, 302, 303, 307, 308) are followed a few times.
import type { Clock, Network, TcpSocket, TimerId, TlsOptions } from '../ports';
import { ChunkedDecoder } from './chunked';
import { HttpClientError } from './errors';
import { asciiLower, isDigits } from '../text/chars';
import { parseImageUrl, resolveLocation, type ImageUrl } from './url';

export interface HttpResponseHead {
  status: number;
  /** Header fields by lower-case name; repeated fields joined with ", ". */
  headers: Record<string, string>;
}

export interface HttpGetOptions {
  network: Network;
  clock: Clock;
  url: string;
  /** Extra request header fields, e.g. {range: "bytes=1024-"}. */
  headers?: Record<string, string>;
  /** TLS settings for https:// URLs (CA, server name). */
  tls?: TlsOptions;
  /** Longest response head (status line and header fields) accepted, bytes. Default 2048. */
  headerLimit?: number;
  /** Ms without a byte from the server, connecting included, before the request fails. Default 15000. */
  stallTimeout?: number;
  /** Redirects followed before giving up. Default 3. */
  maxRedirects?: number;
  /** The final response's head (redirects are followed, not reported). */
  onHead(head: HttpResponseHead): void;
  /** Body bytes in order. They are views of a buffer the client reuses: consume them at once. */
  onBody(bytes: Uint8Array): void;
  /** Called exactly once unless abort() was called: without an error when the body is complete. */
  onEnd(error?: HttpClientError): void;
}

const CR = 13;
const LF = 10;
const REDIRECTS = [301, 302, 303, 307, 308];

export class HttpGet {
  private socket: TcpSocket | undefined;
  private timer: TimerId | undefined;
  private finished = false;
  private redirects = 0;
  private head: Uint8Array;
  private headLength = 0;
  private status = 0;
  private bodyLeft = -1; // -1: until close
  private chunked: ChunkedDecoder | undefined;
  private url!: ImageUrl;

  constructor(private readonly o: HttpGetOptions) {
    this.head = new Uint8Array(o.headerLimit ?? 2048);
    this.request(o.url);
  }

  /** Stops the request; no callback follows. */
  abort(): void {
    this.finished = true;
    this.close();
  }

  private request(text: string): void {
    try {
      this.url = parseImageUrl(text);
    } catch (error) {
      this.o.clock.set(() => this.finish(error as HttpClientError), 0); // never call back from the constructor
      return;
    }
    const u = this.url;
    this.headLength = 0;
    this.status = 0;
    this.bodyLeft = -1;
    this.chunked = undefined;
    this.arm();
    let lines = `GET ${u.path} HTTP/1.1\r\nHost: ${u.authority}\r\nUser-Agent: nodemcu-ota/1\r\nAccept-Encoding: identity\r\nConnection: close\r\n`;
    const headers = this.o.headers ?? {};
    for (const name of Object.keys(headers)) lines += `${name}: ${headers[name]}\r\n`;
    const bytes = latin1(lines + '\r\n');
    let sent = false;
    const socket = (this.socket = this.o.network.connect({
      host: u.host,
      port: u.port,
      tls: u.secure ? this.o.tls ?? {} : undefined,
      onWritable: () => {
        if (sent || socket !== this.socket) return;
        sent = true;
        this.guard(() => socket.write(bytes));
      },
      onReadable: () => {
        if (socket === this.socket) this.guard(() => this.receive(socket));
      },
      onError: (error) => {
        if (socket !== this.socket) return;
        this.socket = undefined;
        if (this.status && this.bodyLeft < 0 && !this.chunked) return this.finish(); // close-delimited body
        const where = `${u.host}:${u.port}`;
        const message = this.status ? `connection to ${where} broke during the body: ${describeError(error)}` : `cannot fetch from ${where}: ${describeError(error)}`;
        this.finish(new HttpClientError('network', message, true));
      },
    }));
  }

  private receive(socket: TcpSocket): void {
    const bytes = socket.read();
    if (!bytes || this.finished) return;
    this.arm();
    let body = bytes;
    if (!this.status) {
      const at = this.collectHead(bytes);
      if (at < 0) return;
      body = bytes.subarray(at);
      if (!this.parseHead()) return;
    }
    this.body(body);
  }

  /** Adds bytes to the head; returns where the body starts in `bytes`, or -1 when the head is not complete. */
  private collectHead(bytes: Uint8Array): number {
    const head = this.head;
    for (let i = 0; i < bytes.length; i++) {
      if (this.headLength >= head.length) {
        throw new HttpClientError('bad-response', `the server's response head is longer than ${head.length} bytes`);
      }
      head[this.headLength++] = bytes[i];
      const n = this.headLength;
      if (n >= 4 && head[n - 1] === LF && head[n - 2] === CR && head[n - 3] === LF && head[n - 4] === CR) return i + 1;
    }
    return -1;
  }

  /** Parses the complete head; returns false when the request ended here (redirect, error). */
  private parseHead(): boolean {
    let text = '';
    for (let i = 0; i < this.headLength - 4; i++) text += String.fromCharCode(this.head[i]);
    const lines = text.split('\r\n');
    // "HTTP/1.0 " or "HTTP/1.1 ", three digits, then a space or the end
    const first = lines[0];
    const code = first.slice(9, 12);
    const version = first.slice(0, 9);
    if ((version !== 'HTTP/1.0 ' && version !== 'HTTP/1.1 ') || !isDigits(code, 3, 3) || (first.length > 12 && first[12] !== ' ')) throw new HttpClientError('bad-response', `not an HTTP/1.x response: "${lines[0].slice(0, 40)}"`);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      if (colon <= 0) throw new HttpClientError('bad-response', `malformed header field "${lines[i].slice(0, 40)}"`);
      const name = asciiLower(lines[i].slice(0, colon).trim());
      const value = lines[i].slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(code);
    if (REDIRECTS.indexOf(status) >= 0 && headers.location) {
      if (++this.redirects > (this.o.maxRedirects ?? 3)) throw new HttpClientError('too-many-redirects', `more than ${this.o.maxRedirects ?? 3} redirects`);
      const next = resolveLocation(this.url, headers.location);
      this.close();
      this.request(next);
      return false;
    }
    this.status = status;
    const te = headers['transfer-encoding'];
    if (te !== undefined) {
      if (asciiLower(te) !== 'chunked') throw new HttpClientError('bad-response', `unsupported transfer coding "${te}": the client handles only chunked`);
      this.chunked = new ChunkedDecoder();
    } else if (headers['content-length'] !== undefined) {
      if (!isDigits(headers['content-length'], 1, 10)) throw new HttpClientError('bad-response', `bad Content-Length "${headers['content-length']}"`);
      this.bodyLeft = Number(headers['content-length']);
    }
    this.o.onHead({ status, headers });
    if (this.finished) return false;
    if (this.bodyLeft === 0) {
      this.finish();
      return false;
    }
    return true;
  }

  private body(bytes: Uint8Array): void {
    if (!bytes.length || this.finished) return;
    if (this.chunked) {
      if (this.chunked.push(bytes, (data) => !this.finished && this.o.onBody(data)) && !this.finished) this.finish();
      return;
    }
    if (this.bodyLeft < 0) return this.o.onBody(bytes);
    const n = Math.min(bytes.length, this.bodyLeft);
    this.bodyLeft -= n;
    this.o.onBody(n === bytes.length ? bytes : bytes.subarray(0, n));
    if (this.bodyLeft === 0 && !this.finished) this.finish();
  }

  /** Runs socket-callback work; anything thrown ends the request instead of reaching the host. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.finish(error instanceof HttpClientError ? error : new HttpClientError('bad-response', describeError(error)));
    }
  }

  private arm(): void {
    const clock = this.o.clock;
    if (this.timer !== undefined) clock.clear(this.timer);
    const ms = this.o.stallTimeout ?? 15000;
    this.timer = clock.set(() => {
      this.timer = undefined;
      const what = this.status ? 'sent no data' : 'did not answer';
      this.finish(new HttpClientError('timeout', `${this.url.host}:${this.url.port} ${what} for ${ms / 1000} s`, true));
    }, ms);
  }

  private finish(error?: HttpClientError): void {
    if (this.finished) return;
    this.finished = true;
    this.close();
    this.o.onEnd(error);
  }

  private close(): void {
    if (this.timer !== undefined) this.o.clock.clear(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }
}

const describeError = (error: unknown): string => {
  return error instanceof Error ? error.message : String(error);
};

const latin1 = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
};
