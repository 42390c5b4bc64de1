// Hand-written byte vectors from the OASIS MQTT 3.1.1 layouts (sections 2 and 3), not from our encoder.
import { decodeAnyPacket, encode } from '../../src/mqtt/all-packets';
import { encodePublish } from '../../src/mqtt/codec';
import { MqttProtocolError } from '../../src/mqtt/errors';
import type { Packet } from '../../src/mqtt/packets';
import { PacketParser } from '../../src/mqtt/parser';
import { encodeUtf8 } from '../../src/mqtt/utf8';
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';

const ascii = (s: string) => encodeUtf8(s);

function parseAll(bytes: Uint8Array, step = bytes.length, max?: number): Packet[] {
  const parser = new PacketParser({ maxPacketSize: max, decode: decodeAnyPacket });
  const out: Packet[] = [];
  for (let i = 0; i < bytes.length; i += step) {
    parser.push(bytes.subarray(i, Math.min(bytes.length, i + step)));
    for (let p = parser.next(); p; p = parser.next()) out.push(p);
  }
  equal(parser.buffered, 0, 'bytes left over');
  return out;
}

function parseOne(bytes: Uint8Array): Packet {
  const packets = parseAll(bytes);
  equal(packets.length, 1, 'packet count');
  return packets[0];
}

function parseError(bytes: Uint8Array, code: string, max?: number): void {
  const err = throws(() => parseAll(bytes, 1, max), MqttProtocolError);
  equal((err as MqttProtocolError).code, code, `error code for ${err.message}`);
}

// [description, packet, bytes] -- both directions are checked.
const vectors: [string, Packet, string][] = [
  ['CONNECT clean session, keep-alive 60, client id "abc"', { type: 1, clientId: 'abc', cleanSession: true, keepAlive: 60 }, '10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 61 62 63'],
  [
    'CONNECT with will (QoS 1, retained), user name and password',
    { type: 1, clientId: 'c1', cleanSession: true, keepAlive: 10, will: { topic: 'w', payload: ascii('x'), qos: 1, retain: true }, username: 'u', password: ascii('p') },
    '10 1a 00 04 4d 51 54 54 04 ee 00 0a 00 02 63 31 00 01 77 00 01 78 00 01 75 00 01 70',
  ],
  ['CONNECT persistent session, empty client id, keep-alive 0', { type: 1, clientId: '', cleanSession: false, keepAlive: 0 }, '10 0c 00 04 4d 51 54 54 04 00 00 00 00 00'],
  ['CONNACK accepted', { type: 2, sessionPresent: false, returnCode: 0 }, '20 02 00 00'],
  ['CONNACK session present', { type: 2, sessionPresent: true, returnCode: 0 }, '20 02 01 00'],
  ['CONNACK not authorized', { type: 2, sessionPresent: false, returnCode: 5 }, '20 02 00 05'],
  ['PUBLISH QoS 0', { type: 3, topic: 'a/b', payload: ascii('hi'), qos: 0, retain: false, dup: false }, '30 07 00 03 61 2f 62 68 69'],
  ['PUBLISH QoS 1 retained DUP id 10', { type: 3, topic: 'a/b', payload: ascii('hi'), qos: 1, retain: true, dup: true, packetId: 10 }, '3b 09 00 03 61 2f 62 00 0a 68 69'],
  ['PUBLISH QoS 2 id 0x1234, empty payload', { type: 3, topic: 'x', payload: new Uint8Array(0), qos: 2, retain: false, dup: false, packetId: 0x1234 }, '34 05 00 01 78 12 34'],
  ['PUBLISH UTF-8 topic "é/€"', { type: 3, topic: '\u00e9/\u20ac', payload: new Uint8Array(0), qos: 0, retain: false, dup: false }, '30 08 00 06 c3 a9 2f e2 82 ac'],
  ['PUBACK', { type: 4, packetId: 10 }, '40 02 00 0a'],
  ['PUBREC', { type: 5, packetId: 10 }, '50 02 00 0a'],
  ['PUBREL (flags 0010)', { type: 6, packetId: 10 }, '62 02 00 0a'],
  ['PUBCOMP', { type: 7, packetId: 65535 }, '70 02 ff ff'],
  ['SUBSCRIBE two filters (spec 3.8.3 example)', { type: 8, packetId: 10, subscriptions: [{ filter: 'a/b', qos: 1 }, { filter: 'c/d', qos: 2 }] }, '82 0e 00 0a 00 03 61 2f 62 01 00 03 63 2f 64 02'],
  ['SUBACK granted 0, 1 and failure', { type: 9, packetId: 10, granted: [0, 1, 0x80] }, '90 05 00 0a 00 01 80'],
  ['UNSUBSCRIBE two filters', { type: 10, packetId: 10, filters: ['a/b', 'c/d'] }, 'a2 0c 00 0a 00 03 61 2f 62 00 03 63 2f 64'],
  ['UNSUBACK', { type: 11, packetId: 10 }, 'b0 02 00 0a'],
  ['PINGREQ', { type: 12 }, 'c0 00'],
  ['PINGRESP', { type: 13 }, 'd0 00'],
  ['DISCONNECT', { type: 14 }, 'e0 00'],
];

