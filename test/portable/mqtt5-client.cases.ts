// The MQTT client with protocol: mqtt5() on a scripted socket and a virtual clock. Every packet the
// client must write, and every packet the server sends, is written by hand from the OASIS MQTT 5.0
// layouts (section 3). Covers the server's limits (receive maximum, maximum packet size, maximum QoS,
// topic alias maximum, server keep alive), topic aliases both ways, our receive maximum, reason codes,
// DISCONNECT both ways, AUTH, session expiry, persistence of properties, and the 3.1.1 client refusing
// MQTT 5 options. Also reconnect() and tokenRefresh, which both versions have.
import { MqttClient, type ClientOptions, type MessageInfo } from '../../src/mqtt/client';
import { MqttClientError, MqttConnectError, MqttProtocolError } from '../../src/mqtt/errors';
import { outboxStore } from '../../src/mqtt/outbox-store';
import { mqtt5, type Mqtt5Options } from '../../src/mqtt/v5/protocol';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, ScriptedSocket, toHex } from '../../hosts/sim/fakes/network';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';

interface Message {
  topic: string;
  text: string;
  info: MessageInfo;
}

// CONNECT of client "c1" with the defaults: properties Maximum Packet Size 65536 (27 00 01 00 00),
// Topic Alias Maximum 16 (22 00 10).
const CONNECT = '10 17 00 04 4d 51 54 54 05 02 00 3c 08 27 00 01 00 00 22 00 10 00 02 63 31';
const CONNACK = '20 03 00 00 00';

