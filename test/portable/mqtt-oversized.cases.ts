// Inbound PUBLISH packets over the client's maxPacketSize (MQTT 3.1.1 and MQTT 5): the framer reads
// them through as they stream in, keeping only the header; the client acknowledges them by their QoS,
// reports them and keeps the connection. Only a malformed packet, or another packet type over the
// limit, closes it. Packets are written by hand from the layouts of the OASIS specifications
// (3.1.1 section 3.3, 5.0 section 3.3).
import { MqttClient, type ClientOptions, type MessageInfo } from '../../src/mqtt/client';
import { MqttMessageTooLargeError, MqttProtocolError } from '../../src/mqtt/errors';
import { outboxStore } from '../../src/mqtt/outbox-store';
import { OversizedPublish } from '../../src/mqtt/oversized';
import { PacketFramer } from '../../src/mqtt/parser';
import { OversizedPublish5 } from '../../src/mqtt/v5/oversized';
import { mqtt5 } from '../../src/mqtt/v5/protocol';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, ScriptedSocket, toHex } from '../../hosts/sim/fakes/network';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { equal, ok, suite, throws } from '../../hosts/xs/harness';

/** A Variable Byte Integer: 7 bits a byte, least significant first (3.1.1 section 2.2.3). */
function vbi(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 128;
    out.push(b);
  } while (n);
  return out;
}

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/**
 * PUBLISH with header byte `first`, an ASCII topic, the packet id when the QoS has one, MQTT 5
 * properties when given, and `payload` bytes of 0x41.
 */
