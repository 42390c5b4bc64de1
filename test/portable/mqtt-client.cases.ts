// The MQTT client's behaviour on a scripted socket and a virtual clock: bytes it writes (written by
// hand from the OASIS MQTT 3.1.1 layouts, section 3), how it reacts to each broker packet, the
// outbox, inflight window, resend after reconnect, QoS 2 exactly-once, keep-alive and persistence.
import { MqttClient, type ClientOptions, type MessageInfo } from '../../src/mqtt/client';
import { MqttClientError, MqttConnectError, MqttProtocolError } from '../../src/mqtt/errors';
import { outboxStore } from '../../src/mqtt/outbox-store';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, ScriptedSocket } from '../../hosts/sim/fakes/network';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';

interface Message {
  topic: string;
  payload: Uint8Array;
  info: MessageInfo;
}

function setup(options: Partial<ClientOptions> = {}) {
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  const messages: Message[] = [];
  const errors: Error[] = [];
  const connects: boolean[] = [];
  const disconnects: (Error | undefined)[] = [];
  const client = new MqttClient({
    clock,
    network: net,
    system: { random: () => 0 },
    host: 'broker',
    clientId: 'c1',
    onMessage: (topic, payload, info) => messages.push({ topic, payload: payload.slice(), info }),
    onError: (e) => errors.push(e),
    onConnect: (i) => connects.push(i.sessionPresent),
    onDisconnect: (e) => disconnects.push(e),
    ...options,
  });
  /** Connects and answers CONNACK; returns the socket with CONNECT already taken. */
  const connect = (sessionPresent = false): ScriptedSocket => {
    if (!client.connected && net.sockets.length === 0) client.connect();
    const s = net.last;
    s.open();
    s.sent();
    s.receive(sessionPresent ? '20 02 01 00' : '20 02 00 00');
    return s;
  };
  /** Breaks the current connection and lets the reconnect timer run (random() is 0: no delay). */
  const cut = (): void => {
    net.last.options.onError(new Error('reset by peer'));
    clock.advance(0);
  };
  return { client, clock, net, messages, errors, connects, disconnects, connect, cut };
}

/** Stored outbox records (the inbound QoS 2 guard is a string). */
const records = (store: MemoryStore) => store.keys().filter((k) => store.get(k) instanceof Uint8Array).length;

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

