// MQTT 5 reason codes (OASIS mqtt-v5.0 section 2.4, table 2-6): their names, which packets may carry
// which codes, and errors that carry both.
import { fail, MqttClientError, type ClientErrorCode, type ProtocolErrorCode } from '../errors';
import { AUTH, CONNACK, DISCONNECT, PUBACK, PUBCOMP, PUBREC, PUBREL, SUBACK, UNSUBACK } from '../packets';
import { packetName } from './properties';

const NAMES: Record<number, string> = {
  0x01: 'Granted QoS 1',
  0x02: 'Granted QoS 2',
  0x04: 'Disconnect with Will Message',
  0x10: 'No matching subscribers',
  0x11: 'No subscription existed',
  0x18: 'Continue authentication',
  0x19: 'Re-authenticate',
  0x80: 'Unspecified error',
  0x81: 'Malformed Packet',
  0x82: 'Protocol Error',
  0x83: 'Implementation specific error',
  0x84: 'Unsupported Protocol Version',
  0x85: 'Client Identifier not valid',
  0x86: 'Bad User Name or Password',
  0x87: 'Not authorized',
  0x88: 'Server unavailable',
  0x89: 'Server busy',
  0x8a: 'Banned',
  0x8b: 'Server shutting down',
  0x8c: 'Bad authentication method',
  0x8d: 'Keep Alive timeout',
  0x8e: 'Session taken over',
  0x8f: 'Topic Filter invalid',
  0x90: 'Topic Name invalid',
  0x91: 'Packet Identifier in use',
  0x92: 'Packet Identifier not found',
  0x93: 'Receive Maximum exceeded',
  0x94: 'Topic Alias invalid',
  0x95: 'Packet too large',
  0x96: 'Message rate too high',
  0x97: 'Quota exceeded',
  0x98: 'Administrative action',
  0x99: 'Payload format invalid',
  0x9a: 'Retain not supported',
  0x9b: 'QoS not supported',
  0x9c: 'Use another server',
  0x9d: 'Server moved',
  0x9e: 'Shared Subscriptions not supported',
  0x9f: 'Connection rate exceeded',
  0xa0: 'Maximum connect time',
  0xa1: 'Subscription Identifiers not supported',
  0xa2: 'Wildcard Subscriptions not supported',
};

/** The name of `code` as packet `type` uses it (0x00 is "Granted QoS 0" in SUBACK, ...). */
export function reasonName(code: number, type = 0): string {
  if (!code) return type === SUBACK ? 'Granted QoS 0' : type === DISCONNECT ? 'Normal disconnection' : 'Success';
  return NAMES[code] || `unknown reason code 0x${code.toString(16)}`;
}

/** "Not authorized (0x87)" */
export function describeReason(code: number, type = 0): string {
  return `${reasonName(code, type)} (0x${code.toString(16).padStart(2, '0')})`;
}

const h = (text: string) => text.split(' ').map((x) => parseInt(x, 16));
const PUBACK_CODES = h('0 10 80 83 87 90 91 97 99');
const PUBREL_CODES = h('0 92');

/** Reason codes each packet type may carry, by type (both directions for DISCONNECT). */
const ALLOWED: Record<number, number[]> = {
  [CONNACK]: h('0 80 81 82 83 84 85 86 87 88 89 8a 8c 90 95 97 99 9a 9b 9c 9d 9f'),
  [PUBACK]: PUBACK_CODES,
  [PUBREC]: PUBACK_CODES,
  [PUBREL]: PUBREL_CODES,
  [PUBCOMP]: PUBREL_CODES,
  [SUBACK]: h('0 1 2 80 83 87 8f 91 97 9e a1 a2'),
  [UNSUBACK]: h('0 11 80 83 87 8f 91'),
  [DISCONNECT]: h('0 4 80 81 82 83 87 89 8b 8d 8e 8f 90 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f a0 a1 a2'),
  [AUTH]: h('0 18 19'),
};

/** Checks that packet `type` may carry reason code `code`; throws a 'malformed' MqttProtocolError. */
export function checkReason(code: number, type: number): number {
  if (ALLOWED[type].indexOf(code) < 0) fail('malformed', `${packetName(type)} has reason code 0x${code.toString(16)}, which it may not carry`);
  return code;
}

/** Can a client send `code` in a packet of `type`? (DISCONNECT from a client takes fewer codes.) */
export function clientMaySend(code: number, type: number): boolean {
  if (type === DISCONNECT) return code < 0x84 ? code === 0 || code === 4 || code >= 0x80 : code >= 0x90 && code <= 0x9b;
  return ALLOWED[type].indexOf(code) >= 0;
}

export interface ReasonFields {
  reasonCode?: number;
  reasonName?: string;
  reasonString?: string;
  serverReference?: string;
}

/** Sets the MQTT 5 fields of an error (they are read-only to everyone else). */
export function withReason<E extends Error>(error: E, code: number, type: number, reasonString?: string, serverReference?: string): E {
  const e = error as E & ReasonFields;
  e.reasonCode = code;
  e.reasonName = reasonName(code, type);
  if (reasonString !== undefined) e.reasonString = reasonString;
  if (serverReference !== undefined) e.serverReference = serverReference;
  return error;
}

/** An MqttClientError that says what failed, the reason's name and code, and the server's reason string. */
export function reasonError(code: ClientErrorCode, what: string, reason: number, type: number, reasonString?: string, serverReference?: string): MqttClientError {
  let message = `${what}: ${describeReason(reason, type)}`;
  if (reasonString) message += ` - server says "${reasonString}"`;
  if (serverReference) message += `; the server suggests ${serverReference}`;
  return withReason(new MqttClientError(code, message), reason, type, reasonString, serverReference);
}

/** The reason code a client sends in DISCONNECT for a protocol error of this kind. */
export function reasonForProtocolError(code: ProtocolErrorCode): number {
  switch (code) {
    case 'too-large':
      return 0x95;
    case 'protocol':
    case 'bad-packet-type':
      return 0x82;
    case 'topic-alias':
      return 0x94;
    case 'receive-maximum':
      return 0x93;
    case 'bad-topic':
      return 0x90;
    default:
      return 0x81;
  }
}