// Remaining length encodings from table 2.4 of the spec.
const lengths: [number, string][] = [
  [0, '00'],
  [127, '7f'],
  [128, '80 01'],
  [16383, 'ff 7f'],
  [16384, '80 80 01'],
  [2097151, 'ff ff 7f'],
  [2097152, '80 80 80 01'],
];

export default suite('mqtt codec', (test) => {
  for (const [name, packet, bytes] of vectors) {
    test(`encode ${name}`, () => equal(encode(packet), hex(bytes)));
    test(`parse ${name}`, () => equal(parseOne(hex(bytes)), packet));
  }

  for (const [n, bytes] of lengths) {
    test(`remaining length ${n} is encoded as ${bytes}`, () => {
      // a PUBLISH to "t" at QoS 0 has 3 bytes before the payload
      if (n < 3) return equal(encode({ type: 12 }).subarray(1), hex('00'));
      const payload = new Uint8Array(n - 3);
      const out = encodePublish({ type: 3, topic: 't', payload, qos: 0, retain: false, dup: false });
      equal(out.subarray(1, 1 + bytes.split(' ').length), hex(bytes));
      equal(out.length, 1 + bytes.split(' ').length + n);
      const back = parseOne(out);
      ok(back.type === 3 && back.payload.length === n - 3, 'payload length after parse');
    });
  }

  test('many packets in one chunk, and one byte at a time, give the same packets', () => {
    const all = hex(vectors.map((v) => v[2]).join(' '));
    const whole = parseAll(all);
    equal(whole.length, vectors.length);
    equal(parseAll(all, 1), whole);
    equal(parseAll(all, 7), whole);
    equal(whole, vectors.map((v) => v[1]));
  });

  test('a 5-byte remaining length is a typed error', () => parseError(hex('30 ff ff ff ff 7f'), 'remaining-length'));
  test('PUBACK with reserved flags set', () => parseError(hex('41 02 00 01'), 'reserved-flags'));
  test('SUBSCRIBE without the 0010 flags', () => parseError(hex('80 06 00 01 00 01 61 00'), 'reserved-flags'));
  test('PUBLISH DUP at QoS 0', () => parseError(hex('38 03 00 01 61'), 'reserved-flags'));
  test('PUBLISH QoS 3', () => parseError(hex('36 05 00 01 61 00 01'), 'malformed'));
  test('reserved packet types 0 and 15', () => {
    parseError(hex('00 00'), 'bad-packet-type');
    parseError(hex('f0 00'), 'bad-packet-type');
  });
  test('invalid UTF-8 in a PUBLISH topic', () => parseError(hex('30 04 00 02 c3 28'), 'bad-utf8'));
  test('overlong encoding of U+0000 in a topic', () => parseError(hex('30 04 00 02 c0 80'), 'bad-utf8'));
  test('a UTF-16 surrogate encoded in UTF-8', () => parseError(hex('30 05 00 03 ed a0 80'), 'bad-utf8'));
  test('U+0000 in a topic', () => parseError(hex('30 04 00 02 61 00'), 'bad-utf8'));
  test('wildcards in a PUBLISH topic', () => {
    parseError(hex('30 05 00 03 61 2f 23'), 'bad-topic');
    parseError(hex('30 05 00 03 61 2f 2b'), 'bad-topic');
  });
  test('an empty PUBLISH topic', () => parseError(hex('30 02 00 00'), 'bad-topic'));
  test('a topic length past the end of the packet', () => parseError(hex('30 03 00 05 61'), 'malformed'));
  test('a packet over maxPacketSize fails at its header, before the body arrives', () => {
    const parser = new PacketParser({ maxPacketSize: 100, decode: decodeAnyPacket });
    parser.push(hex('30 e5 00')); // remaining length 101
    const err = throws(() => parser.next(), MqttProtocolError);
    equal((err as MqttProtocolError).code, 'too-large');
    ok(err.message.includes('maxPacketSize 100'), err.message);
    parseOne(encodePublish({ type: 3, topic: 't', payload: new Uint8Array(95), qos: 0, retain: false, dup: false })); // 100 bytes: fine
  });
  test('CONNACK with a wrong length or reserved acknowledge flags', () => {
    parseError(hex('20 03 00 00 00'), 'malformed');
    parseError(hex('20 02 02 00'), 'reserved-flags');
  });
  test('SUBACK with return code 3', () => parseError(hex('90 03 00 01 03'), 'malformed'));
  test('packet id 0', () => parseError(hex('40 02 00 00'), 'malformed'));
  test('CONNECT with a password but no user name', () => parseError(hex('10 0e 00 04 4d 51 54 54 04 42 00 00 00 00 00 00'), 'malformed'));
  test('CONNECT with protocol level 3', () => parseError(hex('10 0c 00 04 4d 51 54 54 03 02 00 00 00 00'), 'malformed'));
  test('after an error the parser keeps failing', () => {
    const parser = new PacketParser({ decode: decodeAnyPacket });
    parser.push(hex('00 00 c0 00'));
    throws(() => parser.next(), MqttProtocolError);
    throws(() => parser.next(), MqttProtocolError);
  });
  test('encoding a password without a user name is refused with a clear message', () => {
    throws(() => encode({ type: 1, clientId: 'x', cleanSession: true, keepAlive: 0, password: ascii('p') }), Error, 'user name');
  });
});
