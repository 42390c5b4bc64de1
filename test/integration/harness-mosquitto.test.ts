// The mosquitto harness, exercised through the sim Network port with hand-written MQTT bytes.
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeNetwork, NetworkError } from '../../hosts/sim/net';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { connectBytes, disconnectBytes, publishBytes, subscribeBytes } from '../helpers/mqtt-bytes';
import { openProbe } from '../helpers/tcp-probe';

const network = createNodeNetwork();
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
// CONNACK, spec 3.2: 20 02, session present 0, return code.
const connackAccepted = '20 02 00 00';
const connackNotAuthorized = '20 02 00 05';

describe('connectBytes (hand-written CONNECT layout)', () => {
  it('matches the OASIS 3.1.1 byte layout for client id "harness"', () => {
    // 10 | remaining 19 | 00 04 "MQTT" | level 4 | flags 02 (clean session) | keep alive 60 | 00 07 "harness"
    expect(hex(connectBytes('harness'))).toBe('10 13 00 04 4d 51 54 54 04 02 00 3c 00 07 68 61 72 6e 65 73 73');
  });
});

describe('plain broker', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(() => broker?.stop());

  it('answers a raw CONNECT with CONNACK accepted, read as a plain Uint8Array', async () => {
    const probe = openProbe(network, { host: broker.host, port: broker.port });
    await probe.connected;
    probe.socket.write(connectBytes('harness-plain'));
    const reply = await probe.waitForBytes(4);
    expect(Object.getPrototypeOf(probe.reads[0])).toBe(Uint8Array.prototype);
    expect(hex(reply)).toBe(connackAccepted);
    probe.socket.close();
  });

  it('reports its URL and logs', () => {
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(broker.logs()).toMatch(/mosquitto version \S+ running/);
    expect(broker.running).toBe(true);
  });

  it('kill() stops the broker so connections are refused, restart() serves the same port again', async () => {
    await broker.kill();
    expect(broker.running).toBe(false);
    const refused = openProbe(network, { host: broker.host, port: broker.port });
    const error = await refused.failed;
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toBe('ECONNREFUSED');
    expect(refused.errors).toHaveLength(1);

    const port = broker.port;
    await broker.restart();
    expect(broker.port).toBe(port);
    const probe = openProbe(network, { host: broker.host, port });
    await probe.connected;
    probe.socket.write(connectBytes('harness-again'));
    expect(hex(await probe.waitForBytes(4))).toBe(connackAccepted);
    probe.socket.close();
  });
});

describe('TLS broker', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ tls: true, websockets: true });
  });
  afterAll(() => broker?.stop());

  it('connects with the right CA', async () => {
    const probe = openProbe(network, { host: '127.0.0.1', port: broker.tlsPort!, tls: { ca: broker.ca } });
    await probe.connected;
    probe.socket.write(connectBytes('harness-tls'));
    expect(hex(await probe.waitForBytes(4))).toBe(connackAccepted);
    probe.socket.close();
  });

  it('verifies the host name "localhost" from the certificate SAN', async () => {
    const probe = openProbe(network, { host: 'localhost', port: broker.tlsPort!, tls: { ca: broker.ca } });
    await probe.connected;
    probe.socket.close();
  });

  it('fails with a clear ETLS error when the CA is wrong', async () => {
    const probe = openProbe(network, { host: '127.0.0.1', port: broker.tlsPort!, tls: { ca: broker.wrongCa } });
    const error = await probe.failed;
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toBe('ETLS');
    expect(error.message).toMatch(/not trusted by tls\.ca/);
    expect(probe.writables).toHaveLength(0);
    expect(probe.errors).toHaveLength(1);
  });

  it('fails when serverName is not in the certificate', async () => {
    const probe = openProbe(network, { host: '127.0.0.1', port: broker.tlsPort!, tls: { ca: broker.ca, serverName: 'broker.example' } });
    const error = await probe.failed;
    expect((error as NetworkError).code).toBe('ETLS');
    expect(error.message).toMatch(/serverName/);
  });

  it('serves MQTT over secure websockets', async () => {
    const client = await mqtt.connectAsync(broker.wssUrl!, { ca: broker.ca, reconnectPeriod: 0, connectTimeout: 5000 });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });
});

