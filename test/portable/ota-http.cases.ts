// The OTA HTTP client pieces without sockets: URL parsing, the chunked decoder (RFC 9112 7.1) and
// HttpGet over a scripted TCP port and a manual clock, with responses split at every byte.
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, type ScriptedSocket } from '../../hosts/sim/fakes/network';
import { equal, ok, suite, throws } from '../../hosts/xs/harness';
import { ChunkedDecoder } from '../../src/http/chunked';
import { HttpClientError } from '../../src/http/errors';
import { Download } from '../../src/ota/download';
import type { OtaError } from '../../src/ota/errors';
import { Sha256 } from '../../src/crypto/sha256';
import { HttpGet, type HttpResponseHead } from '../../src/http/client';
import { parseImageUrl, resolveLocation } from '../../src/http/url';

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

interface Outcome {
  head?: HttpResponseHead;
  body: string;
  ended: boolean;
  error?: HttpClientError;
}

function get(url: string, clock = new ManualClock(), net = new ScriptedNetwork(), extra: { headerLimit?: number; stallTimeout?: number; headers?: Record<string, string> } = {}) {
  const out: Outcome = { body: '', ended: false };
  const request = new HttpGet({
    network: net,
    clock,
    url,
    ...extra,
    onHead: (h) => (out.head = h),
    onBody: (b) => (out.body += text(b)),
    onEnd: (e) => {
      equal(out.ended, false, 'onEnd once');
      out.ended = true;
      out.error = e;
    },
  });
  return { out, net, clock, request };
}

/** Delivers `response` split into pieces of `step` bytes (the last may be shorter). */
function deliver(c: ScriptedSocket, response: string, step: number): void {
  const b = bytes(response);
  for (let i = 0; i < b.length; i += step) c.receiveBytes(b.subarray(i, Math.min(b.length, i + step)));
}

