// The RFC 6455 opening handshake (section 4): the client's HTTP Upgrade request and the checks of the
// server's response, Sec-WebSocket-Accept included.
import { base64Encode } from '../text/base64';
import { sha1 } from '../crypto/sha1';
import { WebSocketError } from './websocket-errors';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Key: 16 random bytes, base64. `random()` gives [0, 1). */
export function webSocketKey(random: () => number): string {
  const nonce = new Uint8Array(16);
  for (let i = 0; i < 16; i++) nonce[i] = Math.floor(random() * 256) & 255;
  return base64Encode(nonce);
}

/** The Sec-WebSocket-Accept a server must answer `key` with. */
export function acceptFor(key: string): string {
  return base64Encode(sha1(key + GUID));
}

export interface UpgradeRequest {
  /** Host header: "host" or "host:port". */
  host: string;
  path: string;
  key: string;
  protocols: string[];
  headers?: Record<string, string>;
}

/** The request as bytes (ASCII). */
export function upgradeRequest(r: UpgradeRequest): Uint8Array {
  let text = `GET ${r.path} HTTP/1.1\r\nHost: ${r.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${r.key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (r.protocols.length) text += `Sec-WebSocket-Protocol: ${r.protocols.join(', ')}\r\n`;
  const headers = r.headers || {};
  for (const name in headers) {
    if (/[\r\n]/.test(name + headers[name])) throw new WebSocketError('handshake', `header ${name} contains a line break`);
    text += `${name}: ${headers[name]}\r\n`;
  }
  return ascii(text + '\r\n');
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 126) throw new WebSocketError('handshake', `"${text.slice(i, i + 10)}" is not ASCII: use a punycode host and a percent-encoded path`);
    out[i] = c;
  }
  return out;
}

/** Where the response head ends (after CR LF CR LF) in `b`, or -1. */
export function headEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  return -1;
}

/**
 * Checks the server's response head (status line and headers, as text): 101, Upgrade: websocket,
 * Connection: Upgrade, the Sec-WebSocket-Accept for `key`, a sub-protocol we offered (or none), no
 * extension. Returns the sub-protocol chosen. Throws WebSocketError 'handshake' saying what was wrong.
 */
export function checkResponse(head: string, key: string, protocols: string[], where: string): string | undefined {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!status) throw new WebSocketError('handshake', `${where} did not answer with HTTP/1.1 (got "${lines[0].slice(0, 60)}"): is this a WebSocket port?`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  if (status[1] !== '101') {
    const hint = status[1] === '404' ? ': check the path (many brokers want /mqtt)' : status[1] === '401' || status[1] === '403' ? ': check the credentials or headers' : '';
    throw new WebSocketError('handshake', `${where} refused the WebSocket upgrade: HTTP ${status[1]} ${status[2] || ''}${hint}`);
  }
  if ((headers.upgrade || '').toLowerCase() !== 'websocket') throw new WebSocketError('handshake', `${where} answered 101 without "Upgrade: websocket"`);
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(headers.connection || '')) throw new WebSocketError('handshake', `${where} answered 101 without "Connection: Upgrade"`);
  if (headers['sec-websocket-accept'] !== acceptFor(key)) {
    throw new WebSocketError('handshake', `${where} sent Sec-WebSocket-Accept "${headers['sec-websocket-accept'] || ''}", not the one our key asks for: a proxy or server that does not speak RFC 6455`);
  }
  if (headers['sec-websocket-extensions']) throw new WebSocketError('handshake', `${where} turned on extension "${headers['sec-websocket-extensions']}", which the client did not offer`);
  const chosen = headers['sec-websocket-protocol'];
  if (chosen !== undefined && protocols.indexOf(chosen) < 0) throw new WebSocketError('handshake', `${where} chose sub-protocol "${chosen}", not one of ${protocols.join(', ')}`);
  return chosen;
}
