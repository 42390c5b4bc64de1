// MQTT 5 properties (OASIS mqtt-v5.0 section 2.2.2): one table gives each identifier its name, data
// type and the packets that may carry it, so encoding and decoding check every packet the same way.
// Duplicates are refused, except User Property and (in PUBLISH) Subscription Identifier.
import { fail, invalid } from '../errors';
import { AUTH, CONNACK, CONNECT, DISCONNECT, PACKET_NAMES, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from '../packets';
import type { Properties, UserProperties } from '../properties';
import { readBinary, readString, readU16, readU32, readU8, readVbi, type Reader } from '../reader';
import { Writer } from './writer';

export type { Properties, PublishProperties, UserProperties, WillProperties } from '../properties';

/** Pseudo packet type for Will Properties (0 is no packet type). */
export const WILL = 0;

// Data types
const FLAG = 0; // byte, 0 or 1, as a boolean
const BYTE = 1; // byte, 0 or 1, as a number (Maximum QoS)
const U16 = 2;
const U32 = 3;
const VBI = 4;
const STRING = 5;
const BINARY = 6;
const PAIR = 7;

// Packets that may carry a property: bit (1 << packet type); bit 0 for Will Properties.
const W = 1 << WILL;
const CN = 1 << CONNECT;
const CA = 1 << CONNACK;
const PB = 1 << PUBLISH;
const ACKS = (1 << PUBACK) | (1 << PUBREC) | (1 << PUBREL) | (1 << PUBCOMP);
const SB = 1 << SUBSCRIBE;
const SA = 1 << SUBACK;
const US = 1 << UNSUBSCRIBE;
const UA = 1 << UNSUBACK;
const DC = 1 << DISCONNECT;
const AU = 1 << AUTH;

/** [identifier, name, type, packets, smallest value] by table index (the index is its duplicate bit). */
const TABLE: [number, keyof Properties, number, number, number][] = [
  [0x01, 'payloadFormatIndicator', FLAG, PB | W, 0],
  [0x02, 'messageExpiryInterval', U32, PB | W, 0],
  [0x03, 'contentType', STRING, PB | W, 0],
  [0x08, 'responseTopic', STRING, PB | W, 0],
  [0x09, 'correlationData', BINARY, PB | W, 0],
  [0x0b, 'subscriptionIdentifiers', VBI, PB | SB, 1],
  [0x11, 'sessionExpiryInterval', U32, CN | CA | DC, 0],
  [0x12, 'assignedClientIdentifier', STRING, CA, 0],
  [0x13, 'serverKeepAlive', U16, CA, 0],
  [0x15, 'authenticationMethod', STRING, CN | CA | AU, 0],
  [0x16, 'authenticationData', BINARY, CN | CA | AU, 0],
  [0x17, 'requestProblemInformation', FLAG, CN, 0],
  [0x18, 'willDelayInterval', U32, W, 0],
  [0x19, 'requestResponseInformation', FLAG, CN, 0],
  [0x1a, 'responseInformation', STRING, CA, 0],
  [0x1c, 'serverReference', STRING, CA | DC, 0],
  [0x1f, 'reasonString', STRING, CA | ACKS | SA | UA | DC | AU, 0],
  [0x21, 'receiveMaximum', U16, CN | CA, 1],
  [0x22, 'topicAliasMaximum', U16, CN | CA, 0],
  [0x23, 'topicAlias', U16, PB, 1],
  [0x24, 'maximumQoS', BYTE, CA, 0],
  [0x25, 'retainAvailable', FLAG, CA, 0],
  [0x26, 'userProperties', PAIR, W | CN | CA | PB | ACKS | SB | SA | US | UA | DC | AU, 0],
  [0x27, 'maximumPacketSize', U32, CN | CA, 1],
  [0x28, 'wildcardSubscriptionAvailable', FLAG, CA, 0],
  [0x29, 'subscriptionIdentifiersAvailable', FLAG, CA, 0],
  [0x2a, 'sharedSubscriptionAvailable', FLAG, CA, 0],
];

/** The name of a packet type (WILL for Will Properties), for messages. */
export function packetName(type: number): string {
  return type === WILL ? 'Will Properties' : PACKET_NAMES[type];
}

const UPPER = [0, 1, 65535, 4294967295, 268435455];

/**
 * Encodes properties for packet `type` as the Property Length and the properties. Throws an
 * `invalid-argument` MqttClientError for a property the packet may not carry or a value out of range.
 */
export function encodeProperties(p: Properties | undefined, type: number): Uint8Array {
  const w = new Writer();
  writeProperties(w, p, type);
  const body = w.bytes();
  const out = new Writer();
  out.vbi(body.length);
  out.add(body);
  return out.bytes();
}

/** Writes the properties (without their length) to `w`. */
export function writeProperties(w: Writer, p: Properties | undefined, type: number): void {
  if (!p) return;
  const where = packetName(type);
  for (const key in p) {
    const value = p[key as keyof Properties];
    if (value === undefined) continue;
    const entry = TABLE[BY_NAME[key]];
    if (!entry) invalid(`"${key}" is not an MQTT 5 property`);
    const [id, name, kind, packets, min] = entry;
    if (!(packets & (1 << type))) invalid(`${name} is not allowed in ${where}`);
    if (kind === PAIR) {
      if (!Array.isArray(value)) invalid(`userProperties must be [name, value] pairs`);
      for (const pair of value as UserProperties) {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') invalid('each user property must be a [name, value] pair of strings');
        w.byte(id);
        w.string(pair[0], 'user property name');
        w.string(pair[1], 'user property value');
      }
    } else if (kind === VBI) {
      const ids = value as number[];
      if (!Array.isArray(ids) || !ids.length || (type !== PUBLISH && ids.length > 1)) invalid(`${name} must be a list of ${type === PUBLISH ? 'numbers' : 'one number'}`);
      for (const n of ids) {
        checkNumber(n, name, min, UPPER[4]);
        w.byte(id);
        w.vbi(n);
      }
    } else if (kind === STRING || kind === BINARY) {
      if (kind === STRING ? typeof value !== 'string' : !(value instanceof Uint8Array)) invalid(`${name} must be ${kind === STRING ? 'a string' : 'a Uint8Array'}`);
      w.byte(id);
      if (kind === STRING) w.string(value as string, name);
      else w.binary(value as Uint8Array, name);
    } else if (kind === FLAG) {
      if (typeof value !== 'boolean') invalid(`${name} must be true or false`);
      w.byte(id);
      w.byte(value ? 1 : 0);
    } else {
      checkNumber(value as number, name, min, UPPER[kind]);
      w.byte(id);
      if (kind === BYTE) w.byte(value as number);
      else if (kind === U16) w.u16(value as number);
      else w.u32(value as number);
    }
  }
}

function checkNumber(n: number, name: string, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) invalid(`${name} must be a whole number from ${min} to ${max}, not ${n}`);
}

