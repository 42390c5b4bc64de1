// Typed errors of the MQTT layer. `code` is stable for programs; `message` is for people.
import type { Properties } from './properties';

export type ProtocolErrorCode =
  | 'remaining-length'
  | 'reserved-flags'
  | 'bad-packet-type'
  | 'bad-utf8'
  | 'bad-topic'
  | 'too-large'
  | 'malformed'
  // MQTT 5 only
  | 'protocol'
  | 'topic-alias'
  | 'receive-maximum';

export type ClientErrorCode =
  | 'invalid-argument'
  | 'closed'
  | 'subscribe-failed'
  | 'timeout'
  | 'dropped'
  | 'connection'
  // MQTT 5 only
  | 'publish-failed'
  | 'unsubscribe-failed'
  | 'disconnected'
  | 'auth-failed'
  | 'too-large';

class CodedError<Code> extends Error {
  declare readonly code: Code;
  /** MQTT 5: the reason code of the packet that caused the error, and its name ("Not authorized"). */
  declare readonly reasonCode?: number;
  declare readonly reasonName?: string;
  /** MQTT 5: the server's Reason String, when it sent one. */
  declare readonly reasonString?: string;
  /** MQTT 5: another server to use (CONNACK or DISCONNECT Server Reference). */
  declare readonly serverReference?: string;
  constructor(code: Code, message: string, cause?: Error) {
    super(message);
    this.code = code;
    // the transport's own error, e.g. a WebSocketError with its close code
    if (cause) this.cause = cause;
  }
}

/** The peer sent bytes that are not valid MQTT. The connection is closed; nothing unacknowledged is lost. */
export class MqttProtocolError extends CodedError<ProtocolErrorCode> {}

/**
 * An inbound message over the client's maxPacketSize. The client read through it without keeping the
 * payload, acknowledged it as its QoS asks (so the broker does not send it again) and did not deliver
 * it; the connection stays up.
 */
export class MqttMessageTooLargeError extends CodedError<'too-large'> {
  /** The message's topic; undefined when the topic itself was too long to keep (or, MQTT 5, an alias whose properties were too long). */
  declare readonly topic: string | undefined;
  /** Bytes of the whole PUBLISH packet, and the maxPacketSize it exceeded. */
  declare readonly size: number;
  declare readonly limit: number;
  declare readonly qos: 0 | 1 | 2;
  /** MQTT 5: the message's properties (response topic, correlation data, ...), when they could be kept. */
  declare readonly properties?: Properties;
  constructor(topic: string | undefined, size: number, limit: number, qos: 0 | 1 | 2, properties?: Properties) {
    super('too-large', `message to ${topic === undefined ? 'a topic not read' : `"${topic}"`} of ${size} bytes is over maxPacketSize ${limit}: skipped`);
    this.topic = topic;
    this.size = size;
    this.limit = limit;
    this.qos = qos;
    if (properties) this.properties = properties;
  }
}

/** Misuse of the client API or a failed operation the caller asked for. */
export class MqttClientError extends CodedError<ClientErrorCode> {}

const CONNACK_REASONS = [
  '',
  'MQTT 3.1.1 not supported by the broker',
  'client id rejected: try 1-23 letters and digits',
  'broker unavailable',
  'bad user name or password',
  'not authorized: check the credentials and the ACL',
];

/** The broker refused the connection (CONNACK return code, or MQTT 5 reason code, != 0). */
export class MqttConnectError extends Error {
  declare readonly returnCode: number;
  /** MQTT 5: the same as returnCode, with its name, the server's reason string and server reference. */
  declare readonly reasonCode?: number;
  declare readonly reasonName?: string;
  declare readonly reasonString?: string;
  declare readonly serverReference?: string;
  constructor(returnCode: number, message?: string) {
    super(message || `connection refused (return code ${returnCode}): ${CONNACK_REASONS[returnCode] || 'unknown reason'}`);
    this.returnCode = returnCode;
  }
}

// Each class's name on its prototype, where every error reads it: an own property per error would
// cost the code to set it in each constructor, and a slot in each error.
MqttProtocolError.prototype.name = 'MqttProtocolError';
MqttMessageTooLargeError.prototype.name = 'MqttMessageTooLargeError';
MqttClientError.prototype.name = 'MqttClientError';
MqttConnectError.prototype.name = 'MqttConnectError';

/** A protocol error: the peer sent bytes that break the rules. */
export function fail(code: ProtocolErrorCode, message: string): never {
  throw new MqttProtocolError(code, message);
}

/** An `invalid-argument` error: the caller must change what it passes. */
export function invalid(message: string): never {
  throw new MqttClientError('invalid-argument', message);
}
