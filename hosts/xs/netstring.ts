// Netstrings (`<decimal length>:<bytes>,`), the framing between Node and xsnap-worker.
import { XsProtocolError } from './errors';

/** xsnap reads lengths with %9lu: at most 999,999,999 bytes. */
const MAX_NETSTRING = 999_999_999;

export function netstring(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_NETSTRING) throw new XsProtocolError(`message of ${payload.length} bytes exceeds ${MAX_NETSTRING}`);
  const head = new TextEncoder().encode(`${payload.length}:`);
  const out = new Uint8Array(head.length + payload.length + 1);
  out.set(head, 0);
  out.set(payload, head.length);
  out[out.length - 1] = 0x2c;
  return out;
}

/** Incremental decoder: push chunks as they arrive, get back every complete payload. */
export class NetstringReader {
  private buffer: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    this.buffer = this.buffer.length ? concat(this.buffer, chunk) : chunk;
    const out: Uint8Array[] = [];
    let start = 0;
    for (;;) {
      let colon = -1;
      let length = 0;
      for (let i = start; i < this.buffer.length; i++) {
        const c = this.buffer[i]!;
        if (c === 0x3a) {
          colon = i;
          break;
        }
        if (c < 0x30 || c > 0x39 || i - start >= 9) throw new XsProtocolError(`bad netstring length prefix at byte ${i}`);
        length = length * 10 + (c - 0x30);
      }
      if (colon < 0) break;
      if (colon === start) throw new XsProtocolError('empty netstring length prefix');
      const end = colon + 1 + length;
      if (this.buffer.length <= end) break;
      if (this.buffer[end] !== 0x2c) throw new XsProtocolError('netstring without the closing comma');
      out.push(this.buffer.slice(colon + 1, end));
      start = end + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
