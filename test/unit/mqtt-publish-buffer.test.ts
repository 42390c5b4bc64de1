// The MQTT 3.1.1 dialect's PUBLISH on an engine without XS's ArrayBuffer.prototype.concat (Node, the
// simulator): small packets are built in one buffer per client (the TCP port copies what it writes),
// not each in a new one, which V8 makes off its heap and collects slowly.
import { describe, expect, it } from 'vitest';
import { decodeAnyPacket } from '../../src/mqtt/all-packets';
import { lengthPrefixed } from '../../src/mqtt/codec';
import { PacketParser } from '../../src/mqtt/parser';
import { Mqtt311Dialect } from '../../src/mqtt/v311/dialect';

function decode(bytes: Uint8Array) {
  const parser = new PacketParser({ decode: decodeAnyPacket });
  parser.push(bytes.slice());
  return parser.next();
}

describe('MQTT 3.1.1 PUBLISH without ArrayBuffer.prototype.concat', () => {
  it('is an engine without it', () => {
    expect((ArrayBuffer.prototype as { concat?: unknown }).concat).toBeUndefined();
  });

  it('builds small packets in the same buffer, each with the right bytes', () => {
    const dialect = new Mqtt311Dialect();
    const topic = lengthPrefixed('home/é', 'topic');
    const first = dialect.publish(2 | 1, topic, new Uint8Array(64).fill(7), 513);
    expect(decode(first)).toMatchObject({ topic: 'home/é', qos: 1, retain: true, dup: false, packetId: 513, payload: new Uint8Array(64).fill(7) });
    const second = dialect.publish(0, topic, Uint8Array.of(1, 2, 3));
    expect(second.buffer).toBe(first.buffer);
    expect(decode(second)).toMatchObject({ topic: 'home/é', qos: 0, retain: false, payload: Uint8Array.of(1, 2, 3) });
    // a second client has its own
    expect(new Mqtt311Dialect().publish(0, topic, Uint8Array.of(1)).buffer).not.toBe(first.buffer);
  });

  it('gives a packet of 128 body bytes or more a buffer of its own', () => {
    const dialect = new Mqtt311Dialect();
    const topic = lengthPrefixed('t', 'topic');
    const small = dialect.publish(0, topic, new Uint8Array(10));
    const big = dialect.publish(4, topic, new Uint8Array(300).fill(9), 2);
    expect(big.buffer).not.toBe(small.buffer);
    expect(decode(big)).toMatchObject({ topic: 't', qos: 2, packetId: 2, payload: new Uint8Array(300).fill(9) });
    // and the small one's bytes are left alone
    expect(decode(small)).toMatchObject({ topic: 't', qos: 0, payload: new Uint8Array(10) });
  });
});
