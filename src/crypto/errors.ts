// One error type for the crypto and encoding helpers; `code` says what kind of input was wrong.

export type CryptoErrorCode =
  | 'bad-base64'
  | 'bad-hex'
  | 'bad-utf8'
  | 'bad-length'
  | 'bad-key'
  | 'bad-signature';

export class CryptoError extends Error {
  override name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
