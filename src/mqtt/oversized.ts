// Reading through an inbound PUBLISH over maxPacketSize as it streams in, so that one big message
// never costs the connection. Only the variable header is kept: the topic (while it fits within
// maxPacketSize) and the packet id; MQTT 5 adds its properties (v5/oversized.ts). The payload is
// counted off and never held. The client then acknowledges the message as its QoS asks and reports it
// (client.ts #oversized).
import { MqttProtocolError } from './errors';

/** Added to the fixed-header byte of a PUBLISH read through: its type then reads as 19, which no normal path takes. */
export const SKIPPED = 0x100;
/** Also set when the topic was too long to keep (the header kept then says topic length 0). */
export const TOPIC_DROPPED = 0x200;

// Parts of the PUBLISH body, in order (MQTT 5 has properties between the packet id and the payload).
const TOPIC_LENGTH = 0;
const TOPIC = 1;
const PACKET_ID = 2;
export const PAYLOAD = 5;

export class OversizedPublish {
  /** The fixed-header byte, with TOPIC_DROPPED once the header is read. */
  declare first: number;
  /** Bytes of the whole packet, fixed header included. */
  declare readonly size: number;
  /** Body bytes still to come. */
  declare left: number;
  /** maxPacketSize: the header kept stays within it. */
  protected declare readonly room: number;
  protected part: number;
  /** Bytes the current part still needs, and whether they are kept. */
  protected need = 2;
  protected keep = true;
  /**
   * The header as kept, head[0, at): a PUBLISH body without its payload (topic length, topic, packet
   * id; MQTT 5 properties length and properties).
   */
  head = new Uint8Array(2);
  at: number;

  /** `length`: the remaining length. */
  constructor(first: number, size: number, length: number, room: number) {
    this.part = this.at = TOPIC_LENGTH;
    this.first = first;
    this.size = size;
    this.left = length;
    this.room = room;
  }

  /** Reads chunk[p, n) as far as this packet goes; returns where the next packet starts. Throws MqttProtocolError. */
  take(chunk: Uint8Array, p: number, n: number): number {
    for (;;) {
      const k = Math.min(this.need, n - p, this.left);
      if (this.keep) {
        this.head.set(chunk.subarray(p, p + k), this.at);
        this.at += k;
      }
      p += k;
      this.left -= k;
      // more bytes needed, or all read
      if ((this.need -= k) || this.part === PAYLOAD) break;
      this.next(++this.part);
    }
    if (this.need && !this.left) throw new MqttProtocolError('malformed', `PUBLISH of ${this.size} bytes ends inside its header`);
    return p;
  }

  /** The previous part is complete: `part` begins (it may need no bytes). */
  protected next(part: number): void {
    const head = this.head;
    let need = 0;
    let keep = true;
    if (part === TOPIC) {
      need = (head[0] << 8) | head[1];
      keep = 2 + need <= this.room;
      // topic length, the topic when kept, then room for the packet id and an MQTT 5 properties length
      this.head = new Uint8Array((keep ? need : 0) + 8);
      if (keep) this.head.set(head);
      else this.first |= TOPIC_DROPPED;
    } else if (part === PACKET_ID) need = this.first & 6 ? 2 : 0;
    else {
      this.part = PAYLOAD;
      need = this.left;
      keep = false;
    }
    this.need = need;
    this.keep = keep;
  }
}
