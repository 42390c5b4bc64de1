// The whole device application on the test kit's scripted broker and manual clock: what it
// publishes, and where, when requesters and births are hostile. See also device-logic.cases.ts.
import { Device, type DeviceOptions } from '../../src/device/device';
import type { ClientOptions } from '../../src/mqtt/client';
import type { Network, Platform, TcpOptions } from '../../src/ports';
import { ScriptedBroker } from '../../hosts/sim/fakes/broker';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { equal, ok, suite } from '../../hosts/xs/harness';

function boot(deviceId: string, config: Record<string, unknown> = {}, client?: DeviceOptions['client']) {
  const clock = new ManualClock();
  // answers at once (latency 0): each advance of the clock, even by 0, delivers them
  const broker = new ScriptedBroker(clock, { latencyMs: 0, record: true });
  // the broker's network, with what the device asked to connect to and every byte it wrote
  const connects: TcpOptions[] = [];
  const written: number[] = [];
  const network: Network = {
    connect(options) {
      connects.push(options);
      const socket = broker.connect(options);
      const write = socket.write.bind(socket);
      socket.write = (bytes) => {
        for (let i = 0; i < bytes.length; i++) written.push(bytes[i]);
        write(bytes);
      };
      return socket;
    },
  };
  const logs: string[] = [];
  const platform: Platform = {
    clock,
    network,
    storage: new MemoryStore(),
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    system: { deviceId: () => deviceId, restart: () => undefined, freeMemory: () => 40_000, resetReason: () => 'power-on', random: () => 0 },
  };
  const device = new Device({ platform, version: '1.0.0', sensors: [], config: { prefix: 'lab', ...config }, client });
  device.start();
  clock.advance(0);
  /** A QoS 0 message from the broker, delivered with what the device answers. */
  const publish = (topic: string, payload: string) => {
    broker.publish(topic, payload);
    clock.advance(0);
  };
  // the first packet written is the CONNECT
  return { device, broker, clock, logs, publish, connects, connect: Uint8Array.from(written) };
}

/** The strings of a 3.1.1 CONNECT after its 10-byte variable header: client id, then will topic, will message, user name when flagged. */
function connectFields(packets: Uint8Array): { keepAlive: number; flags: number; strings: string[] } {
  let at = 1;
  let length = 0;
  for (let shift = 1; ; shift *= 128) {
    length += (packets[at] & 0x7f) * shift;
    if (!(packets[at++] & 0x80)) break;
  }
  const connect = packets.subarray(0, at + length);
  const flags = connect[at + 7];
  const keepAlive = (connect[at + 8] << 8) | connect[at + 9];
  const strings: string[] = [];
  for (at += 10; at + 2 <= connect.length; ) {
    const n = (connect[at] << 8) | connect[at + 1];
    strings.push(String.fromCharCode(...Array.from(connect.subarray(at + 2, at + 2 + n))));
    at += 2 + n;
  }
  return { keepAlive, flags, strings };
}

const DISCOVERY = 'homeassistant/binary_sensor/';

