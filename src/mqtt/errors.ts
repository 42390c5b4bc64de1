// Typed errors of the MQTT layer. `code` is stable for programs; `message` is for people.

export type ProtocolErrorCode =
  | 'remaining-length'
  | 'reserved-flags'
  | 'bad-packet-type'
  | 'bad-utf8'
  | 'bad-topic'
  | 'too-large'
  | 'malformed';

export type ClientErrorCode = 'invalid-argument' | 'closed' | 'subscribe-failed' | 'timeout' | 'dropped' | 'connection';

class CodedError<Code> extends Error {
  declare readonly code: Code;
  constructor(code: Code, message: string) {
    super(message);
    this.code = code;
  }
}

/** The peer sent bytes that are not valid MQTT. The connection is closed; nothing unacknowledged is lost. */
export class MqttProtocolError extends CodedError<ProtocolErrorCode> {
  override name = 'MqttProtocolError';
}

/** Misuse of the client API or a failed operation the caller asked for. */
export class MqttClientError extends CodedError<ClientErrorCode> {
  override name = 'MqttClientError';
}

const CONNACK_REASONS = [
  '',
  'MQTT 3.1.1 not supported by the broker',
  'client id rejected: try 1-23 letters and digits',
  'broker unavailable',
  'bad user name or password',
  'not authorized: check the credentials and the ACL',
];

/** The broker refused the connection (CONNACK return code != 0). */
export class MqttConnectError extends Error {
  override name = 'MqttConnectError';
  declare readonly returnCode: number;
  constructor(returnCode: number) {
    super(`connection refused (return code ${returnCode}): ${CONNACK_REASONS[returnCode] || 'unknown reason'}`);
    this.returnCode = returnCode;
  }
}

/** An `invalid-argument` error: the caller must change what it passes. */
export function invalid(message: string): never {
  throw new MqttClientError('invalid-argument', message);
}
