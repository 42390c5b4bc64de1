import { utf8Encode, utf8Length } from '../text/utf8';

export interface HttpResponse {
  status: number;
  /** Extra headers; Content-Length and Connection are added by the server. */
  headers?: Array<[string, string]>;
  /**
   * Text, bytes, or text in parts: the server encodes and sends the parts one at a time, so a page is
   * never whole in memory as bytes too (an ESP8266 has a 32 KB heap; the portal page is ~2.5 KB).
   */
  body?: string | Uint8Array | string[];
}

const reasons: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  302: 'Found',
  303: 'See Other',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** Status line, headers, and (unless `headOnly`) the body, as bytes. Always "Connection: close". */
export const serializeResponse = (response: HttpResponse, headOnly: boolean): Uint8Array => {
  const body = response.body === undefined ? new Uint8Array(0) : typeof response.body === 'string' ? utf8Encode(response.body) : Array.isArray(response.body) ? utf8Encode(response.body.join('')) : response.body;
  const headBytes = responseHead(response, body.length);
  if (headOnly || body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
};

/** The status line and headers of `response` for a body of `bodyLength` bytes. */
export const responseHead = (response: HttpResponse, bodyLength: number): Uint8Array => {
  let head = `HTTP/1.1 ${response.status} ${reasons[response.status] ?? 'Status'}\r\n`;
  // CR and LF are dropped so no value can start a header of its own.
  for (const [name, value] of response.headers ?? []) head += `${name}: ${value.split('\r').join('').split('\n').join('')}\r\n`;
  head += `Content-Length: ${bodyLength}\r\nConnection: close\r\n\r\n`;
  return utf8Encode(head);
};

/** Bytes of a response body in UTF-8. */
export const bodyLength = (body: HttpResponse['body']): number => {
  if (body === undefined) return 0;
  if (typeof body === 'string') return utf8Length(body);
  if (body instanceof Uint8Array) return body.length;
  let n = 0;
  for (let i = 0; i < body.length; i++) n += utf8Length(body[i]);
  return n;
};
