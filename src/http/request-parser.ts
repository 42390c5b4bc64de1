// Incremental HTTP/1.1 request parser (RFC 9112) with hard limits. One request per connection:
// the server always answers "Connection: close", so bytes after the first request are ignored.
import { HttpError, asHttpError } from './errors';
import type { HttpLimits } from './limits';
import { percentDecodeText } from '../text/percent';
import { asciiLower, isDigitCode, isDigits, runEnd, startsWithIgnoringCase } from '../text/chars';

export type HttpMethod = 'GET' | 'HEAD' | 'POST';

export interface HttpRequest {
  method: HttpMethod;
  /** The request-target as sent (origin-form, or absolute-form from proxies and some probes). */
  target: string;
  /** Percent-decoded path, always starting with "/". */
  path: string;
  /** Raw query string without "?" ("" when absent). */
  query: string;
  version: '1.0' | '1.1';
  /** Lower-case names; repeated headers joined with ", " (Host, Content-Length and Content-Type must not differ). */
  headers: Map<string, string>;
  body: Uint8Array;
}

const CR = 0x0d;
const LF = 0x0a;

// RFC 9110 tchar: ALPHA / DIGIT / one of !#$%&'*+-.^_`|~
const tokenSymbols = "!#$%&'*+-.^_`|~";

const isTokenChar = (c: number): boolean => {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c > 0x20 && c < 0x7f && tokenSymbols.indexOf(String.fromCharCode(c)) >= 0)
  );
};

type Phase = 'line' | 'headers' | 'body' | 'done';

/** Not / ? #: what the authority of an absolute request target is made of. */
const isAuthorityCode = (c: number): boolean => {
  return c !== 0x2f && c !== 0x3f && c !== 0x23;
};

export class RequestParser {
  private buf = new Uint8Array(256);
  private len = 0;
  private lineStart = 0;
  private scanFrom = 0;
  private phase: Phase = 'line';
  private headerCount = 0;
  private method: HttpMethod = 'GET';
  private target = '';
  private path = '/';
  private query = '';
  private version: '1.0' | '1.1' = '1.1';
  private readonly headers = new Map<string, string>();
  private body = new Uint8Array(0);
  private bodyFilled = 0;
  /** Bytes seen so far, to tell idle connections from slow ones. */
  received = 0;

  constructor(private readonly limits: HttpLimits) {}

  get complete(): boolean {
    return this.phase === 'done';
  }

  /** Feeds the next bytes. Returns the request once it is complete; throws HttpError for bad input. */
  push(bytes: Uint8Array): HttpRequest | undefined {
    if (this.phase === 'done') return undefined;
    this.received += bytes.length;
    let offset = 0;
    if (this.phase === 'line' || this.phase === 'headers') {
      const room = this.limits.maxHeaderBytes - this.len;
      const take = Math.min(room, bytes.length);
      this.append(bytes, 0, take);
      offset = take;
      this.readLines();
      if (this.phase === 'line' || this.phase === 'headers') {
        if (this.len >= this.limits.maxHeaderBytes) {
          throw new HttpError('headers-too-large', 431, `request headers exceed ${this.limits.maxHeaderBytes} bytes`);
        }
        return undefined;
      }
    }
    if (this.phase === 'body' && offset < bytes.length) this.fillBody(bytes, offset, bytes.length);
    return this.complete ? this.finish() : undefined;
  }

