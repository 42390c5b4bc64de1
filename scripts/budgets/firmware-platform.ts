// Runs inside XS: a Platform for booting the whole firmware in the budgets, with no host behind it.
// Time moves only when the bench says so; the TCP peer is a scripted broker that answers every packet
// the device sends (CONNACK, SUBACK, PUBACK, PUBREC/PUBCOMP, PINGRESP) after a fixed latency on the
// same clock; the I2C bus holds a BME280 made from the simulated one (hosts/sim/chips). Everything is
// deterministic, and the state these fakes keep does not grow with the run, so the heap figures are
// the firmware's.
import type { Clock, I2C, I2CConstructor, I2COptions, KeyValueStore, Logger, LogLevel, Network, Platform, System, TcpOptions, TcpSocket, TimerId } from '../../src/ports';
import { SimBME280 } from '../../hosts/sim/chips/bme280';
import { nack, type SimI2CDevice } from '../../hosts/sim/chips/i2c-bus';

/** Milliseconds between the device writing a packet and the broker's answer arriving. */
export const LATENCY_MS = 5;
/** Wall time at boot: the device has SNTP time, as a Moddable board does after joining a network. */
const EPOCH_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z

interface Timer {
  id: number;
  at: number;
  /** 0 for a one-shot timer. */
  repeat: number;
  callback: () => void;
}

/**
 * A Clock whose timers fire only inside advance() and the other methods the bench calls. One-shot
 * and repeating timers are kept apart, so following one event (settle) looks at few timers.
 */
export class BenchClock implements Clock {
  time = 0;
  private readonly oneShots: Timer[] = [];
  private readonly repeating: Timer[] = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }

  wallTime(): number | undefined {
    return EPOCH_MS + this.time;
  }

  set(callback: () => void, ms: number, repeat?: number): TimerId {
    const every = repeat !== undefined && repeat > 0 ? repeat : 0;
    const timer: Timer = { id: this.nextId++, at: this.time + Math.max(0, ms), repeat: every, callback };
    (every ? this.repeating : this.oneShots).push(timer);
    return timer.id;
  }

  clear(id: TimerId): void {
    if (!remove(this.oneShots, id)) remove(this.repeating, id);
  }

  get pending(): number {
    return this.oneShots.length + this.repeating.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order (at most `limit`). */
  advance(ms: number, limit = 10_000): void {
    const end = this.time + ms;
    for (let fired = 0; ; fired++) {
      let next = earliest(this.oneShots, end);
      const r = earliest(this.repeating, end);
      if (r && (!next || r.at < next.at || (r.at === next.at && r.id < next.id))) next = r;
      if (!next) break;
      if (fired >= limit) throw new Error(`more than ${limit} timers fired within ${ms} ms: a timer loop in the firmware?`);
      this.fire(next);
    }
    this.time = end;
  }

  /**
   * Fires one-shot timers due within `horizon` ms, in order, moving time to each, until none is left;
   * repeating timers do not fire. What follows one event (a conversion, the broker's answers).
   */
  settle(horizon = 1000, limit = 1000): void {
    const end = this.time + horizon;
    for (let fired = 0; ; fired++) {
      const next = earliest(this.oneShots, end);
      if (!next) return;
      if (fired >= limit) throw new Error(`more than ${limit} one-shot timers fired while settling: a timer loop in the firmware?`);
      this.fire(next);
    }
  }

  /** Calls the one repeating timer with this period now, as if it fell due (its schedule is kept). */
  fireRepeating(period: number): void {
    let found: Timer | undefined;
    const timers = this.repeating;
    for (let i = 0; i < timers.length; i++) {
      const t = timers[i]!;
      if (t.repeat !== period) continue;
      if (found) throw new Error(`two repeating timers of ${period} ms: cannot tell which one to fire`);
      found = t;
    }
    if (!found) throw new Error(`no repeating timer of ${period} ms is set`);
    found.callback();
  }

  private fire(t: Timer): void {
    if (t.at > this.time) this.time = t.at;
    if (t.repeat) t.at += t.repeat;
    else remove(this.oneShots, t.id);
    t.callback();
  }
}

/** The timer due first by `end` (the earlier set first on a tie). */
function earliest(timers: Timer[], end: number): Timer | undefined {
  let next: Timer | undefined;
  for (let i = 0; i < timers.length; i++) {
    const t = timers[i]!;
    if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
  }
  return next;
}