export default suite('ota http client', (test) => {
  test('parseImageUrl: scheme, host forms, default ports, Host header value', () => {
    equal(parseImageUrl('http://10.0.0.2:8070/fw.bin?x=1'), { secure: false, host: '10.0.0.2', port: 8070, path: '/fw.bin?x=1', authority: '10.0.0.2:8070' });
    equal(parseImageUrl('https://updates.example.com/a/b'), { secure: true, host: 'updates.example.com', port: 443, path: '/a/b', authority: 'updates.example.com' });
    equal(parseImageUrl('http://[::1]:81'), { secure: false, host: '::1', port: 81, path: '/', authority: '[::1]:81' });
    equal(parseImageUrl('http://h:80/x#frag').authority, 'h');
    for (const bad of ['ftp://h/x', 'http://', 'http://u:p@h/x', 'http://h:99999/', 'http://h/a b', 'http://h/\u00e9']) throws(() => parseImageUrl(bad), HttpClientError);
  });

  test('resolveLocation: absolute, scheme-relative, path-absolute and relative', () => {
    const base = parseImageUrl('http://h:8080/dir/fw.bin');
    equal(resolveLocation(base, 'https://cdn/x'), 'https://cdn/x');
    equal(resolveLocation(base, '//cdn/x'), 'http://cdn/x');
    equal(resolveLocation(base, '/other'), 'http://h:8080/other');
    equal(resolveLocation(base, 'fw2.bin'), 'http://h:8080/dir/fw2.bin');
  });

  test('chunked: the Wikipedia example, fed whole and byte by byte', () => {
    const coded = '4\r\nWiki\r\n7\r\npedia i\r\nB;name=v\r\nn \r\nchunks.\r\n0\r\nExpires: never\r\n\r\n';
    for (const step of [coded.length, 1, 2, 5]) {
      const d = new ChunkedDecoder();
      let out = '';
      let done = false;
      const b = bytes(coded);
      for (let i = 0; i < b.length; i += step) done = d.push(b.subarray(i, i + step), (x) => (out += text(x)));
      equal(out, 'Wikipedia in \r\nchunks.', `step ${step}`);
      ok(done && d.done, 'done after the last chunk and trailer');
    }
  });

  test('chunked: bad size, missing CRLF after data, bare LF and oversize lines are errors', () => {
    for (const coded of ['zz\r\n', '4\r\nWikiXX', '4\nWiki\r\n', 'f'.repeat(300) + '\r\n', '12345678\r\n']) {
      const d = new ChunkedDecoder();
      throws(() => d.push(bytes(coded), () => undefined), HttpClientError);
    }
  });

  test('GET: request line and headers; a Content-Length body split at every size', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello world';
    for (const step of [1, 2, 3, 7, 16, response.length]) {
      const { out, net } = get('http://10.0.0.2:8070/fw.bin', undefined, undefined, { headers: { Range: 'bytes=5-' } });
      const c = net.sockets[0];
      equal([c.options.host, c.options.port, c.options.tls], ['10.0.0.2', 8070, undefined]);
      c.open();
      equal(c.text(), 'GET /fw.bin HTTP/1.1\r\nHost: 10.0.0.2:8070\r\nUser-Agent: nodemcu-ota/1\r\nAccept-Encoding: identity\r\nConnection: close\r\nRange: bytes=5-\r\n\r\n');
      deliver(c, response, step);
      equal(out.head, { status: 200, headers: { 'content-length': '11', 'x-a': '1, 2' } });
      equal(out.body, 'hello world', `step ${step}`);
      ok(out.ended && !out.error && c.closed, 'ended cleanly and closed');
    }
  });

  test('GET: bytes after Content-Length are ignored; chunked bodies are decoded', () => {
    const a = get('http://h/x');
    a.net.sockets[0].open();
    deliver(a.net.sockets[0], 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef', 100);
    equal(a.out.body, 'abc');
    const b = get('http://h/x');
    b.net.sockets[0].open();
    deliver(b.net.sockets[0], 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', 4);
    equal(b.out.body, 'abcde');
    ok(b.out.ended && !b.out.error, 'chunked end');
  });

  test('GET: a close-delimited body ends at the close; a break during a sized body is a network error', () => {
    const a = get('http://h/x');
    a.net.sockets[0].open();
    deliver(a.net.sockets[0], 'HTTP/1.0 200 OK\r\n\r\nabc', 100);
    a.net.sockets[0].fail('closed by peer');
    ok(a.out.ended && !a.out.error, 'close ends the body');
    equal(a.out.body, 'abc');
    const b = get('http://h/x');
    b.net.sockets[0].open();
    deliver(b.net.sockets[0], 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 100);
    b.net.sockets[0].fail('reset');
    equal(b.out.error?.code, 'network');
    ok(b.out.error!.retryable, 'retryable');
  });

  test('GET: follows redirects (relative Location) up to the limit', () => {
    const { out, net } = get('http://h/a/latest');
    net.sockets[0].open();
    deliver(net.sockets[0], 'HTTP/1.1 302 Found\r\nLocation: fw-2.bin\r\nContent-Length: 0\r\n\r\n', 100);
    ok(net.sockets[0].closed, 'first connection closed');
    const second = net.sockets[1];
    second.open();
    ok(second.text().startsWith('GET /a/fw-2.bin HTTP/1.1\r\nHost: h\r\n'), second.text());
    deliver(second, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 100);
    equal(out.body, 'ok');
    const loop = get('http://h/x');
    for (let i = 0; i < 4; i++) {
      const c = loop.net.sockets[i];
      c.open();
      deliver(c, 'HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n', 100);
    }
    equal(loop.out.error?.code, 'too-many-redirects');
    equal(loop.net.sockets.length, 4);
  });

  test('GET: malformed heads are bad-response errors; an oversize head is refused within the limit', () => {
    for (const head of ['HTTP/2 200 OK\r\n\r\n', 'ICY 200 OK\r\n\r\n', 'HTTP/1.1 200 OK\r\nno colon\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n']) {
      const { out, net } = get('http://h/x');
      net.sockets[0].open();
      deliver(net.sockets[0], head, 3);
      equal(out.error?.code, 'bad-response', head);
      ok(net.sockets[0].closed, 'closed');
    }
    const big = get('http://h/x', undefined, undefined, { headerLimit: 64 });
    big.net.sockets[0].open();
    deliver(big.net.sockets[0], 'HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(100) + '\r\n\r\n', 10);
    ok(big.out.error?.message.includes('longer than 64 bytes'), big.out.error?.message);
  });

  test('GET: silence longer than the stall timeout fails the request, retryable, and closes it', () => {
    const clock = new ManualClock();
    const { out, net } = get('http://h/x', clock, undefined, { stallTimeout: 5000 });
    net.sockets[0].open();
    clock.advance(4000);
    deliver(net.sockets[0], 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab', 100);
    clock.advance(4999);
    ok(!out.ended, 'data re-armed the timer');
    clock.advance(1);
    equal(out.error?.code, 'timeout');
    ok(out.error!.retryable && net.sockets[0].closed, 'retryable and closed');
  });

  test('GET: an https URL asks the TCP port for TLS; a bad URL fails on the next tick, not in the constructor', () => {
    const a = get('https://h/x');
    equal(a.net.sockets[0].options.tls, {});
    equal(a.net.sockets[0].options.port, 443);
    const clock = new ManualClock();
    const b = get('gopher://h/x', clock);
    ok(!b.out.ended, 'not from the constructor');
    clock.advance(0);
    equal(b.out.error?.code, 'bad-url');
  });

  test('GET: abort() stops without a callback', () => {
    const { out, net, request } = get('http://h/x');
    net.sockets[0].open();
    request.abort();
    deliver(net.sockets[0], 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na', 100);
    ok(!out.ended && out.body === '' && net.sockets[0].closed, 'silent');
  });

  test('Download reports the client\'s failures with the OTA codes: too many redirects is "http", the rest keep their names', () => {
    const outcomes: Record<string, OtaError | undefined> = {};
    const start = (name: string, url: string, answer?: (net: ScriptedNetwork, clock: ManualClock) => void) => {
      const clock = new ManualClock();
      const net = new ScriptedNetwork();
      const writer = { write: () => undefined, complete: () => undefined, cancel: () => undefined };
      new Download({ network: net, clock, url, size: 10, sha256: new Uint8Array(32), writer, hash: new Sha256(), maxAttempts: 1, onDone: (e) => (outcomes[name] = e) });
      answer?.(net, clock);
      clock.advance(0);
    };
    start('redirects', 'http://h/x', (net) => {
      for (let i = 0; i < 4; i++) {
        net.sockets[i].open();
        deliver(net.sockets[i], 'HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n', 100);
      }
    });
    start('url', 'gopher://h/x');
    start('head', 'http://h/x', (net) => {
      net.sockets[0].open();
      deliver(net.sockets[0], 'ICY 200 OK\r\n\r\n', 100);
    });
    start('stall', 'http://h/x', (net, clock) => {
      net.sockets[0].open();
      clock.advance(15_000);
    });
    start('broken', 'http://h/x', (net) => net.sockets[0].fail('reset'));
    equal(
      Object.keys(outcomes).sort().map((k) => [k, outcomes[k]?.code]),
      [['broken', 'network'], ['head', 'bad-response'], ['redirects', 'http'], ['stall', 'timeout'], ['url', 'bad-url']],
    );
    ok(outcomes.redirects!.message.includes('more than 3 redirects'), outcomes.redirects!.message);
    ok(outcomes.url!.message.includes('the image URL must be http:// or https://'), outcomes.url!.message);
  });
});
