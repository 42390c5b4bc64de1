// The test kit's scripted broker (hosts/sim/fakes/broker.ts): it must answer as MQTT 3.1.1 says.
// Packets below are written by hand from the MQTT 3.1.1 specification.
import { describe, expect, it } from 'vitest';
import { LATENCY_MS, ScriptedBroker } from '../../hosts/sim/fakes/broker';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import type { TcpSocket } from '../../src/ports';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

function open() {
  const clock = new ManualClock();
  const broker = new ScriptedBroker(clock);
  const reads: number[][] = [];
  let writable = 0;
  const socket: TcpSocket = broker.connect({
    host: 'broker',
    port: 1883,
    onReadable: () => reads.push(Array.from(socket.read() ?? [])),
    onWritable: () => writable++,
    onError: (e) => {
      throw e;
    },
  });
  return { clock, broker, socket, reads, writable: () => writable };
}

// CONNECT: "MQTT", level 4, clean session, keep-alive 60 s, empty client id (3.1.3.1, 3.1.2)
const CONNECT = [0x10, 12, 0, 4, ...ascii('MQTT'), 4, 0x02, 0, 60, 0, 0];

describe('ScriptedBroker', () => {
  it('reports the connection writable, then answers CONNECT with CONNACK accepted, each after the latency', () => {
    const { clock, socket, reads, writable } = open();
    expect(writable()).toBe(0);
    clock.advance(LATENCY_MS);
    expect(writable()).toBe(1);
    socket.write(Uint8Array.from(CONNECT));
    clock.advance(LATENCY_MS - 1);
    expect(reads).toEqual([]);
    clock.advance(1);
    expect(reads).toEqual([[0x20, 2, 0, 0]]);
  });

  it('grants every filter of a SUBSCRIBE at its requested QoS, with the packet id (3.8, 3.9)', () => {
    const { clock, socket, reads } = open();
    socket.write(Uint8Array.from([0x82, 11, 0x01, 0x02, 0, 3, ...ascii('a/b'), 1, 0, 1, ...ascii('c'), 2]));
    clock.advance(LATENCY_MS);
    expect(reads).toEqual([[0x90, 4, 0x01, 0x02, 1, 2]]);
  });

  it('acknowledges QoS 1 with PUBACK, QoS 2 with PUBREC then PUBCOMP, PINGREQ with PINGRESP; QoS 0 gets nothing', () => {
    const { clock, broker, socket, reads } = open();
    const publish = (qos: number, id: number[]) => [0x30 | (qos << 1), 2 + 1 + id.length + 1, 0, 1, ...ascii('t'), ...id, ...ascii('x')];
    // all in one write: the answers come back in order, in one read
    socket.write(Uint8Array.from([...publish(0, []), ...publish(1, [0x0a, 0x0b]), ...publish(2, [0x00, 0x07]), 0x62, 2, 0x00, 0x07, 0xc0, 0]));
    clock.advance(LATENCY_MS);
    expect(reads).toEqual([[0x40, 2, 0x0a, 0x0b, 0x50, 2, 0x00, 0x07, 0x70, 2, 0x00, 0x07, 0xd0, 0]]);
    expect(broker.counts.qos).toEqual([1, 1, 1]);
    expect(broker.counts.pings).toBe(1);
  });

  it('answers a packet written one byte at a time once it is complete, with a two-byte remaining length', () => {
    const { clock, socket, reads } = open();
    // 200-byte body: remaining length 200 = 0xc8 0x01 (2.2.3)
    const packet = [0x32, 0xc8, 0x01, 0, 1, ...ascii('t'), 0x12, 0x34, ...new Array(195).fill(0x55)];
    expect(packet.length).toBe(3 + 200);
    for (const byte of packet) socket.write(Uint8Array.of(byte));
    clock.advance(LATENCY_MS);
    expect(reads).toEqual([[0x40, 2, 0x12, 0x34]]);
  });

  it('publishes to the device with a packet id and counts its PUBACK', () => {
    const { clock, broker, socket, reads } = open();
    broker.send(Uint8Array.from(ascii('a/cmd')), Uint8Array.from(ascii('{}')));
    clock.advance(LATENCY_MS);
    expect(reads).toEqual([[0x32, 2 + 5 + 2 + 2, 0, 5, ...ascii('a/cmd'), 0, 1, ...ascii('{}')]]);
    socket.write(Uint8Array.of(0x40, 2, 0, 1));
    expect(broker.counts.deviceAcks).toBe(1);
  });

  it('refuses what a broker would not take: a second connection, a write after close, a server-only packet', () => {
    const { broker, socket } = open();
    expect(() => broker.connect({ host: 'b', port: 1, onReadable() {}, onError() {} })).toThrow(/second connection/);
    expect(() => socket.write(Uint8Array.of(0x20, 2, 0, 0))).toThrow(/packet type 2/);
    socket.close();
    expect(() => socket.write(Uint8Array.of(0xc0, 0))).toThrow(/after close/);
  });

  it('with record, keeps the client id and every PUBLISH, and publishes text to the device at QoS 0', () => {
    const clock = new ManualClock();
    const broker = new ScriptedBroker(clock, { latencyMs: 0, record: true });
    const reads: number[][] = [];
    const socket: TcpSocket = broker.connect({ host: 'b', port: 1, onReadable: () => reads.push(Array.from(socket.read() ?? [])), onError() {} });
    // CONNECT with client id "dev" (3.1.3.1)
    socket.write(Uint8Array.from([0x10, 15, 0, 4, ...ascii('MQTT'), 4, 0x02, 0, 60, 0, 3, ...ascii('dev')]));
    socket.write(Uint8Array.from([0x31, 5, 0, 1, ...ascii('t'), ...ascii('on')]));
    socket.write(Uint8Array.from([0x32, 7, 0, 1, ...ascii('u'), 0, 9, ...ascii('up')]));
    broker.publish('cmd', 'go');
    clock.advance(0);
    expect(broker.clientId).toBe('dev');
    expect(broker.published).toEqual([
      { topic: 't', payload: 'on', qos: 0, retain: true },
      { topic: 'u', payload: 'up', qos: 1, retain: false },
    ]);
    expect(broker.to('u')).toEqual([broker.published[1]]);
    // CONNACK, the PUBACK of id 9, then the QoS 0 PUBLISH, in one read
    expect(reads).toEqual([[0x20, 2, 0, 0, 0x40, 2, 0, 9, 0x30, 7, 0, 3, ...ascii('cmd'), ...ascii('go')]]);
    expect(() => broker.publish('t', 'é€')).toThrow(/one byte per character/);
  });

  it('without record, keeps counts only', () => {
    const clock = new ManualClock();
    const broker = new ScriptedBroker(clock);
    const socket = broker.connect({ host: 'b', port: 1, onReadable() {}, onError() {} });
    socket.write(Uint8Array.from([0x30, 4, 0, 1, ...ascii('t'), 0x78]));
    expect([broker.published, broker.counts.publishes]).toEqual([[], 1]);
  });
});
