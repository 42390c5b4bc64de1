// RFC 6455 framing (section 5): masked frames from the client, and a streaming parser for the
// server's frames that hands over payload bytes as they arrive, so a frame is never buffered whole.
import { WebSocketError } from './websocket-errors';

export const CONTINUATION = 0;
export const TEXT = 1;
export const BINARY = 2;
export const CLOSE = 8;
export const PING = 9;
export const PONG = 10;

/** The host's byte order, for laying the masking key out in a word. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * One client frame: FIN and opcode, payload[start, end) masked with the 32-bit `key` (section 5.3).
 * One allocation.
 */
export function maskedFrame(fin: boolean, opcode: number, payload: Uint8Array, start: number, end: number, key: number): Uint8Array {
  const n = end - start;
  const h = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(h + 4 + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 255;
  } else {
    // 64-bit length; this side never sends 4 GB, so the upper half stays 0
    out[1] = 0x80 | 127;
    out[6] = n >>> 24;
    out[7] = (n >> 16) & 255;
    out[8] = (n >> 8) & 255;
    out[9] = n & 255;
  }
  out[h] = key >>> 24;
  out[h + 1] = (key >> 16) & 255;
  out[h + 2] = (key >> 8) & 255;
  out[h + 3] = key & 255;
  const at = h + 4;
  const stop = at + n;
  out.set(start || end !== payload.length ? payload.subarray(start, end) : payload, at);
  // XOR four bytes at a time over the word-aligned middle (XS charges per element, so bytes one by
  // one cost four times more), with the key rotated to where the words start
  const first = (at + 3) & ~3;
  const last = stop & ~3;
  let i = at;
  for (; i < first && i < stop; i++) out[i] ^= out[h + ((i - at) & 3)];
  if (last > first) {
    const r = h + ((first - at) & 3);
    const b0 = out[r];
    const b1 = out[h + ((r - h + 1) & 3)];
    const b2 = out[h + ((r - h + 2) & 3)];
    const b3 = out[h + ((r - h + 3) & 3)];
    const k = LITTLE_ENDIAN ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24) : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
    const words = new Uint32Array(out.buffer, first, (last - first) >> 2);
    for (let w = 0; w < words.length; w++) words[w] ^= k;
    i = last;
  }
  for (; i < stop; i++) out[i] ^= out[h + ((i - at) & 3)];
  return out;
}

/** What the parser hands over. */
export interface FrameSink {
  /** Payload bytes of a binary message (any of its fragments), in order. */
  data(bytes: Uint8Array): void;
  /** A whole control frame: CLOSE, PING or PONG. */
  control(opcode: number, payload: Uint8Array): void;
}

function refuse(closeCode: number, message: string): never {
  throw new WebSocketError(closeCode === 1009 ? 'too-large' : 'protocol', message, closeCode);
}

/** The server's frames, in any fragmentation of the byte stream. Throws WebSocketError with the close code to send. */
export class FrameParser {
  readonly maxFrameSize: number;
  readonly #head = new Uint8Array(14);
  #headLength = 0;
  /** In a frame's payload (as opposed to its header). */
  #inPayload = false;
  #left = 0;
  #opcode = 0;
  /** A fragmented binary message is under way (continuation frames follow). */
  #inMessage = false;
  #control: Uint8Array | undefined;
  #controlAt = 0;

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  push(b: Uint8Array, sink: FrameSink): void {
    let i = 0;
    const n = b.length;
    while (i < n) {
      if (!this.#inPayload) {
        const head = this.#head;
        head[this.#headLength++] = b[i++];
        const length = this.#headLength;
        if (length < 2) continue;
        const len7 = head[1] & 127;
        const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (head[1] & 128 ? 4 : 0);
        if (length < need) continue;
        this.#start(sink);
        continue;
      }
      const take = Math.min(this.#left, n - i);
      if (this.#control) {
        this.#control.set(b.subarray(i, i + take), this.#controlAt);
        this.#controlAt += take;
      } else sink.data(b.subarray(i, i + take));
      i += take;
      this.#left -= take;
      if (!this.#left) this.#end(sink);
    }
  }

  /** A whole header is in #head: check it and start the frame. */
  #start(sink: FrameSink): void {
    const head = this.#head;
    this.#headLength = 0;
    const b0 = head[0];
    const fin = (b0 & 128) !== 0;
    const opcode = b0 & 15;
    if (b0 & 0x70) refuse(1002, 'the server set reserved bits (RSV1-3) with no extension agreed');
    if (head[1] & 128) refuse(1002, 'the server masked a frame, which RFC 6455 forbids');
    const len7 = head[1] & 127;
    let length = len7;
    if (len7 === 126) length = (head[2] << 8) | head[3];
    else if (len7 === 127) {
      if (head[2] || head[3] || head[4] || head[5]) refuse(1009, `a frame of over 4 GB is over maxFrameSize ${this.maxFrameSize}`);
      length = ((head[6] << 24) >>> 0) + ((head[7] << 16) | (head[8] << 8) | head[9]);
    }
    if (opcode >= 8) {
      if (opcode > PONG) refuse(1002, `the server sent reserved opcode 0x${opcode.toString(16)}`);
      if (!fin || length > 125) refuse(1002, 'the server sent a fragmented or long control frame');
      this.#control = new Uint8Array(length);
      this.#controlAt = 0;
    } else {
      if (opcode === TEXT) refuse(1003, 'the server sent a text frame: MQTT over WebSocket uses binary frames only');
      if (opcode > BINARY) refuse(1002, `the server sent reserved opcode 0x${opcode.toString(16)}`);
      if (opcode === BINARY && this.#inMessage) refuse(1002, 'the server started a message before finishing the fragmented one');
      if (opcode === CONTINUATION && !this.#inMessage) refuse(1002, 'the server sent a continuation frame outside a fragmented message');
      if (length > this.maxFrameSize) refuse(1009, `the server sent a frame of ${length} bytes, over maxFrameSize ${this.maxFrameSize}`);
      this.#inMessage = !fin;
      this.#control = undefined;
    }
    this.#opcode = opcode;
    this.#left = length;
    this.#inPayload = true;
    if (!length) this.#end(sink);
  }

  #end(sink: FrameSink): void {
    this.#inPayload = false;
    const control = this.#control;
    if (control) {
      this.#control = undefined;
      sink.control(this.#opcode, control);
    }
  }
}