/** Identifier -> table index, and name -> table index. */
const BY_ID = TABLE.reduce((by: number[], e, i) => ((by[e[0]] = i), by), []);
const BY_NAME = TABLE.reduce((by: Record<string, number>, e, i) => ((by[e[1]] = i), by), Object.create(null) as Record<string, number>);

/**
 * Reads a Property Length and the properties that follow, for packet `type`. Returns undefined when
 * there are none. Throws MqttProtocolError: 'malformed' for an unknown identifier, one the packet may
 * not carry, or a length past the packet; 'protocol' for a duplicate or a value out of range.
 */
export function readProperties(r: Reader, type: number): Properties | undefined {
  const length = readVbi(r, 'property length');
  if (!length) return undefined;
  const end = r.at + length;
  if (end > r.end) fail('malformed', `${packetName(type)} property length ${length} runs past the end of the packet`);
  const saved = r.end;
  r.end = end;
  const p: Properties = {};
  let seen = 0;
  while (r.at < end) {
    const id = readVbi(r, 'property identifier');
    const index = BY_ID[id];
    const entry = TABLE[index];
    if (!entry || !(entry[3] & (1 << type))) fail('malformed', `${packetName(type)} carries property 0x${id.toString(16)}, which it may not`);
    const [, name, kind, , min] = entry;
    const repeatable = kind === PAIR || (kind === VBI && type === PUBLISH);
    if (seen & (1 << index) && !repeatable) fail('protocol', `${packetName(type)} carries ${name} twice`);
    seen |= 1 << index;
    if (kind === PAIR) {
      const pair: [string, string] = [readString(r, 'user property name'), readString(r, 'user property value')];
      (p.userProperties || (p.userProperties = [])).push(pair);
      continue;
    }
    if (kind === VBI) {
      const n = readVbi(r, name);
      if (n < min) fail('protocol', `${name} 0 is not allowed`);
      (p.subscriptionIdentifiers || (p.subscriptionIdentifiers = [])).push(n);
      continue;
    }
    let value: unknown;
    if (kind === STRING) value = readString(r, name);
    else if (kind === BINARY) value = readBinary(r, name);
    else {
      const n = kind <= BYTE ? readU8(r, name) : kind === U16 ? readU16(r, name) : readU32(r, name);
      if (n < min || (kind <= BYTE && n > 1)) fail('protocol', `${packetName(type)} has ${name} ${n}`);
      value = kind === FLAG ? n === 1 : n;
    }
    (p as Record<string, unknown>)[name] = value;
  }
  r.end = saved;
  return p;
}
