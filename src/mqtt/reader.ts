// A cursor over one MQTT packet: its fixed-header byte `first` and its body b[at, end). Every read
// checks the bounds and names the packet and field in the MqttProtocolError it throws.
//
// Both dialects decode with it: MQTT 5 packets are variable (properties, optional reason codes, a
// topic that an alias may replace), which a cursor reads field after field with one bounds check
// each, and MQTT 3.1.1 reads its fixed layouts the same way. The framer is a Reader too: it leaves
// itself on each packet it frames, so decoding needs no object and no copy.
import { fail } from './errors';
import { PACKET_NAMES } from './packets';
import { topicNameProblem } from './topic';
import { decodeUtf8, nativeText } from './utf8';

/** A wildcard, U+0000, or U+FFFD from the engine's decoder (bytes that are not UTF-8). */
const TOPIC_UNSAFE = /[+#\u0000\ufffd]/;

export class Reader {
  /** The fixed-header byte: packet type << 4 | flags. */
  first = 0;
  b: Uint8Array = new Uint8Array(0);
  at = 0;
  end = 0;

  /** The packet's name, for messages. */
  get what(): string {
    return PACKET_NAMES[(this.first >> 4) & 15];
  }

  /** Starts reading b[at, end), the body of a packet with header byte `first`. */
  reset(first: number, b: Uint8Array, at: number, end: number): this {
    this.first = first;
    this.b = b;
    this.at = at;
    this.end = end;
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

  /** A packet identifier; 0 is not one. */
  id(): number {
    const at = this.at;
    const b = this.b;
    if (at + 2 > this.end) fail('malformed', `${this.what}: packet id is truncated`);
    const id = (b[at] << 8) | b[at + 1];
    if (!id) fail('malformed', `${this.what} has packet id 0`);
    this.at = at + 2;
    return id;
  }

  /**
   * A PUBLISH topic name: valid UTF-8 without wildcards or U+0000; '' when empty (MQTT 5 lets a topic
   * alias stand for it; MQTT 3.1.1 refuses it). ASCII takes one native call and one regular expression.
   */
  topic(): string {
    const b = this.b;
    const start = this.at + 2;
    if (start > this.end) fail('malformed', `${this.what}: topic is truncated`);
    const end = start + ((b[start - 2] << 8) | b[start - 1]);
    if (end > this.end) fail('malformed', `${this.what}: topic is truncated`);
    this.at = end;
    if (end === start) return '';
    const ascii = nativeText(b, start, end);
    if (ascii && !TOPIC_UNSAFE.test(ascii)) return ascii;
    const topic = decodeUtf8(b, start, end, `${this.what} topic`);
    const problem = topicNameProblem(topic);
    if (problem) fail('bad-topic', `${this.what}: ${problem}`);
    return topic;
  }

  /** The body must be `n` bytes long (a fixed layout). */
  size(n: number): void {
    const length = this.end - this.at;
    if (length !== n) fail('malformed', `${this.what} of ${length} bytes, not ${n}`);
  }

  /** The packet must end here. */
  done(): void {
    if (this.at !== this.end) fail('malformed', `${this.what} has ${this.end - this.at} bytes after its last field`);
  }
}
