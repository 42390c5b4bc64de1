// The portal's HTTP server on a real loopback socket: probe redirects, then malformed, oversized,
// mutated and slow requests. Each must get a 4xx/5xx or a closed socket, store nothing, and leave
// the server serving.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeNetwork, rawRequest, startPortalDevice, type PortalDevice } from './portal-rig';

let dev: PortalDevice;

beforeAll(async () => {
  dev = await startPortalDevice({ portal: { limits: { requestTimeoutMs: 1_500, idleTimeoutMs: 1_000, maxConnections: 4 } } });
});
afterAll(() => dev?.close());

const get = (path: string, host = '127.0.0.1') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: test\r\n\r\n`;

async function stillServing(): Promise<void> {
  const r = await rawRequest(dev.httpPort, [get('/')]);
  expect(r.status).toBe(200);
  expect(r.body).toContain('<form method="post" action="/connect">');
}

function nothingStored(): void {
  expect(dev.kv.keys()).toEqual([]);
  expect(dev.prov.savedNetworks()).toEqual([]);
}

describe('portal HTTP server', () => {
  it('answers the connectivity probes of Android, Apple and Windows with a redirect to the page', async () => {
    const origin = `http://127.0.0.1:${dev.httpPort}/`;
    const probes: Array<[string, string]> = [
      ['/generate_204', 'connectivitycheck.gstatic.com'],
      ['/gen_204', 'clients3.google.com'],
      ['/hotspot-detect.html', 'captive.apple.com'],
      ['/library/test/success.html', 'www.apple.com'],
      ['/connecttest.txt', 'www.msftconnecttest.com'],
      ['/ncsi.txt', 'www.msftncsi.com'],
      ['/canonical.html', 'detectportal.firefox.com'],
    ];
    for (const [path, host] of probes) {
      const r = await rawRequest(dev.httpPort, [get(path, host)]);
      expect(r.status, path).toBe(302);
      expect(r.head).toContain(`\r\nLocation: ${origin}\r\n`);
      expect(r.body).not.toContain('Success');
      expect(r.body).not.toContain('Microsoft');
    }
    const page = await rawRequest(dev.httpPort, [get('/', 'captive.apple.com')]);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Device 5ccf7f00beef · firmware 0.1.0');
    expect(page.body).toContain('Home &lt;Net&gt; &quot;5&quot;');
  });

  it('rejects malformed requests with 4xx/5xx and closes', async () => {
    const cases: Array<[string, Array<string | Uint8Array>, number | undefined]> = [
      ['oversize request line', [`GET /${'a'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\n\r\n`], 414],
      ['oversize header line', [`GET / HTTP/1.1\r\nHost: x\r\nX: ${'b'.repeat(10_000)}\r\n\r\n`], 431],
      ['too many headers', [`GET / HTTP/1.1\r\nHost: x\r\n${'X-A: 1\r\n'.repeat(100)}\r\n`], 431],
      ['LF without CR', ['GET / HTTP/1.1\nHost: x\n\n'], 400],
      ['CR without LF', ['GET / HTTP/1.1\rHost: x\r\r'], 400],
      ['bad percent-encoding in the path', [get('/%G0')], 400],
      ['invalid UTF-8 in the path', [get('/%C0%AF')], 400],
      ['huge Content-Length', ['POST /connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 18446744073709551617\r\n\r\n'], 413],
      ['negative Content-Length', ['POST /connect HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'], 400],
      ['chunked body', ['POST /connect HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ns=abc\r\n0\r\n\r\n'], 501],
      ['POST without length', ['POST /connect HTTP/1.1\r\nHost: x\r\n\r\n'], 411],
      ['no Host', ['GET / HTTP/1.1\r\n\r\n'], 400],
      ['HTTP/2 preface', ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], 505],
      ['TLS ClientHello', [new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a])], 400],
      ['NUL bytes', ['GET /\x00 HTTP/1.1\r\n\r\n'], 400],
      ['bad percent-encoding in the form', ['POST /connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 16\r\n\r\ns=%ZZ&p=12345678'], 400],
      ['form over the body limit', [`POST /connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n${'s'.repeat(5000)}`], 413],
    ];
    for (const [why, chunks, status] of cases) {
      const r = await rawRequest(dev.httpPort, chunks);
      expect(r.status, why).toBe(status);
    }
    nothingStored();
    await stillServing();
  });

  it('a form with a duplicated field gets 400 naming the field, and nothing is tried or stored', async () => {
    const form = `s=${encodeURIComponent(homeNetwork.ssid)}&s=Neighbour&p=${encodeURIComponent(homeNetwork.password ?? '')}`;
    const states = dev.states.length;
    const r = await rawRequest(dev.httpPort, [`POST /connect HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`]);
    expect(r.status).toBe(400);
    expect(r.body).toContain('The form sent “Network name (SSID)” (s) more than once');
    expect(dev.states.slice(states)).toEqual([]);
    nothingStored();
    await stillServing();
  });

  it('a request that stops before the blank line gets 408 at the request timeout', async () => {
    const r = await rawRequest(dev.httpPort, ['GET / HTTP/1.1\r\nHost: x\r\n']);
    expect(r.status).toBe(408);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1_400);
    expect(r.elapsedMs).toBeLessThan(4_000);
  });

  it('slow-loris: trickled headers are cut off at the request timeout', async () => {
    const trickle = Array.from('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'z'.repeat(60), (c) => c);
    const r = await rawRequest(dev.httpPort, trickle, 100);
    expect(r.status).toBe(408);
    expect(r.elapsedMs).toBeLessThan(4_000);
    await stillServing();
  });

  it('a body that never completes gets 408', async () => {
    const r = await rawRequest(dev.httpPort, ['POST /connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ns=abc']);
    expect(r.status).toBe(408);
    nothingStored();
  });

  it('idle connections are closed without an answer at the idle timeout; a new request closes the oldest idle one', async () => {
    // All tests connect from 127.0.0.1: one client, so maxIdlePerClient (2) is the bound here.
    const oldest = rawRequest(dev.httpPort, []);
    await new Promise((r) => setTimeout(r, 100));
    const younger = rawRequest(dev.httpPort, []);
    await new Promise((r) => setTimeout(r, 100));
    const served = await rawRequest(dev.httpPort, [get('/')]);
    expect(served.status).toBe(200);
    const closedFirst = await oldest;
    expect(closedFirst.status).toBeUndefined();
    expect(closedFirst.elapsedMs).toBeLessThan(900);
    const closedLater = await younger;
    expect(closedLater.status).toBeUndefined();
    expect(closedLater.elapsedMs).toBeGreaterThanOrEqual(900);
    await stillServing();
  });

  it('mutated form submissions: always an HTTP answer or a close, never stored', async () => {
    const valid = 'POST /connect HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 43\r\n\r\ns=Home+%3CNet%3E+%225%22&p=wrong-password-1';
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(valid.length - 1), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(valid.length), text: fc.constantFrom('\r\n', '\n', '%', '%0', '\x00', ':', ' ', 'Content-Length: 9999\r\n', '\r\n\r\n', 'ÿ') }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(valid.length - 1), count: fc.integer({ min: 1, max: 8 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        let text = valid;
        for (const m of mutations) {
          const at = Math.min(m.at, text.length);
          if (m.kind === 'flip') text = text.slice(0, at) + String.fromCharCode(m.byte) + text.slice(at + 1);
          else if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
          else text = text.slice(0, at) + text.slice(at + m.count);
        }
        const r = await rawRequest(dev.httpPort, [text], 0, 5_000);
        if (r.status !== undefined) expect([200, 302, 303, 400, 404, 405, 408, 409, 411, 413, 414, 415, 431, 501, 505]).toContain(r.status);
        expect(dev.kv.keys()).toEqual([]);
      }),
      { numRuns: 150, seed: 20240601 },
    );
    nothingStored();
    await dev.waitForState('ap');
    await stillServing();
  });
});
