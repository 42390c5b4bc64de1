// Typed errors of the MQTT layer. `code` is stable for programs; `message` is for people.

export type ProtocolErrorCode =
  | 'remaining-length'
  | 'reserved-flags'
  | 'bad-packet-type'
  | 'bad-utf8'
  | 'bad-topic'
  | 'too-large'
  | 'malformed';

/** The peer sent bytes that are not valid MQTT. The connection is closed; nothing unacknowledged is lost. */
export class MqttProtocolError extends Error {
  override name = 'MqttProtocolError';
  declare readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const CONNACK_REASONS = [
  '',
  'the broker does not speak MQTT 3.1.1',
  'client id rejected: use 1-23 letters and digits, or check the broker settings',
  'the broker is unavailable',
  'bad user name or password: check the credentials',
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

export type ClientErrorCode = 'invalid-argument' | 'closed' | 'subscribe-failed' | 'timeout' | 'dropped' | 'connection';

/** Misuse of the client API or a failed operation the caller asked for. */
export class MqttClientError extends Error {
  override name = 'MqttClientError';
  declare readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** An `invalid-argument` error: the caller must change what it passes. */
export function invalid(message: string): never {
  throw new MqttClientError('invalid-argument', message);
}