function remove(timers: Timer[], id: TimerId): boolean {
  for (let i = 0; i < timers.length; i++) {
    if (timers[i]!.id === id) {
      timers.splice(i, 1);
      return true;
    }
  }
  return false;
}

/** What the scripted broker saw; numbers only, so it does not grow. */
export interface BrokerCounts {
  connects: number;
  publishes: number;
  /** PUBLISH packets by QoS. */
  qos: [number, number, number];
  subscribes: number;
  pings: number;
  /** PUBACKs the device sent for the broker's QoS 1 messages. */
  deviceAcks: number;
  /** Bytes the device wrote. */
  bytesIn: number;
}

/**
 * The broker end of the device's one TCP connection. It frames what the device writes (MQTT 3.1.1
 * fixed header and remaining length, section 2.2) and answers each packet as a broker must; answers
 * arrive LATENCY_MS later, all in one read, as from a real socket. `send()` publishes to the device.
 */
export class ScriptedBroker implements Network {
  readonly counts: BrokerCounts = { connects: 0, publishes: 0, qos: [0, 0, 0], subscribes: 0, pings: 0, deviceAcks: 0, bytesIn: 0 };
  private handlers: TcpOptions | undefined;
  private socket: TcpSocket | undefined;
  /** Bytes of an incomplete packet from the device. */
  private partial: Uint8Array | undefined;
  /** Answers waiting for the latency timer, and the bytes the device has not read yet. */
  private answers: Uint8Array[] = [];
  private unread: Uint8Array | undefined;
  private deliveryPending = false;
  private nextId = 1;

  constructor(private readonly clock: Clock) {}

  get connected(): boolean {
    return this.socket !== undefined;
  }

  connect(options: TcpOptions): TcpSocket {
    if (this.socket) throw new Error('the device opened a second connection while the first is open');
    this.counts.connects++;
    this.handlers = options;
    this.partial = this.unread = undefined;
    this.answers = [];
    const broker = this;
    let closed = false;
    const socket: TcpSocket = {
      read() {
        const bytes = broker.unread;
        broker.unread = undefined;
        return bytes;
      },
      write(bytes) {
        if (closed) throw new Error('write after close');
        broker.receive(bytes);
      },
      close() {
        closed = true;
        if (broker.socket === socket) broker.socket = undefined;
      },
    };
    this.socket = socket;
    this.clock.set(() => {
      if (this.socket === socket) options.onWritable?.(4096);
    }, LATENCY_MS);
    return socket;
  }

  /** Publishes to the device (QoS 1 by default), as a message from another client. */
  send(topic: Uint8Array, payload: Uint8Array, qos: 0 | 1 = 1): void {
    const id = qos ? this.nextId : 0;
    if (qos) this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    const body = 2 + topic.length + (qos ? 2 : 0) + payload.length;
    const header = remainingLength(body);
    const packet = new Uint8Array(1 + header.length + body);
    packet[0] = 0x30 | (qos << 1);
    packet.set(header, 1);
    let at = 1 + header.length;
    packet[at++] = topic.length >> 8;
    packet[at++] = topic.length & 0xff;
    packet.set(topic, at);
    at += topic.length;
    if (qos) {
      packet[at++] = id >> 8;
      packet[at++] = id & 0xff;
    }
    packet.set(payload, at);
    this.answer(packet);
  }

  private receive(bytes: Uint8Array): void {
    this.counts.bytesIn += bytes.length;
    let data = bytes;
    if (this.partial) {
      data = new Uint8Array(this.partial.length + bytes.length);
      data.set(this.partial, 0);
      data.set(bytes, this.partial.length);
      this.partial = undefined;
    }
    let at = 0;
    while (at < data.length) {
      // fixed header: type and flags, then the remaining length in 1-4 bytes of 7 bits
      let length = 0;
      let shift = 0;
      let p = at + 1;
      let complete = false;
      for (; p < data.length && p < at + 5; p++) {
        length |= (data[p]! & 0x7f) << shift;
        shift += 7;
        if (!(data[p]! & 0x80)) {
          complete = true;
          break;
        }
      }
      if (!complete && p >= at + 5) throw new Error('the device sent a malformed remaining length');
      if (!complete || p + 1 + length > data.length) {
        this.partial = data.slice(at);
        return;
      }
      this.packet(data, at, p + 1, p + 1 + length);
      at = p + 1 + length;
    }
  }

