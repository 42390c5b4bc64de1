// Just enough DNS (RFC 1035) for a captive portal: read one question, answer it with one A record.
import { isDigits } from '../text/chars';

const DNS_TYPE_A = 1;
const DNS_TYPE_ANY = 255;
const DNS_CLASS_IN = 1;
/** Classic UDP DNS payload limit; larger queries are not ours to answer. */
const DNS_MAX_UDP = 512;

export interface DnsQuestion {
  id: number;
  /** Recursion Desired, echoed in the answer. */
  rd: boolean;
  /** Lower-case dotted name, without the trailing dot ("" for the root). */
  name: string;
  type: number;
  qclass: number;
  /** Offset just past the question in the query (the question is copied from here into the answer). */
  questionEnd: number;
}

/**
 * Reads a standard query with exactly one question. Returns undefined for anything else
 * (responses, other opcodes, truncated or oversized packets, compression pointers in the question,
 * labels over 63 bytes, names over 255 bytes): a captive DNS server drops those silently.
 */
export const parseDnsQuery = (packet: Uint8Array): DnsQuestion | undefined => {
  if (packet.length < 12 + 5 || packet.length > DNS_MAX_UDP) return undefined;
  const flags = (packet[2] << 8) | packet[3];
  if (flags & 0x8000) return undefined; // QR: a response
  if ((flags >> 11) & 0x0f) return undefined; // opcode other than QUERY
  const qdcount = (packet[4] << 8) | packet[5];
  const ancount = (packet[6] << 8) | packet[7];
  const nscount = (packet[8] << 8) | packet[9];
  if (qdcount !== 1 || ancount !== 0 || nscount !== 0) return undefined;
  let offset = 12;
  let name = '';
  let nameBytes = 0;
  for (;;) {
    if (offset >= packet.length) return undefined;
    const len = packet[offset++];
    if (len === 0) break;
    if (len > 63) return undefined; // 0xC0 pointers and the reserved 0x40/0x80 label types
    nameBytes += len + 1;
    if (nameBytes > 254 || offset + len > packet.length) return undefined;
    let label = '';
    for (let i = 0; i < len; i++) {
      const c = packet[offset + i];
      label += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
    }
    name += name ? '.' + label : label;
    offset += len;
  }
  if (offset + 4 > packet.length) return undefined;
  const type = (packet[offset] << 8) | packet[offset + 1];
  const qclass = (packet[offset + 2] << 8) | packet[offset + 3];
  return { id: (packet[0] << 8) | packet[1], rd: (flags & 0x0100) !== 0, name, type, qclass, questionEnd: offset + 4 };
};

/**
 * The answer to `query`: the question copied back, and for A (or ANY) queries in class IN one A
 * record pointing at `ip`. Other types get an empty NOERROR answer, so clients fall back to IPv4.
 */
export const buildDnsAnswer = (query: Uint8Array, question: DnsQuestion, ip: Uint8Array, ttl: number): Uint8Array => {
  const wantsA = (question.type === DNS_TYPE_A || question.type === DNS_TYPE_ANY) && question.qclass === DNS_CLASS_IN;
  const questionLength = question.questionEnd - 12;
  const out = new Uint8Array(12 + questionLength + (wantsA ? 16 : 0));
  out[0] = question.id >> 8;
  out[1] = question.id & 0xff;
  out[2] = 0x84 | (question.rd ? 1 : 0); // QR, opcode 0, AA, RD echoed
  out[3] = 0x00; // RA 0, RCODE NOERROR
  out[5] = 1; // QDCOUNT
  out[7] = wantsA ? 1 : 0; // ANCOUNT; NSCOUNT and ARCOUNT stay 0 (an EDNS OPT record is not echoed)
  out.set(query.subarray(12, question.questionEnd), 12);
  if (wantsA) {
    let o = 12 + questionLength;
    out[o++] = 0xc0; // name: pointer to the question at offset 12
    out[o++] = 12;
    out[o++] = 0;
    out[o++] = DNS_TYPE_A;
    out[o++] = 0;
    out[o++] = DNS_CLASS_IN;
    out[o++] = (ttl >>> 24) & 0xff;
    out[o++] = (ttl >>> 16) & 0xff;
    out[o++] = (ttl >>> 8) & 0xff;
    out[o++] = ttl & 0xff;
    out[o++] = 0;
    out[o++] = 4;
    out.set(ip, o);
  }
  return out;
};

export class DnsAddressError extends Error {
  readonly code = 'bad-ipv4';
}
DnsAddressError.prototype.name = 'DnsAddressError';

/** "192.168.4.1" to 4 bytes; throws DnsAddressError for anything that is not a dotted IPv4 address. */
export const ipv4Bytes = (ip: string): Uint8Array => {
  const parts = ip.split('.');
  const out = new Uint8Array(4);
  if (parts.length !== 4) throw new DnsAddressError(`"${ip}" is not an IPv4 address (expected four numbers like 192.168.4.1)`);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!isDigits(p, 1, 3) || Number(p) > 255) {
      throw new DnsAddressError(`"${ip}" is not an IPv4 address: "${p}" is not a number from 0 to 255`);
    }
    out[i] = Number(p);
  }
  return out;
};
