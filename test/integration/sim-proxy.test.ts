// FaultProxy between a sim-network client and a real TCP echo server.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNodeNetwork, NetworkError } from '../../hosts/sim/net';
import { FaultProxy } from '../../hosts/sim/proxy';
import { openProbe, type TcpProbe } from '../helpers/tcp-probe';

const network = createNodeNetwork();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let echo: net.Server;
let echoPort: number;
const serverSockets = new Set<net.Socket>();

beforeAll(async () => {
  echo = net.createServer((socket) => {
    serverSockets.add(socket);
    socket.on('close', () => serverSockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk) => socket.write(chunk));
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

describe('FaultProxy', () => {
  let proxy: FaultProxy;
  let probe: TcpProbe;
  beforeEach(async () => {
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: echoPort });
  });
  afterEach(async () => {
    probe?.socket.close();
    await proxy.close();
  });

  async function connectThroughProxy(): Promise<TcpProbe> {
    probe = openProbe(network, { host: proxy.host, port: proxy.port });
    await probe.connected;
    return probe;
  }

  it('forwards both ways unchanged and counts connections and bytes', async () => {
    await connectThroughProxy();
    probe.socket.write(bytesOf('hello'));
    expect(text(await probe.waitForBytes(5))).toBe('hello');
    expect(proxy.connections).toBe(1);
    expect(proxy.bytesToServer).toBe(5);
    expect(proxy.bytesToClient).toBe(5);
  });

  it('cutAll makes the client see exactly one error and drops the connection count to 0', async () => {
    await connectThroughProxy();
    probe.socket.write(bytesOf('x'));
    await probe.waitForBytes(1);
    proxy.cutAll();
    const error = await probe.failed;
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toMatch(/ECONNRESET|ECLOSED/);
    await sleep(50);
    expect(probe.errors).toHaveLength(1);
    expect(proxy.connections).toBe(0);
    expect(serverSockets.size).toBe(0);
  });

  it('stall holds data in both directions with the sockets open, and releases it on resume', async () => {
    await connectThroughProxy();
    proxy.stall(true);
    probe.socket.write(bytesOf('ping'));
    await sleep(300);
    expect(probe.bytes()).toHaveLength(0);
    expect(probe.errors).toHaveLength(0);
    expect(proxy.connections).toBe(1);
    expect(proxy.bytesToServer).toBe(0);
    proxy.stall(false);
    expect(text(await probe.waitForBytes(4))).toBe('ping');
  });

  it('fragment delivers one byte per read', async () => {
    await connectThroughProxy();
    proxy.fragment(true, 'toClient');
    const message = 'fragmented!!';
    probe.socket.write(bytesOf(message));
    expect(text(await probe.waitForBytes(message.length))).toBe(message);
    expect(probe.reads.map((r) => r.length)).toEqual(new Array(message.length).fill(1));
  });

  it('duplicate forwards every chunk twice', async () => {
    await connectThroughProxy();
    proxy.duplicate(true, 'toClient');
    probe.socket.write(bytesOf('abcdef'));
    expect(text(await probe.waitForBytes(12))).toBe('abcdefabcdef');
    await sleep(50);
    expect(probe.bytes()).toHaveLength(12);
  });

  it('delay holds each chunk at least the given time', async () => {
    await connectThroughProxy();
    proxy.delay(150, 'toServer');
    const start = performance.now();
    probe.socket.write(bytesOf('slow'));
    expect(text(await probe.waitForBytes(4))).toBe('slow');
    expect(performance.now() - start).toBeGreaterThanOrEqual(145);
  });

  it('refuse accepts and closes new connections, and lets them through again when off', async () => {
    proxy.refuse(true);
    const refused = openProbe(network, { host: proxy.host, port: proxy.port });
    const error = await refused.failed;
    expect(error).toBeInstanceOf(NetworkError);
    expect(proxy.connections).toBe(0);
    expect(proxy.accepted).toBe(1);

    proxy.refuse(false);
    await connectThroughProxy();
    probe.socket.write(bytesOf('ok'));
    expect(text(await probe.waitForBytes(2))).toBe('ok');
  });

  it('passes a server-side close on to the client', async () => {
    await connectThroughProxy();
    probe.socket.write(bytesOf('x'));
    await probe.waitForBytes(1);
    for (const s of serverSockets) s.end();
    const error = await probe.failed;
    expect((error as NetworkError).code).toBe('ECLOSED');
  });
});

describe('FaultProxy to a target that is down', () => {
  it('resets the client connection', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: port });
    try {
      const probe = openProbe(network, { host: proxy.host, port: proxy.port });
      const error = await probe.failed;
      expect((error as NetworkError).code).toMatch(/ECONNRESET|ECLOSED/);
    } finally {
      await proxy.close();
    }
  });
});