  /** One packet from the device: first byte at `first`, body [s, e). */
  private packet(b: Uint8Array, first: number, s: number, e: number): void {
    const type = b[first]! >> 4;
    const c = this.counts;
    switch (type) {
      case 1: // CONNECT: accepted, no session present
        this.answer(Uint8Array.of(0x20, 2, 0, 0));
        return;
      case 3: {
        // PUBLISH: topic, then a packet id at QoS 1 and 2
        const qos = (b[first]! >> 1) & 3;
        c.publishes++;
        c.qos[qos]++;
        if (!qos) return;
        const at = s + 2 + ((b[s]! << 8) | b[s + 1]!);
        this.answer(Uint8Array.of(qos === 1 ? 0x40 : 0x50, 2, b[at]!, b[at + 1]!)); // PUBACK or PUBREC
        return;
      }
      case 4: // PUBACK of a message the broker sent
        c.deviceAcks++;
        return;
      case 6: // PUBREL -> PUBCOMP
        this.answer(Uint8Array.of(0x70, 2, b[s]!, b[s + 1]!));
        return;
      case 8: {
        // SUBSCRIBE: packet id, then (length, filter, requested QoS)...; every QoS granted
        c.subscribes++;
        const granted: number[] = [];
        for (let at = s + 2; at < e; ) {
          at += 2 + ((b[at]! << 8) | b[at + 1]!);
          granted.push(b[at++]! & 3);
        }
        const suback = new Uint8Array(4 + granted.length);
        suback.set([0x90, 2 + granted.length, b[s]!, b[s + 1]!]);
        suback.set(granted, 4);
        this.answer(suback);
        return;
      }
      case 10: // UNSUBSCRIBE -> UNSUBACK
        this.answer(Uint8Array.of(0xb0, 2, b[s]!, b[s + 1]!));
        return;
      case 12: // PINGREQ -> PINGRESP
        c.pings++;
        this.answer(Uint8Array.of(0xd0, 0));
        return;
      case 14: // DISCONNECT
        this.socket?.close();
        return;
      case 5: // PUBREC of a QoS 2 message the broker sent: never sent here
      case 7: // PUBCOMP
        return;
      default:
        throw new Error(`the device sent packet type ${type}, which a client never sends`);
    }
  }

  private answer(packet: Uint8Array): void {
    this.answers.push(packet);
    if (this.deliveryPending) return;
    this.deliveryPending = true;
    const socket = this.socket;
    this.clock.set(() => {
      this.deliveryPending = false;
      if (this.socket !== socket || !this.handlers) return;
      const parts = this.answers;
      this.answers = [];
      let bytes: Uint8Array;
      if (parts.length === 1 && !this.unread) bytes = parts[0]!;
      else {
        // everything the device has not read yet arrives as one read, as from a socket
        if (this.unread) parts.unshift(this.unread);
        let size = 0;
        for (let i = 0; i < parts.length; i++) size += parts[i]!.length;
        bytes = new Uint8Array(size);
        for (let i = 0, at = 0; i < parts.length; at += parts[i]!.length, i++) bytes.set(parts[i]!, at);
      }
      this.unread = bytes;
      this.handlers.onReadable(bytes.length);
    }, LATENCY_MS);
  }
}

function remainingLength(n: number): Uint8Array {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Uint8Array.from(out);
}

/**
 * A BME280 as a register file: the registers of a simulated BME280 (hosts/sim/chips) right after a
 * forced conversion, answering the driver's reads and keeping its control writes. Conversions are
 * instant and repeat the same result, so the sensor costs what an I2C transfer costs on a device
 * (one native call), not the simulator's physics.
 */
export class RegisterImageBME280 implements SimI2CDevice {
  readonly address: number;
  private readonly regs = new Uint8Array(256);
  private pointer = 0;

  constructor(conditions: { temperature: number; pressure: number; humidity: number }, address = 0x76) {
    this.address = address;
    let now = 0;
    const sim = new SimBME280({ now: () => now, address });
    sim.temperature = conditions.temperature;
    sim.pressure = conditions.pressure;
    sim.humidity = conditions.humidity;
    // humidity x1, then temperature x1, pressure x1, forced mode (BME280 datasheet 5.4.3 and 5.4.5)
    sim.write(Uint8Array.of(0xf2, 0x01));
    sim.write(Uint8Array.of(0xf4, (1 << 5) | (1 << 2) | 1));
    now = 100;
    for (let r = 0; r < 256; r++) this.regs[r] = sim.peek(r);
    if (sim.conversions !== 1) throw new Error('the simulated BME280 did not convert');
  }

