// Collects the fields of an MQTT 5 packet, then writes them into one exact-size array.
import { invalid } from '../errors';
import { encodeUtf8 } from '../utf8';

export class Writer {
  #parts: (number | Uint8Array)[] = [];
  length = 0;

  byte(n: number): void {
    this.#parts.push(n & 255);
    this.length++;
  }

  u16(n: number): void {
    this.byte(n >> 8);
    this.byte(n);
  }

  u32(n: number): void {
    this.u16(Math.floor(n / 65536));
    this.u16(n & 0xffff);
  }

  vbi(n: number): void {
    if (n > 268435455) invalid(`${n} is over MQTT's largest variable byte integer, 268435455`);
    do {
      let digit = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) digit |= 128;
      this.byte(digit);
    } while (n > 0);
  }

  add(bytes: Uint8Array): void {
    if (!bytes.length) return;
    this.#parts.push(bytes);
    this.length += bytes.length;
  }

  /** A length-prefixed field (2-byte length). */
  binary(bytes: Uint8Array, what: string): void {
    if (bytes.length > 65535) invalid(`${what} is ${bytes.length} bytes, over 65535`);
    this.u16(bytes.length);
    this.add(bytes);
  }

  string(text: string, what: string): void {
    if (text.indexOf('\u0000') >= 0) invalid(`${what} contains U+0000, which MQTT strings may not`);
    this.binary(encodeUtf8(text), what);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.#parts) {
      if (typeof p === 'number') out[at++] = p;
      else {
        out.set(p, at);
        at += p.length;
      }
    }
    return out;
  }

  /** The whole packet: fixed header byte `first`, remaining length, then what was written. */
  packet(first: number): Uint8Array {
    const n = this.length;
    const head = new Writer();
    head.byte(first);
    head.vbi(n);
    head.#parts.push(...this.#parts);
    head.length += n;
    return head.bytes();
  }
}
