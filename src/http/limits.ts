/** Bounds for one request. Small on purpose: the portal's requests are tiny and RAM is scarce. */
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
  /** Open connections; more are closed on arrival. */
  maxConnections: number;
}

export const defaultHttpLimits: Readonly<HttpLimits> = Object.freeze({
  maxRequestLine: 512,
  maxHeaderLine: 512,
  maxHeaders: 32,
  maxHeaderBytes: 4096,
  maxBody: 2048,
  requestTimeoutMs: 10_000,
  idleTimeoutMs: 5_000,
  maxConnections: 4,
});