  write(bytes: Uint8Array): void {
    // (register, value) pairs; a lone register byte sets the read pointer
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const r = bytes[i]!;
      // ctrl_hum, config, ctrl_meas; a forced conversion is done at once, so the mode reads sleep
      if (r === 0xf2 || r === 0xf5) this.regs[r] = bytes[i + 1]!;
      else if (r === 0xf4) this.regs[r] = bytes[i + 1]! & 0xfc;
    }
    if (bytes.length) this.pointer = bytes[bytes.length % 2 ? bytes.length - 1 : 0]!;
  }

  read(count: number): Uint8Array {
    const p = this.pointer;
    this.pointer = (p + count) & 0xff;
    if (p + count <= 256) return this.regs.slice(p, p + count);
    // the register address wraps around
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.regs[(p + i) & 0xff]!;
    return out;
  }
}

/** An I2C class for the bench bus: the chips by address, and a NACK for any other address. */
export function benchI2C(chips: SimI2CDevice[]): I2CConstructor {
  class BenchI2C implements I2C {
    private chip: SimI2CDevice | undefined;
    private readonly address: number;
    constructor(options: I2COptions) {
      this.address = options.address;
      for (const chip of chips) if (chip.address === options.address) this.chip = chip;
    }
    read(count: number, stop?: boolean): Uint8Array;
    read(buffer: Uint8Array, stop?: boolean): void;
    read(countOrBuffer: number | Uint8Array, stop = true): Uint8Array | void {
      const chip = this.open();
      if (typeof countOrBuffer === 'number') return chip.read(countOrBuffer, stop);
      countOrBuffer.set(chip.read(countOrBuffer.length, stop));
    }
    write(bytes: Uint8Array, stop = true): void {
      this.open().write(bytes, stop);
    }
    close(): void {
      this.chip = undefined;
    }
    private open(): SimI2CDevice {
      if (!this.chip) nack(`no ACK from 0x${this.address.toString(16)}`);
      return this.chip;
    }
  }
  return BenchI2C;
}

/** Key-value store in memory, with the NVS key limit. */
export class MemoryStore implements KeyValueStore {
  private readonly values = new Map<string, string | Uint8Array>();
  get(key: string): string | Uint8Array | undefined {
    return this.values.get(key);
  }
  set(key: string, value: string | Uint8Array): void {
    if (!key || key.length > 15) throw new RangeError(`key "${key}" must be 1-15 characters (NVS)`);
    this.values.set(key, typeof value === 'string' ? value : value.slice());
  }
  delete(key: string): void {
    this.values.delete(key);
  }
  keys(): string[] {
    return Array.from(this.values.keys());
  }
}

/** Counts log lines by level and keeps the last warning or error, so a failed check can say why. */
export class CountingLogger implements Logger {
  readonly counts: Record<LogLevel, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  lastProblem = '';
  log(level: LogLevel, message: string): void {
    this.counts[level]++;
    if (level === 'warn' || level === 'error') this.lastProblem = `${level}: ${message}`;
  }
}

export interface BenchPlatform {
  platform: Platform;
  clock: BenchClock;
  broker: ScriptedBroker;
  log: CountingLogger;
  chip: RegisterImageBME280;
  restarts: string[];
}

/** Device id and OTA key are fixed: the figures must not depend on anything but the code. */
export const DEVICE_ID = '3c71bf4a2d10';
/** Ed25519 public key of RFC 8032 section 7.1, test 1: jobs are checked against a real key. */
const OTA_PUBLIC_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

export function benchPlatform(): BenchPlatform {
  const clock = new BenchClock();
  const broker = new ScriptedBroker(clock);
  const log = new CountingLogger();
  const chip = new RegisterImageBME280({ temperature: 21.5, pressure: 101_325, humidity: 45 });
  const restarts: string[] = [];
  let seed = 0x2545f491;
  const system: System = {
    deviceId: () => DEVICE_ID,
    restart(reason) {
      restarts.push(reason);
    },
    freeMemory: () => 96 * 1024,
    resetReason: () => 'power-on',
    random() {
      // xorshift32
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    },
  };
  const platform: Platform = {
    clock,
    system,
    log,
    storage: new MemoryStore(),
    network: broker,
    i2c: benchI2C([chip]),
    config: {
      i2c: { data: 21, clock: 22, hz: 400_000 },
      sensors: [{ type: 'bme280', name: 'climate', address: 0x76 }],
      otaPublicKey: OTA_PUBLIC_KEY,
    },
  };
  return { platform, clock, broker, log, chip, restarts };
}
