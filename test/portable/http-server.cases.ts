// The HTTP server's connection handling on the test kit's scripted network and manual clock: flow
// control by the socket's writable count, timeouts, the connection bounds (eviction of idle
// connections, 503 when busy), handler failures.
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, type ScriptedSocket } from '../../hosts/sim/fakes/network';
import { equal, ok, suite, throws } from '../../hosts/xs/harness';
import { HttpServer, HttpServerError } from '../../src/http/server';

function setup(body = 'x'.repeat(1000), limits = {}) {
  const clock = new ManualClock();
  const network = new ScriptedNetwork();
  const errors: string[] = [];
  let handler = () => ({ status: 200, body });
  const server = new HttpServer({
    network,
    clock,
    port: 80,
    limits: { idleTimeoutMs: 1000, requestTimeoutMs: 3000, answerTimeoutMs: 2000, ...limits },
    handler: () => handler(),
    onError: (e) => errors.push(e.message),
  });
  const connect = (remoteAddress = '192.168.4.2'): ScriptedSocket => {
    const socket = network.incoming(remoteAddress);
    ok(socket);
    return socket;
  };
  return { clock, server, connect, errors, setHandler: (h: typeof handler) => (handler = h) };
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

export default suite('http server', (test) => {
  test('never writes more than the socket takes, closes after the last byte', () => {
    const { connect } = setup();
    const s = connect();
    s.open(300);
    s.receiveText(GET);
    equal(s.written.length, 1);
    equal(s.written[0].length, 300);
    equal(s.closed, false);
    s.open(500);
    equal(s.written[1].length, 500);
    s.open(4096);
    equal(s.closed, true);
    const text = s.text();
    ok(text.startsWith('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n'));
    ok(text.endsWith('x'.repeat(1000)));
    equal(text.length, 1000 + 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n'.length);
  });

  test('a request before the socket is writable waits for onWritable', () => {
    const { connect } = setup('ok');
    const s = connect();
    s.receiveText(GET);
    equal(s.written.length, 0);
    s.open(1460);
    equal(s.closed, true);
    ok(s.text().endsWith('\r\n\r\nok'));
  });

  test('an idle connection is closed silently; a partial request gets 408', () => {
    const { clock, connect, server } = setup();
    const idle = connect();
    idle.open(1460);
    clock.advance(999);
    equal(idle.closed, false);
    clock.advance(1);
    equal(idle.closed, true);
    equal(idle.written.length, 0);
    const slow = connect();
    slow.open(1460);
    slow.receiveText('GET / HTTP/1.1\r\n');
    clock.advance(2999);
    equal(slow.closed, false);
    clock.advance(1);
    ok(slow.text().startsWith('HTTP/1.1 408 Request Timeout\r\n'));
    equal(slow.closed, true);
    equal(server.stats.timedOut, 2);
  });

  test('a client that does not read its answer is closed at the answer timeout', () => {
    const { clock, connect, server } = setup();
    const s = connect();
    s.open(100);
    s.receiveText(GET);
    clock.advance(1999);
    equal(s.closed, false);
    clock.advance(1);
    equal(s.closed, true);
    equal(server.stats.timedOut, 1);
    equal(server.connections, 0);
  });

  test('a 408 the client never reads is still closed: the connection does not stay forever', () => {
    const { clock, connect, server } = setup();
    const s = connect(); // never writable: the 408 cannot leave
    s.receiveText('GET / HTTP/1.1\r\n');
    clock.advance(3000);
    equal(s.closed, false);
    clock.advance(2000);
    equal(s.closed, true);
    equal(server.connections, 0);
  });

  test("a new connection closes its client's oldest idle one (maxIdlePerClient)", () => {
    const { connect, server } = setup('ok', { maxConnections: 4, maxIdlePerClient: 2 });
    const a = connect();
    const b = connect();
    b.receiveText('GET / HT'); // a partial request is idle too
    const c = connect();
    equal([a.closed, b.closed, c.closed], [true, false, false]);
    equal(a.written.length, 0, 'an evicted idle connection gets no answer');
    const d = connect();
    equal([b.closed, c.closed, d.closed], [true, false, false]);
    equal(server.stats.evicted, 2);
    equal(server.connections, 2);
    d.open(1460);
    d.receiveText(GET);
    ok(d.text().startsWith('HTTP/1.1 200 OK\r\n'));
    equal(server.stats.refused, 0);
  });

  test('with every place taken, the oldest idle connection of the client holding the most is closed', () => {
    const { connect, server } = setup('ok', { maxConnections: 4, maxIdlePerClient: 3 });
    const phone = connect('192.168.4.2');
    const flood = [connect('192.168.4.9'), connect('192.168.4.9'), connect('192.168.4.9')];
    const other = connect('192.168.4.3');
    equal(phone.closed, false, 'the oldest, but its client holds one');
    equal(flood.map((f) => f.closed), [true, false, false]);
    equal(other.closed, false);
    // The flooding client at its own bound only ever closes its own connections.
    for (let i = 0; i < 10; i++) connect('192.168.4.9');
    equal([phone.closed, other.closed], [false, false]);
    equal(server.connections, 4);
    phone.open(1460);
    phone.receiveText(GET);
    ok(phone.text().startsWith('HTTP/1.1 200 OK\r\n'));
  });

  test('a client that re-opens every closed socket cannot keep another client out', () => {
    const { connect, server } = setup('page', { maxConnections: 4, maxIdlePerClient: 2 });
    const attacker = new Set<ScriptedSocket>();
    for (let i = 0; i < 8; i++) attacker.add(connect('192.168.4.66'));
    const reopen = () => {
      // The attacker notices its closed sockets and connects again (bounded rounds).
      for (let round = 0; round < 4; round++) {
        for (const s of [...attacker]) {
          if (!s.closed) continue;
          attacker.delete(s);
          attacker.add(connect('192.168.4.66'));
        }
      }
    };
    let answered = 0;
    for (let i = 0; i < 5; i++) {
      reopen();
      const real = connect('192.168.4.2');
      reopen();
      equal(real.closed, false, `request ${i} kept its connection`);
      real.open(1460);
      real.receiveText(GET);
      if (real.text().startsWith('HTTP/1.1 200 OK\r\n') && real.text().endsWith('page')) answered++;
    }
    equal(answered, 5);
    ok(server.stats.evicted > 0);
    equal(server.stats.refused, 0);
  });

  test('when every connection is being answered, a new one gets 503 with Retry-After; too many of those are closed', () => {
    const { clock, connect, server } = setup('ok', { maxConnections: 2, maxIdlePerClient: 2 });
    const slow = [connect('192.168.4.2'), connect('192.168.4.3')];
    for (const s of slow) s.receiveText(GET); // answered, but the sockets take nothing yet
    equal(server.connections, 2);
    const busy = connect('192.168.4.4');
    equal(busy.closed, false);
    busy.receiveText(GET); // its request is read and dropped
    busy.open(1460);
    equal(busy.closed, true);
    const text = busy.text();
    ok(text.startsWith('HTTP/1.1 503 Service Unavailable\r\n'), text);
    ok(text.includes('\r\nRetry-After: 2\r\n'), text);
    ok(text.includes('busy answering other requests; try again in 2 seconds'), text);
    equal(server.stats.busy, 1);
    // 503s that cannot leave hold places of their own: past MAX_BUSY_ANSWERS, no answer.
    const stuck = [connect('192.168.4.5'), connect('192.168.4.6')];
    equal(stuck.map((s) => s.closed), [false, false]);
    const dropped = connect('192.168.4.7');
    equal(dropped.closed, true);
    equal(dropped.written.length, 0);
    equal(server.stats.refused, 1);
    clock.advance(2000);
    ok(stuck.every((s) => s.closed) && slow.every((s) => s.closed), 'unread answers time out');
    const next = connect('192.168.4.8');
    next.open(1460);
    next.receiveText(GET);
    ok(next.text().startsWith('HTTP/1.1 200 OK\r\n'));
  });

  test('limits that are not whole numbers of at least 1 are refused with a clear error', () => {
    for (const bad of [{ maxConnections: 0 }, { maxIdlePerClient: 1.5 }]) {
      const e = throws(() => setup('ok', bad), HttpServerError);
      ok(/limits\.max\w+ must be a whole number of at least 1/.test(e.message), e.message);
    }
  });

  test('a failing handler gives 500 and is reported', () => {
    const { connect, errors, setHandler } = setup();
    setHandler(() => {
      throw new Error('boom');
    });
    const s = connect();
    s.open(1460);
    s.receiveText(GET);
    ok(s.text().startsWith('HTTP/1.1 500 Internal Server Error\r\n'));
    equal(errors, ['boom']);
  });

  test('HEAD gets the headers only; bad requests get the parser status', () => {
    const { connect } = setup('hello');
    const h = connect();
    h.open(1460);
    h.receiveText('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
    equal(h.text(), 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n');
    const b = connect();
    b.open(1460);
    b.receiveText('GET / HTTP/1.1\nHost: x\n\n');
    ok(b.text().startsWith('HTTP/1.1 400 Bad Request\r\n'));
  });
});
