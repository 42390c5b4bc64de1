import { utf8Encode } from '../text/utf8';

export interface HttpResponse {
  status: number;
  /** Extra headers; Content-Length and Connection are added by the server. */
  headers?: Array<[string, string]>;
  body?: string | Uint8Array;
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
export function serializeResponse(response: HttpResponse, headOnly: boolean): Uint8Array {
  const body = response.body === undefined ? new Uint8Array(0) : typeof response.body === 'string' ? utf8Encode(response.body) : response.body;
  let head = `HTTP/1.1 ${response.status} ${reasons[response.status] ?? 'Status'}\r\n`;
  // CR and LF are dropped so no value can start a header of its own.
  for (const [name, value] of response.headers ?? []) head += `${name}: ${value.replace(/[\r\n]/g, '')}\r\n`;
  head += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const headBytes = utf8Encode(head);
  if (headOnly || body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}
