// Signed, expiring tokens as MQTT passwords, checked by a real mosquitto whose password file holds the
// token computed independently (node:crypto, the vendor's published recipe). Then the client renews:
// tokenRefresh reconnects before expiry with a fresh token. (mosquitto holds one password per user and
// drops connected clients whose password changed at a reload, so the renewed connection goes to a
// second broker that holds the next token, behind a proxy the test switches.)
import { createHmac } from 'node:crypto';
import net from 'node:net';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeNetwork } from '../../hosts/sim/net';
import { AzureSasTokenProvider, azureMqttUsername } from '../../src/auth/azure-sas';
import { OneNetTokenProvider } from '../../src/auth/onenet';
import { renewalDelay, tokenPassword, wallSeconds } from '../../src/auth/token';
import { MqttClient } from '../../src/mqtt/client';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';

// Microsoft's Node.js sample ("Control access to IoT Hub with shared access signatures").
function azureReference(resourceUri: string, signingKey: string, expires: number): string {
  resourceUri = encodeURIComponent(resourceUri);
  const sig = createHmac('sha256', Buffer.from(signingKey, 'base64')).update(resourceUri + '\n' + expires).digest('base64');
  return 'SharedAccessSignature sr=' + resourceUri + '&sig=' + encodeURIComponent(sig) + '&se=' + expires;
}

// OneNET's token page: sign = base64(HMAC(key, et \n method \n res \n version)).
function oneNetReference(res: string, key: string, et: number): string {
  const sign = createHmac('sha256', Buffer.from(key, 'base64')).update(`${et}\nsha256\n${res}\n2018-10-31`).digest('base64');
  return `version=2018-10-31&res=${encodeURIComponent(res)}&et=${et}&method=sha256&sign=${encodeURIComponent(sign)}`;
}

/** Wall time of the device at the start: the tokens the test expects are computed from it in advance. */
const START_WALL_MS = 1_800_000_000_000;

/** The device's time moves only when the test says so (a 48 s renewal takes no 48 s); the broker is real. */
const deviceClock = () => new ManualClock({ wallTime: START_WALL_MS });

const brokers: MosquittoBroker[] = [];
const clients: MqttClient[] = [];

afterAll(async () => {
  for (const c of clients) c.destroy();
  for (const b of brokers) await b.stop();
});

/** Forwards each new TCP connection to whichever broker `target` names at the time. */
async function switchingProxy(target: MosquittoBroker) {
  const sockets = new Set<net.Socket>();
  const proxy = { target, port: 0, close: () => undefined as void };
  const server = net.createServer((inbound) => {
    const outbound = net.connect(proxy.target.port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.close = () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  return proxy;
}

function deviceClient(clock: ManualClock, broker: { host: string; port: number }, options: Partial<ConstructorParameters<typeof MqttClient>[0]>) {
  const connects: number[] = [];
  const errors: Error[] = [];
  const client = new MqttClient({
    clock,
    network: createNodeNetwork(),
    system: { random: Math.random },
    host: broker.host,
    port: broker.port,
    clientId: 'device1',
    keepAlive: 60,
    onConnect: () => connects.push(clock.wallTime()!),
    onError: (e) => errors.push(e),
    ...options,
  });
  clients.push(client);
  return { client, connects, errors };
}

describe('token passwords against mosquitto', () => {
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 255)).toString('base64');

  it('an Azure SAS token the broker holds in its password file is accepted; tokenRefresh renews it before expiry', async () => {
    const clock = deviceClock();
    const host = 'hub-1.azure-devices.net';
    const username = azureMqttUsername(host, 'device1');
    const start = START_WALL_MS / 1000;
    const first = azureReference(`${host}/devices/device1`, key, start + 60);
    // the token the device will make 48 s on
    const second = azureReference(`${host}/devices/device1`, key, start + 48 + 60);
    const now = await startMosquitto({ auth: { users: { [username]: first } } });
    const later = await startMosquitto({ auth: { users: { [username]: second } } });
    brokers.push(now, later);
    const proxy = await switchingProxy(now);
    try {
      const sas = new AzureSasTokenProvider({ host, deviceId: 'device1', key, lifetime: 60 });
      const d = deviceClient(clock, { host: '127.0.0.1', port: proxy.port }, {
        username,
        password: tokenPassword(sas, clock),
        tokenRefresh: () => renewalDelay(sas, wallSeconds(clock)),
      });
      d.client.connect();
      await until(() => d.connects.length === 1, 'the first connection', 5000);
      expect(sas.expiresAt).toBe(start + 60);
      // a 60 s token is renewed a fifth of its life before expiry: after 48 s
      expect(renewalDelay(sas, start)).toBe(48_000);

      proxy.target = later;
      // the old token does not get into the second broker
      const stale = await new Promise<number>((resolve) => {
        const c = mqtt.connect(later.url, { clientId: 'stale', username, password: first, reconnectPeriod: 0 });
        c.on('error', (e) => resolve((e as { code?: number }).code ?? -1));
        c.on('connect', () => resolve(0));
      });
      expect(stale).toBe(5);

      // 48 s of device time: the renewal timer fires and the client reconnects with the next token
      clock.advance(48_000);
      await until(() => d.connects.length === 2, 'the renewal reconnect', 5000);
      expect(sas.issuedAt).toBe(start + 48);
      // planned, not a failure: no error, and a DISCONNECT to the first broker (no will)
      expect(d.errors).toEqual([]);
      expect(now.logs()).toMatch(/Client device1 disconnected\./);
      expect(later.logs()).toMatch(/New client connected .* as device1 /);
      expect(d.client.connected).toBe(true);
    } finally {
      proxy.close();
    }
  });

  it('a OneNET token in the password file is accepted', async () => {
    const clock = deviceClock();
    const onenet = new OneNetTokenProvider({ productId: 'ft6uTZ', deviceName: 'dev-001', key, lifetime: 3600 });
    const expected = oneNetReference('products/ft6uTZ/devices/dev-001', key, START_WALL_MS / 1000 + 3600);
    const broker = await startMosquitto({ auth: { users: { [onenet.username]: expected } } });
    brokers.push(broker);
    const d = deviceClient(clock, broker, { clientId: onenet.clientId, username: onenet.username, password: tokenPassword(onenet, clock) });
    d.client.connect();
    await until(() => d.connects.length === 1, 'the connection', 5000);
    expect(d.errors).toEqual([]);
  });
});
