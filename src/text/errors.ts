// One error type for the text codecs (UTF-8, base64, hex, percent-encoding); `code` says which
// encoding the input broke. Callers turn it into their own error where the context matters (an HTTP
// 400, an MQTT protocol error, a bad OTA job).

export type TextErrorCode = 'bad-utf8' | 'bad-base64' | 'bad-hex' | 'bad-percent-encoding';

export class TextError extends Error {
  readonly code: TextErrorCode;

  constructor(code: TextErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
TextError.prototype.name = 'TextError';
