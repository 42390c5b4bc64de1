// createNodeNetwork: TCP client and listener, UDP, with the ECMA-419 callback contract of src/ports.ts.
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNodeNetwork, NetworkError } from '../../hosts/sim/net';
import type { Listener, TcpSocket, UdpPacket, UdpSocket } from '../../src/ports';
import { freePorts } from '../../scripts/broker/free-ports';
import { openProbe } from '../helpers/tcp-probe';

const network = createNodeNetwork();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bytesOf = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

/** A bound listener whose accepted sockets are handed to the test, with their reads and errors. */
async function server(onAccept?: (socket: TcpSocket, peer: string) => void) {
  const accepted: { socket: TcpSocket; reads: Uint8Array[]; errors: Error[] }[] = [];
  const listener: Listener = network.listen!({
    port: 0,
    onConnection(connection) {
      const entry = { socket: undefined as unknown as TcpSocket, reads: [] as Uint8Array[], errors: [] as Error[] };
      entry.socket = connection.accept({
        onReadable() {
          const chunk = entry.socket.read();
          if (chunk) entry.reads.push(chunk);
        },
        onError(error) {
          entry.errors.push(error);
        },
      });
      accepted.push(entry);
      onAccept?.(entry.socket, connection.remoteAddress);
    },
  });
  cleanup.push(() => listener.close());
  // Node binds on the next tick; port 0 becomes the real port then.
  await new Promise((resolve) => setImmediate(resolve));
  return { listener, accepted };
}

