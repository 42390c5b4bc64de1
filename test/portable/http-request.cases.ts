// HTTP/1.1 request parsing (RFC 9112) and its limits, on hand-written requests.
import { equal, ok, suite, throws } from '../../hosts/xs/harness';
import { HttpError } from '../../src/http/errors';
import { defaultHttpLimits, type HttpLimits } from '../../src/http/limits';
import { RequestParser, type HttpRequest } from '../../src/http/request-parser';

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function parse(text: string, limits: Partial<HttpLimits> = {}): HttpRequest | undefined {
  return new RequestParser({ ...defaultHttpLimits, ...limits }).push(bytes(text));
}

function rejects(text: string, status: number, code: string, limits: Partial<HttpLimits> = {}): void {
  const error = throws(() => parse(text, limits), HttpError) as HttpError;
  equal(error.status, status, `status for ${JSON.stringify(text.slice(0, 40))}`);
  equal(error.code, code);
}

export default suite('http request parser', (test) => {
  test('a GET with query and headers', () => {
    const r = parse('GET /a%20b/c?x=1&y=2 HTTP/1.1\r\nHost: 192.168.4.1\r\nUser-Agent: t\r\nAccept:  text/html \r\n\r\n');
    ok(r);
    equal(r.method, 'GET');
    equal(r.path, '/a b/c');
    equal(r.query, 'x=1&y=2');
    equal(r.version, '1.1');
    equal(r.headers.get('host'), '192.168.4.1');
    equal(r.headers.get('accept'), 'text/html', 'surrounding whitespace is trimmed');
    equal(r.body.length, 0);
  });

  test('fed one byte at a time gives the same request', () => {
    const text = 'POST /connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\ns=abc&p=d';
    const parser = new RequestParser(defaultHttpLimits);
    let r: HttpRequest | undefined;
    for (let i = 0; i < text.length; i++) {
      const got = parser.push(bytes(text[i]));
      if (got) {
        equal(i, text.length - 1, 'completes on the last byte');
        r = got;
      }
    }
    ok(r);
    equal(r.body, bytes('s=abc&p=d'));
  });

  test('the body may arrive with the headers or after them', () => {
    const parser = new RequestParser(defaultHttpLimits);
    equal(parser.push(bytes('POST /connect HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nab')), undefined);
    const r = parser.push(bytes('cdefEXTRA'));
    equal(r?.body, bytes('abcdef'), 'bytes past Content-Length are not part of the body');
  });

  test('absolute-form targets are reduced to the path', () => {
    equal(parse('GET http://connectivitycheck.gstatic.com/generate_204 HTTP/1.1\r\nHost: connectivitycheck.gstatic.com\r\n\r\n')?.path, '/generate_204');
    equal(parse('GET http://captive.apple.com HTTP/1.1\r\nHost: captive.apple.com\r\n\r\n')?.path, '/');
  });

  test('HTTP/1.0 needs no Host; empty lines before the request line are skipped', () => {
    const r = parse('\r\n\r\nGET / HTTP/1.0\r\n\r\n');
    equal(r?.version, '1.0');
  });

  test('repeated headers are joined, names are case-insensitive', () => {
    const r = parse('GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n');
    equal(r?.headers.get('x-a'), '1, 2');
  });

  test('two different Content-Type headers are refused, not joined into one that starts like the first', () => {
    rejects('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\ncontent-type: application/json\r\nContent-Length: 0\r\n\r\n', 400, 'bad-header');
    const same = parse('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n');
    equal(same?.headers.get('content-type'), 'text/plain');
  });

  test('an incomplete request returns nothing yet', () => {
    equal(parse('GET / HTTP/1.1\r\nHost: x\r\n'), undefined);
    equal(parse('GET / HTTP/1.1\r\nHost: x\r\n\r'), undefined);
  });

  test('line ending errors: bare LF, bare CR', () => {
    rejects('GET / HTTP/1.1\nHost: x\n\n', 400, 'bad-line-ending');
    rejects('GET / HTTP/1.1\r\nHost: x\n\r\n', 400, 'bad-line-ending');
    rejects('GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 400, 'bad-line-ending');
    rejects('GET / HTTP/1.1\rHost: x', 400, 'bad-line-ending');
    const parser = new RequestParser(defaultHttpLimits);
    equal(parser.push(bytes('GET / HTTP/1.1\r\nHost: a\r')), undefined);
    throws(() => parser.push(bytes('b\r\n\r\n')), HttpError, 'bare CR');
  });

  test('request line errors', () => {
    rejects('GET /\r\n\r\n', 400, 'bad-request-line');
    rejects('GET  / HTTP/1.1\r\n\r\n', 400, 'bad-request-line');
    rejects('GET / HTTP/1.1 extra\r\n\r\n', 400, 'bad-request-line');
    rejects('GET / HTTX/1.1\r\n\r\n', 400, 'bad-request-line');
    rejects('GET / HTTP/2.0\r\n\r\n', 505, 'unsupported-version');
    rejects('DELETE / HTTP/1.1\r\n\r\n', 405, 'method-not-allowed');
    rejects('G(T / HTTP/1.1\r\n\r\n', 400, 'bad-request-line');
    rejects('GET foo HTTP/1.1\r\n\r\n', 400, 'bad-request-line');
    rejects('GET /\x01 HTTP/1.1\r\n\r\n', 400, 'bad-request-line');
    rejects('GET /\xc3\xa4 HTTP/1.1\r\n\r\n', 400, 'bad-request-line');
  });

  test('bad percent-encoding in the path', () => {
    rejects('GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad-percent-encoding');
    rejects('GET /%4 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad-percent-encoding');
    rejects('GET /% HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad-percent-encoding');
    rejects('GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad-percent-encoding');
    rejects('GET /%c0%af HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad-percent-encoding');
  });

  test('header errors', () => {
    rejects('GET / HTTP/1.1\r\n\r\n', 400, 'missing-host');
    rejects('GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n', 400, 'bad-header');
    rejects('GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400, 'bad-header');
    rejects('GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n', 400, 'bad-header');
    rejects('GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n', 400, 'bad-header');
    rejects('GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n', 400, 'bad-header');
    rejects('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'bad-header');
  });

  test('Content-Length and Transfer-Encoding', () => {
    rejects('POST / HTTP/1.1\r\nHost: x\r\n\r\n', 411, 'length-required');
    rejects('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400, 'bad-content-length');
    rejects('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n', 400, 'bad-content-length');
    rejects('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n', 400, 'bad-content-length');
    rejects('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400, 'bad-header');
    rejects('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n', 413, 'body-too-large');
    rejects('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2049\r\n\r\n', 413, 'body-too-large');
    rejects('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 501, 'unsupported-transfer-encoding');
    equal(parse('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0002\r\n\r\nab')?.body, bytes('ab'));
    equal(parse('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')?.body.length, 0);
  });

  test('size limits: request line, header line, header count, header block', () => {
    const limits = { maxRequestLine: 64, maxHeaderLine: 64, maxHeaders: 4, maxHeaderBytes: 256 };
    rejects(`GET /${'a'.repeat(70)} HTTP/1.1\r\n\r\n`, 414, 'request-line-too-long', limits);
    rejects(`GET /${'a'.repeat(70)}`, 414, 'request-line-too-long', limits);
    equal(parse(`GET /${'a'.repeat(50)} HTTP/1.1\r\nHost: x\r\n\r\n`, limits)?.path.length, 51);
    rejects(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'b'.repeat(70)}\r\n\r\n`, 431, 'header-too-long', limits);
    rejects(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'b'.repeat(70)}`, 431, 'header-too-long', limits);
    rejects('GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n', 431, 'too-many-headers', limits);
    rejects(`GET / HTTP/1.1\r\n${'X-Pad: 0123456789\r\n'.repeat(15)}`, 431, 'headers-too-large', { ...limits, maxHeaders: 100 });
    rejects('\r\n'.repeat(200), 431, 'headers-too-large', limits);
  });

  test('the 4 KB default header block fits a long real request', () => {
    let text = 'GET /hotspot-detect.html HTTP/1.1\r\nHost: captive.apple.com\r\n';
    for (let i = 0; i < 20; i++) text += `X-Header-${i}: ${'v'.repeat(150)}\r\n`;
    ok(parse(text + '\r\n'));
  });
});
