// The HTTP server's connection handling against a scripted Network port: flow control by the
// socket's writable count, timeouts, the connection limit, handler failures.
import { equal, ok, suite } from './harness';
import type { Clock, IncomingConnection, ListenerOptions, Network, TcpOptions, TcpSocket, TimerId } from '../../src/ports';
import { HttpServer } from '../../src/http/server';

class ManualClock implements Clock {
  time = 0;
  timers = new Map<number, { due: number; fn: () => void }>();
  next = 1;
  now() {
    return this.time;
  }
  wallTime() {
    return undefined;
  }
  set(fn: () => void, ms: number): TimerId {
    const id = this.next++;
    this.timers.set(id, { due: this.time + ms, fn });
    return id;
  }
  clear(id: TimerId) {
    this.timers.delete(id as number);
  }
  advance(ms: number) {
    const end = this.time + ms;
    for (;;) {
      let first: [number, { due: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].due <= end && (!first || e[1].due < first[1].due)) first = e;
      if (!first) break;
      this.timers.delete(first[0]);
      this.time = first[1].due;
      first[1].fn();
    }
    this.time = end;
  }
}

class Socket implements TcpSocket {
  written: Uint8Array[] = [];
  closed = false;
  inbox: Uint8Array | undefined;
  constructor(readonly handlers: Omit<TcpOptions, 'host' | 'port' | 'tls'>) {}
  read() {
    const b = this.inbox;
    this.inbox = undefined;
    return b;
  }
  write(bytes: Uint8Array) {
    if (this.closed) throw new Error('write after close');
    this.written.push(bytes.slice());
  }
  close() {
    this.closed = true;
  }
  send(text: string) {
    const b = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
    this.inbox = b;
    this.handlers.onReadable(b.length);
  }
  text(): string {
    let s = '';
    for (const chunk of this.written) for (const c of chunk) s += String.fromCharCode(c);
    return s;
  }
}

function setup(body = 'x'.repeat(1000), limits = {}) {
  const clock = new ManualClock();
  let onConnection: ListenerOptions['onConnection'] = () => {};
  const errors: string[] = [];
  const network: Network = {
    connect() {
      throw new Error('not used');
    },
    listen(options) {
      onConnection = options.onConnection;
      return { port: options.port, close() {} };
    },
  };
  let handler = () => ({ status: 200, body });
  const server = new HttpServer({
    network,
    clock,
    port: 80,
    limits: { idleTimeoutMs: 1000, requestTimeoutMs: 3000, ...limits },
    handler: () => handler(),
    onError: (e) => errors.push(e.message),
  });
  const connect = (): Socket => {
    let socket: Socket | undefined;
    const incoming: IncomingConnection = {
      remoteAddress: '192.168.4.2',
      accept(h) {
        socket = new Socket(h);
        return socket;
      },
    };
    onConnection(incoming);
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
    s.handlers.onWritable?.(300);
    s.send(GET);
    equal(s.written.length, 1);
    equal(s.written[0].length, 300);
    equal(s.closed, false);
    s.handlers.onWritable?.(500);
    equal(s.written[1].length, 500);
    s.handlers.onWritable?.(4096);
    equal(s.closed, true);
    const text = s.text();
    ok(text.startsWith('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n'));
    ok(text.endsWith('x'.repeat(1000)));
    equal(text.length, 1000 + 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n'.length);
  });

  test('a request before the socket is writable waits for onWritable', () => {
    const { connect } = setup('ok');
    const s = connect();
    s.send(GET);
    equal(s.written.length, 0);
    s.handlers.onWritable?.(1460);
    equal(s.closed, true);
    ok(s.text().endsWith('\r\n\r\nok'));
  });

  test('an idle connection is closed silently; a partial request gets 408', () => {
    const { clock, connect, server } = setup();
    const idle = connect();
    idle.handlers.onWritable?.(1460);
    clock.advance(999);
    equal(idle.closed, false);
    clock.advance(1);
    equal(idle.closed, true);
    equal(idle.written.length, 0);
    const slow = connect();
    slow.handlers.onWritable?.(1460);
    slow.send('GET / HTTP/1.1\r\n');
    clock.advance(2999);
    equal(slow.closed, false);
    clock.advance(1);
    ok(slow.text().startsWith('HTTP/1.1 408 Request Timeout\r\n'));
    equal(slow.closed, true);
    equal(server.stats.timedOut, 2);
  });

  test('a client that does not read its answer is closed at the timeout', () => {
    const { clock, connect } = setup();
    const s = connect();
    s.handlers.onWritable?.(100);
    s.send(GET);
    clock.advance(3000);
    equal(s.closed, true);
  });

  test('connections over the limit are closed on arrival', () => {
    const { connect, server } = setup('ok', { maxConnections: 2 });
    const a = connect();
    connect();
    const c = connect();
    equal(c.closed, true);
    equal(server.stats.refused, 1);
    a.handlers.onWritable?.(1460);
    a.send(GET);
    equal(a.closed, true);
    equal(server.connections, 1);
    equal(connect().closed, false);
  });

  test('a failing handler gives 500 and is reported', () => {
    const { connect, errors, setHandler } = setup();
    setHandler(() => {
      throw new Error('boom');
    });
    const s = connect();
    s.handlers.onWritable?.(1460);
    s.send(GET);
    ok(s.text().startsWith('HTTP/1.1 500 Internal Server Error\r\n'));
    equal(errors, ['boom']);
  });

  test('HEAD gets the headers only; bad requests get the parser status', () => {
    const { connect } = setup('hello');
    const h = connect();
    h.handlers.onWritable?.(1460);
    h.send('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
    equal(h.text(), 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n');
    const b = connect();
    b.handlers.onWritable?.(1460);
    b.send('GET / HTTP/1.1\nHost: x\n\n');
    ok(b.text().startsWith('HTTP/1.1 400 Bad Request\r\n'));
  });
});
