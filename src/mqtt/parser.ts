// Incremental MQTT 3.1.1 parser: accepts bytes in any fragmentation, yields whole packets.
// Bodies that arrive in one chunk are views into it (no copy); split bodies are assembled once.
import { MqttProtocolError } from './errors';
import {
  CONNECT,
  CONNACK,
  PUBLISH,
  PUBREL,
  SUBSCRIBE,
  SUBACK,
  UNSUBSCRIBE,
  type Packet,
  type QoS,
  type Subscription,
} from './packets';
import { decodeUtf8 } from './utf8';

export function fail(code: ConstructorParameters<typeof MqttProtocolError>[0], message: string): never {
  throw new MqttProtocolError(code, message);
}

export const NAMES = ['', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT'];

export type BodyDecoder = (first: number, body: Uint8Array) => Packet;

export interface ParserOptions {
  /** Largest whole packet accepted, header included. */
  maxPacketSize?: number;
  /** Which packets to accept: decodeFromBroker (default, for clients) or decodeAnyPacket. */
  decode?: BodyDecoder;
}

export class PacketParser {
  readonly maxPacketSize: number;
  #chunk: Uint8Array | undefined;
  #pos = 0;
  #rest: Uint8Array[] = [];
  #state = 0; // 0: first byte, 1: remaining length, 2: body
  #first = 0;
  #length = 0;
  #lengthBytes = 0;
  #body: Uint8Array | undefined;
  #filled = 0;
  #failed: MqttProtocolError | undefined;

  readonly #decode: BodyDecoder;

  constructor(options: ParserOptions = {}) {
    this.maxPacketSize = options.maxPacketSize ?? 268435460;
    this.#decode = options.decode ?? decodeFromBroker;
  }

  push(bytes: Uint8Array): void {
    if (!bytes.length) return;
    if (this.#chunk) this.#rest.push(bytes);
    else {
      this.#chunk = bytes;
      this.#pos = 0;
    }
  }

  /** Bytes received but not yet returned as packets. */
  get buffered(): number {
    let n = this.#chunk ? this.#chunk.length - this.#pos : 0;
    for (const r of this.#rest) n += r.length;
    return n + this.#filled;
  }

  #advance(): void {
    this.#chunk = this.#rest.shift();
    this.#pos = 0;
  }

  /** The next complete packet, or undefined until more bytes arrive. Throws MqttProtocolError. */
  next(): Packet | undefined {
    if (this.#failed) throw this.#failed;
    try {
      return this.#step();
    } catch (error) {
      if (error instanceof MqttProtocolError) this.#failed = error;
      throw error;
    }
  }

  #step(): Packet | undefined {
    for (;;) {
      const chunk = this.#chunk;
      if (!chunk) return undefined;
      if (this.#pos >= chunk.length) {
        this.#advance();
        continue;
      }
      if (this.#state === 0) {
        const b = chunk[this.#pos++];
        const type = b >> 4;
        const flags = b & 15;
        if (type === 0 || type === 15) fail('bad-packet-type', `packet type ${type} is reserved`);
        if (type === PUBLISH) {
          if ((flags & 6) === 6) fail('malformed', 'PUBLISH with QoS 3');
          if ((flags & 8) && !(flags & 6)) fail('reserved-flags', 'PUBLISH with DUP set at QoS 0');
        } else if (flags !== (type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0)) {
          fail('reserved-flags', `${NAMES[type]} has reserved flags 0x${flags.toString(16)}`);
        }
        this.#first = b;
        this.#length = 0;
        this.#lengthBytes = 0;
        this.#state = 1;
      } else if (this.#state === 1) {
        const b = chunk[this.#pos++];
        this.#length += (b & 127) * 2 ** (7 * this.#lengthBytes++);
        if (b & 128) {
          if (this.#lengthBytes === 4) fail('remaining-length', 'remaining length longer than 4 bytes');
          continue;
        }
        const total = 1 + this.#lengthBytes + this.#length;
        if (total > this.maxPacketSize) {
          fail('too-large', `${NAMES[this.#first >> 4]} of ${total} bytes exceeds maxPacketSize ${this.maxPacketSize}`);
        }
        this.#state = 2;
        this.#body = undefined;
        this.#filled = 0;
        if (this.#length === 0) return this.#finish(new Uint8Array(0));
        if (chunk.length - this.#pos >= this.#length) {
          const body = chunk.subarray(this.#pos, this.#pos + this.#length);
          this.#pos += this.#length;
          return this.#finish(body);
        }
      } else {
        // body split across chunks: copy into one buffer
        const body = (this.#body ??= new Uint8Array(this.#length));
        const take = Math.min(this.#length - this.#filled, chunk.length - this.#pos);
        body.set(chunk.subarray(this.#pos, this.#pos + take), this.#filled);
        this.#filled += take;
        this.#pos += take;
        if (this.#filled === this.#length) {
          this.#body = undefined;
          this.#filled = 0;
          return this.#finish(body);
        }
      }
    }
  }

  #finish(body: Uint8Array): Packet {
    this.#state = 0;
    return this.#decode(this.#first, body);
  }
}

export function u16(b: Uint8Array, at: number, what: string): number {
  if (at + 2 > b.length) fail('malformed', `${what} is truncated`);
  return (b[at] << 8) | b[at + 1];
}

export function str(b: Uint8Array, at: number, what: string): [string, number] {
  const n = u16(b, at, what);
  const end = at + 2 + n;
  if (end > b.length) fail('malformed', `${what} runs past the end of the packet`);
  return [decodeUtf8(b, at + 2, end, what), end];
}

export function bin(b: Uint8Array, at: number, what: string): [Uint8Array, number] {
  const n = u16(b, at, what);
  const end = at + 2 + n;
  if (end > b.length) fail('malformed', `${what} runs past the end of the packet`);
  return [b.slice(at + 2, end), end];
}

export function exact(b: Uint8Array, n: number, name: string): void {
  if (b.length !== n) fail('malformed', `${name} must have a remaining length of ${n}, got ${b.length}`);
}

export function packetId(b: Uint8Array, at: number, name: string): number {
  const id = u16(b, at, `${name} packet id`);
  if (id === 0) fail('malformed', `${name} has packet id 0`);
  return id;
}

/** Decodes the packets a broker sends to a client. Others are refused (see all-packets.ts for those). */
export function decodeFromBroker(first: number, b: Uint8Array): Packet {
  const type = first >> 4;
  switch (type) {
    case PUBLISH: {
      const qos = ((first >> 1) & 3) as QoS;
      const n = u16(b, 0, 'PUBLISH topic');
      let at = 2 + n;
      if (at > b.length) fail('malformed', 'PUBLISH topic runs past the end of the packet');
      const topic = decodeUtf8(b, 2, at, 'PUBLISH topic');
      if (!topic) fail('bad-topic', 'PUBLISH with an empty topic');
      for (let i = 0; i < topic.length; i++) {
        const c = topic.charCodeAt(i);
        if (c === 0x23 || c === 0x2b) fail('bad-topic', `PUBLISH topic "${topic}" contains a wildcard`);
      }
      let id: number | undefined;
      if (qos) {
        id = packetId(b, at, 'PUBLISH');
        at += 2;
      }
      return { type, topic, payload: b.subarray(at), qos, retain: (first & 1) === 1, dup: (first & 8) === 8, packetId: id };
    }
    case CONNACK:
      exact(b, 2, 'CONNACK');
      if (b[0] & 0xfe) fail('reserved-flags', 'CONNACK has reserved acknowledge flags set');
      return { type, sessionPresent: (b[0] & 1) === 1, returnCode: b[1] };
    case 4:
    case 5:
    case 6:
    case 7:
    case 11:
      exact(b, 2, NAMES[type]);
      return { type, packetId: packetId(b, 0, NAMES[type]) };
    case 13:
      exact(b, 0, 'PINGRESP');
      return { type };
    case SUBACK: {
      const id = packetId(b, 0, 'SUBACK');
      if (b.length < 3) fail('malformed', 'SUBACK without return codes');
      const granted: number[] = [];
      for (let i = 2; i < b.length; i++) {
        const g = b[i];
        if (g > 2 && g !== 0x80) fail('malformed', `SUBACK return code 0x${g.toString(16)} is not allowed`);
        granted.push(g);
      }
      return { type, packetId: id, granted };
    }
  }
  return fail('bad-packet-type', `a broker does not send ${NAMES[type]}`);
}
