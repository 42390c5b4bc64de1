// A cursor over one MQTT 5 packet body, b[at, end): every read checks the bounds and names the field
// in the MqttProtocolError it throws.
import { fail } from '../parser';
import { decodeUtf8 } from '../utf8';

export class Reader {
  b: Uint8Array = new Uint8Array(0);
  at = 0;
  end = 0;
  /** The packet, for messages. */
  what = '';

  /** Starts reading b[at, end) of a packet named `what`. */
  reset(b: Uint8Array, at: number, end: number, what: string): this {
    this.b = b;
    this.at = at;
    this.end = end;
    this.what = what;
    return this;
  }

  get left(): number {
    return this.end - this.at;
  }

  #need(n: number, field: string): number {
    const at = this.at;
    if (at + n > this.end) fail('malformed', `${this.what}: ${field} is truncated`);
    this.at = at + n;
    return at;
  }

  u8(field: string): number {
    return this.b[this.#need(1, field)];
  }

  u16(field: string): number {
    const at = this.#need(2, field);
    return (this.b[at] << 8) | this.b[at + 1];
  }

  u32(field: string): number {
    const at = this.#need(4, field);
    const b = this.b;
    return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
  }

  /** Variable Byte Integer: 1 to 4 bytes, 7 bits each, least significant first. */
  vbi(field: string): number {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const byte = this.u8(field);
      n += (byte & 127) * 2 ** (7 * k);
      if (byte < 128) return n;
    }
    return fail('malformed', `${this.what}: ${field} is a variable byte integer over 4 bytes`);
  }

  #field(field: string): number {
    const n = this.u16(field);
    return this.#need(n, field);
  }

  string(field: string): string {
    const start = this.#field(field);
    return decodeUtf8(this.b, start, this.at, `${this.what} ${field}`);
  }

  binary(field: string): Uint8Array {
    const start = this.#field(field);
    return this.b.slice(start, this.at);
  }

  /** The packet must end here. */
  done(): void {
    if (this.at !== this.end) fail('malformed', `${this.what} has ${this.end - this.at} bytes after its last field`);
  }
}