describe('mutual TLS broker', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ tls: { requireClientCert: true } });
  });
  afterAll(() => broker?.stop());

  it('accepts a client certificate signed by the CA and refuses a client without one', async () => {
    const certs = broker.certs!;
    const good = openProbe(network, { host: '127.0.0.1', port: broker.tlsPort!, tls: { ca: broker.ca, cert: certs.clientCert, key: certs.clientKey } });
    await good.connected;
    good.socket.write(connectBytes('harness-mtls'));
    expect(hex(await good.waitForBytes(4))).toBe(connackAccepted);
    good.socket.close();

    const bad = openProbe(network, { host: '127.0.0.1', port: broker.tlsPort!, tls: { ca: broker.ca } });
    // TLS 1.3 completes the client side before the server checks the certificate: the refusal may
    // arrive as a failed handshake or as the connection closing right after the CONNECT.
    bad.connected.then(() => bad.socket.write(connectBytes('harness-nocert')), () => {});
    await bad.failed;
    expect(bad.bytes()).toHaveLength(0);
  });
});

describe('broker with password auth and ACL', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({
      auth: {
        users: { alice: 'secret', bob: 'hunter2' },
        acl: 'user alice\ntopic read allowed/#\n\nuser bob\ntopic readwrite #\n',
      },
    });
  });
  afterAll(() => broker?.stop());

  async function connack(clientId: string, options: { username?: string; password?: string }): Promise<string> {
    const probe = openProbe(network, { host: broker.host, port: broker.port });
    await probe.connected;
    probe.socket.write(connectBytes(clientId, options));
    const reply = hex(await probe.waitForBytes(4));
    probe.socket.close();
    return reply;
  }

  it('accepts good credentials', async () => {
    expect(await connack('a1', { username: 'alice', password: 'secret' })).toBe(connackAccepted);
  });

  it('refuses a bad password and anonymous clients with return code 5', async () => {
    expect(await connack('a2', { username: 'alice', password: 'wrong!' })).toBe(connackNotAuthorized);
    expect(await connack('a3', {})).toBe(connackNotAuthorized);
  });

  it('applies the ACL: alice reads allowed/# only', async () => {
    const alice = openProbe(network, { host: broker.host, port: broker.port });
    await alice.connected;
    alice.socket.write(connectBytes('alice-sub', { username: 'alice', password: 'secret' }));
    await alice.waitForBytes(4);
    alice.socket.write(subscribeBytes('#', 0, 7));
    // SUBACK, spec 3.9: 90 03, packet id 00 07, granted QoS 0.
    expect(hex((await alice.waitForBytes(9)).subarray(4))).toBe('90 03 00 07 00');

    const bob = openProbe(network, { host: broker.host, port: broker.port });
    await bob.connected;
    bob.socket.write(connectBytes('bob-pub', { username: 'bob', password: 'hunter2' }));
    await bob.waitForBytes(4);
    bob.socket.write(publishBytes('denied/x', 'no'));
    bob.socket.write(publishBytes('allowed/x', 'yes'));
    // The one PUBLISH alice may read: 30 0e | 00 09 "allowed/x" | "yes".
    const all = await alice.waitForBytes(9 + 16);
    expect(hex(all.subarray(9))).toBe('30 0e 00 09 61 6c 6c 6f 77 65 64 2f 78 79 65 73');
    bob.socket.write(disconnectBytes);
    alice.socket.close();
  });
});

