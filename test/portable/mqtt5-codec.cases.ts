// MQTT 5 codec: byte vectors written by hand from the OASIS MQTT 5.0 layouts (sections 2 and 3; the
// CONNECT variable header is the spec's own example in 3.1.2.11), never from our encoder. Each vector
// is checked in both directions, then bad packets must fail with the right typed error.
import { MqttClientError, MqttProtocolError } from '../../src/mqtt/errors';
import { PacketParser } from '../../src/mqtt/parser';
import { encodeUtf8 } from '../../src/mqtt/utf8';
import { decodeAnyPacket5, encode5 } from '../../src/mqtt/v5/all-packets';
import { decodeFromServer5 } from '../../src/mqtt/v5/decode';
import type { Packet5 } from '../../src/mqtt/v5/packets';
import { encodeProperties, WILL } from '../../src/mqtt/v5/properties';
import { describeReason, reasonName } from '../../src/mqtt/v5/reason-codes';
import { equal, hex, suite, throws } from '../../hosts/xs/harness';

const ascii = (s: string) => encodeUtf8(s);

function parseAll(bytes: Uint8Array, step = bytes.length, decode = decodeAnyPacket5): Packet5[] {
  const parser = new PacketParser({ decode: decode as never, mqtt5: true });
  const out: Packet5[] = [];
  for (let i = 0; i < bytes.length; i += step) {
    parser.push(bytes.subarray(i, Math.min(bytes.length, i + step)));
    for (let p = parser.next(); p; p = parser.next()) out.push(p as unknown as Packet5);
  }
  equal(parser.buffered, 0, 'bytes left over');
  return out;
}

function parseError(bytes: string, code: string, messagePart?: string): void {
  const err = throws(() => parseAll(hex(bytes), 1), MqttProtocolError, messagePart);
  equal((err as MqttProtocolError).code, code, `error code for ${err.message}`);
}

