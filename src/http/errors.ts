import { TextError } from '../text/errors';

export type HttpErrorCode =
  | 'bad-request-line'
  | 'request-line-too-long'
  | 'bad-header'
  | 'header-too-long'
  | 'too-many-headers'
  | 'headers-too-large'
  | 'bad-line-ending'
  | 'missing-host'
  | 'bad-content-length'
  | 'length-required'
  | 'body-too-large'
  | 'unsupported-transfer-encoding'
  | 'unsupported-version'
  | 'method-not-allowed'
  | 'bad-percent-encoding'
  | 'unsupported-media-type'
  | 'too-many-fields'
  | 'duplicate-field'
  | 'timeout';

/** A request the server refuses; `status` is the HTTP status it answers with before closing. */
export class HttpError extends Error {
  constructor(
    readonly code: HttpErrorCode,
    readonly status: number,
    message: string,
    /** The form field at fault, for errors about one field. */
    readonly field?: string,
  ) {
    super(message);
  }
}
HttpError.prototype.name = 'HttpError';

/** Malformed text in a request (src/text's TextError) as the 400 the server answers with; other errors unchanged. */
export const asHttpError = (error: unknown): unknown => {
  return error instanceof TextError ? new HttpError('bad-percent-encoding', 400, error.message) : error;
};

export type HttpClientErrorCode =
  | 'bad-url' // the URL cannot be fetched by this client
  | 'too-many-redirects'
  | 'bad-response' // the server's answer is not HTTP/1.x the client understands
  | 'network' // the connection failed or broke
  | 'timeout'; // the server stalled

/** Why an HTTP GET (src/http/client.ts) failed. */
export class HttpClientError extends Error {
  constructor(
    readonly code: HttpClientErrorCode,
    message: string,
    /** True when trying again (a later attempt, or resuming) may succeed. */
    readonly retryable = false,
  ) {
    super(message);
  }
}
HttpClientError.prototype.name = 'HttpClientError';