describe('persistent broker', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true });
  });
  afterAll(() => broker?.stop());

  it('keeps a retained message across stop() and restart()', async () => {
    const publisher = openProbe(network, { host: broker.host, port: broker.port });
    await publisher.connected;
    publisher.socket.write(connectBytes('retainer'));
    await publisher.waitForBytes(4);
    publisher.socket.write(publishBytes('t/r', 'hello', { qos: 1, retain: true, packetId: 1 }));
    // PUBACK, spec 3.4: 40 02 00 01 (after the 4-byte CONNACK).
    expect(hex((await publisher.waitForBytes(8)).subarray(4))).toBe('40 02 00 01');
    publisher.socket.write(disconnectBytes);

    await broker.stop();
    await broker.restart();

    const subscriber = openProbe(network, { host: broker.host, port: broker.port });
    await subscriber.connected;
    subscriber.socket.write(connectBytes('reader'));
    await subscriber.waitForBytes(4);
    subscriber.socket.write(subscribeBytes('t/r', 0, 2));
    // SUBACK 90 03 00 02 00, then the retained PUBLISH: 31 (retain) 0a | 00 03 "t/r" | "hello".
    const all = await subscriber.waitForBytes(4 + 5 + 12);
    expect(hex(all.subarray(4))).toBe('90 03 00 02 00 31 0a 00 03 74 2f 72 68 65 6c 6c 6f');
    subscriber.socket.close();
  });
});

describe('websockets and packet size limit', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ websockets: true, maxPacketSize: 100 });
  });
  afterAll(() => broker?.stop());

  it('serves MQTT over websockets beside the plain listener', async () => {
    const client = await mqtt.connectAsync(broker.wsUrl!, { reconnectPeriod: 0, connectTimeout: 5000 });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it('drops a client that sends a packet over max_packet_size', async () => {
    const probe = openProbe(network, { host: broker.host, port: broker.port });
    await probe.connected;
    probe.socket.write(connectBytes('big'));
    await probe.waitForBytes(4);
    probe.socket.write(publishBytes('t', 'x'.repeat(200)));
    const error = await probe.failed;
    expect((error as NetworkError).code).toMatch(/ECLOSED|ECONNRESET/);
  });
});

describe('a broker for a large fleet', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ listeners: 3, maxConnections: 150_000 });
  });
  afterAll(() => broker?.stop());

  it('listens on several ports, every one of them serving MQTT, with max_connections on each', async () => {
    expect(broker.ports).toHaveLength(3);
    expect(new Set(broker.ports).size).toBe(3);
    expect(broker.ports[0]).toBe(broker.port);
    for (const port of broker.ports) {
      const client = await mqtt.connectAsync({ host: broker.host, port, reconnectPeriod: 0 });
      await client.endAsync();
    }
    expect(readFileSync(broker.configFile, 'utf8').match(/^max_connections 150000$/gm)).toHaveLength(3);
  });

  it('runs with an open-file limit above its clients (past the inherited hard limit only with CAP_SYS_RESOURCE)', () => {
    if (process.platform !== 'linux') return;
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
    const hard = line.split(/\s{2,}/)[2];
    const inherited = hard === 'unlimited' ? Infinity : Number(hard);
    // root in a container may lack the capability (bit 24 of CapEff)
    const caps = readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\s+([0-9a-f]+)/m)![1];
    const mayRaise = (parseInt(caps.slice(-8), 16) & (1 << 24)) !== 0;
    expect(broker.openFileLimit()).toBe(mayRaise ? 151_024 : Math.min(151_024, inherited));
  });
});

describe("a broker with mosquitto's own Nagle setting", () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ tcpNoDelay: false });
  });
  afterAll(() => broker?.stop());

  it('serves MQTT with set_tcp_nodelay false, where the harness default sets it true', async () => {
    expect(readFileSync(broker.configFile, 'utf8').match(/^set_tcp_nodelay .*$/gm)).toEqual(['set_tcp_nodelay false']);
    const other = await startMosquitto();
    try {
      expect(readFileSync(other.configFile, 'utf8').match(/^set_tcp_nodelay .*$/gm)).toEqual(['set_tcp_nodelay true']);
    } finally {
      await other.stop();
    }
    const sub = await mqtt.connectAsync({ host: broker.host, port: broker.port, reconnectPeriod: 0 });
    const pub = await mqtt.connectAsync({ host: broker.host, port: broker.port, reconnectPeriod: 0 });
    await sub.subscribeAsync('nagle/t', { qos: 1 });
    const got = new Promise<string>((resolve) => sub.on('message', (_t, m) => resolve(m.toString())));
    await pub.publishAsync('nagle/t', 'through', { qos: 1 });
    expect(await got).toBe('through');
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });
});
