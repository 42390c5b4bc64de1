// Incremental MQTT 3.1.1 parser: accepts bytes in any fragmentation, yields whole packets.
// Bodies that arrive in one chunk are read in place (no copy); split bodies are assembled once.
// PacketFramer frames packets without allocating (the client decodes fields in place, with the field
// readers below); PacketParser gives packet objects.
import { MqttProtocolError, type ProtocolErrorCode } from './errors';
import { PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE, type Packet, type QoS } from './packets';
import { decodeUtf8, nativeText } from './utf8';
import { topicNameProblem } from './topic';
import { type OversizedPublish, SKIPPED } from './oversized';

export function fail(code: ProtocolErrorCode, message: string): never {
  throw new MqttProtocolError(code, message);
}

export const NAMES = ['', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT'];

export type BodyDecoder = (first: number, body: Uint8Array) => Packet;

/** OversizedPublish (MQTT 3.1.1) or OversizedPublish5. */
export type ReadThrough = new (first: number, size: number, length: number, room: number) => OversizedPublish;

export interface ParserOptions {
  /** Largest whole packet accepted, header included. */
  maxPacketSize?: number;
  /** Which packets next() accepts: decodeFromBroker (default, for clients) or decodeAnyPacket. */
  decode?: BodyDecoder;
  /** Accept AUTH packets (type 15, MQTT 5); otherwise type 15 is reserved. */
  auth?: boolean;
}

export class PacketFramer {
  readonly maxPacketSize: number;
  /** The header byte of the packet nextBody() returned last. */
  first = 0;
  /** Where that packet's body lies in the bytes nextBody() returned: [start, end). */
  start = 0;
  end = 0;
  /** Bytes wait to be framed: nextBody() may have another packet (when false, it has none). */
  more = false;
  /** Bytes of the last PUBLISH read through for being over maxPacketSize (see `skip`). */
  skipped = 0;
  #chunk: Uint8Array | undefined;
  #pos = 0;
  #rest: Uint8Array[] = [];
  #state = 0; // 0: first byte, 1: remaining length, 2: body split across chunks, 3: reading through a PUBLISH over maxPacketSize
  #length = 0;
  #lengthBytes = 0;
  #body: Uint8Array | undefined;
  #filled = 0;
  #failed: MqttProtocolError | undefined;
  #oversized: OversizedPublish | undefined;
  /** AUTH (type 15) is a packet type (MQTT 5), not a reserved one. */
  readonly auth: boolean;
  /**
   * Without it, a packet over maxPacketSize is a 'too-large' MqttProtocolError. With it, a PUBLISH over
   * it is read through as it streams in, keeping only its header (OversizedPublish, or the MQTT 5
   * one); nextBody() then returns that header with SKIPPED added to `first`, and the packet's size in
   * `skipped`. Any other packet type over maxPacketSize stays an error: a broker never sends one.
   */
  readonly skip: ReadThrough | undefined;

  constructor(maxPacketSize = 268435460, auth = false, skip?: ReadThrough) {
    this.maxPacketSize = maxPacketSize;
    this.auth = auth;
    this.skip = skip;
  }

  push(bytes: Uint8Array): void {
    if (!bytes.length) return;
    if (this.#chunk) this.#rest.push(bytes);
    else {
      this.#chunk = bytes;
      this.#pos = 0;
      this.more = true;
    }
  }

  /** Bytes received but not yet returned as packets. */
  get buffered(): number {
    let n = this.#chunk ? this.#chunk.length - this.#pos : 0;
    for (const r of this.#rest) n += r.length;
    return n + this.#filled;
  }

  /**
   * The bytes holding the next complete packet (header byte in `first`, body at [start, end)), or
   * undefined until more bytes arrive; `bytes`, when given, are pushed first. What it returns is valid
   * until the next call. Throws MqttProtocolError.
   */
  nextBody(bytes?: Uint8Array): Uint8Array | undefined {
    if (this.#failed) throw this.#failed;
    let chunk = this.#chunk;
    if (bytes && bytes.length) {
      if (chunk) this.#rest.push(bytes);
      else if (!this.#state && bytes[1] + 2 === bytes.length && bytes[1] < 128 && headerOk(bytes[0]) && bytes.length <= this.maxPacketSize) {
        // the most common read: exactly one small packet, nothing buffered
        this.first = bytes[0];
        this.start = 2;
        this.end = bytes.length;
        return bytes;
      } else {
        this.#chunk = chunk = bytes;
        this.#pos = 0;
        this.more = true;
      }
    }
    for (; chunk; chunk = this.#chunk) {
      const n = chunk.length;
      let p = this.#pos;
      let state = this.#state;
      if (!state) {
        const b = chunk[p++];
        if (!headerOk(b)) this.#badHeader(b);
        this.first = b;
        // the common case: a 1-byte remaining length and the whole body in this chunk
        const length = chunk[p];
        if (length < 128 && p + 1 + length <= n && length + 2 <= this.maxPacketSize) {
          this.start = ++p;
          this.end = p += length;
          this.#advance(chunk, p);
          return chunk;
        }
        this.#length = this.#lengthBytes = 0;
        state = 1;
      }
      if (state === 1) {
        // remaining length: 1 to 4 bytes of 7 bits, least significant first
        let length = this.#length;
        let k = this.#lengthBytes;
        let more = true;
        while (more && p < n) {
          const b = chunk[p++];
          length += (b & 127) << (7 * k++);
          more = b > 127;
          if (more && k === 4) this.#fail('remaining-length', 'remaining length over 4 bytes');
        }
        this.#length = length;
        this.#lengthBytes = k;
        this.#state = 1;
        if (!more && 1 + k + length > this.maxPacketSize) {
          if (!this.skip || this.first >> 4 !== PUBLISH) {
            this.#fail('too-large', `${NAMES[this.first >> 4]} of ${1 + k + length} bytes exceeds maxPacketSize ${this.maxPacketSize}`);
          }
          this.#oversized = new this.skip(this.first, 1 + k + length, length, this.maxPacketSize);
          this.#state = 3;
          this.#advance(chunk, p);
          continue;
        }
        if (!more && n - p >= length) {
          this.#state = 0;
          this.start = p;
          this.end = p += length;
          this.#advance(chunk, p);
          return chunk;
        }
        if (!more) {
          this.#state = 2;
          this.#body = new Uint8Array(length);
        }
        this.#advance(chunk, p);
        continue;
      }
      if (state === 3) {
        // (an error here ends the connection: the client makes a new framer for the next one)
        const o = this.#oversized!;
        this.#advance(chunk, (p = o.take(chunk, p, n)));
        if (o.left) continue;
        this.#state = 0;
        this.#oversized = undefined;
        this.first = o.first | SKIPPED;
        this.skipped = o.size;
        this.start = 0;
        this.end = o.at;
        return o.head;
      }
      // body split across chunks: copy into one buffer
      const body = this.#body!;
      const take = Math.min(this.#length - this.#filled, n - p);
      body.set(chunk.subarray(p, p + take), this.#filled);
      this.#filled += take;
      this.#advance(chunk, p + take);
      if (this.#filled === this.#length) {
        this.#state = this.#filled = this.start = 0;
        this.end = this.#length;
        this.#body = undefined;
        return body;
      }
    }
    return undefined;
  }

  /** Reading goes on at `p` in `chunk`, or in the next chunk when this one is used up. */
  #advance(chunk: Uint8Array, p: number): void {
    if (p < chunk.length) this.#pos = p;
    else {
      const rest = this.#rest;
      this.#pos = 0;
      if (rest.length) this.#chunk = rest.shift();
      else {
        this.#chunk = undefined;
        this.more = false;
      }
    }
  }

  /** Throws for a bad fixed-header byte; returns for AUTH when allowed. */
  #badHeader(b: number): void {
    if (b === 0xf0 && this.auth) return;
    const type = b >> 4;
    const flags = b & 15;
    if (!type || type === 15) this.#fail('bad-packet-type', `packet type ${type} is reserved`);
    if (type !== PUBLISH) this.#fail('reserved-flags', `${NAMES[type]} has reserved flags 0x${flags.toString(16)}`);
    if ((flags & 6) === 6) this.#fail('malformed', 'PUBLISH with QoS 3');
    this.#fail('reserved-flags', 'PUBLISH with DUP set at QoS 0');
  }

  #fail(code: ProtocolErrorCode, message: string): never {
    throw (this.#failed = new MqttProtocolError(code, message));
  }
}

/** Whole packets as objects (see packets.ts). */
export class PacketParser extends PacketFramer {
  readonly #decode: BodyDecoder;
  #failed: MqttProtocolError | undefined;

  constructor(options: ParserOptions = {}) {
    super(options.maxPacketSize, options.auth);
    this.#decode = options.decode ?? decodeFromBroker;
  }

  /** The next complete packet, or undefined until more bytes arrive. Throws MqttProtocolError. */
  next(): Packet | undefined {
    if (this.#failed) throw this.#failed;
    try {
      const bytes = this.nextBody();
      return bytes && this.#decode(this.first, bytes.subarray(this.start, this.end));
    } catch (error) {
      if (error instanceof MqttProtocolError) this.#failed = error;
      throw error;
    }
  }
}

/** A fixed-header byte with a packet type and the flags MQTT 3.1.1 requires for it. */
function headerOk(b: number): boolean {
  const type = b >> 4;
  return type === 3 ? (b & 6) !== 6 && (b & 14) !== 8 : (b & 15) === (type === 6 || type === 8 || type === 10 ? 2 : 0) && type > 0 && type < 15;
}

// Field readers shared by decodeFromBroker and the client, which decodes in place. `type` names the
// packet in errors; bodies are b[start, end).

export function exact(type: number, start: number, end: number, n: number): void {
  if (end - start !== n) fail('malformed', `${NAMES[type]} of ${end - start} bytes, not ${n}`);
}

/** A packet id at `at`; 0 is not allowed. */
export function readId(b: Uint8Array, at: number, end: number, type: number): number {
  if (at + 2 > end) fail('malformed', `${NAMES[type]} packet id is truncated`);
  const id = (b[at] << 8) | b[at + 1];
  if (!id) fail('malformed', `${NAMES[type]} has packet id 0`);
  return id;
}

/** A wildcard, U+0000, or U+FFFD from the engine's decoder (bytes that are not UTF-8). */
const TOPIC_UNSAFE = /[+#\u0000\ufffd]/;

/** The topic of a PUBLISH body: valid UTF-8, not empty, no wildcards. It ends at start + 2 + its byte length. */
export function readTopic(b: Uint8Array, start: number, end: number): string {
  const to = start + 2 + ((b[start] << 8) | b[start + 1]);
  if (start + 2 > end || to > end) fail('malformed', 'PUBLISH topic is truncated');
  const ascii = nativeText(b, start + 2, to);
  if (ascii && !TOPIC_UNSAFE.test(ascii)) return ascii;
  const topic = decodeUtf8(b, start + 2, to, 'PUBLISH topic');
  const problem = topicNameProblem(topic);
  if (problem) fail('bad-topic', `PUBLISH: ${problem}`);
  return topic;
}

/** CONNACK: session present << 8 | return code. */
export function readConnack(b: Uint8Array, start: number, end: number): number {
  exact(2, start, end, 2);
  if (b[start] & 0xfe) fail('reserved-flags', 'CONNACK reserved flags set');
  return (b[start] << 8) | b[start + 1];
}

/** SUBACK return codes, after the packet id: a granted QoS or 0x80 (refused). */
export function readGranted(b: Uint8Array, start: number, end: number): number[] {
  if (end - start < 3) fail('malformed', 'SUBACK without return codes');
  const granted: number[] = [];
  for (let i = start + 2; i < end; i++) {
    const g = b[i];
    if (g > 2 && g !== 0x80) fail('malformed', `bad SUBACK return code 0x${g.toString(16)}`);
    granted.push(g);
  }
  return granted;
}

/** Decodes the packets a broker sends to a client. Others are refused (see all-packets.ts for those). */
export function decodeFromBroker(first: number, b: Uint8Array): Packet {
  const type = first >> 4;
  const n = b.length;
  switch (type) {
    case PUBLISH: {
      const topic = readTopic(b, 0, n);
      const qos = ((first >> 1) & 3) as QoS;
      let at = 2 + ((b[0] << 8) | b[1]);
      let id: number | undefined;
      if (qos) {
        id = readId(b, at, n, type);
        at += 2;
      }
      return { type, topic, payload: b.subarray(at), qos, retain: (first & 1) === 1, dup: (first & 8) === 8, packetId: id };
    }
    case 2: {
      const v = readConnack(b, 0, n);
      return { type, sessionPresent: v > 255, returnCode: v & 255 };
    }
    case 4:
    case 5:
    case 6:
    case 7:
    case 11:
      exact(type, 0, n, 2);
      return { type, packetId: readId(b, 0, n, type) };
    case 9:
      return { type, packetId: readId(b, 0, n, type), granted: readGranted(b, 0, n) };
    case 13:
      exact(type, 0, n, 0);
      return { type };
  }
  return fail('bad-packet-type', `${NAMES[type]} from a broker`);
}
