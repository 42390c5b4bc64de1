// A cursor over one MQTT packet: its fixed-header byte `first` and its body b[at, end). Every read
// checks the bounds and names the packet and field in the MqttProtocolError it throws.
//
// Both dialects decode with it: MQTT 5 packets are variable (properties, optional reason codes, a
// topic that an alias may replace), which a cursor reads field after field with one bounds check
// each, and MQTT 3.1.1 reads its fixed layouts the same way. The framer is a Reader too: it leaves
// itself on each packet it frames, so decoding needs no object and no copy. The fields only MQTT 5
// and the packet-object decoders read are functions below, so a 3.1.1 client does not carry them.
import { fail } from './errors';
import { PACKET_NAMES } from './packets';
import { topicNameProblem, topicUnsafe } from './topic';
import { decodeUtf8, nativeText } from './utf8';


/** A packet being decoded, in place: the framer (parser.ts PacketFramer) is one. */
export interface Reader {
  /** The fixed-header byte: packet type << 4 | flags. */
  first: number;
  b: Uint8Array;
  at: number;
  end: number;
}

/** The name of the packet `r` is on, for messages. */
export const packetOf = (r: Reader): string => {
  return PACKET_NAMES[(r.first >> 4) & 15];
};

// Fields, each read at the cursor, which moves past it.

/** A packet identifier; 0 is not one. */
export const readId = (r: Reader): number => {
  const at = r.at;
  const b = r.b;
  if (at + 2 > r.end) fail('malformed', `${packetOf(r)}: packet id is truncated`);
  const id = (b[at] << 8) | b[at + 1];
  if (!id) fail('malformed', `${packetOf(r)} has packet id 0`);
  r.at = at + 2;
  return id;
};

/**
 * A PUBLISH topic name: valid UTF-8 without wildcards or U+0000; '' when empty (MQTT 5 lets a topic
 * alias stand for it; MQTT 3.1.1 refuses it). ASCII takes one native call and three indexOf calls.
 */
export const readTopic = (r: Reader): string => {
  const b = r.b;
  const start = r.at + 2;
  // (past the end, the length reads as 0 and the test still fails)
  const end = start + ((b[start - 2] << 8) | b[start - 1]);
  if (end > r.end) fail('malformed', `${packetOf(r)}: topic is truncated`);
  r.at = end;
  if (end === start) return '';
  const ascii = nativeText(b, start, end);
  if (ascii && !topicUnsafe(ascii)) return ascii;
  const topic = decodeUtf8(b, start, end, `${packetOf(r)} topic`);
  const problem = topicNameProblem(topic);
  if (problem) fail('bad-topic', `${packetOf(r)}: ${problem}`);
  return topic;
};

/** The body must be `n` bytes long (a fixed layout). */
export const expectLength = (r: Reader, n: number): void => {
  const length = r.end - r.at;
  if (length !== n) fail('malformed', `${packetOf(r)} of ${length} bytes, not ${n}`);
};

/** The packet must end here. */
export const expectEnd = (r: Reader): void => {
  if (r.at !== r.end) fail('malformed', `${packetOf(r)} has ${r.end - r.at} bytes after its last field`);
};

const need = (r: Reader, n: number, field: string): number => {
  const at = r.at;
  if (at + n > r.end) fail('malformed', `${packetOf(r)}: ${field} is truncated`);
  r.at = at + n;
  return at;
};

export const readU8 = (r: Reader, field: string): number => {
  return r.b[need(r, 1, field)];
};

export const readU16 = (r: Reader, field: string): number => {
  const at = need(r, 2, field);
  return (r.b[at] << 8) | r.b[at + 1];
};

export const readU32 = (r: Reader, field: string): number => {
  const at = need(r, 4, field);
  const b = r.b;
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
};

/** Variable Byte Integer: 1 to 4 bytes, 7 bits each, least significant first. */
export const readVbi = (r: Reader, field: string): number => {
  let n = 0;
  for (let k = 0; k < 4; k++) {
    const byte = readU8(r, field);
    n += (byte & 127) * 2 ** (7 * k);
    if (byte < 128) return n;
  }
  return fail('malformed', `${packetOf(r)}: ${field} is a variable byte integer over 4 bytes`);
};

/** A UTF-8 string field (2-byte length, then the bytes). */
export const readString = (r: Reader, field: string): string => {
  const start = need(r, readU16(r, field), field);
  return decodeUtf8(r.b, start, r.at, `${packetOf(r)} ${field}`);
};

/** A binary field (2-byte length, then the bytes), copied. */
export const readBinary = (r: Reader, field: string): Uint8Array => {
  const start = need(r, readU16(r, field), field);
  return r.b.slice(start, r.at);
};
