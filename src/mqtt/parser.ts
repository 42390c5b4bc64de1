// Incremental MQTT parser (both versions frame alike): accepts bytes in any fragmentation, yields
// whole packets. Bodies that arrive in one chunk are read in place (no copy); split bodies are
// assembled once. PacketFramer frames packets without allocating and is the Reader the dialects
// decode them with; PacketParser gives packet objects, for tools and tests.
import { MqttProtocolError, type ProtocolErrorCode } from './errors';
import { type OversizedPublish, SKIPPED } from './oversized';
import { AUTH, PACKET_NAMES, PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE, type Packet } from './packets';
import type { Reader } from './reader';
import { decodeFromBroker } from './v311/decode';

/** Decodes the packet the reader is on (its header byte in `first`, its body b[at, end)). */
export type BodyDecoder = (r: Reader) => Packet;

/** OversizedPublish (MQTT 3.1.1) or OversizedPublish5. */
export type ReadThrough = new (first: number, size: number, length: number, room: number) => OversizedPublish;

export interface ParserOptions {
  /** Largest whole packet accepted, header included. */
  maxPacketSize?: number;
  /** Which packets next() accepts: decodeFromBroker (default, for clients) or decodeAnyPacket. */
  decode?: BodyDecoder;
  /** Speaks MQTT 5: AUTH (type 15) is a packet; otherwise type 15 is reserved. */
  mqtt5?: boolean;
}

// Where the framer is in the bytes.
/** At a packet's fixed-header byte. */
const FIRST_BYTE = 0;
/** In its remaining length (1 to 4 bytes). */
const REMAINING_LENGTH = 1;
/** In a body split across chunks, being copied into one buffer. */
const SPLIT_BODY = 2;
/** In a PUBLISH over maxPacketSize, read through (see `skip`). */
const READING_THROUGH = 3;
/** Stopped by a protocol error: every call throws it again. */
const FAILED = 4;
type FramerState = typeof FIRST_BYTE | typeof REMAINING_LENGTH | typeof SPLIT_BODY | typeof READING_THROUGH | typeof FAILED;

/**
 * After nextBody() returns a packet, the framer is a Reader on it: header byte in `first`, body
 * b[at, end) (b is the bytes nextBody() returned).
 */
export class PacketFramer implements Reader {
  first: number;
  declare b: Uint8Array;
  at: number;
  end: number;
  declare readonly maxPacketSize: number;
  /** Bytes wait to be framed: nextBody() may have another packet (when false, it has none). */
  more: boolean;
  /** Bytes of the last PUBLISH read through for being over maxPacketSize (see `skip`). */
  skipped: number;
  #chunk: Uint8Array | undefined;
  #pos: number;
  /** FIRST_BYTE is 0: `!this.#state` tests for it. */
  #state: FramerState;
  /** Packets of fewer bytes than this, a 1-byte remaining length and within maxPacketSize, take nextBody's shortest path. */
  readonly #small: number;
  #length: number;
  #lengthBytes: number;
  #body: Uint8Array | undefined;
  #filled: number;
  #failed: MqttProtocolError | undefined;
  #oversized: OversizedPublish | undefined;
  /** Speaks MQTT 5: AUTH (type 15) is a packet type, not a reserved one. */
  readonly #mqtt5: boolean;
  /**
   * Without it, a packet over maxPacketSize is a 'too-large' MqttProtocolError. With it, a PUBLISH over
   * it is read through as it streams in, keeping only its header (OversizedPublish, or the MQTT 5
   * one); nextBody() then returns that header with SKIPPED added to `first`, and the packet's size in
   * `skipped`. Any other packet type over maxPacketSize stays an error: a broker never sends one.
   */
  readonly #skip: ReadThrough | undefined;

  constructor(maxPacketSize = 268435460, mqtt5 = false, skip?: ReadThrough) {
    this.first = this.at = this.end = this.skipped = this.#pos = this.#length = this.#lengthBytes = this.#filled = this.#state = FIRST_BYTE;
    this.more = false;
    this.maxPacketSize = maxPacketSize;
    this.#small = Math.min(130, maxPacketSize + 1);
    this.#mqtt5 = mqtt5;
    this.#skip = skip;
  }

