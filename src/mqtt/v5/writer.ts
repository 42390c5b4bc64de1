// Writes the fields of an MQTT 5 packet into a growing byte array, then the packet in one exact-size
// array.
import { invalid } from '../errors';
import { encodeUtf8 } from '../utf8';

export class Writer {
  #b = new Uint8Array(64);
  length = 0;

  #room(n: number): Uint8Array {
    let b = this.#b;
    if (this.length + n > b.length) {
      const bigger = new Uint8Array(Math.max(b.length * 2, this.length + n));
      bigger.set(b.subarray(0, this.length));
      this.#b = b = bigger;
    }
    return b;
  }

  byte(n: number): void {
    this.#room(1)[this.length++] = n;
  }

  u16(n: number): void {
    const b = this.#room(2);
    b[this.length++] = n >> 8;
    b[this.length++] = n;
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
    this.#room(bytes.length).set(bytes, this.length);
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
    return this.#b.slice(0, this.length);
  }

  /** The whole packet: fixed header byte `first`, remaining length, then what was written. */
  packet(first: number): Uint8Array {
    const n = this.length;
    if (n > 268435455) invalid(`a packet of ${n} bytes is over MQTT's 256 MB`);
    const head = n < 128 ? 2 : n < 16384 ? 3 : n < 2097152 ? 4 : 5;
    const out = new Uint8Array(head + n);
    out[0] = first;
    let i = 1;
    for (let v = n; v > 127; v >>>= 7) out[i++] = (v & 127) | 128;
    out[i] = n >>> (7 * (i - 1));
    out.set(this.#b.subarray(0, n), head);
    return out;
  }
}