function publish(first: number, topic: string, id: number, payload: number, properties?: number[]): Uint8Array {
  const t = ascii(topic);
  const head = [t.length >> 8, t.length & 255, ...t];
  if (first & 6) head.push(id >> 8, id & 255);
  if (properties) head.push(...vbi(properties.length), ...properties);
  const fixed = [first, ...vbi(head.length + payload)];
  const out = new Uint8Array(fixed.length + head.length + payload).fill(0x41);
  out.set(fixed);
  out.set(head, fixed.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `data` to `framer` in reads of `chunk` bytes; what it returns, and the most it held between reads in data[0, until). */
function frame(framer: PacketFramer, data: Uint8Array, chunk: number, until = data.length): { packets: string[]; held: number } {
  const packets: string[] = [];
  let held = 0;
  for (let i = 0; i < data.length; i += chunk) {
    for (let b = framer.nextBody(data.subarray(i, i + chunk)); b; b = framer.more ? framer.nextBody() : undefined) {
      const body = toHex(b.subarray(framer.at, framer.end));
      packets.push(framer.first & 0x100 ? `${framer.first.toString(16)} ${body} (${framer.skipped} bytes)` : `${framer.first.toString(16)} ${body}`);
    }
    if (i + chunk <= until) held = Math.max(held, framer.buffered);
  }
  return { packets, held };
}

interface Message {
  topic: string;
  info: MessageInfo;
}

function setup(options: Partial<ClientOptions> = {}) {
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  const messages: Message[] = [];
  const errors: Error[] = [];
  const disconnects: (Error | undefined)[] = [];
  const client = new MqttClient({
    clock,
    network: net,
    system: { random: () => 0 },
    host: 'broker',
    clientId: 'c1',
    onMessage: (topic, _payload, info) => messages.push({ topic, info }),
    onError: (e) => errors.push(e),
    onDisconnect: (e) => disconnects.push(e),
    ...options,
  });
  const connect = (connack: string): ScriptedSocket => {
    if (net.sockets.length === 0) client.connect();
    const s = net.last;
    s.open();
    s.sent();
    s.receive(connack);
    return s;
  };
  return { client, net, messages, errors, disconnects, connect };
}

/** The MqttMessageTooLargeError the client reported, as [topic, size, limit, qos]. */
function reported(e: Error | undefined): [string | undefined, number, number, number] {
  ok(e instanceof MqttMessageTooLargeError, `expected an MqttMessageTooLargeError, got ${e && e.name}: ${e && e.message}`);
  equal(e.code, 'too-large');
  return [e.topic, e.size, e.limit, e.qos];
}

const CONNACK = '20 02 00 00';
const CONNACK5 = '20 03 00 00 00';

export default suite('mqtt oversized messages', (test) => {
  // ---- the framer ---------------------------------------------------------------------------

  test('a PUBLISH over maxPacketSize is read through in any fragmentation, holding no payload; the next packet follows', () => {
    // QoS 1, topic "a/b", id 7, 300 bytes of payload: remaining length 2 + 3 + 2 + 300 = 307 (b3 02), 310 bytes in all
    const data = concat(publish(0x32, 'a/b', 7, 300), Uint8Array.of(0x30, 0x03, 0x00, 0x01, 0x61));
    for (const chunk of [1, 2, 3, 5, 64, 309, 310, 1000]) {
      const { packets, held } = frame(new PacketFramer(100, false, OversizedPublish), data, chunk, 310);
      equal(packets, ['132 00 03 61 2f 62 00 07 (310 bytes)', '30 00 01 61'], `reads of ${chunk}`);
      equal(held, 0, `nothing held between reads of ${chunk}`);
    }
  });

  test('without read-through (the object parser) a packet over maxPacketSize is still an error at its header', () => {
    const framer = new PacketFramer(100);
    equal((throws(() => framer.nextBody(Uint8Array.of(0x30, 0xb3, 0x02)), MqttProtocolError) as MqttProtocolError).code, 'too-large');
  });

  test('a topic too long to keep within maxPacketSize is left out; the packet id is still read', () => {
    // QoS 2, a 30-byte topic, id 9: 2 + 30 bytes of topic do not fit in 20
    const { packets } = frame(new PacketFramer(20, false, OversizedPublish), publish(0x34, 'x'.repeat(30), 9, 10), 7);
    // 0x100 read through, 0x200 topic left out: the header says topic length 0
    equal(packets, ['334 00 00 00 09 (46 bytes)']);
  });

  test('MQTT 5: the properties are kept with the header; too long to keep, they are left out', () => {
    // Correlation Data 01 02 (09 00 02 01 02), Topic Alias 1 (23 00 01)
    const props = [0x09, 0x00, 0x02, 0x01, 0x02, 0x23, 0x00, 0x01];
    const kept = frame(new PacketFramer(100, true, OversizedPublish5), publish(0x32, 'a/b', 7, 200, props), 3);
    equal(kept.packets, ['132 00 03 61 2f 62 00 07 08 09 00 02 01 02 23 00 01 (219 bytes)']);
    // a 200-byte User Property: its length takes two bytes (c9 01 = 201)
    const user = [0x26, 0x00, 0x01, 0x6b, 0x00, 0xc2, ...new Array<number>(194).fill(0x76)];
    equal(user.length, 200);
    const long = publish(0x32, 'a/b', 7, 500, [...user, 0x23, 0x00, 0x01]);
    const big = frame(new PacketFramer(400, true, OversizedPublish5), long, 50);
    ok(big.packets[0].startsWith('132 00 03 61 2f 62 00 07 cb 01 26 00 01 6b 00 c2 76'), big.packets[0]);
    ok(big.packets[0].endsWith('76 23 00 01 (715 bytes)'), big.packets[0]);
    // with room for only 100 bytes, the properties are left out (0x400): properties length 0
    equal(frame(new PacketFramer(100, true, OversizedPublish5), long, 50).packets, ['532 00 03 61 2f 62 00 07 00 (715 bytes)']);
  });

  test('a malformed PUBLISH over maxPacketSize is a protocol error', () => {
    const cases: [string, Uint8Array, boolean][] = [
      // topic length 0x7fff runs past the 30-byte body
      ['topic past the end', concat(Uint8Array.of(0x30, 30, 0x7f, 0xff), new Uint8Array(28)), false],
      // QoS 1, the body ends inside the packet id
      ['truncated packet id', Uint8Array.of(0x32, 0x04, 0x00, 0x01, 0x61, 0x00), false],
      // MQTT 5 properties length of 5 bytes
      ['properties length over 4 bytes', concat(Uint8Array.of(0x30, 30, 0x00, 0x01, 0x61, 0xff, 0xff, 0xff, 0xff, 0x7f), new Uint8Array(22)), true],
    ];
    for (const [what, data, v5] of cases) {
      const framer = new PacketFramer(4, v5, v5 ? OversizedPublish5 : OversizedPublish);
      const error = throws(() => frame(framer, data, 3), MqttProtocolError) as MqttProtocolError;
      equal(error.code, 'malformed', what);
    }
  });

  test('another packet type over maxPacketSize stays an error: a broker never sends one that big', () => {
    // SUBACK with 10 return codes: 13 bytes over a limit of 10
    const framer = new PacketFramer(10, false, OversizedPublish);
    const error = throws(() => framer.nextBody(concat(Uint8Array.of(0x90, 0x0b, 0x00, 0x01), new Uint8Array(9))), MqttProtocolError) as MqttProtocolError;
    equal(error.code, 'too-large');
    ok(error.message.includes('SUBACK of 13 bytes exceeds maxPacketSize 10'), error.message);
  });

  // ---- the MQTT 3.1.1 client ------------------------------------------------------------------

  test('QoS 0 over maxPacketSize: reported with topic and size, not delivered, counted; the connection stays', () => {
    const t = setup({ maxPacketSize: 100 });
    const s = t.connect(CONNACK);
    // remaining length 2 + 5 + 1000 = 1007 (ef 07): 1010 bytes
    s.receiveBytes(publish(0x30, 'big/x', 0, 1000));
    equal(t.messages, []);
    equal(reported(t.errors[0]), ['big/x', 1010, 100, 0]);
    ok(t.errors[0].message.includes('"big/x" of 1010 bytes is over maxPacketSize 100'), t.errors[0].message);
    equal([t.client.stats.inboundTooLarge, t.client.stats.protocolErrors], [1, 0]);
    ok(t.client.connected && !s.closed, 'still connected');
    equal(t.disconnects, []);
    equal(s.sent(), []);
    s.receive('30 05 00 01 61 68 69');
    equal(t.messages.map((m) => m.topic), ['a']);
  });

  test('QoS 1 over maxPacketSize in many small reads: PUBACK; the message after it in the same read is delivered', () => {
    const t = setup();
    const s = t.connect(CONNACK);
    // 100 000 bytes of payload over the default 64 KB, then a small QoS 1 message, in reads of 1460
    const data = concat(publish(0x32, 'p/d/cmd/ping', 7, 100000), Uint8Array.of(0x32, 0x06, 0x00, 0x01, 0x62, 0x00, 0x08, 0x7a));
    for (let i = 0; i < data.length; i += 1460) s.receiveBytes(data.subarray(i, i + 1460));
    equal(s.sent(), ['40 02 00 07', '40 02 00 08']);
    equal(reported(t.errors[0]), ['p/d/cmd/ping', 100020, 65536, 1]);
    equal(t.messages.map((m) => [m.topic, m.info.qos]), [['b', 1]]);
    ok(t.client.connected);
  });

  test('QoS 2 over maxPacketSize: PUBREC, PUBREL, PUBCOMP as usual; a redelivery before PUBREL is not reported again', () => {
    const t = setup({ maxPacketSize: 50 });
    const s = t.connect(CONNACK);
    s.receiveBytes(publish(0x34, 'q/2', 3, 100));
    equal(s.sent(), ['50 02 00 03']);
    // the same message again with DUP
    s.receiveBytes(publish(0x3c, 'q/2', 3, 100));
    equal(s.sent(), ['50 02 00 03']);
    equal(t.errors.length, 1);
    equal([t.client.stats.inboundTooLarge, t.client.stats.inboundDuplicates], [1, 1]);
    s.receive('62 02 00 03');
    equal(s.sent(), ['70 02 00 03']);
    // the id is free again: a new message under it is reported
    s.receiveBytes(publish(0x34, 'q/2', 3, 100));
    equal(t.errors.length, 2);
    equal(t.messages, []);
  });

  test('a topic too long to keep: the error says so, and the message is still acknowledged', () => {
    const t = setup({ maxPacketSize: 20 });
    const s = t.connect(CONNACK);
    s.receiveBytes(publish(0x32, 't'.repeat(40), 11, 5));
    equal(s.sent(), ['40 02 00 0b']);
    equal(reported(t.errors[0]), [undefined, 51, 20, 1]);
    ok(t.errors[0].message.includes('message to a topic not read of 51 bytes'), t.errors[0].message);
    ok(t.client.connected);
  });

  test('a malformed PUBLISH over maxPacketSize closes the connection', () => {
    const t = setup({ maxPacketSize: 20 });
    const s = t.connect(CONNACK);
    // topic length 0x7fff in a 30-byte body
    s.receiveBytes(concat(Uint8Array.of(0x32, 30, 0x7f, 0xff), new Uint8Array(28)));
    equal((t.errors[0] as MqttProtocolError).code, 'malformed');
    equal([t.client.stats.protocolErrors, t.client.stats.inboundTooLarge], [1, 0]);
    ok(!t.client.connected && s.closed);
  });

  test('a SUBACK over maxPacketSize closes the connection with a too-large protocol error', () => {
    const t = setup({ maxPacketSize: 10 });
    const s = t.connect(CONNACK);
    s.receiveBytes(concat(Uint8Array.of(0x90, 0x0b, 0x00, 0x01), new Uint8Array(9)));
    equal((t.errors[0] as MqttProtocolError).code, 'too-large');
    ok(!t.client.connected && s.closed);
  });

  test('the QoS 2 guard of a message read through survives a reboot: its redelivery is answered, not reported', () => {
    const storage = new MemoryStore();
    const options = (): Partial<ClientOptions> => ({ outbox: { persist: outboxStore(storage) }, cleanSession: false, maxPacketSize: 50 });
    const first = setup(options());
    first.connect(CONNACK).receiveBytes(publish(0x34, 'q/2', 4, 100));
    equal(first.errors.length, 1);
    first.client.destroy();
    const second = setup(options());
    const s = second.connect('20 02 01 00');
    s.receiveBytes(publish(0x3c, 'q/2', 4, 100));
    equal(s.sent(), ['50 02 00 04']);
    equal(second.errors, []);
    s.receive('62 02 00 04');
    equal(s.sent(), ['70 02 00 04']);
  });

  // ---- MQTT 5 -----------------------------------------------------------------------------------

  test('MQTT 5: over maxPacketSize is read through too: PUBACK Success, the error carries the properties, no DISCONNECT', () => {
    const t = setup({ maxPacketSize: 100, protocol: mqtt5() });
    const s = t.connect(CONNACK5);
    // Correlation Data 01 02
    s.receiveBytes(publish(0x32, 'p/d/cmd/ping', 5, 500, [0x09, 0x00, 0x02, 0x01, 0x02]));
    equal(s.sent(), ['40 02 00 05']);
    const e = t.errors[0] as MqttMessageTooLargeError;
    equal(reported(e), ['p/d/cmd/ping', 525, 100, 1]);
    equal(e.properties, { correlationData: Uint8Array.of(1, 2) });
    ok(t.client.connected && !s.closed);
    equal(t.client.stats.protocolErrors, 0);
  });

  test('MQTT 5: a topic alias set by a message read through is kept, and one that uses an alias is named', () => {
    const t = setup({ maxPacketSize: 100, protocol: mqtt5() });
    const s = t.connect(CONNACK5);
    // topic "x/y" with Topic Alias 1
    s.receiveBytes(publish(0x30, 'x/y', 0, 200, [0x23, 0x00, 0x01]));
    // a small message with the alias alone is delivered under the topic
    s.receive('30 07 00 00 03 23 00 01 42');
    equal(t.messages.map((m) => m.topic), ['x/y']);
    // a big one with the alias alone is reported under the topic
    s.receiveBytes(publish(0x30, '', 0, 200, [0x23, 0x00, 0x01]));
    equal(t.errors.map((e) => (e as MqttMessageTooLargeError).topic), ['x/y', 'x/y']);
    ok(t.client.connected);
  });

  test('MQTT 5: properties too long to keep are left out; a topic that was only an alias is then unknown', () => {
    const t = setup({ maxPacketSize: 30, protocol: mqtt5() });
    const s = t.connect(CONNACK5);
    // a 40-byte User Property and Topic Alias 2, empty topic
    const user = [0x26, 0x00, 0x01, 0x6b, 0x00, 0x22, ...new Array<number>(34).fill(0x76)];
    s.receiveBytes(publish(0x32, '', 6, 10, [...user, 0x23, 0x00, 0x02]));
    equal(s.sent(), ['40 02 00 06']);
    const e = t.errors[0] as MqttMessageTooLargeError;
    equal(reported(e), [undefined, 60, 30, 1]);
    equal(e.properties, undefined);
    ok(t.client.connected);
  });
});
