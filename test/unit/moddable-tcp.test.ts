// The Moddable host's TCP socket (hosts/moddable/tcp.ts) over a stand-in for an ECMA-419 socket:
// write() throws when asked for more than the socket reported writable, and copies what it takes
// (lwIP's tcp_write with TCP_WRITE_FLAG_COPY). The port promises a queue on top, in order, and that
// the caller may reuse its buffer once write returns.
import { describe, expect, it } from 'vitest';
import { ModdableHostError } from '../../hosts/moddable/errors';
import { Resources } from '../../hosts/moddable/resources';
import { QueuedTcpSocket, type RawCallbacks } from '../../hosts/moddable/tcp';

class RawStandIn {
  /** What the socket took, copied when it took it (as ECMA-419's write does). */
  readonly sent: number[][] = [];
  writable = 0;
  failNext = false;
  closed = false;
  read(): unknown {
    return undefined;
  }
  write(bytes: Uint8Array): void {
    if (this.failNext) throw new Error('lwip: out of memory');
    if (bytes.length > this.writable) throw new Error('would block');
    this.sent.push([...bytes]);
    this.writable -= bytes.length;
  }
  close(): void {
    this.closed = true;
  }
}

function open(): { socket: QueuedTcpSocket; raw: RawStandIn; callbacks: RawCallbacks; errors: Error[]; writables: number[] } {
  const errors: Error[] = [];
  const writables: number[] = [];
  const socket = new QueuedTcpSocket(
    { onReadable: () => {}, onWritable: (n) => writables.push(n), onError: (e) => errors.push(e) },
    new Resources(),
    '192.0.2.1:1883',
  );
  const raw = new RawStandIn();
  const callbacks = socket.callbacks();
  socket.attach(raw);
  return { socket, raw, callbacks, errors, writables };
}

const room = (raw: RawStandIn, callbacks: RawCallbacks, n: number) => {
  raw.writable = n;
  callbacks.onWritable(n);
};

describe('Moddable TCP socket', () => {
  it('sends a write that fits at once; the caller may reuse its buffer right after', () => {
    const { socket, raw, callbacks } = open();
    room(raw, callbacks, 100);
    const buffer = Uint8Array.of(1, 2, 3);
    socket.write(buffer);
    buffer.fill(9);
    expect(raw.sent).toEqual([[1, 2, 3]]);
  });

  it('queues what does not fit, a copy, and sends the rest in order as the socket reports room', () => {
    const { socket, raw, callbacks, writables } = open();
    room(raw, callbacks, 4);
    const a = Uint8Array.of(1, 2, 3, 4, 5, 6);
    socket.write(a);
    const b = Uint8Array.of(7, 8);
    socket.write(b);
    // both reused by their owner before the socket had room
    a.fill(0);
    b.fill(0);
    expect(raw.sent).toEqual([[1, 2, 3, 4]]);
    room(raw, callbacks, 3);
    expect(raw.sent).toEqual([[1, 2, 3, 4], [5, 6], [7]]);
    // a write while bytes wait goes behind them, never ahead
    socket.write(Uint8Array.of(10));
    room(raw, callbacks, 10);
    expect(raw.sent.flat()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10]);
    // the owner hears of room once the queue is empty
    expect(writables.at(-1)).toBe(8);
  });

  it('queues writes made before the connection is up and sends them first', () => {
    const { socket, raw, callbacks, writables } = open();
    socket.write(Uint8Array.of(1, 2));
    expect(raw.sent).toEqual([]);
    room(raw, callbacks, 10);
    socket.write(Uint8Array.of(3));
    expect(raw.sent).toEqual([[1, 2], [3]]);
    expect(writables).toEqual([8]);
  });

  it('a write the socket refuses fails the connection once, with a typed error, and closes it', () => {
    const { socket, raw, callbacks, errors } = open();
    room(raw, callbacks, 100);
    raw.failNext = true;
    socket.write(Uint8Array.of(1));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ModdableHostError);
    expect((errors[0] as ModdableHostError).code).toBe('TCP_FAILED');
    expect(errors[0]!.message).toBe('write to 192.0.2.1:1883 failed: lwip: out of memory');
    expect(raw.closed).toBe(true);
    expect(() => socket.write(Uint8Array.of(2))).toThrow(/after close/);
    expect(errors).toHaveLength(1);
  });
});
