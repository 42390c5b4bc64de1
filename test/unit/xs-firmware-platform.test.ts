// The bench platform of the firmware budgets (scripts/budgets/firmware-platform.ts): the scripted
// broker must answer as MQTT 3.1.1 says, the clock must fire timers in order, and the BME280 image
// must hold a real conversion. Packets below are written by hand from the MQTT 3.1.1 specification.
import { describe, expect, it } from 'vitest';
import { temperatureDouble, DATASHEET_CALIBRATION } from '../../hosts/sim/chips/bosch-float';
import { BenchClock, LATENCY_MS, RegisterImageBME280, ScriptedBroker, benchI2C } from '../../scripts/budgets/firmware-platform';
import type { TcpSocket } from '../../src/ports';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

function open() {
  const clock = new BenchClock();
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
});

describe('BenchClock', () => {
  it('fires due timers in time order, ties in the order they were set, and reschedules repeating ones', () => {
    const clock = new BenchClock();
    const fired: string[] = [];
    clock.set(() => fired.push(`b@${clock.now()}`), 20);
    clock.set(() => fired.push(`r@${clock.now()}`), 10, 10);
    clock.set(() => fired.push(`a@${clock.now()}`), 10);
    const gone = clock.set(() => fired.push('cleared'), 5);
    clock.clear(gone);
    clock.advance(25);
    expect(fired).toEqual(['r@10', 'a@10', 'b@20', 'r@20']);
    expect(clock.now()).toBe(25);
  });

  it('settle() follows one-shot timers, also those they set, and leaves repeating ones alone', () => {
    const clock = new BenchClock();
    const fired: string[] = [];
    clock.set(() => fired.push('repeat'), 1, 1);
    clock.set(() => clock.set(() => fired.push(`second@${clock.now()}`), 5), 10);
    clock.settle();
    expect(fired).toEqual(['second@15']);
    clock.fireRepeating(1);
    expect(fired).toEqual(['second@15', 'repeat']);
  });

  it('stops a timer loop with an error that says so', () => {
    const clock = new BenchClock();
    const again = (): void => void clock.set(again, 0);
    clock.set(again, 0);
    expect(() => clock.settle(1000, 50)).toThrow(/timer loop/);
  });

  it('names the problem when fireRepeating cannot pick one timer', () => {
    const clock = new BenchClock();
    expect(() => clock.fireRepeating(30)).toThrow(/no repeating timer of 30 ms/);
    clock.set(() => {}, 30, 30);
    clock.set(() => {}, 30, 30);
    expect(() => clock.fireRepeating(30)).toThrow(/two repeating timers/);
  });
});

describe('RegisterImageBME280', () => {
  it('reads as a BME280 with the datasheet calibration and a converted temperature', () => {
    const chip = new RegisterImageBME280({ temperature: 21.5, pressure: 101_325, humidity: 45 });
    const I2C = benchI2C([chip]);
    const io = new I2C({ address: 0x76 });
    io.write(Uint8Array.of(0xd0), false);
    expect(io.read(1)).toEqual(Uint8Array.of(0x60));
    // T1 is the first calibration word, little-endian at 0x88 (datasheet table 16)
    io.write(Uint8Array.of(0x88), false);
    const t1 = io.read(2);
    expect(t1[0]! | (t1[1]! << 8)).toBe(DATASHEET_CALIBRATION.T1);
    // temp_msb, lsb, xlsb at 0xfa..0xfc hold a 20-bit count (5.4.8); Bosch's float formula gives °C
    io.write(Uint8Array.of(0xfa), false);
    const d = io.read(3);
    const adcT = (d[0]! << 12) | (d[1]! << 4) | (d[2]! >> 4);
    expect(temperatureDouble(adcT, DATASHEET_CALIBRATION)[0]).toBeCloseTo(21.5, 1);
    // a forced measurement is done at once: status not measuring, mode back to sleep
    io.write(Uint8Array.of(0xf4, 0x25));
    io.write(Uint8Array.of(0xf3), false);
    expect(io.read(2)).toEqual(Uint8Array.of(0x00, 0x24));
  });

  it('NACKs an address with no chip', () => {
    const I2C = benchI2C([]);
    expect(() => new I2C({ address: 0x77 }).read(1)).toThrow(/no ACK from 0x77/);
  });
});