  private append(bytes: Uint8Array, start: number, end: number): void {
    const need = this.len + (end - start);
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.limits.maxHeaderBytes));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(bytes.subarray(start, end), this.len);
    this.len = need;
  }

  private readLines(): void {
    const buf = this.buf;
    while (this.phase === 'line' || this.phase === 'headers') {
      let lf = -1;
      for (let i = this.scanFrom; i < this.len; i++) {
        if (buf[i] === LF) {
          lf = i;
          break;
        }
        // A CR must be followed by LF; say so now instead of waiting for an LF that may never come.
        if (buf[i] === CR && i + 1 < this.len && buf[i + 1] !== LF) {
          throw new HttpError('bad-line-ending', 400, 'a bare CR was received inside a line');
        }
      }
      if (lf < 0) {
        // A trailing CR is looked at again with the next byte.
        this.scanFrom = this.len > this.lineStart && buf[this.len - 1] === CR ? this.len - 1 : this.len;
        this.checkPartialLine();
        return;
      }
      if (lf === this.lineStart || buf[lf - 1] !== CR) {
        throw new HttpError('bad-line-ending', 400, 'lines must end with CRLF (a bare LF was received)');
      }
      const end = lf - 1;
      const start = this.lineStart;
      this.lineStart = this.scanFrom = lf + 1;
      if (this.phase === 'line') {
        if (end > start) this.requestLine(start, end); // empty lines before the request line are skipped (RFC 9112 §2.2)
      } else if (end === start) this.endOfHeaders(lf + 1);
      else this.headerLine(start, end);
    }
  }

  private checkPartialLine(): void {
    const pending = this.len - this.lineStart;
    if (this.phase === 'line' && pending > this.limits.maxRequestLine + 1) {
      throw new HttpError('request-line-too-long', 414, `the request line exceeds ${this.limits.maxRequestLine} bytes`);
    }
    if (this.phase === 'headers' && pending > this.limits.maxHeaderLine + 1) {
      throw new HttpError('header-too-long', 431, `a header line exceeds ${this.limits.maxHeaderLine} bytes`);
    }
  }

  private text(start: number, end: number): string {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(this.buf[i]);
    return s;
  }

  private requestLine(start: number, end: number): void {
    if (end - start > this.limits.maxRequestLine) {
      throw new HttpError('request-line-too-long', 414, `the request line exceeds ${this.limits.maxRequestLine} bytes`);
    }
    for (let i = start; i < end; i++) {
      const c = this.buf[i];
      if (c !== 0x20 && (c < 0x21 || c > 0x7e)) {
        throw new HttpError('bad-request-line', 400, `the request line contains byte 0x${c.toString(16)}; only printable ASCII is allowed`);
      }
    }
    const parts = this.text(start, end).split(' ');
    if (parts.length !== 3 || !parts[0] || !parts[1]) {
      throw new HttpError('bad-request-line', 400, 'the request line must be "METHOD target HTTP/1.1" with single spaces');
    }
    const [method, target, version] = parts;
    // HTTP/<digit>.<digit>
    const major = version[5];
    const minor = version[7];
    if (version.length !== 8 || !version.startsWith('HTTP/') || version[6] !== '.' || !isDigitCode(version.charCodeAt(5)) || !isDigitCode(version.charCodeAt(7))) {
      throw new HttpError('bad-request-line', 400, `"${version.slice(0, 16)}" is not an HTTP version`);
    }
    if (major !== '1') throw new HttpError('unsupported-version', 505, `HTTP/${major}.${minor} is not supported; use HTTP/1.1`);
    this.version = minor === '0' ? '1.0' : '1.1';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      for (let i = 0; i < method.length; i++) {
        if (!isTokenChar(method.charCodeAt(i))) throw new HttpError('bad-request-line', 400, 'the method is not a token');
      }
      throw new HttpError('method-not-allowed', 405, `method ${method} is not supported; use GET or POST`);
    }
    this.method = method;
    this.target = target;
    let pathAndQuery = target;
    if (!target.startsWith('/')) {
      // absolute form: http://authority then the path (the scheme in any case)
      const authorityEnd = startsWithIgnoringCase(target, 'http://') ? runEnd(target, 7, isAuthorityCode) : 7;
      if (authorityEnd === 7) throw new HttpError('bad-request-line', 400, 'the request target must start with "/" or "http://"');
      pathAndQuery = target.slice(authorityEnd) || '/';
      if (!pathAndQuery.startsWith('/')) pathAndQuery = '/' + pathAndQuery;
    }
    const hash = pathAndQuery.indexOf('#');
    if (hash >= 0) pathAndQuery = pathAndQuery.slice(0, hash);
    const q = pathAndQuery.indexOf('?');
    try {
      this.path = percentDecodeText(q < 0 ? pathAndQuery : pathAndQuery.slice(0, q), false, 'the request path');
    } catch (error) {
      throw asHttpError(error);
    }
    this.query = q < 0 ? '' : pathAndQuery.slice(q + 1);
    this.phase = 'headers';
  }

  private headerLine(start: number, end: number): void {
    if (end - start > this.limits.maxHeaderLine) {
      throw new HttpError('header-too-long', 431, `a header line exceeds ${this.limits.maxHeaderLine} bytes`);
    }
    if (++this.headerCount > this.limits.maxHeaders) {
      throw new HttpError('too-many-headers', 431, `more than ${this.limits.maxHeaders} header lines`);
    }
    const buf = this.buf;
    if (buf[start] === 0x20 || buf[start] === 0x09) {
      throw new HttpError('bad-header', 400, 'folded header lines (starting with a space) are not allowed');
    }
    let colon = -1;
    for (let i = start; i < end; i++) {
      if (buf[i] === 0x3a) {
        colon = i;
        break;
      }
      if (!isTokenChar(buf[i])) throw new HttpError('bad-header', 400, 'a header name contains a character that is not allowed');
    }
    if (colon <= start) throw new HttpError('bad-header', 400, 'a header line has no "name:" part');
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (buf[vs] === 0x20 || buf[vs] === 0x09)) vs++;
    while (ve > vs && (buf[ve - 1] === 0x20 || buf[ve - 1] === 0x09)) ve--;
    for (let i = vs; i < ve; i++) {
      const c = buf[i];
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
        throw new HttpError('bad-header', 400, `a header value contains control byte 0x${c.toString(16)}`);
      }
    }
    const name = asciiLower(this.text(start, colon));
    const value = this.text(vs, ve);
    const previous = this.headers.get(name);
    if (previous === undefined) this.headers.set(name, value);
    else if (name === 'host' || name === 'content-length' || name === 'content-type') {
      // Single-valued fields: joined, the value would silently mean the first one.
      if (previous !== value) throw new HttpError('bad-header', 400, `conflicting ${name} headers; send one`);
    } else this.headers.set(name, previous + ', ' + value);
  }

  private endOfHeaders(bodyStart: number): void {
    const h = this.headers;
    if (this.version === '1.1' && !h.has('host')) throw new HttpError('missing-host', 400, 'HTTP/1.1 requests need a Host header');
    if (h.has('transfer-encoding')) {
      throw new HttpError('unsupported-transfer-encoding', 501, 'Transfer-Encoding is not supported; send Content-Length');
    }
    const cl = h.get('content-length');
    let length = 0;
    if (cl !== undefined) {
      if (!isDigits(cl)) throw new HttpError('bad-content-length', 400, 'Content-Length must be a decimal number');
      let zeros = 0;
      while (zeros < cl.length - 1 && cl[zeros] === '0') zeros++;
      const digits = cl.slice(zeros);
      length = digits.length > 9 ? Infinity : Number(digits);
      if (length > this.limits.maxBody) {
        throw new HttpError('body-too-large', 413, `the body may be at most ${this.limits.maxBody} bytes`);
      }
    } else if (this.method === 'POST') {
      throw new HttpError('length-required', 411, 'POST needs a Content-Length header');
    }
    this.body = new Uint8Array(length);
    this.bodyFilled = 0;
    this.phase = length === 0 ? 'done' : 'body';
    const leftover = this.buf.subarray(bodyStart, this.len);
    if (this.phase === 'body' && leftover.length) this.fillBody(leftover, 0, leftover.length);
    this.buf = new Uint8Array(0); // the headers are parsed; free the buffer
    this.len = 0;
  }

  private fillBody(bytes: Uint8Array, start: number, end: number): void {
    const take = Math.min(end - start, this.body.length - this.bodyFilled);
    this.body.set(bytes.subarray(start, start + take), this.bodyFilled);
    this.bodyFilled += take;
    if (this.bodyFilled === this.body.length) this.phase = 'done';
  }

  private finish(): HttpRequest {
    return {
      method: this.method,
      target: this.target,
      path: this.path,
      query: this.query,
      version: this.version,
      headers: this.headers,
      body: this.body,
    };
  }
}
