// The scripted broker of the test kit: the broker end of a device's one MQTT 3.1.1 connection, as a
// Network port. It frames what the device writes (fixed header and remaining length, OASIS MQTT 3.1.1
// section 2.2) and answers each packet as a broker must: CONNACK, SUBACK, UNSUBACK, PUBACK,
// PUBREC/PUBCOMP, PINGRESP. Answers arrive `latencyMs` later on the clock, all in one read, as from a
// real socket; send() and publish() publish to the device. It keeps counts only, so it does not grow
// (the XS budgets run the firmware against it); `record` also keeps every PUBLISH for assertions.
// Pure TypeScript: portable cases and the XS budgets run it inside XS.
import type { Clock, Network, TcpOptions, TcpSocket } from '../../../src/ports';

/** Default milliseconds between the device writing a packet and the broker's answer arriving. */
export const LATENCY_MS = 5;

/** What the broker saw; numbers only, so it does not grow. */
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

/** A PUBLISH the device sent; topic and payload one character per byte (ASCII reads as itself). */
export interface SeenPublish {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

export interface ScriptedBrokerOptions {
  /** Ms before each answer (and the connection's first onWritable) arrives. Default LATENCY_MS. */
  latencyMs?: number;
  /** Keep every PUBLISH (published, to()) and the client id. Default false: counts only. */
  record?: boolean;
}

const latin1 = (bytes: Uint8Array, from: number, to: number): string => {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
};

function bytesOf(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`publish() takes one byte per character; "${text}" has U+${c.toString(16)}: use send() with UTF-8 bytes`);
    out[i] = c;
  }
  return out;
}

export class ScriptedBroker implements Network {
  readonly counts: BrokerCounts = { connects: 0, publishes: 0, qos: [0, 0, 0], subscribes: 0, pings: 0, deviceAcks: 0, bytesIn: 0 };
  /** Every PUBLISH the device sent, oldest first (with `record`). */
  readonly published: SeenPublish[] = [];
  /** The client id of the last CONNECT (with `record`). */
  clientId = '';
  private readonly latency: number;
  private handlers: TcpOptions | undefined;
  private socket: TcpSocket | undefined;
  /** Bytes of an incomplete packet from the device. */
  private partial: Uint8Array | undefined;
  /**
   * Answers waiting for the latency timer, one after the other in one buffer (as a socket's receive
   * buffer holds them; a list of small arrays would cost the XS budgets' heap more than the bytes),
   * and the bytes the device has not read yet.
   */
  private answers: Uint8Array | undefined;
  private answered = 0;
  private unread: Uint8Array | undefined;
  private deliveryPending = false;
  /** The connection the pending delivery is for. */
  private deliverySocket: TcpSocket | undefined;
  /** deliver(), bound once: a delivery makes no closure. */
  private readonly deliverLater = () => this.deliver();
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    options: ScriptedBrokerOptions = {},
  ) {
    this.latency = options.latencyMs ?? LATENCY_MS;
    if (options.record) {
      // Only a recording broker pays for recording: the XS budgets count every step of a plain one.
      const answer = this.packet;
      this.packet = (b, first, s, e) => {
        this.keep(b, first, s, e);
        answer.call(this, b, first, s, e);
      };
    }
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  connect(options: TcpOptions): TcpSocket {
    if (this.socket) throw new Error('the device opened a second connection while the first is open');
    this.counts.connects++;
    this.handlers = options;
    this.partial = this.unread = this.answers = undefined;
    this.answered = 0;
    const socket = new BrokerSocket(this);
    this.socket = socket;
    this.clock.set(() => {
      if (this.socket === socket) options.onWritable?.(4096);
    }, this.latency);
    return socket;
  }

  /** @internal The device read what arrived. */
  take(): Uint8Array | undefined {
    const bytes = this.unread;
    this.unread = undefined;
    return bytes;
  }

  /** @internal The device wrote on `socket`. */
  written(bytes: Uint8Array): void {
    this.receive(bytes);
  }

  /** @internal The device closed `socket`. */
  closed(socket: TcpSocket): void {
    if (this.socket === socket) this.socket = undefined;
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

  /** send() with text, one byte per character (ASCII and Latin-1); QoS 0 by default. */
  publish(topic: string, payload: string, qos: 0 | 1 = 0): void {
    this.send(bytesOf(topic), bytesOf(payload), qos);
  }

  /** The recorded PUBLISHes to topics that start with `head`. */
  to(head: string): SeenPublish[] {
    return this.published.filter((p) => p.topic.startsWith(head));
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

  /** With `record`: the client id of a CONNECT, a PUBLISH whole. */
  private keep(b: Uint8Array, first: number, s: number, e: number): void {
    const type = b[first]! >> 4;
    if (type === 1) {
      // protocol name (6), level, flags, keep-alive, then the client id
      const id = s + 10;
      this.clientId = latin1(b, id + 2, id + 2 + ((b[id]! << 8) | b[id + 1]!));
    } else if (type === 3) {
      const qos = (b[first]! >> 1) & 3;
      const topicEnd = s + 2 + ((b[s]! << 8) | b[s + 1]!);
      this.published.push({ topic: latin1(b, s + 2, topicEnd), payload: latin1(b, qos ? topicEnd + 2 : topicEnd, e), qos, retain: (b[first]! & 1) === 1 });
    }
  }

  private answer(packet: Uint8Array): void {
    const length = this.answered + packet.length;
    let buffer = this.answers;
    if (!buffer || buffer.length < length) {
      const grown = new Uint8Array(Math.max(64, length, buffer ? buffer.length * 2 : 0));
      if (buffer) grown.set(buffer.subarray(0, this.answered));
      buffer = this.answers = grown;
    }
    buffer.set(packet, this.answered);
    this.answered = length;
    if (this.deliveryPending) return;
    this.deliveryPending = true;
    this.deliverySocket = this.socket;
    this.clock.set(this.deliverLater, this.latency);
  }

  private deliver(): void {
    this.deliveryPending = false;
    if (this.socket !== this.deliverySocket || !this.handlers || !this.answers) return;
    const answers = this.answers.subarray(0, this.answered);
    this.answers = undefined;
    this.answered = 0;
    let bytes = answers;
    if (this.unread) {
      // everything the device has not read yet arrives as one read, as from a socket
      bytes = new Uint8Array(this.unread.length + answers.length);
      bytes.set(this.unread, 0);
      bytes.set(answers, this.unread.length);
    }
    this.unread = bytes;
    this.handlers.onReadable(bytes.length);
  }
}

/** The device's end of the connection: a class, so a connection costs the device's heap no copies of code (the XS budgets count it). */
class BrokerSocket implements TcpSocket {
  private isClosed = false;
  constructor(private readonly broker: ScriptedBroker) {}
  read(): Uint8Array | undefined {
    return this.broker.take();
  }
  write(bytes: Uint8Array): void {
    if (this.isClosed) throw new Error('write after close');
    this.broker.written(bytes);
  }
  close(): void {
    this.isClosed = true;
    this.broker.closed(this);
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