// [description, packet, bytes]
const vectors: [string, Packet5, string][] = [
  [
    // 3.1.2.11: flags 0xCE (user name, password, will QoS 1, will, clean start), keep alive 10,
    // properties: Session Expiry Interval 10
    'CONNECT, the spec example variable header, with will, user name and password',
    {
      type: 1,
      clientId: 'c1',
      cleanStart: true,
      keepAlive: 10,
      properties: { sessionExpiryInterval: 10 },
      will: { topic: 'w', payload: ascii('x'), qos: 1, retain: false },
      username: 'u',
      password: ascii('p'),
    },
    '10 21 00 04 4d 51 54 54 05 ce 00 0a 05 11 00 00 00 0a 00 02 63 31 00 00 01 77 00 01 78 00 01 75 00 01 70',
  ],
  [
    'CONNECT with a password but no user name (allowed in MQTT 5), no properties',
    { type: 1, clientId: '', cleanStart: false, keepAlive: 0, password: ascii('tok') },
    '10 12 00 04 4d 51 54 54 05 40 00 00 00 00 00 00 03 74 6f 6b',
  ],
  [
    'CONNECT with will properties (delay 5 s, content type "t") and an authentication method',
    {
      type: 1,
      clientId: 'd',
      cleanStart: true,
      keepAlive: 60,
      properties: { authenticationMethod: 'SCRAM', authenticationData: Uint8Array.of(1, 2) },
      will: { topic: 'w', payload: new Uint8Array(0), qos: 0, retain: true, properties: { willDelayInterval: 5, contentType: 't' } },
    },
    // flags: will retain 0x20 | will 0x04 | clean start 0x02 = 0x26
    '10 2a 00 04 4d 51 54 54 05 26 00 3c 0d 15 00 05 53 43 52 41 4d 16 00 02 01 02 00 01 64 09 18 00 00 00 05 03 00 01 74 00 01 77 00 00',
  ],
  [
    'CONNACK with receive maximum, topic alias maximum, assigned client id, maximum QoS, retain unavailable',
    {
      type: 2,
      sessionPresent: false,
      reasonCode: 0,
      properties: { receiveMaximum: 20, topicAliasMaximum: 10, assignedClientIdentifier: 'auto-1', maximumQoS: 1, retainAvailable: false },
    },
    '20 16 00 00 13 21 00 14 22 00 0a 12 00 06 61 75 74 6f 2d 31 24 01 25 00',
  ],
  ['CONNACK session present, no properties', { type: 2, sessionPresent: true, reasonCode: 0 }, '20 03 01 00 00'],
  ['CONNACK refused: 0x87 Not authorized', { type: 2, sessionPresent: false, reasonCode: 0x87 }, '20 03 00 87 00'],
  [
    'PUBLISH QoS 1 id 10 with every application property',
    {
      type: 3,
      topic: 'a/b',
      payload: ascii('hi'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 10,
      properties: {
        payloadFormatIndicator: true,
        messageExpiryInterval: 3600,
        contentType: 'text/plain',
        responseTopic: 'r',
        correlationData: Uint8Array.of(1, 2),
        userProperties: [['k', 'v']],
      },
    },
    '32 2e 00 03 61 2f 62 00 0a 24 01 01 02 00 00 0e 10 03 00 0a 74 65 78 74 2f 70 6c 61 69 6e 08 00 01 72 09 00 02 01 02 26 00 01 6b 00 01 76 68 69',
  ],
  ['PUBLISH QoS 0 without properties', { type: 3, topic: 'a/b', payload: ascii('hi'), qos: 0, retain: false, dup: false }, '30 08 00 03 61 2f 62 00 68 69'],
  [
    'PUBLISH that sets topic alias 1',
    { type: 3, topic: 't', payload: new Uint8Array(0), qos: 0, retain: true, dup: false, properties: { topicAlias: 1 } },
    '31 07 00 01 74 03 23 00 01',
  ],
  [
    'PUBLISH with an empty topic that uses topic alias 1',
    { type: 3, topic: '', payload: ascii('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } },
    '30 07 00 00 03 23 00 01 78',
  ],
  [
    'PUBLISH from the server with two subscription identifiers (1 and 268435455)',
    { type: 3, topic: 'x', payload: new Uint8Array(0), qos: 0, retain: false, dup: false, properties: { subscriptionIdentifiers: [1, 268435455] } },
    '30 0b 00 01 78 07 0b 01 0b ff ff ff 7f',
  ],
  ['PUBACK success, short form', { type: 4, packetId: 10, reasonCode: 0 }, '40 02 00 0a'],
  ['PUBACK 0x10 No matching subscribers, no properties', { type: 4, packetId: 10, reasonCode: 0x10 }, '40 03 00 0a 10'],
  [
    'PUBACK 0x87 Not authorized with reason string "no"',
    { type: 4, packetId: 10, reasonCode: 0x87, properties: { reasonString: 'no' } },
    '40 09 00 0a 87 05 1f 00 02 6e 6f',
  ],
  ['PUBREC 0x97 Quota exceeded', { type: 5, packetId: 1, reasonCode: 0x97 }, '50 03 00 01 97'],
  ['PUBREL 0x92 Packet Identifier not found (flags 0010)', { type: 6, packetId: 1, reasonCode: 0x92 }, '62 03 00 01 92'],
  ['PUBCOMP success', { type: 7, packetId: 0xffff, reasonCode: 0 }, '70 02 ff ff'],
  [
    'SUBSCRIBE with subscription identifier 5, QoS 1, No Local, Retain As Published, Retain Handling 2',
    { type: 8, packetId: 1, properties: { subscriptionIdentifiers: [5] }, subscriptions: [{ filter: 'a/+', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 }] },
    '82 0b 00 01 02 0b 05 00 03 61 2f 2b 2d',
  ],
  ['SUBSCRIBE two filters, no properties', { type: 8, packetId: 10, subscriptions: [{ filter: 'a/b', qos: 1 }, { filter: 'c/d', qos: 2 }] }, '82 0f 00 0a 00 00 03 61 2f 62 01 00 03 63 2f 64 02'],
  ['SUBACK granted QoS 1 and 0x87 Not authorized', { type: 9, packetId: 1, reasonCodes: [1, 0x87] }, '90 05 00 01 00 01 87'],
  ['UNSUBSCRIBE one filter', { type: 10, packetId: 2, filters: ['a/b'] }, 'a2 08 00 02 00 00 03 61 2f 62'],
  ['UNSUBACK success and 0x11 No subscription existed', { type: 11, packetId: 2, reasonCodes: [0, 0x11] }, 'b0 05 00 02 00 00 11'],
  ['PINGREQ', { type: 12 }, 'c0 00'],
  ['DISCONNECT normal, short form', { type: 14, reasonCode: 0 }, 'e0 00'],
  ['DISCONNECT 0x04 with Will Message', { type: 14, reasonCode: 4 }, 'e0 01 04'],
  [
    'DISCONNECT 0x8E Session taken over, reason string "taken"',
    { type: 14, reasonCode: 0x8e, properties: { reasonString: 'taken' } },
    'e0 0a 8e 08 1f 00 05 74 61 6b 65 6e',
  ],
  [
    'DISCONNECT with session expiry 0xFFFFFFFF',
    { type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0xffffffff } },
    'e0 07 00 05 11 ff ff ff ff',
  ],
  [
    'AUTH 0x18 Continue authentication, method "SCRAM", data 01 02',
    { type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM', authenticationData: Uint8Array.of(1, 2) } },
    'f0 0f 18 0d 15 00 05 53 43 52 41 4d 16 00 02 01 02',
  ],
  ['AUTH success, short form', { type: 15, reasonCode: 0 }, 'f0 00'],
];

export default suite('mqtt5 codec', (test) => {
  for (const [name, packet, bytes] of vectors) {
    test(`encode: ${name}`, () => equal(encode5(packet), hex(bytes)));
    test(`decode: ${name}`, () => equal(parseAll(hex(bytes)), [packet]));
    test(`decode byte by byte: ${name}`, () => equal(parseAll(hex(bytes), 1), [packet]));
  }

  test('every vector in one stream, split at every 3rd byte', () => {
    const all = vectors.map((v) => v[2]).join(' ');
    equal(parseAll(hex(all), 3), vectors.map((v) => v[1]));
  });

  test('a variable byte integer property at its limits: 1, 127, 128, 16383, 16384, 268435455', () => {
    const ids = [1, 127, 128, 16383, 16384, 268435455];
    // 0x0b then the value, table 1.5 of the spec
    equal(encodeProperties({ subscriptionIdentifiers: ids }, 3), hex('13 0b 01 0b 7f 0b 80 01 0b ff 7f 0b 80 80 01 0b ff ff ff 7f'));
  });

  test('reason codes have their names from the spec, by packet', () => {
    equal(reasonName(0x87), 'Not authorized');
    equal(reasonName(0, 9), 'Granted QoS 0');
    equal(reasonName(0, 14), 'Normal disconnection');
    equal(reasonName(0, 4), 'Success');
    equal(reasonName(0x9c), 'Use another server');
    equal(describeReason(0x95), 'Packet too large (0x95)');
    equal(reasonName(0x7f), 'unknown reason code 0x7f');
  });

  // ---- refused on decoding --------------------------------------------------------------------

  test('a property twice is a protocol error (content type in PUBLISH)', () =>
    parseError('30 0c 00 01 78 08 03 00 01 61 03 00 01 62', 'protocol', 'contentType twice'));
  test('User Property may repeat, and keeps its order', () => {
    const [p] = parseAll(hex('30 13 00 01 78 0e 26 00 01 61 00 01 31 26 00 01 61 00 01 32 78'));
    equal((p as { properties?: unknown }).properties, { userProperties: [['a', '1'], ['a', '2']] });
  });
  test('Subscription Identifier may repeat in PUBLISH but not in SUBSCRIBE', () =>
    parseError('82 0b 00 01 04 0b 01 0b 02 00 01 61 00', 'protocol', 'subscriptionIdentifiers twice'));
  test('a property the packet may not carry: Topic Alias in CONNACK', () => parseError('20 06 00 00 03 23 00 01', 'malformed', 'CONNACK carries property 0x23'));
  test('an unknown property identifier (0x05)', () => parseError('30 07 00 01 78 02 05 00 00', 'malformed', 'property 0x5'));
  test('a property length past the end of the packet', () => parseError('30 06 00 01 78 09 01 01', 'malformed', 'runs past the end'));
  test('Receive Maximum 0 is a protocol error', () => parseError('20 06 00 00 03 21 00 00', 'protocol', 'receiveMaximum 0'));
  test('Payload Format Indicator 2 is a protocol error', () => parseError('30 06 00 01 78 02 01 02', 'protocol', 'payloadFormatIndicator 2'));
  test('Maximum QoS 2 is a protocol error (only 0 or 1 may be sent)', () => parseError('20 05 00 00 02 24 02', 'protocol', 'maximumQoS 2'));
  test('Subscription Identifier 0 is a protocol error', () => parseError('30 06 00 01 78 02 0b 00', 'protocol', 'subscriptionIdentifiers 0'));
  test('Topic Alias 0 is a protocol error', () => parseError('30 07 00 01 78 03 23 00 00', 'protocol', 'topicAlias 0'));
  test('a reason code the packet may not carry: 0x93 in SUBACK', () => parseError('90 04 00 01 00 93', 'malformed', 'reason code 0x93'));
  test('a reason code the packet may not carry: 0x04 in PUBACK', () => parseError('40 03 00 01 04', 'malformed', 'reason code 0x4'));
  test('AUTH Continue authentication without an authentication method', () => parseError('f0 02 18 00', 'protocol', 'without an Authentication Method'));
  test('PUBLISH with an empty topic and no topic alias', () => parseError('30 03 00 00 00', 'protocol', 'empty topic and no topic alias'));
  test('PUBLISH topic with a wildcard', () => parseError('30 04 00 01 23 00', 'bad-topic'));
  test('CONNECT with protocol version 4 is not MQTT 5', () => parseError('10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61', 'malformed', 'protocol version 4'));
  test('SUBSCRIBE options with reserved bits set', () => parseError('82 07 00 01 00 00 01 61 40', 'malformed', 'reserved bits'));
  test('SUBSCRIBE with retain handling 3', () => parseError('82 07 00 01 00 00 01 61 30', 'protocol', 'retain handling 3'));
  test('No Local on a shared subscription', () => parseError('82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04', 'protocol', 'No Local'));
  test('a variable byte integer over 4 bytes', () => parseError('30 08 00 01 78 80 80 80 80 01', 'malformed', 'over 4 bytes'));
  test('AUTH is a reserved packet type unless the parser allows it', () => {
    const parser = new PacketParser({ decode: decodeFromServer5 as never });
    parser.push(hex('f0 00'));
    equal(throws(() => parser.next(), MqttProtocolError).message, 'packet type 15 is reserved');
  });

  // ---- refused on encoding --------------------------------------------------------------------

  test('encoding a property the packet may not carry is an invalid-argument error', () => {
    const e = throws(() => encode5({ type: 1, clientId: 'a', cleanStart: true, keepAlive: 0, properties: { topicAlias: 1 } }), MqttClientError, 'topicAlias is not allowed in CONNECT');
    equal((e as MqttClientError).code, 'invalid-argument');
  });
  test('values out of range, wrong types and unknown names are refused when encoding', () => {
    throws(() => encodeProperties({ receiveMaximum: 0 }, 1), MqttClientError, 'receiveMaximum must be a whole number from 1 to 65535');
    throws(() => encodeProperties({ messageExpiryInterval: 2 ** 32 }, 3), MqttClientError, 'from 0 to 4294967295');
    throws(() => encodeProperties({ contentType: 5 as never }, 3), MqttClientError, 'contentType must be a string');
    throws(() => encodeProperties({ correlationData: 'x' as never }, 3), MqttClientError, 'correlationData must be a Uint8Array');
    throws(() => encodeProperties({ userProperties: [['a', 1 as never]] }, 3), MqttClientError, '[name, value] pair of strings');
    throws(() => encodeProperties({ colour: 'red' } as never, 3), MqttClientError, '"colour" is not an MQTT 5 property');
    throws(() => encodeProperties({ subscriptionIdentifiers: [1, 2] }, 8), MqttClientError, 'list of one number');
    throws(() => encodeProperties({ willDelayInterval: 1 }, 3), MqttClientError, 'willDelayInterval is not allowed in PUBLISH');
    equal(encodeProperties({ willDelayInterval: 1 }, WILL), hex('05 18 00 00 00 01'));
  });
  test('a string with U+0000 is refused when encoding', () => {
    throws(() => encodeProperties({ contentType: 'a\u0000b' }, 3), MqttClientError, 'U+0000');
  });
});
