// Finds Improv packets in a serial byte stream that may also carry log lines or noise.
import { checksum, IMPROV_HEADER, IMPROV_VERSION } from './packet';

export interface ImprovFrame {
  type: number;
  data: Uint8Array;
}

const MAX_FRAME = 10 + 255;

/** Where whole packets go: an object whose methods these are (the Improv service), so no closures are kept. */
export interface ImprovFrameSink {
  /** A packet with a valid checksum. */
  frame(frame: ImprovFrame): void;
  /** A complete packet whose checksum did not match. */
  badChecksum(): void;
}

export class ImprovReader {
  /** The packet being read; made at its first byte and let go at its end, so an idle port holds no buffer. */
  private buf: Uint8Array | undefined;
  private pos = 0;
  private lastByteAt = 0;

  /** @param staleMs a packet left unfinished this long is dropped when new bytes arrive */
  constructor(
    private readonly sink: ImprovFrameSink,
    private readonly staleMs = 1_000,
  ) {}

  push(bytes: Uint8Array, now: number): void {
    if (this.pos > 0 && now - this.lastByteAt > this.staleMs) this.reset();
    this.lastByteAt = now;
    for (let i = 0; i < bytes.length; i++) this.byte(bytes[i]);
  }

  private reset(): void {
    this.pos = 0;
    this.buf = undefined;
  }

  private byte(b: number): void {
    const pos = this.pos;
    if ((pos < 6 && b !== IMPROV_HEADER[pos]) || (pos === 6 && b !== IMPROV_VERSION)) {
      // Not a packet after all: this byte may start the next one.
      this.reset();
      if (b === IMPROV_HEADER[0]) this.start(b);
      return;
    }
    if (pos === 0) {
      this.start(b);
      return;
    }
    const buf = this.buf!;
    buf[this.pos++] = b;
    if (this.pos < 9) return;
    const length = buf[8];
    if (this.pos < 10 + length) return;
    this.reset();
    if (checksum(buf, 9 + length) !== buf[9 + length]) {
      this.sink.badChecksum();
      return;
    }
    this.sink.frame({ type: buf[7], data: buf.slice(9, 9 + length) });
  }

  private start(b: number): void {
    this.buf = new Uint8Array(MAX_FRAME);
    this.buf[0] = b;
    this.pos = 1;
  }
}