export default suite('device application', (test) => {
  test('device id: an unsafe id is replaced in every topic and the client id, with a log line', () => {
    for (const bad of ['\ufffd\ufffd\ufffd', 'nodemcu/x', 'a+b', 'a#', 'tab\there', '\u0000', '', 'x'.repeat(33), '\ud800']) {
      const { device, broker, logs } = boot(bad);
      ok(/^[0-9a-f]{12}$/.test(device.id), `derived id for ${JSON.stringify(bad)}: ${device.id}`);
      equal(device.topics.status, `lab/${device.id}/status`);
      equal(broker.clientId, `lab-${device.id}`);
      const statuses = broker.published.filter((p) => p.topic.endsWith('/status'));
      equal(statuses.map((p) => p.topic), [`lab/${device.id}/status`], 'the birth goes under the derived id');
      equal(broker.to(DISCOVERY).map((p) => p.topic), [`${DISCOVERY}${device.id}/status/config`]);
      ok(logs.some((l) => l.startsWith('warn device id ') && l.includes(`using "${device.id}"`)), logs.join('\n'));
    }
  });

  test('identity: a host cannot replace the broker, client id, user name, will or session through client options', () => {
    // what a JavaScript host could pass past the type (see the compile-time checks below)
    const hostile = { host: 'evil.example', port: 1, clientId: 'intruder', username: 'root', will: { topic: 'evil/will', payload: 'x' }, cleanSession: false, keepAlive: 7 };
    const { device, connects, connect, logs } = boot('dev2', { brokerHost: '10.0.0.2', brokerPort: 1884 }, hostile as never);
    const to = connects[connects.length - 1];
    equal([to.host, to.port, to.tls], ['10.0.0.2', 1884, undefined]);
    const fields = connectFields(connect);
    equal(fields.strings, ['lab-dev2', 'lab/dev2/status', '{"status":"offline","state":"lost","boot":1,"version":"1.0.0"}'], 'client id and will: the device\'s; no user name');
    equal([fields.flags & 0x80, fields.flags & 0x02], [0, 0x02], 'no user name flag; clean session');
    equal(fields.keepAlive, 7, 'tuning a host may set still applies');
    ok(device.client.connected, 'connected');
    for (const key of ['host', 'port', 'clientId', 'username', 'will', 'cleanSession']) {
      ok(logs.some((l) => l.startsWith(`warn client option "${key}" ignored`)), `${key}: ${logs.join('\n')}`);
    }
    ok(!logs.some((l) => l.includes('"keepAlive" ignored')), 'keepAlive is a host option');
  });


  test('identity: the client options a host may set are typed; the identity fields are not', () => {
    const allowed: DeviceOptions['client'] = { keepAlive: 7, connectTimeout: 1000, tls: { ca: 'PEM' }, password: () => 'token', tokenRefresh: () => 0 };
    // @ts-expect-error the client id comes from the configuration
    const clientId: DeviceOptions['client'] = { clientId: 'intruder' };
    // @ts-expect-error and so does the will
    const will: DeviceOptions['client'] = { will: { topic: 'evil/will', payload: 'x' } };
    const wide: Partial<ClientOptions> = { host: 'evil.example' };
    // @ts-expect-error even through a wider type
    const host: DeviceOptions['client'] = wide;
    equal(Object.keys({ ...allowed, ...clientId, ...will, ...host }).sort(), ['clientId', 'connectTimeout', 'host', 'keepAlive', 'password', 'tls', 'tokenRefresh', 'will']);
  });


  test('identity: the host\'s TLS settings apply when brokerTls is on, and are ignored with a warning when it is off', () => {
    const on = boot('dev2', { brokerTls: true }, { tls: { ca: 'PEM' } });
    equal(on.connects[on.connects.length - 1].tls, { ca: 'PEM' });
    const off = boot('dev2', {}, { tls: { ca: 'PEM' } });
    equal(off.connects[off.connects.length - 1].tls, undefined);
    ok(off.logs.some((l) => l === 'warn client option "tls" ignored: brokerTls is off'), off.logs.join('\n'));
  });

  test('device id: the derived id is the first 6 bytes of SHA-256 over the UTF-16 code units, the same at every boot', () => {
    // expected values from Python: hashlib.sha256(s.encode('utf-16-be')).hexdigest()[:12]
    equal(boot('\ufffd\ufffd\ufffd').device.id, 'df8d687c688d');
    equal(boot('nodemcu/x').device.id, 'e3bf52428a4f');
  });

  test('device id: a safe id is kept, without a warning', () => {
    for (const good of ['0242ac110002', 'Greenhouse_7-b', 'x'.repeat(32)]) {
      const { device, broker, logs } = boot(good);
      equal([device.id, broker.clientId], [good, `lab-${good}`]);
      ok(!logs.some((l) => l.includes('device id')), logs.join('\n'));
    }
  });

  test('discovery: 50 "online" births make one re-send at once and one 30 s later, not 50', () => {
    const { broker, clock, publish } = boot('dev2');
    equal(broker.to(DISCOVERY).length, 1, 'discovery at connect');
    for (let i = 0; i < 50; i++) publish('homeassistant/status', 'online');
    equal(broker.to(DISCOVERY).length, 2, 'the first birth is answered at once');
    clock.advance(29_000);
    equal(broker.to(DISCOVERY).length, 2, 'the other 49 wait for the interval');
    clock.advance(1_000);
    equal(broker.to(DISCOVERY).length, 3, 'and coalesce into one re-send');
    clock.advance(120_000);
    equal(broker.to(DISCOVERY).length, 3, 'nothing more without births');
    publish('homeassistant/status', 'offline');
    publish('homeassistant/status', 'online');
    equal(broker.to(DISCOVERY).length, 4, 'a birth after a quiet interval is answered at once');
  });

  test('discovery: a status message that is not UTF-8 is no birth and keeps the connection', () => {
    const { device, broker, clock, publish } = boot('dev2');
    publish('homeassistant/status', '\u00ffonline'); // FF is never UTF-8
    publish('homeassistant/status', '\u00c3\u0028'); // C3 without its continuation byte
    ok(device.client.connected, 'still connected');
    equal([device.client.stats.protocolErrors, device.client.stats.reconnects], [0, 0]);
    equal(broker.to(DISCOVERY).length, 1, 'no re-send');
    clock.advance(1_000);
    publish('homeassistant/status', 'online');
    equal(broker.to(DISCOVERY).length, 2, 'a real birth is still answered');
  });

  test('commands: a request that is not UTF-8 is answered with an error, the connection stays', () => {
    const { device, broker, publish } = boot('dev2');
    publish('lab/dev2/cmd/ping', '{"id":"\u00ff"}');
    ok(device.client.connected, 'still connected');
    const replies = broker.to('lab/dev2/cmd/ping/result');
    equal(replies.length, 1);
    const body = JSON.parse(replies[0].payload) as Record<string, unknown>;
    equal(body.status, 'error');
    ok(String(body.error).includes('invalid UTF-8 byte 0xff at byte 7'), String(body.error));
  });

  test('discovery: a coalesced re-send is dropped when the device stops', () => {
    const { device, broker, clock, publish } = boot('dev2');
    publish('homeassistant/status', 'online');
    publish('homeassistant/status', 'online');
    equal(broker.to(DISCOVERY).length, 2);
    device.stop('test');
    clock.advance(60_000);
    equal(broker.to(DISCOVERY).length, 2);
  });

  test('replies: a request to reply on another device\'s command topic is answered with an error on the result topic', () => {
    const { broker, publish } = boot('dev2');
    publish('lab/dev2/cmd/identify', JSON.stringify({ id: 'x1', responseTopic: 'lab/dev1/cmd/identify', args: { seconds: 5 } }));
    equal(broker.to('lab/dev1/').length, 0, 'nothing published for device 1');
    const replies = broker.to('lab/dev2/cmd/identify/result');
    equal(replies.length, 1);
    const body = JSON.parse(replies[0].payload) as Record<string, unknown>;
    equal([body.id, body.status], ['x1', 'error']);
    ok(String(body.error).includes('"lab/dev1/cmd/identify" is a command topic'), String(body.error));
  });

  test('replies: Home Assistant\'s prefix, own request, status and OTA topics, and topics outside the reply space are refused', () => {
    const { broker, publish } = boot('dev2', { discoveryPrefix: 'ha' });
    const refused = ['homeassistant/sensor/dev2/x/config', 'ha/status', 'lab/dev2/cmd/ping', 'lab/dev2/status', 'lab/reply/status', 'lab/dev2/ota/job', 'lab/group/g1/ota/job', 'lab/dev2/telemetry/env', 'replies/app1', 'lab/dev1/answers'];
    for (const topic of refused) {
      const before = broker.published.length;
      publish('lab/dev2/cmd/ping', JSON.stringify({ id: topic, responseTopic: topic }));
      equal(broker.published.slice(before).filter((p) => p.topic === topic).length, 0, topic);
      const reply = broker.to('lab/dev2/cmd/ping/result').pop();
      ok(reply, `error reply for ${topic}`);
      const body = JSON.parse(reply.payload) as Record<string, unknown>;
      equal([body.id, body.status], [topic, 'error']);
    }
  });

  test('replies: the default reply space is the device\'s own topics and <prefix>/reply/', () => {
    const { broker, publish } = boot('dev2');
    for (const topic of ['lab/reply/app1', 'lab/reply/app1/7', 'lab/dev2/answers', 'lab/dev2/cmd/ping/result']) {
      publish('lab/dev2/cmd/ping', JSON.stringify({ id: topic, responseTopic: topic }));
      const replies = broker.published.filter((p) => p.topic === topic);
      equal(replies.length, 1, topic);
      equal((JSON.parse(replies[0].payload) as Record<string, unknown>).status, 'ok');
    }
  });

  test('replies: set-config replyTopics changes the reply space at once; command topics stay refused', () => {
    const { broker, device, publish } = boot('dev2');
    publish('lab/dev2/cmd/set-config', JSON.stringify({ id: 's', args: { replyTopics: 'app/replies/#' } }));
    equal(device.values.replyTopics, 'app/replies/#');
    publish('lab/dev2/cmd/ping', JSON.stringify({ id: 'a', responseTopic: 'app/replies/1' }));
    equal(broker.to('app/replies/1').length, 1);
    publish('lab/dev2/cmd/ping', JSON.stringify({ id: 'b', responseTopic: 'lab/reply/1' }));
    publish('lab/dev2/cmd/ping', JSON.stringify({ id: 'c', responseTopic: 'app/replies/cmd/reboot' }));
    equal(broker.to('lab/reply/').length + broker.to('app/replies/cmd/').length, 0);
    const errors = broker.to('lab/dev2/cmd/ping/result').map((p) => JSON.parse(p.payload) as Record<string, unknown>);
    equal(errors.map((b) => [b.id, b.status]), [['b', 'error'], ['c', 'error']]);
    ok(String(errors[0].error).includes('outside the reply topics (app/replies/#)'), String(errors[0].error));
  });

  test('an empty command payload is answered with an error', () => {
    const { broker, publish } = boot('dev2');
    publish('lab/dev2/cmd/ping', '');
    const replies = broker.to('lab/dev2/cmd/ping/result');
    equal(replies.length, 1);
    const body = JSON.parse(replies[0].payload) as Record<string, unknown>;
    equal([body.id, body.status], [null, 'error']);
    ok(String(body.error).includes('empty request'), String(body.error));
  });
});
