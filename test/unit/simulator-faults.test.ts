// The per-device network fault layer over real loopback sockets: Wi-Fi loss, cut, half-open stall,
// refusal, power loss, and a crash in a firmware callback.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultNetwork, LinkState } from '../../scripts/sim/faults';
import { createNodeNetwork } from '../../hosts/sim/net';
import type { TcpSocket } from '../../src/ports';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Peer {
  socket: net.Socket;
  data: Buffer[];
  closed: boolean;
}

let server: net.Server;
let port: number;
let peers: Peer[];

beforeEach(async () => {
  peers = [];
  server = net.createServer((socket) => {
    const peer: Peer = { socket, data: [], closed: false };
    peers.push(peer);
    socket.on('data', (d) => peer.data.push(d));
    socket.on('close', () => (peer.closed = true));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterEach(async () => {
  for (const p of peers) p.socket.destroy();
  await new Promise((r) => server.close(r));
});

interface Client {
  socket: TcpSocket;
  connected: boolean;
  received: string;
  errors: { code: string; message: string }[];
}

function open(network: FaultNetwork): Client {
  const c: Client = { socket: undefined as unknown as TcpSocket, connected: false, received: '', errors: [] };
  c.socket = network.connect({
    host: '127.0.0.1',
    port,
    onWritable: () => (c.connected = true),
    onReadable: () => {
      const bytes = c.socket.read();
      if (bytes) c.received += new TextDecoder().decode(bytes);
    },
    onError: (e) => c.errors.push({ code: (e as Error & { code: string }).code, message: e.message }),
  });
  return c;
}

const text = (s: string) => new TextEncoder().encode(s);

describe('FaultNetwork', () => {
  it('passes bytes both ways while nothing is wrong', async () => {
    const network = new FaultNetwork({ base: createNodeNetwork(), link: new LinkState() });
    const c = open(network);
    await until(() => c.connected && peers.length === 1, 'connection');
    c.socket.write(text('ping'));
    await until(() => Buffer.concat(peers[0].data).toString() === 'ping', 'bytes at the server');
    peers[0].socket.write('pong');
    await until(() => c.received === 'pong', 'bytes at the client');
    expect(network.open).toBe(1);
    c.socket.close();
    await until(() => peers[0].closed, 'server sees the close');
    expect(network.open).toBe(0);
  });

  it('without Wi-Fi a connect fails with ENETUNREACH, later (not inside connect), and nothing reaches the server', async () => {
    const link = new LinkState();
    link.wifiUp = false;
    const network = new FaultNetwork({ base: createNodeNetwork(), link });
    const c = open(network);
    expect(c.errors).toEqual([]);
    await until(() => c.errors.length === 1, 'the error');
    expect(c.errors[0].code).toBe('ENETUNREACH');
    expect(c.errors[0].message).toMatch(/no Wi-Fi link/);
    await sleep(30);
    expect(peers).toHaveLength(0);
  });

  it('a lost Wi-Fi link fails open connections with ENETDOWN and closes them at the server', async () => {
    const link = new LinkState();
    const network = new FaultNetwork({ base: createNodeNetwork(), link });
    const c = open(network);
    await until(() => c.connected && peers.length === 1, 'connection');
    expect(network.linkLost()).toBe(1);
    expect(link.wifiUp).toBe(false);
    await until(() => c.errors.length === 1, 'the error');
    expect(c.errors[0].code).toBe('ENETDOWN');
    await until(() => peers[0].closed, 'server sees the close');
    expect(() => c.socket.write(text('late'))).toThrow(/after close|failed/);
  });

  it('a cut resets the connection: ECONNRESET to the firmware, closed at the server', async () => {
    const network = new FaultNetwork({ base: createNodeNetwork(), link: new LinkState() });
    const c = open(network);
    await until(() => c.connected && peers.length === 1, 'connection');
    expect(network.cutAll()).toBe(1);
    await until(() => c.errors.length === 1, 'the error');
    expect(c.errors[0].code).toBe('ECONNRESET');
    await until(() => peers[0].closed, 'server sees the close');
  });

  it('a stall is half-open: nothing flows either way and nobody is told, until it ends', async () => {
    const link = new LinkState();
    const network = new FaultNetwork({ base: createNodeNetwork(), link });
    const c = open(network);
    await until(() => c.connected && peers.length === 1, 'connection');
    network.setStalled(true);
    c.socket.write(text('held'));
    peers[0].socket.write('also held');
    await sleep(50);
    expect(peers[0].data).toHaveLength(0);
    expect(c.received).toBe('');
    expect(c.errors).toEqual([]);
    expect(peers[0].closed).toBe(false);
    network.setStalled(false);
    await until(() => Buffer.concat(peers[0].data).toString() === 'held', 'held bytes at the server');
    await until(() => c.received === 'also held', 'held bytes at the client');
  });

  it('a close during a stall reaches the server only when the stall ends; a peer close stays hidden too', async () => {
    const network = new FaultNetwork({ base: createNodeNetwork(), link: new LinkState() });
    const a = open(network);
    await until(() => a.connected && peers.length === 1, 'first connection');
    const b = open(network);
    await until(() => b.connected && peers.length === 2, 'second connection');
    network.setStalled(true);
    a.socket.close(); // the client gives up (keep-alive timeout), but its FIN is lost
    peers[1].socket.end(); // the server closes the other one: that FIN is lost too
    await sleep(50);
    expect(peers[0].closed).toBe(false);
    expect(b.errors).toEqual([]);
    network.setStalled(false);
    await until(() => peers[0].closed, 'the first close at the server');
    await until(() => b.errors.length === 1, 'the peer close at the client');
    expect(b.errors[0].code).toBe('ECLOSED');
  });

  it('a refusing link fails connects with ECONNREFUSED', async () => {
    const link = new LinkState();
    link.refusing = true;
    const network = new FaultNetwork({ base: createNodeNetwork(), link });
    const c = open(network);
    await until(() => c.errors.length === 1, 'the error');
    expect(c.errors[0].code).toBe('ECONNREFUSED');
    expect(peers).toHaveLength(0);
  });

  it('power loss closes every socket without a word to the firmware, and nothing opens afterwards', async () => {
    const network = new FaultNetwork({ base: createNodeNetwork(), link: new LinkState() });
    const c = open(network);
    await until(() => c.connected && peers.length === 1, 'connection');
    network.shutdown();
    await until(() => peers[0].closed, 'server sees the close');
    const late = open(network);
    await sleep(50);
    expect(c.errors).toEqual([]);
    expect(late.errors).toEqual([]);
    expect(late.connected).toBe(false);
    expect(peers).toHaveLength(1);
  });

  it('an exception escaping a firmware callback is a panic for that device, not an uncaught error', async () => {
    const panics: unknown[] = [];
    const network = new FaultNetwork({ base: createNodeNetwork(), link: new LinkState(), onPanic: (e) => panics.push(e) });
    network.connect({
      host: '127.0.0.1',
      port,
      onWritable: () => {
        throw new Error('firmware bug in onWritable');
      },
      onReadable: () => {},
      onError: () => {},
    });
    await until(() => panics.length === 1, 'the panic');
    expect((panics[0] as Error).message).toBe('firmware bug in onWritable');
  });
});
