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
  constructor(readonly code: ProtocolErrorCode, message: string) {
    super(message);
  }
}

const CONNACK_REASONS = [
  '',
  'the broker does not accept MQTT 3.1.1 (return code 1)',
  'the client id was rejected (return code 2): use 1-23 letters and digits, or check the broker settings',
  'the broker is unavailable (return code 3)',
  'bad user name or password (return code 4): check the credentials',
  'not authorized (return code 5): check the credentials and the ACL',
];

/** The broker refused the connection (CONNACK return code != 0). */
export class MqttConnectError extends Error {
  override name = 'MqttConnectError';
  constructor(readonly returnCode: number) {
    super(`connection refused: ${CONNACK_REASONS[returnCode] ?? `return code ${returnCode}`}`);
  }
}

export type ClientErrorCode = 'invalid-argument' | 'closed' | 'subscribe-failed' | 'timeout' | 'dropped' | 'connection';

/** Misuse of the client API or a failed operation the caller asked for. */
export class MqttClientError extends Error {
  override name = 'MqttClientError';
  constructor(readonly code: ClientErrorCode, message: string) {
    super(message);
  }
}
