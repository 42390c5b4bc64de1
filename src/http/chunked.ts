// Streaming decoder for HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1). Holds at most one
// chunk-size line; data passes through as subarrays of the input, never copied or collected.
import { HttpClientError } from './errors';
import { allChars, isHexCode } from '../text/chars';

const SIZE = 0;
const DATA = 1;
const DATA_END = 2;
const TRAILER = 3;
const DONE = 4;

const MAX_LINE = 256;
const MAX_TRAILER = 2048;

export class ChunkedDecoder {
  private state = SIZE;
  private remaining = 0;
  private line = '';
  private trailerBytes = 0;
  /** Position within the CRLF that ends a chunk's data. */
  private endSeen = 0;

  get done(): boolean {
    return this.state === DONE;
  }

  /** Feeds raw body bytes; calls `onData` with decoded data. Returns true once the last chunk ended. */
  push(bytes: Uint8Array, onData: (data: Uint8Array) => void): boolean {
    let i = 0;
    while (i < bytes.length && this.state !== DONE) {
      if (this.state === DATA) {
        const n = Math.min(this.remaining, bytes.length - i);
        onData(bytes.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = DATA_END;
        continue;
      }
      const c = bytes[i++];
      if (this.state === DATA_END) {
        if (c !== (this.endSeen === 0 ? 13 : 10)) throw new HttpClientError('bad-response', 'chunked body: chunk data is not followed by CRLF');
        if (++this.endSeen === 2) {
          this.endSeen = 0;
          this.state = SIZE;
        }
        continue;
      }
      if (this.state === TRAILER && ++this.trailerBytes > MAX_TRAILER) {
        throw new HttpClientError('bad-response', `chunked body: trailer fields longer than ${MAX_TRAILER} bytes`);
      }
      if (c !== 10) {
        if (this.line.length >= MAX_LINE) throw new HttpClientError('bad-response', `chunked body: a line longer than ${MAX_LINE} bytes`);
        this.line += String.fromCharCode(c);
        continue;
      }
      if (this.line[this.line.length - 1] !== '\r') throw new HttpClientError('bad-response', 'chunked body: a line does not end with CRLF');
      const line = this.line.slice(0, -1);
      this.line = '';
      if (this.state === TRAILER) {
        if (line === '') this.state = DONE;
        continue;
      }
      this.startChunk(line);
    }
    return this.state === DONE;
  }

  private startChunk(line: string): void {
    const cut = line.indexOf(';'); // chunk extensions are allowed and ignored
    const digits = (cut < 0 ? line : line.slice(0, cut)).trim();
    if (!allChars(digits, isHexCode, 1, 7)) {
      throw new HttpClientError('bad-response', `chunked body: bad chunk size "${digits.slice(0, 16)}" (hex, below 256 MB)`);
    }
    this.remaining = parseInt(digits, 16);
    this.state = this.remaining === 0 ? TRAILER : DATA;
  }
}
