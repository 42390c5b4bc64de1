// MQTT over WebSocket (RFC 6455, sub-protocol "mqtt"): a Network whose connect() gives a TcpSocket
// carried by WebSocket binary frames over the platform's TCP (ws://) or TLS (wss://, the TcpOptions
// tls) connection. The MQTT client uses it unchanged:
//
//   const ws = parseWebSocketUrl('wss://broker.example:8884/mqtt');
//   new MqttClient({ ..., host: ws.host, port: ws.port, tls: ws.tls ? { ca } : undefined,
//     network: webSocketNetwork(platform.network, { path: ws.path, random: () => platform.system.random() }) });
//
// Frames are masked with keys from `random()`: on a device, pass the hardware RNG (ESP32's
// esp_random through system.random), not a seeded generator, so a middlebox cannot predict them.
// The server's frames are read as a stream (fragments and frames of any size up to maxFrameSize, MQTT
// packets across frame boundaries); pings are answered; a close frame ends the connection with its code.
import type { Network, TcpOptions, TcpSocket } from '../ports';
import { WebSocketError } from './websocket-errors';
import { BINARY, CLOSE, CONTINUATION, FrameParser, maskedFrame, PING, PONG, type FrameSink } from './websocket-frame';
import { checkResponse, headEnd, upgradeRequest, webSocketKey } from './websocket-handshake';

export interface WebSocketOptions {
  /** Source of randomness in [0, 1) for the handshake key and the masking keys: use a hardware RNG. */
  random(): number;
  /** Request path. Default "/mqtt". */
  path?: string;
  /** Sub-protocols offered. Default ["mqtt"]; MQTT 5 section 6 wants the server to choose "mqtt". */
  protocols?: string[];
  /** Extra request headers, e.g. Authorization. */
  headers?: Record<string, string>;
  /** The Host header. Default host, with ":port" unless 80 (ws) or 443 (wss). */
  hostHeader?: string;
  /** Largest frame accepted from the server, bytes (larger: close 1009). Default 131072. */
  maxFrameSize?: number;
  /** Writes longer than this go as several frames (a fragmented message). Default 16384. */
  fragmentSize?: number;
}

/** Most bytes of the server's handshake response kept before giving up. */
const MAX_RESPONSE_HEAD = 8192;

export function webSocketNetwork(network: Network, options: WebSocketOptions): Network {
  if (typeof options.random !== 'function') {
    throw new WebSocketError('bad-option', 'webSocketNetwork needs random(): the masking keys must be unpredictable (pass the platform system.random)');
  }
  const fragment = options.fragmentSize ?? 16384;
  if (!(fragment >= 1)) throw new WebSocketError('bad-option', `fragmentSize must be at least 1, not ${fragment}`);
  return { connect: (o) => new WebSocketSocket(network, o, options) };
}

// connection states
const HANDSHAKE = 0;
const OPEN = 1;
const CLOSED = 2;

