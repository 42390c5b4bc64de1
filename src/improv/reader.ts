// Finds Improv packets in a serial byte stream that may also carry log lines or noise.
import { checksum, IMPROV_HEADER, IMPROV_VERSION } from './packet';

export interface ImprovFrame {
  type: number;
  data: Uint8Array;
}

const MAX_FRAME = 10 + 255;

export class ImprovReader {
  private readonly buf = new Uint8Array(MAX_FRAME);
  private pos = 0;
  private lastByteAt = 0;

  /**
   * @param onFrame a packet with a valid checksum
   * @param onBadChecksum a complete packet whose checksum did not match
   * @param staleMs a packet left unfinished this long is dropped when new bytes arrive
   */
  constructor(
    private readonly onFrame: (frame: ImprovFrame) => void,
    private readonly onBadChecksum: () => void,
    private readonly staleMs = 1_000,
  ) {}

  push(bytes: Uint8Array, now: number): void {
    if (this.pos > 0 && now - this.lastByteAt > this.staleMs) this.pos = 0;
    this.lastByteAt = now;
    for (let i = 0; i < bytes.length; i++) this.byte(bytes[i]);
  }

  private byte(b: number): void {
    const pos = this.pos;
    if ((pos < 6 && b !== IMPROV_HEADER[pos]) || (pos === 6 && b !== IMPROV_VERSION)) {
      // Not a packet after all: this byte may start the next one.
      this.pos = 0;
      if (b === IMPROV_HEADER[0]) this.buf[this.pos++] = b;
      return;
    }
    this.buf[this.pos++] = b;
    if (this.pos < 9) return;
    const length = this.buf[8];
    if (this.pos < 10 + length) return;
    this.pos = 0;
    if (checksum(this.buf, 9 + length) !== this.buf[9 + length]) {
      this.onBadChecksum();
      return;
    }
    this.onFrame({ type: this.buf[7], data: this.buf.slice(9, 9 + length) });
  }
}
