// The port bridge: firmware inside XS using timers, TCP (out and in), the key-value store, log and
// system through the Node host, against real sockets.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { BridgeHost } from '../../hosts/xs/bridge/host';
import { bundleForXs } from '../../hosts/xs/bundle';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { freePorts } from '../../scripts/broker/free-ports';

const entry = fileURLToPath(new URL('../xs/fixtures/bridge-app.ts', import.meta.url));
let code: string;
let host: BridgeHost;
let restarts: string[];
const servers: net.Server[] = [];

beforeAll(async () => {
  code = (await bundleForXs(entry)).code;
});
afterEach(async () => {
  await host?.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function boot(): Promise<BridgeHost> {
  restarts = [];
  host = await BridgeHost.start({ entry: { code }, onRestart: (reason) => restarts.push(reason) });
  return host;
}

async function echoServer(): Promise<number> {
  const server = net.createServer((socket) => socket.pipe(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('XS port bridge', () => {
  it('serves the clock from Node: monotonic ms and wall time', async () => {
    await boot();
    const a = await host.call<{ now: number; wall: number }>('now');
    await new Promise((resolve) => setTimeout(resolve, 30));
    const b = await host.call<{ now: number; wall: number }>('now');
    expect(b.now - a.now).toBeGreaterThanOrEqual(25);
    expect(Math.abs(b.wall - Date.now())).toBeLessThan(1000);
  });

  it('fires one-shot and repeating timers owned by Node; cleared timers stay silent', async () => {
    await boot();
    await host.call('timers', { once: 40, every: 20, fires: 3 });
    const once = await host.next('once');
    expect((once.data as { after: number }).after).toBeGreaterThanOrEqual(35);
    const ticks = [await host.next('tick'), await host.next('tick'), await host.next('tick')].map((e) => e.data as { count: number; after: number });
    expect(ticks.map((t) => t.count)).toEqual([1, 2, 3]);
    expect(ticks[2]!.after).toBeGreaterThanOrEqual(55);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await expect(host.next('tick', 50)).rejects.toMatchObject({ code: 'BRIDGE_TIMEOUT' });
    await expect(host.next('cancelled', 10)).rejects.toMatchObject({ code: 'BRIDGE_TIMEOUT' });
  });

  it('connects out over TCP: writable, then echoed bytes arrive in XS', async () => {
    await boot();
    const port = await echoServer();
    expect(await host.call('connect', { name: 'a', port })).toEqual({ ok: true });
    expect((await host.next('writable')).data).toMatchObject({ name: 'a' });
    const payload = new Uint8Array(5000).map((_v, i) => i & 0xff);
    expect(await host.call('write', { name: 'a' }, payload)).toEqual({ ok: true });
    const received: number[] = [];
    while (received.length < payload.length) received.push(...(await host.next('data')).body);
    expect(received).toEqual([...payload]);
  });

  it('reports a refused connection through onError with its code', async () => {
    await boot();
    const [port] = await freePorts(1);
    await host.call('connect', { name: 'b', port });
    expect((await host.next('error')).data).toMatchObject({ name: 'b', code: 'ECONNREFUSED' });
  });

  it('passes synchronous failures back as thrown errors, and refuses writes after close', async () => {
    await boot();
    expect(await host.call('connect', { name: 'c', port: 70000 })).toEqual({
      thrown: { name: 'BridgeError', code: 'EINVAL', message: 'TCP connect: port 70000 is not in 1..65535' },
    });
    const port = await echoServer();
    await host.call('connect', { name: 'd', port });
    await host.next('writable');
    await host.call('close', { name: 'd' });
    expect(await host.call('write', { name: 'd' }, bytes('x'))).toEqual({
      thrown: { code: 'ECLOSED', message: 'TCP 127.0.0.1:' + port + ': write after close()' },
    });
  });

  it('reports the peer closing the connection', async () => {
    await boot();
    const server = net.createServer((socket) => socket.end());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await host.call('connect', { name: 'e', port: (server.address() as net.AddressInfo).port });
    expect((await host.next('error')).data).toMatchObject({ name: 'e', code: 'ECLOSED' });
  });

  it('listens inside XS: Node connects, XS accepts and answers', async () => {
    await boot();
    const { port } = await host.call<{ port: number }>('listen');
    expect(port).toBeGreaterThan(0);
    const socket = net.connect({ host: '127.0.0.1', port });
    const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write('HAL');
    expect((await host.next('accepted')).data).toEqual({ remote: '127.0.0.1' });
    expect(String(await answer)).toBe('IBM');
    socket.end();
    await host.next('peer-gone');
  });

  it('stores strings and bytes in the key-value store, enforcing 15-character keys', async () => {
    await boot();
    expect(await host.call('kv')).toEqual({
      text: 'kitchen',
      blob: [0, 255, 7],
      blobIsBytes: true,
      keys: ['blob', 'name'],
      afterDelete: null,
      tooLong: 'EKEY: key "a-key-of-16-char" is 16 bytes; NVS keys are at most 15: use a shorter key',
    });
  });

  it('forwards log lines and restart requests; random() is seeded', async () => {
    await boot();
    const first = await host.call<{ id: string; randoms: number[] }>('system');
    expect(first.id).toBe('xs-test');
    expect(host.logs).toEqual([{ level: 'info', message: 'hello from XS' }]);
    expect(restarts).toEqual(['test asked']);
    // xorshift32 (13, 17, 5) from seed 7 by hand: 7 ^ 0xe000 = 0xe007; >>> 17 is 0; 0xe007 ^ 0x1c00e0 = 0x1ce0e7.
    expect(first.randoms[0]).toBe(0x1ce0e7 / 2 ** 32);
    await host.close();
    await boot();
    expect((await host.call<{ randoms: number[] }>('system')).randoms).toEqual(first.randoms);
  });

  it('records a firmware callback that throws inside XS as a failure', async () => {
    await boot();
    await host.call('throw');
    await expect(host.next('never', 100)).rejects.toThrow(/failures inside XS: .*RangeError: firmware callback failed/);
    expect(host.failures[0]).toMatchObject({ code: 'XS_EXCEPTION' });
  });

  it('names a call the firmware did not register', async () => {
    await boot();
    await expect(host.call('nothing')).rejects.toThrow(/no call handler named "nothing" inside XS/);
  });
});

describe('raw MQTT over the bridge', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(() => broker?.stop());

  it('sends a hand-written CONNECT from XS to mosquitto and gets CONNACK accepted', async () => {
    await boot();
    await host.call('connect', { name: 'm', port: broker.port });
    await host.next('writable');
    // MQTT 3.1.1 CONNECT (spec 3.1): protocol "MQTT" level 4, clean session, keep-alive 60, id "xs1".
    const connect = Uint8Array.from([0x10, 15, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, 3, 0x78, 0x73, 0x31]);
    await host.call('write', { name: 'm' }, connect);
    // CONNACK (spec 3.2): 20 02, no session present, return code 0.
    expect([...(await host.next('data')).body]).toEqual([0x20, 0x02, 0x00, 0x00]);
  });
});