describe('TCP', () => {
  it('listen reports its bound port and serves a client both ways', async () => {
    let peer = '';
    const { listener, accepted } = await server((socket, remote) => {
      peer = remote;
      socket.write(bytesOf('welcome'));
    });
    expect(listener.port).toBeGreaterThan(0);
    const probe = openProbe(network, { host: '127.0.0.1', port: listener.port });
    await probe.connected;
    expect(probe.writables[0]).toBeGreaterThan(0);
    expect(text(await probe.waitForBytes(7))).toBe('welcome');
    probe.socket.write(bytesOf('hi'));
    await sleep(50);
    expect(text(accepted[0].reads[0])).toBe('hi');
    expect(peer).toBe('127.0.0.1');
    probe.socket.close();
  });

  it('read() returns every buffered byte at once, as a plain Uint8Array, then undefined', async () => {
    const { listener } = await server((socket) => {
      socket.write(bytesOf('one'));
      setTimeout(() => socket.write(bytesOf('two')), 30);
    });
    const counts: number[] = [];
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    const socket = network.connect({
      host: '127.0.0.1',
      port: listener.port,
      onWritable: () => connected(),
      onReadable: (count) => counts.push(count),
      onError: () => {},
    });
    cleanup.push(() => socket.close());
    await ready;
    await sleep(150);
    expect(counts).toEqual([3, 6]);
    const all = socket.read()!;
    expect(Object.getPrototypeOf(all)).toBe(Uint8Array.prototype);
    expect(text(all)).toBe('onetwo');
    expect(socket.read()).toBeUndefined();
  });

  it('calls onError exactly once when the peer closes, with code ECLOSED', async () => {
    const { listener } = await server((socket) => {
      socket.write(bytesOf('bye'));
      socket.close();
    });
    const probe = openProbe(network, { host: '127.0.0.1', port: listener.port });
    const error = await probe.failed;
    expect(text(probe.bytes())).toBe('bye');
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toBe('ECLOSED');
    await sleep(50);
    expect(probe.errors).toHaveLength(1);
    expect(() => probe.socket.write(bytesOf('late'))).toThrow(NetworkError);
  });

  it('makes no callback after the owner closes, and write after close throws', async () => {
    const { listener, accepted } = await server();
    const probe = openProbe(network, { host: '127.0.0.1', port: listener.port });
    await probe.connected;
    await sleep(20);
    probe.socket.close();
    accepted[0].socket.write(bytesOf('too late'));
    accepted[0].socket.close();
    await sleep(100);
    expect(probe.reads).toHaveLength(0);
    expect(probe.errors).toHaveLength(0);
    expect(() => probe.socket.write(bytesOf('x'))).toThrow(/write after close/);
  });

  it('sends the bytes written just before close()', async () => {
    const { listener, accepted } = await server();
    const probe = openProbe(network, { host: '127.0.0.1', port: listener.port });
    await probe.connected;
    probe.socket.write(bytesOf('last words'));
    probe.socket.close();
    await sleep(100);
    expect(text(Uint8Array.from(accepted[0].reads.flatMap((r) => [...r])))).toBe('last words');
    expect(accepted[0].errors.map((e) => (e as NetworkError).code)).toEqual(['ECLOSED']);
  });

  it('copies written bytes, so the caller may reuse its buffer at once', async () => {
    const { listener, accepted } = await server();
    const probe = openProbe(network, { host: '127.0.0.1', port: listener.port });
    const buffer = bytesOf('AAAA');
    probe.socket.write(buffer); // queued before the connection is up
    buffer.fill(0x42);
    await probe.connected;
    await sleep(50);
    expect(text(accepted[0].reads[0])).toBe('AAAA');
    probe.socket.close();
  });

  it('moves 4 MiB intact and calls onWritable again after the send buffer drains', async () => {
    const size = 4 * 1024 * 1024;
    const { listener, accepted } = await server();
    const probe = openProbe(network, { host: '127.0.0.1', port: listener.port });
    await probe.connected;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
    probe.socket.write(data);
    for (let i = 0; i < 200 && accepted[0].reads.reduce((n, r) => n + r.length, 0) < size; i++) await sleep(20);
    const received = new Uint8Array(size);
    let offset = 0;
    for (const r of accepted[0].reads) {
      received.set(r, offset);
      offset += r.length;
    }
    expect(offset).toBe(size);
    // A plain loop: deep equality on 4 Mi elements would take the test runner seconds.
    let firstMismatch = -1;
    for (let i = 0; i < size && firstMismatch < 0; i++) if (received[i] !== data[i]) firstMismatch = i;
    expect(firstMismatch).toBe(-1);
    expect(probe.writables.length).toBeGreaterThanOrEqual(2);
    probe.socket.close();
  });

  it('many small writes in one turn and in the next turns arrive whole and in order, each caller buffer reused at once', async () => {
    const { listener, accepted } = await server();
    const probe = openProbe(network, { host: '127.0.0.1', port: listener.port });
    await probe.connected;
    // 3 turns of 1,500 writes of 1 to 7 bytes: more than a write batch holds, so batches fill and grow
    const expected: number[] = [];
    const buffer = new Uint8Array(7);
    for (let turn = 0; turn < 3; turn++) {
      for (let i = 0; i < 1500; i++) {
        const n = 1 + (i % 7);
        for (let k = 0; k < n; k++) buffer[k] = (turn * 31 + i + k) & 0xff;
        probe.socket.write(buffer.subarray(0, n));
        for (let k = 0; k < n; k++) expected.push(buffer[k]);
        buffer.fill(0);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < 100 && accepted[0].reads.reduce((n, r) => n + r.length, 0) < expected.length; i++) await sleep(20);
    const received = Array.from(accepted[0].reads.flatMap((r) => [...r]));
    expect(received.length).toBe(expected.length);
    expect(received.findIndex((b, i) => b !== expected[i])).toBe(-1);
    probe.socket.close();
  });

  it("a busy socket's turn leaves in one socket write, even when quiet sockets left small spare batches", async () => {
    const { listener, accepted } = await server();
    const busy = openProbe(network, { host: '127.0.0.1', port: listener.port });
    const quiet = Array.from({ length: 20 }, () => openProbe(network, { host: '127.0.0.1', port: listener.port }));
    await Promise.all([busy.connected, ...quiet.map((q) => q.connected)]);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const piece = new Uint8Array(100).fill(0x61);
    const busyTurn = () => {
      for (let i = 0; i < 40; i++) busy.socket.write(piece);
    };
    // two turns of 4,000 bytes: the busy socket's batch grows to hold a whole turn
    busyTurn();
    await turn();
    busyTurn();
    await turn();
    // twenty sockets write a little in one turn: more than the spares, so fresh small batches are made,
    // and they are the last spares put back
    for (const q of quiet) q.socket.write(piece.subarray(0, 10));
    await turn();
    const writes = vi.spyOn(net.Socket.prototype, 'write');
    try {
      busyTurn();
      await turn();
      expect(writes).toHaveBeenCalledTimes(1);
      expect((writes.mock.calls[0][0] as Uint8Array).length).toBe(4000);
    } finally {
      writes.mockRestore();
    }
    const received = () => accepted.reduce((n, a) => n + a.reads.reduce((m, r) => m + r.length, 0), 0);
    for (let i = 0; i < 100 && received() < 3 * 4000 + 20 * 10; i++) await sleep(20);
    expect(received()).toBe(3 * 4000 + 20 * 10);
    for (const p of [busy, ...quiet]) p.socket.close();
  });

  it('bytes read stay as they were after later reads, small ones and large, so the owner may keep them', async () => {
    let peer!: TcpSocket;
    const { listener } = await server((socket) => (peer = socket));
    const probe = openProbe(network, { host: '127.0.0.1', port: listener.port });
    await probe.connected;
    // 160 small reads (well past 8 KB in all) and, between them, a few over 4 KB
    const expected: number[] = [];
    for (let i = 0; i < 160; i++) {
      const chunk = new Uint8Array(i % 40 === 39 ? 6000 : 100);
      for (let k = 0; k < chunk.length; k++) chunk[k] = (i * 7 + k) & 0xff;
      peer.write(chunk);
      expected.push(...chunk);
      await sleep(1);
    }
    const all = await probe.waitForBytes(expected.length, 5000);
    // read after every read has come: a later read written over a kept one shows here
    expect(all.length).toBe(expected.length);
    expect(Array.from(all).findIndex((b, i) => b !== expected[i])).toBe(-1);
    expect(probe.reads.length).toBeGreaterThan(20);
    probe.socket.close();
  });

  it('reports a refused connection once, with code ECONNREFUSED', async () => {
    const [port] = await freePorts(1);
    const probe = openProbe(network, { host: '127.0.0.1', port });
    const error = await probe.failed;
    expect((error as NetworkError).code).toBe('ECONNREFUSED');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    await sleep(30);
    expect(probe.errors).toHaveLength(1);
    expect(probe.writables).toHaveLength(0);
  });

  it('rejects a port outside 1..65535 with a typed error', () => {
    expect(() => network.connect({ host: '127.0.0.1', port: 70000, onReadable() {}, onError() {} })).toThrow(NetworkError);
  });

  it('reports a port already in use to the listener onError', async () => {
    const { listener } = await server();
    const errors: Error[] = [];
    const second = network.listen!({ port: listener.port, onConnection() {}, onError: (e) => errors.push(e) });
    cleanup.push(() => second.close());
    await sleep(50);
    expect((errors[0] as NetworkError).code).toBe('EADDRINUSE');
  });
});

describe('UDP', () => {
  function udpSocket(port = 0) {
    const packets: UdpPacket[] = [];
    const counts: number[] = [];
    const socket: UdpSocket = network.udp!({
      port,
      onReadable(count) {
        counts.push(count);
        for (let p = socket.read(); p; p = socket.read()) packets.push(p);
      },
    });
    cleanup.push(() => socket.close());
    return { socket, packets, counts };
  }

  it('exchanges datagrams with sender address and port', async () => {
    const a = udpSocket();
    const b = udpSocket();
    await sleep(20);
    expect(a.socket.port).toBeGreaterThan(0);
    a.socket.write(bytesOf('ping'), '127.0.0.1', b.socket.port);
    for (let i = 0; i < 50 && b.packets.length === 0; i++) await sleep(10);
    expect(text(b.packets[0].data)).toBe('ping');
    expect(Object.getPrototypeOf(b.packets[0].data)).toBe(Uint8Array.prototype);
    expect(b.packets[0]).toMatchObject({ address: '127.0.0.1', port: a.socket.port });
    b.socket.write(bytesOf('pong'), b.packets[0].address, b.packets[0].port);
    for (let i = 0; i < 50 && a.packets.length === 0; i++) await sleep(10);
    expect(text(a.packets[0].data)).toBe('pong');
  });

  it('throws on write after close', () => {
    const a = udpSocket();
    a.socket.close();
    expect(() => a.socket.write(bytesOf('x'), '127.0.0.1', 9)).toThrow(NetworkError);
  });
});
