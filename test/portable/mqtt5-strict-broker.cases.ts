// The MQTT 5 client against a scripted broker that answers as the OASIS MQTT 5.0 specification allows
// where mosquitto happens not to: PUBCOMP 0x92 (Packet Identifier not found) to a PUBREL resent in
// session recovery (section 3.7.2.1), and shared subscriptions (section 4.8.2), whose messages carry
// the topic, not the $share/<group>/ filter. Packets are written by hand from section 3.
import { MqttClient, type ClientOptions } from '../../src/mqtt/client';
import { MqttClientError } from '../../src/mqtt/errors';
import { topicMatches } from '../../src/mqtt/topic';
import { mqtt5 } from '../../src/mqtt/v5/protocol';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, ScriptedSocket } from '../../hosts/sim/fakes/network';
import { equal, ok, suite, throws } from '../../hosts/xs/harness';

const CONNACK = '20 03 00 00 00';
const text = (s: string) => Array.from(s, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');

function setup(options: Partial<ClientOptions> = {}, version: 4 | 5 = 5) {
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  const messages: string[] = [];
  const errors: Error[] = [];
  const logs: string[] = [];
  const client = new MqttClient({
    clock,
    network: net,
    system: { random: () => 0 },
    host: 'broker',
    clientId: 'c1',
    protocol: version === 5 ? mqtt5() : undefined,
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    onMessage: (topic) => messages.push(topic),
    onError: (e) => errors.push(e),
    ...options,
  });
  const connect = (connack = version === 5 ? CONNACK : '20 02 00 00'): ScriptedSocket => {
    if (net.sockets.length === 0) client.connect();
    const s = net.last;
    s.open();
    s.sent();
    s.receive(connack);
    return s;
  };
  const cut = (): void => {
    net.last.options.onError(new Error('reset by peer'));
    clock.advance(0);
  };
  return { client, net, messages, errors, logs, connect, cut };
}

export default suite('mqtt5 strict broker', (test) => {
  test('PUBCOMP 0x92 Packet Identifier not found to a PUBREL resent after a reconnect completes the publish, with a note in the log', () => {
    const t = setup({ cleanSession: false });
    let s = t.connect();
    const results: [Error | undefined, unknown][] = [];
    t.client.publish('a/b', 'x', { qos: 2 }, (e, info) => results.push([e, info]));
    // topic, packet id 1, no properties, payload
    equal(s.sent(), ['34 09 00 03 61 2f 62 00 01 00 78']);
    s.receive('50 02 00 01');
    equal(s.sent(), ['62 02 00 01']);
    // the PUBCOMP is lost with the connection; the server completed the exchange meanwhile
    t.cut();
    t.errors.length = 0;
    s = t.connect('20 03 01 00 00');
    equal(s.sent(), ['62 02 00 01'], 'PUBREL resent');
    s.receive('70 03 00 01 92');
    equal(results, [[undefined, { reasonCode: 0x92, reasonName: 'Packet Identifier not found', properties: undefined }]]);
    equal(t.client.outboxState, { depth: 0, bytes: 0, inflight: 0, dropped: [0, 0, 0] });
    equal(t.errors, []);
    ok(t.logs.some((l) => l.startsWith('info ') && l.includes('Packet Identifier not found (0x92)') && l.includes('a/b')), t.logs.join('\n'));
  });

  test('PUBCOMP 0x92 for a QoS 2 message the server never took with PUBREC is still an error', () => {
    const t = setup();
    const s = t.connect();
    const results: (Error | undefined)[] = [];
    t.client.publish('a/b', 'x', { qos: 2 }, (e) => results.push(e));
    s.sent();
    s.receive('70 03 00 01 92');
    equal([(results[0] as MqttClientError).code, (results[0] as MqttClientError).reasonCode], ['publish-failed', 0x92]);
  });

  test('a shared subscription delivers to its own handler: $share/<group>/<filter> matches on the filter', () => {
    const t = setup();
    const s = t.connect();
    const mine: string[] = [];
    t.client.subscribe('$share/g1/sensors/+/temp', { qos: 1, onMessage: (topic) => mine.push(topic) });
    // packet id 1, no properties, the filter as it is, options QoS 1
    equal(s.sent(), [`82 1e 00 01 00 00 18 ${text('$share/g1/sensors/+/temp')} 01`]);
    s.receive('90 04 00 01 00 01');
    // the server delivers with the topic name (section 4.8.2): to the subscription's handler
    s.receive(`30 11 00 0e ${text('sensors/a/temp')} 00`);
    equal(mine, ['sensors/a/temp']);
    // a topic the filter does not match goes to the client-wide handler
    s.receive(`30 10 00 0d ${text('sensors/a/hum')} 00`);
    equal(mine, ['sensors/a/temp']);
    equal(t.messages, ['sensors/a/hum']);
  });

  test('an MQTT 3.1.1 client also dispatches a shared subscription (as mosquitto offers it) on its filter', () => {
    const t = setup({}, 4);
    const s = t.connect();
    const mine: string[] = [];
    t.client.subscribe('$share/g/a/#', { onMessage: (topic) => mine.push(topic) });
    s.receive('90 03 00 01 00');
    s.receive(`30 05 00 03 ${text('a/b')}`);
    equal(mine, ['a/b']);
    equal(t.messages, []);
  });

  test('shared subscription filters match as their filter; first-level wildcards still skip $ topics', () => {
    equal(topicMatches('$share/g/#', 'a/b'), true);
    equal(topicMatches('$share/g/a/+', 'a/b'), true);
    equal(topicMatches('$share/g/a/+', 'a/b/c'), false);
    equal(topicMatches('$share/g/#', '$SYS/broker/load'), false);
    equal(topicMatches('$share/g/$SYS/#', '$SYS/broker/load'), true);
  });

  test('shared subscription filters are checked as section 4.8.2 says: a share name without + # /, then a filter', () => {
    const t = setup();
    const s = t.connect();
    for (const f of ['$share/g', '$share/g/', '$share//a', '$share/+/a', '$share/#', '$share/g#/a']) {
      throws(() => t.client.subscribe(f), MqttClientError, f);
    }
    throws(() => t.client.subscribe('$share/g/a', { noLocal: true }), MqttClientError, 'noLocal');
    equal(s.sent(), []);
    t.client.subscribe(['$share/g/a', '$share/g/#', '$share/g//']);
    equal(s.sent().length, 1);
  });
});
