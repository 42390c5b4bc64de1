/** Bounds for requests and connections. Small on purpose: the portal's requests are tiny and RAM is scarce. */
export interface HttpLimits {
  /** Bytes of the request line without CRLF ("GET /path HTTP/1.1"). */
  maxRequestLine: number;
  /** Bytes of one header line without CRLF. */
  maxHeaderLine: number;
  maxHeaders: number;
  /** Bytes of the request line and all header lines together, CRLFs included. */
  maxHeaderBytes: number;
  maxBody: number;
  /** Time from accepting the connection until the whole request (headers and body) has arrived. */
  requestTimeoutMs: number;
  /** Time from accepting the connection until the first byte, for idle sockets (pre-connects). */
  idleTimeoutMs: number;
  /** Time an answer may take to be handed to the socket; a client that does not read is closed. */
  answerTimeoutMs: number;
  /**
   * Open connections (each holds a TCP control block). A new one closes the oldest idle connection
   * to make room, or gets a 503 when every connection is being answered.
   */
  maxConnections: number;
  /**
   * Idle connections (no complete request yet) from one remote address. A new one from that address
   * closes that address's oldest idle connection, so one client cannot crowd out the others.
   */
  maxIdlePerClient: number;
}

/**
 * lwIP on the ESP8266 has 5 TCP control blocks: the portal keeps at most 4 connections, leaving one
 * for the station side. A phone needs 2 at once (a browser pre-connect and the request; the OS
 * probe is answered at once), so one client may hold half of them idle.
 */
const DEFAULT_MAX_CONNECTIONS = 4;
const DEFAULT_MAX_IDLE_PER_CLIENT = 2;

export const defaultHttpLimits: Readonly<HttpLimits> = Object.freeze({
  maxRequestLine: 512,
  maxHeaderLine: 512,
  maxHeaders: 32,
  maxHeaderBytes: 4096,
  maxBody: 2048,
  requestTimeoutMs: 10_000,
  idleTimeoutMs: 5_000,
  answerTimeoutMs: 5_000,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxIdlePerClient: DEFAULT_MAX_IDLE_PER_CLIENT,
});
