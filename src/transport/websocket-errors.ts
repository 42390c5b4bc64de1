// Errors of the WebSocket transport. `code` is stable for programs; `message` says what to change.

export type WebSocketErrorCode =
  /** The HTTP upgrade failed: status, Sec-WebSocket-Accept, sub-protocol, or a response too long. */
  | 'handshake'
  /** The server broke RFC 6455 (masked or reserved bits, bad opcode, bad control frame, text data). */
  | 'protocol'
  /** A frame over maxFrameSize. */
  | 'too-large'
  /** The server closed the WebSocket; closeCode and reason say why. */
  | 'closed'
  /** write() before the handshake completed or after close(). */
  | 'not-open'
  /** A URL or option the transport cannot use. */
  | 'bad-url'
  | 'bad-option';

export class WebSocketError extends Error {
  readonly code: WebSocketErrorCode;
  /** The close code sent or received (1000 normal, 1002 protocol error, 1009 too big, ...). */
  readonly closeCode?: number;
  readonly reason?: string;

  constructor(code: WebSocketErrorCode, message: string, closeCode?: number, reason?: string) {
    super(message);
    this.code = code;
    if (closeCode !== undefined) this.closeCode = closeCode;
    if (reason !== undefined) this.reason = reason;
  }
}
WebSocketError.prototype.name = 'WebSocketError';