  push(bytes: Uint8Array): void {
    if (!bytes.length) return;
    const chunk = this.#chunk;
    if (chunk) {
      // bytes pushed while a chunk is being framed join what is left of it (a client frames each read
      // through before the next, so only tools pushing several chunks at once copy)
      const left = chunk.length - this.#pos;
      const all = new Uint8Array(left + bytes.length);
      all.set(chunk.subarray(this.#pos));
      all.set(bytes, left);
      bytes = all;
    }
    this.#chunk = bytes;
    this.#pos = 0;
    this.more = true;
  }

  /** Bytes received but not yet returned as packets. */
  get buffered(): number {
    return (this.#chunk ? this.#chunk.length - this.#pos : 0) + this.#filled;
  }

  /**
   * The bytes holding the next complete packet (header byte in `first`, body at [at, end)), or
   * undefined until more bytes arrive; `bytes`, when given, are pushed first. What it returns is valid
   * until the next call. Throws MqttProtocolError.
   */
  nextBody(bytes?: Uint8Array): Uint8Array | undefined {
    if (bytes) {
      // the most common read: exactly one small packet, nothing buffered (`more` is false exactly
      // when no chunk is), no error (see FAILED). (`first` is set on the way: when the header byte is
      // bad, the way below reads it again and fails.)
      const n = bytes.length;
      if (!this.more && !this.#state && bytes[1] + 2 === n && n < this.#small && HEADER_OK[(this.first = bytes[0])]) {
        this.b = bytes;
        this.at = 2;
        this.end = n;
        return bytes;
      }
      this.push(bytes);
    }
    let chunk = this.#chunk;
    if (this.#failed) throw this.#failed;
    for (; chunk; chunk = this.#chunk) {
      const n = chunk.length;
      let p = this.#pos;
      let state = this.#state;
      if (state === FIRST_BYTE) {
        const b = chunk[p++];
        if (!HEADER_OK[b]) this.#badHeader(b);
        this.first = b;
        this.#length = this.#lengthBytes = 0;
        state = REMAINING_LENGTH;
      }
      if (state === REMAINING_LENGTH) {
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
        this.#state = REMAINING_LENGTH;
        if (!more && 1 + k + length > this.maxPacketSize) {
          if (!this.#skip || this.first >> 4 !== PUBLISH) {
            this.#fail('too-large', `${PACKET_NAMES[this.first >> 4]} of ${1 + k + length} bytes exceeds maxPacketSize ${this.maxPacketSize}`);
          }
          this.#oversized = new this.#skip(this.first, 1 + k + length, length, this.maxPacketSize);
          this.#state = READING_THROUGH;
          this.#advance(chunk, p);
          continue;
        }
        if (!more && n - p >= length) {
          this.#state = FIRST_BYTE;
          this.b = chunk;
          this.at = p;
          this.end = p += length;
          this.#advance(chunk, p);
          return chunk;
        }
        if (!more) {
          this.#state = SPLIT_BODY;
          this.#body = new Uint8Array(length);
        }
        this.#advance(chunk, p);
        continue;
      }
      if (state === READING_THROUGH) {
        // (an error here ends the connection: the client makes a new framer for the next one)
        const o = this.#oversized!;
        this.#advance(chunk, (p = o.take(chunk, p, n)));
        if (o.left) continue;
        this.#state = FIRST_BYTE;
        this.#oversized = undefined;
        this.first = o.first | SKIPPED;
        this.skipped = o.size;
        this.b = o.head;
        this.at = 0;
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
        this.#state = FIRST_BYTE;
        this.#filled = this.at = 0;
        this.b = body;
        this.end = this.#length;
        this.#body = undefined;
        return body;
      }
    }
    return undefined;
  }

  /** Reading goes on at `p` in `chunk`, until it is used up. */
  #advance(chunk: Uint8Array, p: number): void {
    if (p < chunk.length) this.#pos = p;
    else {
      this.#chunk = undefined;
      this.more = false;
    }
  }

  /** Throws for a bad fixed-header byte; returns for AUTH when allowed. */
  #badHeader(b: number): void {
    if (b === AUTH << 4 && this.#mqtt5) return;
    const type = b >> 4;
    const flags = b & 15;
    if (!type || type === AUTH) this.#fail('bad-packet-type', `packet type ${type} is reserved`);
    if (type !== PUBLISH) this.#fail('reserved-flags', `${PACKET_NAMES[type]} has reserved flags 0x${flags.toString(16)}`);
    if ((flags & 6) === 6) this.#fail('malformed', 'PUBLISH with QoS 3');
    this.#fail('reserved-flags', 'PUBLISH with DUP set at QoS 0');
  }

  #fail(code: ProtocolErrorCode, message: string): never {
    this.#state = FAILED;
    throw (this.#failed = new MqttProtocolError(code, message));
  }
}

/** Whole packets as objects (see packets.ts). */
export class PacketParser extends PacketFramer {
  readonly #decode: BodyDecoder;
  #failed: MqttProtocolError | undefined;

  constructor(options: ParserOptions = {}) {
    super(options.maxPacketSize, options.mqtt5);
    this.#decode = options.decode ?? decodeFromBroker;
  }

  /** The next complete packet, or undefined until more bytes arrive. Throws MqttProtocolError. */
  next(): Packet | undefined {
    if (this.#failed) throw this.#failed;
    try {
      return this.nextBody() && this.#decode(this);
    } catch (error) {
      if (error instanceof MqttProtocolError) this.#failed = error;
      throw error;
    }
  }
}

/**
 * By fixed-header byte: 1 when it has a packet type and flags MQTT 3.1.1 allows (AUTH: see
 * #badHeader). A lookup per packet instead of a call; 256 bytes, filled once and never written again.
 */
const HEADER_OK = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const type = b >> 4;
  const flags = b & 15;
  if (type === PUBLISH) HEADER_OK[b] = (flags & 6) !== 6 && (flags & 14) !== 8 ? 1 : 0; // not QoS 3, not DUP at QoS 0
  else HEADER_OK[b] = flags === (type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0) && type > 0 && type < AUTH ? 1 : 0;
}
