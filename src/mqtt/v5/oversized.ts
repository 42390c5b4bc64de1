// MQTT 5: a PUBLISH over maxPacketSize is read through as in MQTT 3.1.1 (../oversized.ts), with its
// properties kept too while the header still fits within maxPacketSize: they may set or use a topic
// alias, and carry the correlation data a reply needs.
import { MqttProtocolError } from '../errors';
import { OversizedPublish, PAYLOAD } from '../oversized';

/** Set on the fixed-header byte when the properties were too long to keep (the header kept then says properties length 0). */
export const PROPERTIES_DROPPED = 0x400;

const PROPERTIES_LENGTH = 3;
const PROPERTIES = 4;

export class OversizedPublish5 extends OversizedPublish {
  /** Where the properties length starts in the header kept. */
  #vbi = 0;

  protected override next(part: number): void {
    if (part === PROPERTIES_LENGTH) {
      this.#vbi = this.at;
      this.need = 1;
      this.keep = true;
      return;
    }
    if (part !== PROPERTIES) return super.next(part);
    // the length: 1 to 4 bytes of 7 bits, least significant first
    const head = this.head;
    const at = this.at;
    const vbi = this.#vbi;
    if (head[at - 1] > 127) {
      if (at - vbi === 4) throw new MqttProtocolError('malformed', 'PUBLISH properties length over 4 bytes');
      this.part--;
      this.need = 1;
      return;
    }
    let need = 0;
    for (let i = vbi; i < at; i++) need += (head[i] & 127) * 2 ** (7 * (i - vbi));
    const keep = at + need <= this.room;
    if (keep) {
      this.head = new Uint8Array(at + need);
      this.head.set(head.subarray(0, at));
    } else {
      // an empty property list stands for the ones not kept
      head[vbi] = 0;
      this.at = vbi + 1;
      this.first |= PROPERTIES_DROPPED;
    }
    // no properties: straight on to the payload
    if (!need) return super.next(PAYLOAD);
    this.need = need;
    this.keep = keep;
  }
}
