// Errors of the token providers; `code` says what to fix.

export type AuthErrorCode = 'no-wall-time' | 'bad-key' | 'bad-option';

export class AuthError extends Error {
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
AuthError.prototype.name = 'AuthError';
