// One error type for the crypto helpers; `code` says what kind of input was wrong. Malformed text
// (base64, hex, UTF-8) is a TextError from src/text.

export type CryptoErrorCode = 'bad-length' | 'bad-key' | 'bad-signature' | 'bad-state';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
CryptoError.prototype.name = 'CryptoError';
