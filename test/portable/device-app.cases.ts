// The whole device application on a scripted broker connection and a virtual clock: what it
// publishes, and where, when requesters and births are hostile. See also device-logic.cases.ts.
import { Device } from '../../src/device/device';
import type { Platform } from '../../src/ports';
import { FakeBroker } from './fake-broker';
import { MapStore, ScriptedNetwork, VirtualClock } from './fakes';
import { equal, ok, suite } from '../../hosts/xs/harness';

function boot(deviceId: string, config: Record<string, unknown> = {}) {
  const clock = new VirtualClock();
  const network = new ScriptedNetwork();
  const logs: string[] = [];
  const platform: Platform = {
    clock,
    network,
    storage: new MapStore(),
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    system: { deviceId: () => deviceId, restart: () => undefined, freeMemory: () => 40_000, resetReason: () => 'power-on', random: () => 0 },
  };
  const device = new Device({ platform, version: '1.0.0', sensors: [], config: { prefix: 'lab', ...config } });
  device.start();
  const broker = new FakeBroker(network.last);
  broker.accept();
  return { device, broker, clock, logs };
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
    const { broker, clock } = boot('dev2');
    equal(broker.to(DISCOVERY).length, 1, 'discovery at connect');
    for (let i = 0; i < 50; i++) broker.publish('homeassistant/status', 'online');
    equal(broker.to(DISCOVERY).length, 2, 'the first birth is answered at once');
    broker.run(clock, 29_000);
    equal(broker.to(DISCOVERY).length, 2, 'the other 49 wait for the interval');
    broker.run(clock, 1_000);
    equal(broker.to(DISCOVERY).length, 3, 'and coalesce into one re-send');
    broker.run(clock, 120_000);
    equal(broker.to(DISCOVERY).length, 3, 'nothing more without births');
    broker.publish('homeassistant/status', 'offline');
    broker.publish('homeassistant/status', 'online');
    equal(broker.to(DISCOVERY).length, 4, 'a birth after a quiet interval is answered at once');
  });

  test('discovery: a coalesced re-send is dropped when the device stops', () => {
    const { device, broker, clock } = boot('dev2');
    broker.publish('homeassistant/status', 'online');
    broker.publish('homeassistant/status', 'online');
    equal(broker.to(DISCOVERY).length, 2);
    device.stop('test');
    broker.pump();
    broker.run(clock, 60_000);
    equal(broker.to(DISCOVERY).length, 2);
  });

  test('replies: a request to reply on another device\'s command topic is answered with an error on the result topic', () => {
    const { broker } = boot('dev2');
    broker.publish('lab/dev2/cmd/identify', JSON.stringify({ id: 'x1', responseTopic: 'lab/dev1/cmd/identify', args: { seconds: 5 } }));
    equal(broker.to('lab/dev1/').length, 0, 'nothing published for device 1');
    const replies = broker.to('lab/dev2/cmd/identify/result');
    equal(replies.length, 1);
    const body = JSON.parse(replies[0].payload) as Record<string, unknown>;
    equal([body.id, body.status], ['x1', 'error']);
    ok(String(body.error).includes('"lab/dev1/cmd/identify" is a command topic'), String(body.error));
  });

  test('replies: Home Assistant\'s prefix, own request, status and OTA topics, and topics outside the reply space are refused', () => {
    const { broker } = boot('dev2', { discoveryPrefix: 'ha' });
    const refused = ['homeassistant/sensor/dev2/x/config', 'ha/status', 'lab/dev2/cmd/ping', 'lab/dev2/status', 'lab/reply/status', 'lab/dev2/ota/job', 'lab/group/g1/ota/job', 'lab/dev2/telemetry/env', 'replies/app1', 'lab/dev1/answers'];
    for (const topic of refused) {
      const before = broker.published.length;
      broker.publish('lab/dev2/cmd/ping', JSON.stringify({ id: topic, responseTopic: topic }));
      equal(broker.published.slice(before).filter((p) => p.topic === topic).length, 0, topic);
      const reply = broker.to('lab/dev2/cmd/ping/result').pop();
      ok(reply, `error reply for ${topic}`);
      const body = JSON.parse(reply.payload) as Record<string, unknown>;
      equal([body.id, body.status], [topic, 'error']);
    }
  });

  test('replies: the default reply space is the device\'s own topics and <prefix>/reply/', () => {
    const { broker } = boot('dev2');
    for (const topic of ['lab/reply/app1', 'lab/reply/app1/7', 'lab/dev2/answers', 'lab/dev2/cmd/ping/result']) {
      broker.publish('lab/dev2/cmd/ping', JSON.stringify({ id: topic, responseTopic: topic }));
      const replies = broker.published.filter((p) => p.topic === topic);
      equal(replies.length, 1, topic);
      equal((JSON.parse(replies[0].payload) as Record<string, unknown>).status, 'ok');
    }
  });

  test('replies: set-config replyTopics changes the reply space at once; command topics stay refused', () => {
    const { broker, device, clock } = boot('dev2');
    broker.publish('lab/dev2/cmd/set-config', JSON.stringify({ id: 's', args: { replyTopics: 'app/replies/#' } }));
    clock.advance(0); // set-config runs on a fresh stack, from a timer
    equal(device.values.replyTopics, 'app/replies/#');
    broker.publish('lab/dev2/cmd/ping', JSON.stringify({ id: 'a', responseTopic: 'app/replies/1' }));
    equal(broker.to('app/replies/1').length, 1);
    broker.publish('lab/dev2/cmd/ping', JSON.stringify({ id: 'b', responseTopic: 'lab/reply/1' }));
    broker.publish('lab/dev2/cmd/ping', JSON.stringify({ id: 'c', responseTopic: 'app/replies/cmd/reboot' }));
    equal(broker.to('lab/reply/').length + broker.to('app/replies/cmd/').length, 0);
    const errors = broker.to('lab/dev2/cmd/ping/result').map((p) => JSON.parse(p.payload) as Record<string, unknown>);
    equal(errors.map((b) => [b.id, b.status]), [['b', 'error'], ['c', 'error']]);
    ok(String(errors[0].error).includes('outside the reply topics (app/replies/#)'), String(errors[0].error));
  });

  test('an empty command payload is answered with an error', () => {
    const { broker } = boot('dev2');
    broker.publish('lab/dev2/cmd/ping', '');
    const replies = broker.to('lab/dev2/cmd/ping/result');
    equal(replies.length, 1);
    const body = JSON.parse(replies[0].payload) as Record<string, unknown>;
    equal([body.id, body.status], [null, 'error']);
    ok(String(body.error).includes('empty request'), String(body.error));
  });
});
