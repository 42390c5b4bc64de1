// Errors of the token providers; `code` says what to fix.

export type AuthErrorCode = 'no-wall-time' | 'bad-key' | 'bad-option';

export class AuthError extends Error {
  override name = 'AuthError';
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