function setup(options: Partial<ClientOptions> = {}, v5: Mqtt5Options = {}) {
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  const messages: Message[] = [];
  const errors: Error[] = [];
  const connects: { sessionPresent: boolean; properties?: unknown }[] = [];
  const disconnects: (Error | undefined)[] = [];
  const protocol = mqtt5(v5);
  const client = new MqttClient({
    clock,
    network: net,
    system: { random: () => 0 },
    host: 'broker',
    clientId: 'c1',
    protocol,
    onMessage: (topic, payload, info) => messages.push({ topic, text: String.fromCharCode(...payload), info }),
    onError: (e) => errors.push(e),
    onConnect: (i) => connects.push(i),
    onDisconnect: (e) => disconnects.push(e),
    ...options,
  });
  /** Connects and answers with `connack`; returns the socket with CONNECT taken. */
  const connect = (connack = CONNACK): ScriptedSocket => {
    if (!client.connected && net.sockets.length === 0) client.connect();
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
  return { client, protocol, clock, net, messages, errors, connects, disconnects, connect, cut };
}

const text = (s: string) => Array.from(s, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');

export default suite('mqtt5 client', (test) => {
  // ---- connecting ---------------------------------------------------------------------------

  test('CONNECT is version 5 with Maximum Packet Size and Topic Alias Maximum; CONNACK properties reach onConnect', () => {
    const t = setup();
    t.client.connect();
    t.net.last.open();
    equal(t.net.last.sent(), [CONNECT]);
    // CONNACK: Receive Maximum 20, Retain Available 0
    t.net.last.receive('20 08 00 00 05 21 00 14 25 00');
    ok(t.client.connected);
    equal(t.connects, [{ sessionPresent: false, properties: { receiveMaximum: 20, retainAvailable: false } }]);
    equal([t.protocol.receiveMaximum, t.protocol.retainAvailable, t.protocol.maximumQoS], [20, false, 2]);
  });

  test('cleanSession: false asks for a session that never expires, unless a session expiry is given', () => {
    const t = setup({ cleanSession: false });
    t.client.connect();
    t.net.last.open();
    // flags 0 (no Clean Start); Session Expiry Interval 0xFFFFFFFF first
    equal(t.net.last.sent(), ['10 1c 00 04 4d 51 54 54 05 00 00 3c 0d 11 ff ff ff ff 27 00 01 00 00 22 00 10 00 02 63 31']);
    const u = setup({ cleanSession: false }, { sessionExpiryInterval: 300, receiveMaximum: 5, topicAliasMaximum: 0 });
    u.client.connect();
    u.net.last.open();
    // Session Expiry 300 (11 00 00 01 2c), Receive Maximum 5 (21 00 05), no Topic Alias Maximum
    equal(u.net.last.sent(), ['10 1c 00 04 4d 51 54 54 05 00 00 3c 0d 11 00 00 01 2c 21 00 05 27 00 01 00 00 00 02 63 31']);
  });

  test('a will with properties and a password without a user name', () => {
    const t = setup({ will: { topic: 'w', payload: 'x', qos: 1, properties: { willDelayInterval: 30 } }, password: 'tok' }, { topicAliasMaximum: 0 });
    t.client.connect();
    t.net.last.open();
    // flags: password 0x40 | will QoS 1 0x08 | will 0x04 | clean start 0x02 = 0x4e;
    // will properties: Will Delay Interval 30 (18 00 00 00 1e)
    equal(t.net.last.sent(), ['10 25 00 04 4d 51 54 54 05 4e 00 3c 05 27 00 01 00 00 00 02 63 31 05 18 00 00 00 1e 00 01 77 00 01 78 00 03 74 6f 6b']);
  });

  test('a refused connection: MqttConnectError with the reason code, its name and the reason string', () => {
    const t = setup({ reconnect: false });
    t.client.connect();
    t.net.last.open();
    // 0x86 Bad User Name or Password, Reason String "who?"
    t.net.last.receive('20 0a 00 86 07 1f 00 04 77 68 6f 3f');
    ok(!t.client.connected);
    const e = t.errors[0] as MqttConnectError;
    ok(e instanceof MqttConnectError);
    equal([e.returnCode, e.reasonCode, e.reasonName, e.reasonString], [0x86, 0x86, 'Bad User Name or Password', 'who?']);
    ok(e.message.includes('Bad User Name or Password (0x86)') && e.message.includes('"who?"'), e.message);
    ok(t.net.last.closed);
  });

  test('0x84 Unsupported Protocol Version says to use MQTT 3.1.1', () => {
    const t = setup({ reconnect: false });
    t.connect('20 03 00 84 00');
    ok(t.errors[0].message.includes('leave out the protocol option'), t.errors[0].message);
  });

  test('the assigned client identifier is used at the next connect', () => {
    const t = setup({ clientId: '', cleanSession: false });
    // Assigned Client Identifier "auto-1"
    t.connect('20 0c 00 00 09 12 00 06 61 75 74 6f 2d 31');
    equal(t.protocol.assignedClientIdentifier, 'auto-1');
    t.cut();
    t.net.last.open();
    const connect = t.net.last.sent()[0];
    ok(connect.endsWith(`00 06 ${text('auto-1')}`), connect);
  });

  test('Server Keep Alive replaces the client keep-alive', () => {
    const t = setup({ keepAlive: 60 });
    // Server Keep Alive 4 s: PINGREQ after 3 s idle
    const s = t.connect('20 06 00 00 03 13 00 04');
    t.clock.advance(2999);
    equal(s.sent(), []);
    t.clock.advance(1);
    equal(s.sent(), ['c0 00']);
  });

  // ---- publishing ---------------------------------------------------------------------------

  test('PUBLISH carries the properties; QoS 1 waits for PUBACK', () => {
    const t = setup();
    const s = t.connect();
    const done: (Error | undefined)[] = [];
    t.client.publish('a/b', 'hi', { qos: 1, properties: { contentType: 't', correlationData: Uint8Array.of(7) } }, (e) => done.push(e));
    // topic, id 1, properties (03 00 01 74, 09 00 01 07), payload
    equal(s.sent(), ['32 12 00 03 61 2f 62 00 01 08 03 00 01 74 09 00 01 07 68 69']);
    s.receive('40 02 00 01');
    equal(done, [undefined]);
    equal(t.client.outboxState.depth, 0);
  });

  test('the server receive maximum limits the messages in flight', () => {
    const t = setup({ inflightWindow: 16 });
    // Receive Maximum 2
    const s = t.connect('20 06 00 00 03 21 00 02');
    for (const topic of ['a', 'b', 'c']) t.client.publish(topic, 'x', { qos: 1 });
    equal(s.sent(), ['32 07 00 01 61 00 01 00 78', '32 07 00 01 62 00 02 00 78']);
    s.receive('40 02 00 01');
    equal(s.sent(), ['32 07 00 01 63 00 03 00 78']);
  });

  test('after a reconnect to a smaller receive maximum, the messages over it wait their turn', () => {
    const t = setup({ cleanSession: false });
    let s = t.connect();
    for (const topic of ['a', 'b', 'c']) t.client.publish(topic, 'x', { qos: 1 });
    equal(s.sent().length, 3);
    t.cut();
    // session present, Receive Maximum 1: "a" again with DUP; "b" and "c" queue with new ids
    s = t.connect('20 06 01 00 03 21 00 01');
    equal(s.sent(), ['3a 07 00 01 61 00 01 00 78']);
    s.receive('40 02 00 01');
    // new ids: 1 to 3 were taken before
    equal(s.sent(), ['32 07 00 01 62 00 04 00 78']);
    s.receive('40 02 00 04');
    equal(s.sent(), ['32 07 00 01 63 00 05 00 78']);
  });

  test('topic aliases: set with the topic, then the alias alone; the least recently used is replaced', () => {
    const t = setup();
    // Topic Alias Maximum 2
    const s = t.connect('20 06 00 00 03 22 00 02');
    t.client.publish('a/b', 'x');
    t.client.publish('a/b', 'x');
    t.client.publish('c', 'x');
    t.client.publish('d', 'x'); // replaces a/b, the least recently used
    t.client.publish('a/b', 'x'); // replaces c
    equal(s.sent(), [
      '30 0a 00 03 61 2f 62 03 23 00 01 78',
      '30 07 00 00 03 23 00 01 78',
      '30 08 00 01 63 03 23 00 02 78',
      '30 08 00 01 64 03 23 00 01 78',
      '30 0a 00 03 61 2f 62 03 23 00 02 78',
    ]);
    // aliases belong to the connection: after a reconnect, the topic goes again
    t.cut();
    const again = t.connect('20 06 00 00 03 22 00 02');
    t.client.publish('d', 'x');
    equal(again.sent(), ['30 08 00 01 64 03 23 00 01 78']);
  });

  test('without a Topic Alias Maximum from the server, or with topicAliases: 0, no alias is sent', () => {
    const t = setup();
    const s = t.connect();
    t.client.publish('a/b', 'x');
    t.client.publish('a/b', 'x');
    equal(s.sent(), ['30 07 00 03 61 2f 62 00 78', '30 07 00 03 61 2f 62 00 78']);
    const u = setup({}, { topicAliases: 0 });
    const su = u.connect('20 06 00 00 03 22 00 0a');
    u.client.publish('a/b', 'x');
    equal(su.sent(), ['30 07 00 03 61 2f 62 00 78']);
  });

  test('a message over the server maximum packet size is not sent: too-large error, nothing lost from the rest', () => {
    const t = setup();
    // Maximum Packet Size 17, Topic Alias Maximum 2
    const s = t.connect('20 0b 00 00 08 27 00 00 00 11 22 00 02');
    const results: (Error | undefined)[] = [];
    t.client.publish('a/b', 'x'.repeat(30), { qos: 1 }, (e) => results.push(e));
    t.client.publish('a/b', 'small', { qos: 1 }, (e) => results.push(e));
    equal((results[0] as MqttClientError).code, 'too-large');
    ok(results[0]!.message.includes("over the server's maximum packet size of 17 bytes"), results[0]!.message);
    // 2 + 5 + 2 + 1 + 5 = 15 bytes, under 17; a new alias (3 bytes more) would not fit, so none
    equal(s.sent(), ['32 0d 00 03 61 2f 62 00 02 00 73 6d 61 6c 6c']);
  });

  test('QoS over the server maximum QoS, or retain where it has none, is refused with the reason', () => {
    const t = setup();
    // Maximum QoS 0, Retain Available 0
    const s = t.connect('20 07 00 00 04 24 00 25 00');
    const results: (Error | undefined)[] = [];
    t.client.publish('t', 'x', { qos: 1 }, (e) => results.push(e));
    t.client.publish('t', 'x', { retain: true }, (e) => results.push(e));
    const [qos, retain] = results as MqttClientError[];
    equal([qos.code, qos.reasonCode, qos.reasonName], ['publish-failed', 0x9b, 'QoS not supported']);
    equal([retain.code, retain.reasonCode, retain.reasonName], ['publish-failed', 0x9a, 'Retain not supported']);
    equal(s.sent(), []);
    equal(t.client.outboxState, { depth: 0, bytes: 0, inflight: 0, dropped: [0, 0, 0] });
  });

  test('PUBACK reason codes: an error from 0x80 with its name and reason string; 0x10 is a success with info', () => {
    const t = setup();
    const s = t.connect();
    const results: [Error | undefined, unknown][] = [];
    t.client.publish('a', 'x', { qos: 1 }, (e, info) => results.push([e, info]));
    t.client.publish('b', 'x', { qos: 1 }, (e, info) => results.push([e, info]));
    s.sent();
    // 0x87 Not authorized, Reason String "acl"; then 0x10 No matching subscribers
    s.receive('40 0a 00 01 87 06 1f 00 03 61 63 6c');
    s.receive('40 03 00 02 10');
    const e = results[0][0] as MqttClientError;
    equal([e.code, e.reasonCode, e.reasonName, e.reasonString], ['publish-failed', 0x87, 'Not authorized', 'acl']);
    ok(e.message.includes('message to a') && e.message.includes('Not authorized (0x87)'), e.message);
    equal(results[1], [undefined, { reasonCode: 0x10, reasonName: 'No matching subscribers', properties: undefined }]);
    equal(t.client.outboxState.inflight, 0);
  });

  test('QoS 2: a refusing PUBREC ends the exchange without PUBREL; PUBREC 0x10 goes on', () => {
    const t = setup();
    const s = t.connect();
    const results: (Error | undefined)[] = [];
    t.client.publish('a', 'x', { qos: 2 }, (e) => results.push(e));
    t.client.publish('b', 'x', { qos: 2 }, (e) => results.push(e));
    s.sent();
    s.receive('50 03 00 01 97'); // Quota exceeded
    equal(s.sent(), []);
    equal((results[0] as MqttClientError).reasonName, 'Quota exceeded');
    s.receive('50 03 00 02 10');
    equal(s.sent(), ['62 02 00 02']);
    s.receive('70 02 00 02');
    equal(results[1], undefined);
    equal(results.length, 2);
  });

  test('publish properties are checked when published', () => {
    const t = setup();
    throws(() => t.client.publish('t', 'x', { properties: { topicAlias: 3 } as never }), MqttClientError, 'topicAlias is chosen by the client');
    throws(() => t.client.publish('t', 'x', { properties: { responseTopic: 'a/#' } }), MqttClientError, 'responseTopic');
    throws(() => t.client.publish('t', 'x', { properties: { messageExpiryInterval: -1 } }), MqttClientError, 'messageExpiryInterval');
    equal(t.client.outboxState.depth, 0);
  });

  test('persisted messages keep their properties across a restart', () => {
    const store = new MemoryStore();
    const first = setup({ cleanSession: false, outbox: { persist: outboxStore(store) } });
    first.client.publish('a', 'x', { qos: 1, properties: { correlationData: Uint8Array.of(9) } });
    const second = setup({ cleanSession: false, outbox: { persist: outboxStore(store) } });
    equal(second.client.outboxState.depth, 1);
    const s = second.connect();
    equal(s.sent(), ['32 0b 00 01 61 00 01 04 09 00 01 09 78']);
  });

  // ---- receiving ----------------------------------------------------------------------------

  test('inbound properties reach the handler; topic aliases set by the server are resolved', () => {
    const t = setup();
    const s = t.connect();
    const mine: MessageInfo[] = [];
    t.client.subscribe('x/+', { onMessage: (_t, _p, info) => mine.push(info) });
    s.receive('90 04 00 01 00 00');
    // topic "x/y" with Topic Alias 1, then the alias alone, then Response Topic "r" with alias 1
    s.receive('30 0a 00 03 78 2f 79 03 23 00 01 41');
    s.receive('30 07 00 00 03 23 00 01 42');
    s.receive('30 0b 00 00 07 23 00 01 08 00 01 72 43');
    equal(mine.length, 3);
    equal(mine[2].properties, { topicAlias: 1, responseTopic: 'r' });
    const u = setup();
    const su = u.connect();
    su.receive('30 0a 00 03 78 2f 79 03 23 00 01 41 30 07 00 00 03 23 00 01 42');
    equal(u.messages.map((m) => `${m.topic}:${m.text}`), ['x/y:A', 'x/y:B']);
  });

  test('a topic alias over our maximum: DISCONNECT 0x94 Topic Alias invalid, then the connection closes', () => {
    const t = setup({}, { topicAliasMaximum: 4 });
    const s = t.connect();
    s.receive('30 08 00 01 78 03 23 00 05 41');
    equal((t.errors[0] as MqttProtocolError).code, 'topic-alias');
    const out = s.sent();
    equal(out.length, 1);
    ok(out[0].startsWith('e0') && out[0].split(' ')[2] === '94', out[0]);
    ok(s.closed && !t.client.connected);
  });

  test('an alias the server never set: DISCONNECT 0x82 Protocol Error', () => {
    const t = setup();
    const s = t.connect();
    s.receive('30 07 00 00 03 23 00 02 41');
    equal((t.errors[0] as MqttProtocolError).code, 'protocol');
    equal(s.sent()[0].split(' ')[2], '82');
  });

  test('our receive maximum: more unreleased QoS 2 messages than announced is 0x93 Receive Maximum exceeded', () => {
    const t = setup({}, { receiveMaximum: 1 });
    const s = t.connect();
    s.receive('34 07 00 01 61 00 01 00 41');
    equal(s.sent(), ['50 02 00 01']);
    // the same id again (a duplicate) does not count twice
    s.receive('3c 07 00 01 61 00 01 00 41');
    equal(s.sent(), ['50 02 00 01']);
    s.receive('34 07 00 01 61 00 02 00 42');
    equal((t.errors[0] as MqttProtocolError).code, 'receive-maximum');
    equal(s.sent()[0].split(' ')[2], '93');
    equal(t.messages.length, 1);
  });

  test('once released, the next QoS 2 message is within the receive maximum', () => {
    const t = setup({}, { receiveMaximum: 1 });
    const s = t.connect();
    s.receive('34 07 00 01 61 00 01 00 41');
    s.receive('62 02 00 01');
    s.receive('34 07 00 01 61 00 02 00 42');
    equal(s.sent(), ['50 02 00 01', '70 02 00 01', '50 02 00 02']);
    equal(t.errors, []);
  });

  // ---- subscriptions --------------------------------------------------------------------------

  test('SUBSCRIBE with options and a subscription identifier; resubscribed the same way without a session', () => {
    const t = setup();
    const s = t.connect();
    t.client.subscribe('a/+', { qos: 1, noLocal: true, retainHandling: 1, subscriptionIdentifier: 7 });
    t.client.subscribe([{ filter: 'b', qos: 2, retainAsPublished: true }]);
    // options: QoS 1 | No Local 4 | Retain Handling 1 << 4 = 0x15; QoS 2 | Retain As Published 8 = 0x0a
    equal(s.sent(), ['82 0b 00 01 02 0b 07 00 03 61 2f 2b 15', '82 07 00 02 00 00 01 62 0a']);
    s.receive('90 04 00 01 00 01 90 04 00 02 00 02');
    t.cut();
    // one SUBSCRIBE per subscription identifier
    equal(t.connect().sent(), ['82 0b 00 03 02 0b 07 00 03 61 2f 2b 15', '82 07 00 04 00 00 01 62 0a']);
  });

  test('a refused subscription names the filter and the reason', () => {
    const t = setup();
    const s = t.connect();
    let outcome: [Error | undefined, number[]] | undefined;
    t.client.subscribe(['ok/x', 'no/x'], { qos: 1 }, (e, codes) => (outcome = [e, codes]));
    s.sent();
    s.receive('90 05 00 01 00 01 87');
    const [e, codes] = outcome!;
    equal(codes, [1, 0x87]);
    const error = e as MqttClientError;
    equal([error.code, error.reasonCode, error.reasonName], ['subscribe-failed', 0x87, 'Not authorized']);
    ok(error.message.includes('no/x (Not authorized (0x87))') && !error.message.includes('ok/x'), error.message);
  });

  test('UNSUBACK reason codes: 0x11 is fine, 0x87 an error', () => {
    const t = setup();
    const s = t.connect();
    const results: (Error | undefined)[] = [];
    t.client.unsubscribe(['a', 'b'], (e) => results.push(e));
    t.client.unsubscribe('c', (e) => results.push(e));
    equal(s.sent(), ['a2 09 00 01 00 00 01 61 00 01 62', 'a2 06 00 02 00 00 01 63']);
    s.receive('b0 05 00 01 00 00 11');
    s.receive('b0 04 00 02 00 87');
    equal(results[0], undefined);
    equal([(results[1] as MqttClientError).code, (results[1] as MqttClientError).reasonCode], ['unsubscribe-failed', 0x87]);
  });

  // ---- DISCONNECT and AUTH ------------------------------------------------------------------

  test('a DISCONNECT from the server is an error with its reason; the client reconnects', () => {
    const t = setup();
    const s = t.connect();
    // 0x8E Session taken over
    s.receive('e0 01 8e');
    const e = t.disconnects[0] as MqttClientError;
    equal([e.code, e.reasonCode, e.reasonName], ['disconnected', 0x8e, 'Session taken over']);
    ok(s.closed);
    t.clock.advance(0);
    equal(t.net.sockets.length, 2);
  });

  test('a DISCONNECT with a Server Reference carries it', () => {
    const t = setup();
    // 0x9C Use another server, Server Reference "b2"
    t.connect().receive('e0 07 9c 05 1c 00 02 62 32');
    const e = t.disconnects[0] as MqttClientError;
    equal([e.reasonName, e.serverReference], ['Use another server', 'b2']);
    ok(e.message.includes('the server suggests b2'), e.message);
  });

  test('end() sends DISCONNECT; with a reason code, a session expiry or a reason string as asked', () => {
    const a = setup();
    const sa = a.connect();
    a.client.end();
    equal(sa.sent(), ['e0 00']);
    const b = setup();
    const sb = b.connect();
    b.client.end({ reasonCode: 4 });
    equal(sb.sent(), ['e0 01 04']);
    const c = setup({ cleanSession: false });
    const sc = c.connect();
    c.client.end({ sessionExpiryInterval: 0, reasonString: 'bye' });
    // reason 0 kept because of the properties: Reason String, Session Expiry Interval 0
    equal(sc.sent(), ['e0 0d 00 0b 1f 00 03 62 79 65 11 00 00 00 00']);
    const d = setup();
    d.connect();
    throws(() => d.client.end({ sessionExpiryInterval: 10 }), MqttClientError, 'cannot be set at DISCONNECT');
    throws(() => d.client.end({ reasonCode: 0x87 }), MqttClientError, 'may not disconnect with reason code 0x87');
  });

  test('a protocol error is told to the server: DISCONNECT 0x81 Malformed Packet', () => {
    const t = setup();
    const s = t.connect();
    s.receive('40 03 00 01 04'); // PUBACK may not carry 0x04
    equal((t.errors[0] as MqttProtocolError).code, 'malformed');
    equal(s.sent()[0].split(' ')[2], '81');
  });

  test('enhanced authentication: method and data in CONNECT, AUTH challenges answered, the server final data checked', () => {
    const seen: string[] = [];
    const auth = {
      method: 'X',
      start: (again: boolean) => Uint8Array.of(again ? 9 : 1),
      challenge: (data: Uint8Array | undefined) => {
        seen.push(`challenge ${toHex(data!)}`);
        return Uint8Array.of(data![0] + 1);
      },
      done: (data: Uint8Array | undefined) => {
        seen.push(`done ${toHex(data!)}`);
        if (data![0] === 0xee) throw new Error('bad server signature');
      },
    };
    const t = setup({}, { auth, topicAliasMaximum: 0 });
    t.client.connect();
    const s = t.net.last;
    s.open();
    // Authentication Method "X" (15 00 01 58), Authentication Data 01 (16 00 01 01)
    equal(s.sent(), ['10 1c 00 04 4d 51 54 54 05 02 00 3c 0d 27 00 01 00 00 15 00 01 58 16 00 01 01 00 02 63 31']);
    s.receive('f0 0a 18 08 15 00 01 58 16 00 01 02');
    equal(s.sent(), ['f0 0a 18 08 15 00 01 58 16 00 01 03']);
    ok(!t.client.connected);
    s.receive('20 0b 00 00 08 15 00 01 58 16 00 01 04');
    ok(t.client.connected);
    equal(seen, ['challenge 02', 'done 04']);
    // re-authentication on the live connection
    t.protocol.reauthenticate();
    equal(s.sent(), ['f0 0a 19 08 15 00 01 58 16 00 01 09']);
    s.receive('f0 0a 18 08 15 00 01 58 16 00 01 0a');
    equal(s.sent(), ['f0 0a 18 08 15 00 01 58 16 00 01 0b']);
    s.receive('f0 0a 00 08 15 00 01 58 16 00 01 0c');
    equal(seen.slice(2), ['challenge 0a', 'done 0c']);
    ok(t.client.connected);
  });

  test('enhanced authentication fails: a refused final server message, or a challenge that throws', () => {
    const bad = setup({ reconnect: false }, { auth: { method: 'X', challenge: () => undefined, done: () => { throw new Error('bad server signature'); } } });
    bad.connect('20 07 00 00 04 15 00 01 58');
    const e = bad.errors[0] as MqttClientError;
    equal(e.code, 'auth-failed');
    ok(e.message.includes('bad server signature') && !bad.client.connected, e.message);
    const thrower = setup({ reconnect: false }, { auth: { method: 'X', challenge: () => { throw new Error('no key'); } } });
    thrower.client.connect();
    thrower.net.last.open();
    thrower.net.last.receive('f0 09 18 07 15 00 01 58 16 00 00');
    equal((thrower.errors[0] as MqttClientError).code, 'auth-failed');
    ok(thrower.net.last.closed);
    const other = setup({ reconnect: false }, { auth: { method: 'X', challenge: () => undefined } });
    other.client.connect();
    other.net.last.open();
    other.net.last.receive('f0 09 18 07 15 00 01 59 16 00 00');
    equal((other.errors[0] as MqttProtocolError).code, 'protocol');
  });

  test('AUTH without enhanced authentication configured is a protocol error', () => {
    const t = setup();
    const s = t.connect();
    s.receive('f0 06 18 04 15 00 01 58');
    equal((t.errors[0] as MqttProtocolError).code, 'protocol');
    throws(() => t.protocol.reauthenticate(), MqttClientError, 'needs mqtt5({ auth })');
  });

  test('one mqtt5() per client', () => {
    const protocol = mqtt5();
    const options = { clock: new ManualClock(), network: new ScriptedNetwork(), host: 'h', clientId: 'a', protocol };
    new MqttClient(options);
    throws(() => new MqttClient(options), MqttClientError, 'already belongs to another client');
  });

  test('bad mqtt5 options are refused when made', () => {
    throws(() => mqtt5({ receiveMaximum: 0 }), MqttClientError, 'receiveMaximum');
    throws(() => mqtt5({ topicAliases: -1 }), MqttClientError, 'topicAliases');
    throws(() => mqtt5({ auth: { method: '' } as never }), MqttClientError, 'auth needs a method name');
  });

  // ---- MQTT 3.1.1 refuses MQTT 5 options; reconnect() and tokenRefresh -------------------------

  test('a 3.1.1 client refuses MQTT 5 options with a message that says how to get MQTT 5', () => {
    const options = { clock: new ManualClock(), network: new ScriptedNetwork(), host: 'h', clientId: 'a' };
    const c = new MqttClient(options);
    throws(() => c.publish('t', 'x', { properties: { contentType: 'a' } }), MqttClientError, 'properties needs MQTT 5 (protocol: mqtt5())');
    // `first` is a 3.1.1 option too: the error names what needs MQTT 5
    throws(() => c.publish('t', 'x', { first: true, properties: { contentType: 'a' } }), MqttClientError, 'properties needs MQTT 5');
    throws(() => c.subscribe('t', { noLocal: true }), MqttClientError, 'noLocal needs MQTT 5');
    throws(() => c.subscribe([{ filter: 't', retainHandling: 2 }]), MqttClientError, 'retainHandling needs MQTT 5');
    throws(() => c.subscribe('t', { subscriptionIdentifier: 1 }), MqttClientError, 'subscriptionIdentifier needs MQTT 5');
    throws(() => c.end({ reasonCode: 4 }), MqttClientError, 'reasonCode needs MQTT 5');
    throws(() => new MqttClient({ ...options, will: { topic: 'w', payload: 'x', properties: { willDelayInterval: 5 } } }), MqttClientError, 'properties needs MQTT 5');
    equal(c.outboxState.depth, 0);
  });

  for (const version of [4, 5] as const) {
    test(`MQTT ${version === 4 ? '3.1.1' : '5'}: tokenRefresh reconnects cleanly with a fresh password, and again after that`, () => {
      const clock = new ManualClock();
      const net = new ScriptedNetwork();
      let n = 0;
      const client = new MqttClient({
        clock,
        network: net,
        system: { random: () => 0 },
        host: 'h',
        clientId: 'd',
        username: 'u',
        password: () => `token${++n}`,
        tokenRefresh: () => 5000,
        protocol: version === 5 ? mqtt5() : undefined,
      });
      client.connect();
      net.last.open();
      ok(net.last.sent()[0].endsWith(text('token1')));
      net.last.receive(version === 5 ? CONNACK : '20 02 00 00');
      clock.advance(4999);
      equal(net.sockets.length, 1);
      clock.advance(1);
      // DISCONNECT (no will), the socket closed, a new one opened at once
      equal(net.sockets[0].sent(), ['e0 00']);
      ok(net.sockets[0].closed);
      equal(net.sockets.length, 2);
      net.last.open();
      ok(net.last.sent()[0].endsWith(text('token2')));
      net.last.receive(version === 5 ? CONNACK : '20 02 00 00');
      ok(client.connected);
      clock.advance(5000);
      equal(net.sockets.length, 3);
    });
  }

  test('reconnect() connects again at once; a cut connection does not plan a refresh', () => {
    const t = setup({ tokenRefresh: () => 1000 });
    t.connect();
    t.client.reconnect();
    equal(t.net.sockets.length, 2);
    ok(t.net.sockets[0].closed);
    t.connect();
    t.cut();
    // the reconnect after the cut is the backoff's, not a token refresh
    equal(t.net.sockets.length, 3);
    t.clock.advance(1000);
    equal(t.net.sockets.length, 3);
  });
});