class WebSocketSocket implements TcpSocket {
  readonly #o: TcpOptions;
  readonly #ws: WebSocketOptions;
  readonly #tcp: TcpSocket;
  readonly #where: string;
  readonly #key: string;
  readonly #frames: FrameParser;
  readonly #fragment: number;
  #state = HANDSHAKE;
  /** Where the frame parser puts what it reads. */
  readonly #sink: FrameSink = {
    data: (bytes) => {
      if (!bytes.length) return;
      this.#chunks.push(bytes);
      this.#available += bytes.length;
    },
    control: (opcode, payload) => this.#control(opcode, payload),
  };
  #requested = false;
  #head: Uint8Array | undefined;
  #chunks: Uint8Array[] = [];
  #available = 0;

  constructor(network: Network, o: TcpOptions, ws: WebSocketOptions) {
    this.#o = o;
    this.#ws = ws;
    this.#where = `${o.tls ? 'wss' : 'ws'}://${o.host}:${o.port}${ws.path ?? '/mqtt'}`;
    this.#key = webSocketKey(ws.random);
    this.#frames = new FrameParser(ws.maxFrameSize ?? 131072);
    this.#fragment = ws.fragmentSize ?? 16384;
    this.#tcp = network.connect({
      host: o.host,
      port: o.port,
      tls: o.tls,
      onWritable: (count) => this.#writable(count),
      onReadable: () => this.#readable(),
      onError: (error) => this.#tcpFailed(error),
    });
  }

  read(): Uint8Array | undefined {
    const chunks = this.#chunks;
    if (!chunks.length) return undefined;
    let out = chunks[0];
    if (chunks.length > 1) {
      out = new Uint8Array(this.#available);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
    }
    this.#chunks = [];
    this.#available = 0;
    return out;
  }

  /** Sends `bytes` as one binary message: one frame, or fragments of at most fragmentSize bytes. */
  write(bytes: Uint8Array): void {
    if (this.#state !== OPEN) {
      throw new WebSocketError('not-open', this.#state === CLOSED ? `write to ${this.#where} after it closed` : `write to ${this.#where} before the WebSocket handshake completed`);
    }
    const n = bytes.length;
    const size = this.#fragment;
    if (n <= size) return this.#tcp.write(maskedFrame(true, BINARY, bytes, 0, n, this.#mask()));
    for (let at = 0; at < n; at += size) {
      const end = Math.min(n, at + size);
      this.#tcp.write(maskedFrame(end === n, at ? CONTINUATION : BINARY, bytes, at, end, this.#mask()));
    }
  }

  /** Sends a close frame (1000, normal closure) when open, then closes the TCP connection. */
  close(): void {
    if (this.#state === OPEN) this.#sendClose(1000);
    this.#state = CLOSED;
    this.#tcp.close();
  }

  // ---- frames ---------------------------------------------------------------------------------

  #control(opcode: number, payload: Uint8Array): void {
    if (opcode === PING) {
      this.#tcp.write(maskedFrame(true, PONG, payload, 0, payload.length, this.#mask()));
      return;
    }
    if (opcode !== CLOSE) return; // an unsolicited PONG is allowed and means nothing
    let code = 1005; // no status code present
    let reason = '';
    if (payload.length === 1) throw new WebSocketError('protocol', 'the server sent a close frame with a 1-byte payload', 1002);
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!validCloseCode(code)) throw new WebSocketError('protocol', `the server sent close code ${code}, which may not be sent`, 1002);
      reason = latin1(payload.subarray(2));
    }
    // echo the code (section 5.5.1), then the TCP connection can go
    this.#sendClose(code === 1005 ? 1000 : code);
    this.#finish(new WebSocketError('closed', `${this.#where} closed the WebSocket: ${code}${reason ? ` ${reason}` : ''}`, code, reason));
  }

  // ---- TCP events ---------------------------------------------------------------------------

  #writable(count: number): void {
    if (this.#state === OPEN) {
      if (this.#o.onWritable) this.#o.onWritable(count);
      return;
    }
    if (this.#state !== HANDSHAKE || this.#requested) return;
    this.#requested = true;
    const { host, port, tls } = this.#o;
    const ws = this.#ws;
    const defaultPort = tls ? 443 : 80;
    try {
      this.#tcp.write(
        upgradeRequest({
          host: ws.hostHeader ?? hostHeader(host, port, defaultPort),
          path: ws.path ?? '/mqtt',
          key: this.#key,
          protocols: ws.protocols ?? ['mqtt'],
          headers: ws.headers,
        }),
      );
    } catch (error) {
      this.#finish(error as Error);
    }
  }

  #readable(): void {
    const bytes = this.#tcp.read();
    if (!bytes || this.#state === CLOSED) return;
    try {
      if (this.#state === HANDSHAKE) this.#handshake(bytes);
      else this.#frames.push(bytes, this.#sink);
    } catch (error) {
      if (!(error instanceof WebSocketError)) throw error;
      if (error.closeCode && this.#state === OPEN) this.#sendClose(error.closeCode);
      return this.#finish(error);
    }
    if (this.#available && this.#state === OPEN) this.#o.onReadable(this.#available);
  }

  #handshake(bytes: Uint8Array): void {
    let head = bytes;
    if (this.#head) {
      head = new Uint8Array(this.#head.length + bytes.length);
      head.set(this.#head);
      head.set(bytes, this.#head.length);
    }
    const end = headEnd(head);
    if (end < 0) {
      if (head.length > MAX_RESPONSE_HEAD) throw new WebSocketError('handshake', `${this.#where} sent over ${MAX_RESPONSE_HEAD} bytes without ending its HTTP response head`);
      this.#head = head;
      return;
    }
    this.#head = undefined;
    checkResponse(latin1(head.subarray(0, end - 4)), this.#key, this.#ws.protocols ?? ['mqtt'], this.#where);
    this.#state = OPEN;
    // frames the server sent right behind its response
    if (end < head.length) this.#frames.push(head.subarray(end), this.#sink);
    // connected: the first onWritable, as a plain TCP connection would give it
    if (this.#o.onWritable) this.#o.onWritable(4096);
  }

  #tcpFailed(error: Error): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#o.onError(error);
  }

  // ---- helpers ------------------------------------------------------------------------------

  #mask(): number {
    return Math.floor(this.#ws.random() * 4294967296) >>> 0;
  }

  #sendClose(code: number): void {
    const payload = Uint8Array.of(code >> 8, code & 255);
    try {
      this.#tcp.write(maskedFrame(true, CLOSE, payload, 0, 2, this.#mask()));
    } catch {
      // the TCP connection is already gone
    }
  }

  /** Ends the connection after a WebSocket-level event, reporting `error` once. */
  #finish(error: Error): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#chunks = [];
    this.#available = 0;
    this.#tcp.close();
    this.#o.onError(error);
  }
}

/** Host header: the host (IPv6 in brackets), with ":port" unless it is the scheme's default. */
function hostHeader(host: string, port: number, defaultPort: number): string {
  const h = host.indexOf(':') >= 0 ? `[${host}]` : host;
  return port === defaultPort ? h : `${h}:${port}`;
}

/** Close codes an endpoint may send (section 7.4): 1000-1003, 1007-1011, and 3000-4999 for applications. */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

export interface WebSocketUrl {
  host: string;
  port: number;
  /** wss:// */
  tls: boolean;
  path: string;
}

/** ws://host[:port][/path] or wss://... (IPv6 hosts in brackets). Default ports 80 and 443, path "/". */
export function parseWebSocketUrl(url: string): WebSocketUrl {
  const m = /^(wss?):\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#[\]@]+)(?::(\d{1,5}))?(\/[^#]*)?$/.exec(url);
  if (!m) throw new WebSocketError('bad-url', `"${url}" is not a ws:// or wss:// URL like ws://broker.local:8080/mqtt`);
  const tls = m[1] === 'wss';
  const port = m[3] ? Number(m[3]) : tls ? 443 : 80;
  if (!(port >= 1 && port <= 65535)) throw new WebSocketError('bad-url', `port ${m[3]} in "${url}" is not in 1..65535`);
  const host = m[2][0] === '[' ? m[2].slice(1, -1) : m[2];
  return { host, port, tls, path: m[4] || '/' };
}
