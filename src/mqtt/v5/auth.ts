// Enhanced authentication (MQTT 5 section 4.12): a method named in CONNECT, then AUTH packets until
// the server sends CONNACK (or, when re-authenticating, AUTH Success).
import type { Properties } from './properties';

export interface EnhancedAuth {
  /** The Authentication Method, e.g. "SCRAM-SHA-256". */
  method: string;
  /**
   * Authentication Data for CONNECT, and for AUTH Re-authenticate: called at every connect and every
   * re-authentication, so each exchange starts afresh (new nonces).
   */
  start?(reauthenticating: boolean): Uint8Array | undefined;
  /**
   * The server's AUTH Continue authentication: return the data to answer with. Throw to abandon the
   * exchange; the client then disconnects and reports an 'auth-failed' error with your message.
   */
  challenge(data: Uint8Array | undefined, properties: Properties): Uint8Array | undefined;
  /**
   * The exchange succeeded (CONNACK, or AUTH Success when re-authenticating): check the server's
   * final data, e.g. its SCRAM signature. Throw to refuse the server.
   */
  done?(data: Uint8Array | undefined, properties: Properties): void;
}