export default suite('mqtt client', (test) => {
  test('sends CONNECT when the socket opens and is connected after CONNACK', () => {
    const t = setup();
    t.client.connect();
    equal(t.net.sockets.length, 1);
    equal(t.net.last.options.port, 1883);
    t.net.last.open();
    // clean session, keep-alive 60 s, client id "c1"
    equal(t.net.last.sent(), ['10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 63 31']);
    equal(t.client.connected, false);
    t.net.last.receive('20 02 00 00');
    equal(t.client.connected, true);
    equal(t.connects, [false]);
  });

  test('CONNECT carries the will, the user name and a password from a provider called at each connect', () => {
    let calls = 0;
    const t = setup({ will: { topic: 'w', payload: 'x', qos: 1, retain: true }, username: 'u', password: () => (calls++, 'p'), keepAlive: 10 });
    t.client.connect();
    t.net.last.open();
    // flags: user 0x80, password 0x40, will retain 0x20, will QoS 1 0x08, will 0x04, clean 0x02
    equal(t.net.last.sent(), ['10 1a 00 04 4d 51 54 54 04 ee 00 0a 00 02 63 31 00 01 77 00 01 78 00 01 75 00 01 70']);
    equal(calls, 1);
  });

  test('a refused connection reports the return code with advice, and is not connected', () => {
    const t = setup({ reconnect: false });
    t.client.connect();
    t.net.last.open();
    t.net.last.receive('20 02 00 05');
    equal(t.client.connected, false);
    ok(t.errors[0] instanceof MqttConnectError);
    equal((t.errors[0] as MqttConnectError).returnCode, 5);
    ok(/not authorized/.test(t.errors[0].message), t.errors[0].message);
    ok(t.net.last.closed);
  });

  test('no CONNACK within connectTimeout: a timeout error, the socket closed, a new attempt', () => {
    const t = setup({ connectTimeout: 1000 });
    t.client.connect();
    t.net.last.open();
    t.clock.advance(999);
    equal(t.errors, []);
    t.clock.advance(1);
    equal((t.errors[0] as MqttClientError).code, 'timeout');
    ok(t.net.sockets[0].closed);
    equal(t.net.sockets.length, 2, 'reconnect attempt');
  });

  test('QoS 0 publish goes out at once and calls done', () => {
    const t = setup();
    const s = t.connect();
    let done = 0;
    equal(t.client.publish('a/b', 'hi', { qos: 0 }, () => done++), true);
    equal(s.sent(), ['30 07 00 03 61 2f 62 68 69']);
    equal(done, 1);
    t.client.publish('a/b', bytes('hi'), { retain: true });
    equal(s.sent(), ['31 07 00 03 61 2f 62 68 69']);
    equal(t.client.outboxState, { depth: 0, bytes: 0, inflight: 0, dropped: [0, 0, 0] });
  });

  test('a payload over 127 bytes gets a 2-byte remaining length', () => {
    const t = setup();
    const s = t.connect();
    t.client.publish('t', new Uint8Array(200).fill(0x41));
    // remaining 2 + 1 + 200 = 203 = 0xcb 0x01
    equal(s.sent()[0].slice(0, 20), '30 cb 01 00 01 74 41');
  });

  test('QoS 1 publish waits for PUBACK before done', () => {
    const t = setup();
    const s = t.connect();
    const results: (Error | undefined)[] = [];
    t.client.publish('a/b', 'hi', { qos: 1 }, (e) => results.push(e));
    equal(s.sent(), ['32 09 00 03 61 2f 62 00 01 68 69']);
    equal(results, []);
    equal(t.client.outboxState, { depth: 1, bytes: 5, inflight: 1, dropped: [0, 0, 0] });
    s.receive('40 02 00 02'); // an id not in flight: ignored
    equal(results, []);
    s.receive('40 02 00 01');
    equal(results, [undefined]);
    equal(t.client.outboxState, { depth: 0, bytes: 0, inflight: 0, dropped: [0, 0, 0] });
  });

  test('QoS 2 publish: PUBREC is answered with PUBREL, PUBCOMP completes it', () => {
    const t = setup();
    const s = t.connect();
    let done = 0;
    t.client.publish('a/b', 'hi', { qos: 2 }, () => done++);
    equal(s.sent(), ['34 09 00 03 61 2f 62 00 01 68 69']);
    s.receive('40 02 00 01'); // PUBACK for a QoS 2 message: not its acknowledgement
    equal(done, 0);
    s.receive('50 02 00 01');
    equal(s.sent(), ['62 02 00 01']);
    equal(done, 0);
    s.receive('70 02 00 01');
    equal(done, 1);
    equal(t.client.outboxState.inflight, 0);
  });

  test('an acknowledged QoS 1 message leaves nothing in flight; its packet id goes again; a repeated PUBACK does nothing', () => {
    const t = setup();
    const s = t.connect();
    const done: string[] = [];
    t.client.publish('a', 'x', { qos: 1 }, (e) => done.push(`a:${e}`));
    s.receive('40 02 00 01');
    equal(t.client.outboxState, { depth: 0, bytes: 0, inflight: 0, dropped: [0, 0, 0] });
    s.receive('40 02 00 01'); // the broker repeats itself: no message has this id now
    equal(done, ['a:undefined']);
    t.client.publish('b', 'y', { qos: 1 }, (e) => done.push(`b:${e}`));
    t.client.publish('c', 'z', { qos: 2 }, (e) => done.push(`c:${e}`));
    // the id of the message acknowledged is free again (MQTT 3.1.1 section 2.3.1)
    equal(s.sent(), ['32 06 00 01 61 00 01 78', '32 06 00 01 62 00 01 79', '34 06 00 01 63 00 02 7a']);
    equal(t.client.outboxState.inflight, 2);
    s.receive('40 02 00 01 40 02 00 01 50 02 00 02 70 02 00 02');
    equal(done, ['a:undefined', 'b:undefined', 'c:undefined']);
    equal(t.client.outboxState, { depth: 0, bytes: 0, inflight: 0, dropped: [0, 0, 0] });
    equal(t.errors, []);
  });

  test('nothing is sent again for acknowledged messages when the session resumes', () => {
    const t = setup({ cleanSession: false, inflightWindow: 2 });
    t.connect();
    t.client.publish('a', 'x', { qos: 1 });
    t.client.publish('b', 'y', { qos: 1 });
    t.net.last.receive('40 02 00 02');
    t.cut();
    const s = t.connect(true);
    equal(s.sent(), ['3a 06 00 01 61 00 01 78']);
    s.receive('40 02 00 01');
    // a full window again: two in flight, the third waits
    for (const topic of ['c', 'd', 'e']) t.client.publish(topic, '', { qos: 1 });
    equal(s.sent().length, 2);
    equal(t.client.outboxState, { depth: 3, bytes: 3, inflight: 2, dropped: [0, 0, 0] });
  });

  test('packet ids are unique among messages in flight and skip 0', () => {
    const t = setup();
    const s = t.connect();
    for (let i = 0; i < 3; i++) t.client.publish('t', '', { qos: 1 });
    equal(s.sent(), ['32 05 00 01 74 00 01', '32 05 00 01 74 00 02', '32 05 00 01 74 00 03']);
  });

  test('messages published offline go out in order after CONNACK', () => {
    const t = setup();
    t.client.publish('a', 'x', { qos: 0 });
    t.client.publish('b', 'y', { qos: 1 });
    equal(t.client.outboxState.depth, 2);
    t.client.connect();
    t.net.last.open();
    t.net.last.sent();
    t.net.last.receive('20 02 00 00');
    equal(t.net.last.sent(), ['30 04 00 01 61 78', '32 06 00 01 62 00 01 79']);
  });

  test('a message published with first: true at connect goes ahead of those queued offline', () => {
    const t = setup({ onConnect: () => t.client.publish('s', 'on', { qos: 1, retain: true, first: true }) });
    t.client.publish('a', 'x', { qos: 0 });
    t.client.publish('b', 'y', { qos: 0 });
    t.client.connect();
    t.net.last.open();
    t.net.last.sent();
    t.net.last.receive('20 02 00 00');
    equal(t.net.last.sent(), ['33 07 00 01 73 00 01 6f 6e', '30 04 00 01 61 78', '30 04 00 01 62 79']);
  });

  test('the inflight window holds back QoS 1 messages until an acknowledgement frees a place', () => {
    const t = setup({ inflightWindow: 1 });
    const s = t.connect();
    t.client.publish('a', 'x', { qos: 1 });
    t.client.publish('b', 'y', { qos: 1 });
    t.client.publish('c', 'z', { qos: 0 });
    equal(s.sent(), ['32 06 00 01 61 00 01 78']);
    equal(t.client.outboxState.depth, 3);
    s.receive('40 02 00 01');
    equal(s.sent(), ['32 06 00 01 62 00 02 79', '30 04 00 01 63 7a']);
  });

  test('after a reconnect with the session resumed, unacknowledged publishes go again with DUP, and PUBREL', () => {
    const t = setup({ cleanSession: false });
    t.connect();
    t.client.publish('a', 'x', { qos: 1 });
    t.client.publish('b', 'y', { qos: 2 });
    t.net.last.receive('50 02 00 02'); // PUBREC: the broker has the QoS 2 message
    equal(t.net.last.sent().length, 3);
    t.cut();
    equal(t.client.connected, false);
    equal(t.disconnects.length, 1);
    const s = t.connect(true);
    equal(s.sent(), ['3a 06 00 01 61 00 01 78', '62 02 00 02']);
    s.receive('40 02 00 01 70 02 00 02');
    equal(t.client.outboxState.depth, 0);
  });

  test('after a reconnect without a session, unacknowledged publishes go again as new; a PUBREC-ed QoS 2 one is done', () => {
    const t = setup();
    t.connect();
    const done: string[] = [];
    t.client.publish('a', 'x', { qos: 1 }, () => done.push('a'));
    t.client.publish('b', 'y', { qos: 2 }, () => done.push('b'));
    t.net.last.receive('50 02 00 02');
    t.cut();
    const s = t.connect(false);
    equal(done, ['b']);
    equal(s.sent(), ['32 06 00 01 61 00 01 78']);
  });

  test('inbound QoS 0 and QoS 1 messages are delivered with their flags; QoS 1 is acknowledged', () => {
    const t = setup();
    const s = t.connect();
    s.receive('30 07 00 03 61 2f 62 68 69');
    equal(t.messages, [{ topic: 'a/b', payload: bytes('hi'), info: { qos: 0, retain: false, dup: false } }]);
    s.receive('3b 09 00 03 61 2f 62 00 07 68 69');
    equal(t.messages[1], { topic: 'a/b', payload: bytes('hi'), info: { qos: 1, retain: true, dup: true } });
    equal(s.sent(), ['40 02 00 07']);
  });

  test('inbound QoS 2 is delivered exactly once: duplicates before PUBREL are acknowledged but not delivered', () => {
    const t = setup();
    const s = t.connect();
    s.receive('34 08 00 03 61 2f 62 00 08 31');
    equal(s.sent(), ['50 02 00 08']);
    s.receive('3c 08 00 03 61 2f 62 00 08 31');
    equal(s.sent(), ['50 02 00 08']);
    equal(t.messages.length, 1);
    equal(t.client.stats.inboundDuplicates, 1);
    s.receive('62 02 00 08');
    equal(s.sent(), ['70 02 00 08']);
    s.receive('34 08 00 03 61 2f 62 00 08 32'); // the id is free again: a new message
    equal(t.messages.length, 2);
  });

  test('inbound QoS 2 across reconnects: the guard holds while the session resumes and ends with it; after PUBREL the id is a new message', () => {
    const t = setup({ cleanSession: false });
    t.connect().receive('34 08 00 03 61 2f 62 00 08 31'); // id 8, then the link breaks before PUBREL
    t.cut();
    let s = t.connect(true);
    s.receive('3c 08 00 03 61 2f 62 00 08 31'); // the broker resends it with DUP
    equal(s.sent(), ['50 02 00 08']);
    equal(t.messages.length, 1);
    equal(t.client.stats.inboundDuplicates, 1);
    s.receive('62 02 00 08');
    equal(s.sent(), ['70 02 00 08']);
    t.cut();
    // Once released, the id may carry a new message, DUP or not (section 4.3.3, Method B): mosquitto
    // 2.0 sends such a PUBLISH again after restoring its database, and only the broker can avoid it.
    s = t.connect(true);
    s.receive('3c 08 00 03 61 2f 62 00 08 31');
    equal(t.messages.length, 2);
    s.receive('34 08 00 03 61 2f 62 00 09 32'); // id 9, unreleased when the session ends
    t.cut();
    s = t.connect(false);
    s.receive('34 08 00 03 61 2f 62 00 09 33');
    equal(t.messages.map((m) => String.fromCharCode(...m.payload)), ['1', '1', '2', '3']);
    equal(t.client.stats.inboundDuplicates, 1);
  });

  test('a QoS 2 publish acknowledged with PUBREC goes on with PUBREL over every later connection, never PUBLISH again', () => {
    const t = setup({ cleanSession: false });
    const done: (Error | undefined)[] = [];
    let s = t.connect();
    t.client.publish('b', 'y', { qos: 2 }, (e) => done.push(e));
    s.receive('50 02 00 01');
    equal(s.sent(), ['34 06 00 01 62 00 01 79', '62 02 00 01']);
    for (let i = 0; i < 2; i++) {
      t.cut();
      s = t.connect(true);
      equal(s.sent(), ['62 02 00 01']);
    }
    s.receive('50 02 00 01'); // a PUBREC again (a broker restored from its database): PUBREL again
    equal(s.sent(), ['62 02 00 01']);
    equal(done, []);
    s.receive('70 02 00 01');
    equal(done, [undefined]);
    equal(t.client.outboxState.depth, 0);
  });

  test('packets split across reads, and several in one read, give the same messages', () => {
    const t = setup();
    const s = t.connect();
    const stream = '30 05 00 01 61 31 32 32 06 00 01 62 00 09 33 30 03 00 01 63';
    const all = hex(stream);
    for (let i = 0; i < all.length; i++) s.receive(all[i].toString(16).padStart(2, '0'));
    s.receive(stream);
    const seen = t.messages.map((m) => `${m.topic}:${String.fromCharCode(...m.payload)}:${m.info.qos}`);
    equal(seen, ['a:12:0', 'b:3:1', 'c::0', 'a:12:0', 'b:3:1', 'c::0']);
    equal(s.sent(), ['40 02 00 09', '40 02 00 09']);
  });

  test('a big inbound message split into many reads is assembled once', () => {
    const t = setup();
    const s = t.connect();
    const payload = 'ab'.repeat(150);
    // remaining 2 + 1 + 300 = 303 = 0xaf 0x02
    const packet = `30 af 02 00 01 74 ${Array.from(payload, (c) => c.charCodeAt(0).toString(16)).join(' ')}`;
    const b = hex(packet);
    for (let i = 0; i < b.length; i += 50) s.receive(Array.from(b.subarray(i, i + 50), (x) => x.toString(16).padStart(2, '0')).join(' '));
    equal(t.messages.length, 1);
    equal(String.fromCharCode(...t.messages[0].payload), payload);
  });

  test('subscribe sends SUBSCRIBE, routes matching messages to its handler, reports the granted QoS', () => {
    const t = setup();
    const s = t.connect();
    const mine: string[] = [];
    let result: [Error | undefined, number[]] | undefined;
    t.client.subscribe('a/+', { qos: 1, onMessage: (topic) => mine.push(topic) }, (e, g) => (result = [e, g]));
    equal(s.sent(), ['82 08 00 01 00 03 61 2f 2b 01']);
    s.receive('90 03 00 01 01');
    equal(result, [undefined, [1]]);
    s.receive('30 05 00 03 61 2f 78 30 03 00 01 62');
    equal(mine, ['a/x']);
    equal(t.messages.map((m) => m.topic), ['b']);
  });

  test('a refused subscription (0x80) is an error naming the filter', () => {
    const t = setup();
    const s = t.connect();
    let error: Error | undefined;
    let granted: number[] = [];
    t.client.subscribe([{ filter: 'ok/x', qos: 0 }, { filter: 'no/x', qos: 1 }], {}, (e, g) => ((error = e), (granted = g)));
    equal(s.sent(), ['82 10 00 01 00 04 6f 6b 2f 78 00 00 04 6e 6f 2f 78 01']);
    s.receive('90 04 00 01 00 80');
    equal(granted, [0, 0x80]);
    ok(error instanceof MqttClientError);
    equal((error as MqttClientError).code, 'subscribe-failed');
    ok(error.message.includes('no/x') && !error.message.includes('ok/x'), error.message);
  });

  test('without a resumed session, the client subscribes again by itself', () => {
    const t = setup();
    t.connect();
    t.client.subscribe('a/+', { qos: 1 });
    t.net.last.receive('90 03 00 01 01');
    t.net.last.sent();
    t.cut();
    const s = t.connect(false);
    equal(s.sent(), ['82 08 00 02 00 03 61 2f 2b 01']);
    t.cut();
    // not acknowledged before the cut: sent again even though the session was resumed
    equal(t.connect(true).sent(), ['82 08 00 02 00 03 61 2f 2b 01']);
    t.net.last.receive('90 03 00 02 01');
    t.cut();
    equal(t.connect(true).sent(), []);
  });

  test('unsubscribe sends UNSUBSCRIBE and calls done at UNSUBACK; the handler is gone', () => {
    const t = setup();
    const s = t.connect();
    const mine: string[] = [];
    t.client.subscribe('a/b', { onMessage: (topic) => mine.push(topic) });
    s.receive('90 03 00 01 00');
    let done = 0;
    t.client.unsubscribe('a/b', () => done++);
    s.sent();
    s.receive('b0 02 00 02');
    equal(done, 1);
    s.receive('30 05 00 03 61 2f 62');
    equal(mine, []);
    equal(t.messages.length, 1);
  });

  test('unsubscribe encodes every filter', () => {
    const t = setup();
    const s = t.connect();
    t.client.unsubscribe(['a/+', '#']);
    equal(s.sent(), ['a2 0a 00 01 00 03 61 2f 2b 00 01 23']);
  });

  test('keep-alive: PINGREQ after 3/4 of the interval idle; no PINGRESP in time drops the link', () => {
    const t = setup({ keepAlive: 4 });
    const s = t.connect();
    t.clock.advance(2999);
    equal(s.sent(), []);
    t.clock.advance(1);
    equal(s.sent(), ['c0 00']);
    s.receive('d0 00');
    t.clock.advance(2999);
    equal(s.sent(), [], 'no ping while the last ping is recent');
    t.clock.advance(1);
    equal(s.sent(), ['c0 00']);
    t.clock.advance(2000); // pingTimeout defaults to keepAlive / 2
    equal(t.client.connected, false);
    ok(t.disconnects[0] instanceof MqttClientError);
    ok(/PINGREQ/.test(t.disconnects[0]!.message), t.disconnects[0]!.message);
  });

  test('traffic from the application keeps the link from pinging', () => {
    const t = setup({ keepAlive: 4 });
    const s = t.connect();
    for (let i = 0; i < 10; i++) {
      t.clock.advance(1000);
      t.client.publish('t', 'x');
      s.receive('30 04 00 01 74 78');
    }
    equal(s.sent().filter((p) => p === 'c0 00'), []);
  });

  test('a malformed packet from the broker is a protocol error that closes the connection', () => {
    const t = setup();
    const s = t.connect();
    s.receive('40 03 00 01 00');
    ok(t.errors[0] instanceof MqttProtocolError);
    equal((t.errors[0] as MqttProtocolError).code, 'malformed');
    equal(t.client.stats.protocolErrors, 1);
    equal(t.client.connected, false);
    ok(s.closed);
  });

  test('inbound topics must be valid UTF-8 without U+0000 or wildcards', () => {
    for (const [packet, code] of [
      ['30 04 00 02 c3 28', 'bad-utf8'],
      ['30 04 00 02 61 00', 'bad-utf8'],
      ['30 05 00 03 ed a0 80', 'bad-utf8'],
      ['30 05 00 03 61 2f 23', 'bad-topic'],
      ['30 03 00 01 2b', 'bad-topic'],
      ['30 02 00 00', 'bad-topic'],
      ['32 04 00 01 61 00', 'malformed'],
      ['32 05 00 01 61 00 00', 'malformed'],
      ['d0 01 00', 'malformed'],
      ['20 02 00 00', 'malformed'],
      ['b0 00', 'malformed'],
      ['90 02 00 01', 'malformed'],
      ['90 03 00 01 03', 'malformed'],
      ['c0 00', 'bad-packet-type'],
      ['42 02 00 01', 'reserved-flags'],
    ]) {
      const t = setup();
      t.connect().receive(packet);
      equal((t.errors[0] as MqttProtocolError | undefined)?.code, code, packet);
      equal(t.messages, []);
    }
  });

  test('a non-ASCII inbound topic is decoded', () => {
    const t = setup();
    t.connect().receive('30 08 00 06 c3 a9 2f e2 82 ac');
    equal(t.messages[0].topic, '\u00e9/\u20ac');
  });

  test('topics are encoded as UTF-8 and cached per topic without mixing them up', () => {
    const t = setup();
    const s = t.connect();
    t.client.publish('\u00e9/\u20ac', '');
    equal(s.sent(), ['30 08 00 06 c3 a9 2f e2 82 ac']);
    for (let i = 0; i < 40; i++) t.client.publish(`t${i % 20}`, '');
    const sent = s.sent();
    for (let i = 0; i < 40; i++) {
      const name = `t${i % 20}`;
      const expected = `30 ${(2 + name.length).toString(16).padStart(2, '0')} 00 ${name.length.toString(16).padStart(2, '0')} ${Array.from(name, (c) => c.charCodeAt(0).toString(16)).join(' ')}`;
      equal(sent[i], expected, name);
    }
  });

  test('string payloads are UTF-8; a lone surrogate becomes U+FFFD', () => {
    const t = setup();
    const s = t.connect();
    t.client.publish('t', '\u00e9\ud83d\ude00\u0000');
    t.client.publish('t', 'a\ud800');
    equal(s.sent(), ['30 0a 00 01 74 c3 a9 f0 9f 98 80 00', '30 07 00 01 74 61 ef bf bd']);
  });

  test('bad arguments throw a typed error and queue nothing', () => {
    const t = setup();
    for (const topic of ['a/+', 'a/#', '', 'a\u0000b']) {
      equal((throws(() => t.client.publish(topic, 'x'), MqttClientError) as MqttClientError).code, 'invalid-argument', topic);
    }
    throws(() => t.client.publish('a', 'x', { qos: 3 as 0 }), MqttClientError, 'QoS');
    throws(() => t.client.subscribe('a/#/b'), MqttClientError);
    throws(() => t.client.subscribe('a+'), MqttClientError);
    throws(() => t.client.subscribe([]), MqttClientError);
    throws(() => t.client.subscribe('a', { qos: 3 as 0 }), MqttClientError);
    throws(() => t.client.unsubscribe([]), MqttClientError);
    equal(t.client.outboxState.depth, 0);
    throws(() => setup({ password: 'p' }), MqttClientError, 'username');
    throws(() => setup({ clientId: '', cleanSession: false }), MqttClientError, 'client id');
    throws(() => setup({ outbox: { persist: true as never } }), MqttClientError, 'outboxStore(storage)');
  });

  test('a full outbox drops QoS 0 first and tells the caller and onDrop; an oversized message is refused', () => {
    const drops: unknown[] = [];
    const t = setup({ outbox: { maxMessages: 2, maxBytes: 100 }, onDrop: (d) => drops.push(...d) });
    const results: string[] = [];
    t.client.publish('a', 'x', { qos: 0 }, (e) => results.push(`a:${(e as MqttClientError | undefined)?.code}`));
    t.client.publish('b', 'x', { qos: 1 }, (e) => results.push(`b:${(e as MqttClientError | undefined)?.code}`));
    equal(t.client.publish('c', 'x', { qos: 1 }), true);
    equal(results, ['a:dropped']);
    equal(drops, [{ topic: 'a', qos: 0, bytes: 2, reason: 'outbox-full' }]);
    equal(t.client.publish('d', new Uint8Array(100), { qos: 1 }), false);
    equal(drops[1], { topic: 'd', qos: 1, bytes: 101, reason: 'too-large' });
    equal(t.client.outboxState, { depth: 2, bytes: 4, inflight: 0, dropped: [1, 1, 0] });
    ok(t.errors.length === 0 || t.errors.every((e) => e instanceof MqttClientError));
  });

  test('persisted QoS 1 messages survive a reboot: queued ones go as new, sent ones again with DUP', () => {
    const storage = new MemoryStore();
    // a new store per client, as after a reboot
    const options = (): Partial<ClientOptions> => ({ outbox: { persist: outboxStore(storage) }, cleanSession: false });
    const first = setup(options());
    first.connect();
    first.client.publish('a', 'x', { qos: 1 });
    first.client.destroy();
    first.client.publish('b', 'y', { qos: 1 });
    equal(records(storage), 2);
    const second = setup(options());
    equal(second.client.outboxState, { depth: 2, bytes: 4, inflight: 1, dropped: [0, 0, 0] });
    const s = second.connect(true);
    equal(s.sent(), ['3a 06 00 01 61 00 01 78', '32 06 00 01 62 00 02 79']);
    s.receive('40 02 00 01 40 02 00 02');
    equal(records(storage), 0);
    equal(second.errors, []);
  });

  test('the QoS 2 exactly-once guard survives a reboot when persisted', () => {
    const storage = new MemoryStore();
    const options = (): Partial<ClientOptions> => ({ outbox: { persist: outboxStore(storage) }, cleanSession: false });
    const first = setup(options());
    first.connect().receive('34 08 00 03 61 2f 62 00 08 31');
    first.client.destroy();
    const second = setup(options());
    const s = second.connect(true);
    s.receive('3c 08 00 03 61 2f 62 00 08 31');
    equal(second.messages, []);
    equal(s.sent(), ['50 02 00 08']);
    s.receive('62 02 00 08');
    equal(s.sent(), ['70 02 00 08']);
    equal(second.errors, []);
  });

  test('end() sends DISCONNECT and does not reconnect; destroy() sends nothing', () => {
    const t = setup();
    const s = t.connect();
    t.client.end();
    equal(s.sent(), ['e0 00']);
    ok(s.closed);
    t.clock.advance(120000);
    equal(t.net.sockets.length, 1);
    const u = setup();
    const s2 = u.connect();
    u.client.destroy();
    equal(s2.sent(), []);
    ok(s2.closed);
  });

  test('ending the client from a message handler stops handling the rest of the read', () => {
    const t = setup({ onMessage: () => t.client.end() });
    const s = t.connect();
    s.receive('32 06 00 01 61 00 01 78 32 06 00 01 62 00 02 79');
    equal(s.sent(), ['e0 00']);
  });

  test('reconnect delays grow exponentially up to maxDelay, with full jitter', () => {
    const r = 0.999;
    const t = setup({ system: { random: () => r }, reconnect: { minDelay: 100, maxDelay: 1000 } });
    t.client.connect();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = t.net.sockets.length;
      t.net.last.options.onError(new Error('refused'));
      const start = t.clock.now();
      while (t.net.sockets.length === before && t.clock.now() - start < 5000) t.clock.advance(1);
      delays.push(t.clock.now() - start);
    }
    equal(delays, [99, 199, 399, 799, 999, 999]);
  });
});
