// The WebSocket transport on the test kit's scripted TCP socket. Expected bytes come from RFC 6455:
// the handshake example of section 1.3 and the frame examples of section 5.7 (masked "Hello" with key
// 37 fa 21 3d, fragments, ping/pong, 16- and 64-bit lengths), plus layouts written by hand from section 5.2.
import { MqttClient } from '../../src/mqtt/client';
import { WebSocketError } from '../../src/transport/websocket-errors';
import { FrameParser, maskedFrame, PING, PONG, TEXT } from '../../src/transport/websocket-frame';
import { acceptFor, checkResponse } from '../../src/transport/websocket-handshake';
import { parseWebSocketUrl, webSocketNetwork, type WebSocketOptions } from '../../src/transport/websocket';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, toHex } from '../../hosts/sim/fakes/network';
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => String.fromCharCode(...b);

/** random() that yields the RFC's masking key 37 fa 21 3d, and 0 for the handshake nonce bytes. */
function rfcRandom(): () => number {
  let calls = 0;
  return () => (calls++ < 16 ? 0 : 0x37fa213d / 4294967296);
}

// With 16 zero nonce bytes the key is base64 of 16 zeros.
const KEY = 'AAAAAAAAAAAAAAAAAAAAAA==';

function response(extra = '', accept = acceptFor(KEY)): Uint8Array {
  return ascii(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: mqtt\r\n${extra}\r\n`);
}

function setup(options: Partial<WebSocketOptions> = {}, tls = false) {
  const tcp = new ScriptedNetwork();
  const ws = webSocketNetwork(tcp, { random: rfcRandom(), ...options });
  const events: string[] = [];
  const errors: Error[] = [];
  const socket = ws.connect({
    host: 'broker.local',
    port: 8080,
    tls: tls ? {} : undefined,
    onWritable: (n) => events.push(`writable ${n}`),
    onReadable: (n) => events.push(`readable ${n}`),
    onError: (e) => errors.push(e),
  });
  const raw = tcp.last;
  /** TCP up, request sent, response (and anything after it) received. */
  const open = (after: Uint8Array = new Uint8Array(0)) => {
    raw.options.onWritable?.(1000);
    raw.sent();
    const head = response();
    const all = new Uint8Array(head.length + after.length);
    all.set(head);
    all.set(after, head.length);
    raw.receiveBytes(all);
  };
  return { tcp, socket, raw, events, errors, open };
}

/** An unmasked server frame, laid out by hand from section 5.2. */
function serverFrame(b0: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? [b0, n] : n < 65536 ? [b0, 126, n >> 8, n & 255] : [b0, 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

export default suite('websocket transport', (test) => {
  test('Sec-WebSocket-Accept of the RFC 6455 section 1.3 example', () => {
    equal(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  test('masked frames: the RFC 6455 section 5.7 examples (masked "Hello", masked Pong)', () => {
    const hello = ascii('Hello');
    equal(toHex(maskedFrame(true, TEXT, hello, 0, 5, 0x37fa213d)), '81 85 37 fa 21 3d 7f 9f 4d 51 58');
    equal(toHex(maskedFrame(true, PONG, hello, 0, 5, 0x37fa213d)), '8a 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  test('masked frames with 16-bit and 64-bit lengths (126 and 127 markers)', () => {
    const a = maskedFrame(true, 2, new Uint8Array(256), 0, 256, 0);
    equal(toHex(a.subarray(0, 8)), '82 fe 01 00 00 00 00 00');
    equal(a.length, 4 + 4 + 256);
    const b = maskedFrame(false, 0, new Uint8Array(65536), 0, 65536, 0x01020304);
    equal(toHex(b.subarray(0, 14)), '00 ff 00 00 00 00 00 01 00 00 01 02 03 04');
    equal(toHex(b.subarray(14, 18)), '01 02 03 04'); // zeros masked: the key itself
  });

  test('masking matches the definition of section 5.3 (byte i XOR key byte i mod 4) at every length and offset', () => {
    const key = 0x9e3779b9;
    const kb = [0x9e, 0x37, 0x79, 0xb9];
    const source = Uint8Array.from({ length: 70000 }, (_, i) => (i * 31 + 7) & 255);
    for (const [start, n] of [[0, 0], [0, 1], [3, 5], [1, 13], [2, 125], [0, 126], [5, 300], [7, 65535], [1, 65536]]) {
      const frame = maskedFrame(true, 2, source, start, start + n, key);
      const at = frame.length - n;
      equal(Array.from(frame.subarray(at - 4, at)), kb, `key at ${n}`);
      let bad = -1;
      for (let i = 0; i < n && bad < 0; i++) if (frame[at + i] !== (source[start + i] ^ kb[i & 3])) bad = i;
      equal(bad, -1, `first wrong byte of a ${n}-byte payload from ${start}`);
    }
  });

  test('the parser takes the section 5.7 frames (as binary) in any fragmentation of the stream', () => {
    const stream = [
      '02 03 48 65 6c 80 02 6c 6f', // fragmented "Hel" + "lo"
      '89 05 48 65 6c 6c 6f', // unmasked ping "Hello"
      `82 7e 01 00 ${'ab '.repeat(256)}`, // 256 bytes, 16-bit length
      '8a 00', // unsolicited pong
    ].join(' ');
    const bytes = hex(stream);
    for (const step of [1, 3, 7, bytes.length]) {
      const parser = new FrameParser(1024);
      const data: number[] = [];
      const controls: string[] = [];
      for (let i = 0; i < bytes.length; i += step) {
        parser.push(bytes.subarray(i, i + step), { data: (b) => data.push(...b), control: (op, p) => controls.push(`${op}:${text(p)}`) });
      }
      equal(text(Uint8Array.from(data.slice(0, 5))), 'Hello', `step ${step}`);
      equal(data.length, 5 + 256, `step ${step}`);
      equal(controls, [`${PING}:Hello`, `${PONG}:`], `step ${step}`);
    }
  });

  test('the parser takes a 64 KB frame with a 64-bit length, and refuses a bigger one than maxFrameSize', () => {
    const big = serverFrame(0x82, new Uint8Array(65536));
    equal(toHex(big.subarray(0, 10)), '82 7f 00 00 00 00 00 01 00 00');
    let n = 0;
    new FrameParser(65536).push(big, { data: (b) => (n += b.length), control: () => undefined });
    equal(n, 65536);
    const e = throws(() => new FrameParser(65535).push(big, { data: () => undefined, control: () => undefined }), WebSocketError) as WebSocketError;
    equal([e.code, e.closeCode], ['too-large', 1009]);
  });

  test('the parser refuses what RFC 6455 and MQTT forbid, each with its close code', () => {
    const cases: [string, number, string][] = [
      ['81 01 41', 1003, 'text frame'],
      ['c2 01 41', 1002, 'reserved bits'],
      ['82 81 00 00 00 00 41', 1002, 'masked'],
      ['83 00', 1002, 'reserved opcode'],
      ['8b 00', 1002, 'reserved opcode'],
      ['09 00', 1002, 'fragmented or long control frame'],
      [`89 7e 00 7e ${'00 '.repeat(126)}`, 1002, 'fragmented or long control frame'],
      ['80 01 41', 1002, 'continuation frame outside'],
      ['02 01 41 82 01 42', 1002, 'before finishing the fragmented one'],
    ];
    for (const [bytes, code, message] of cases) {
      const e = throws(() => new FrameParser(100).push(hex(bytes), { data: () => undefined, control: () => undefined }), WebSocketError, message) as WebSocketError;
      equal(e.closeCode, code, bytes);
    }
  });

  test('the upgrade request asks for sub-protocol mqtt with the key; the 101 response opens the socket', () => {
    const t = setup({ path: '/mqtt', headers: { Authorization: 'Bearer x' } });
    equal(t.events, []);
    t.raw.options.onWritable?.(1000);
    equal(t.raw.sent().map((h) => text(hex(h))), [
      `GET /mqtt HTTP/1.1\r\nHost: broker.local:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\nAuthorization: Bearer x\r\n\r\n`,
    ]);
    throws(() => t.socket.write(ascii('x')), WebSocketError, 'before the WebSocket handshake completed');
    // the response in two reads
    const head = response();
    t.raw.receiveBytes(head.subarray(0, 20));
    equal(t.events, []);
    t.raw.receiveBytes(head.subarray(20));
    equal(t.events, ['writable 4096']);
    equal(t.errors, []);
  });

  test('the default Host header leaves out the scheme default port and brackets IPv6', () => {
    const tcp = new ScriptedNetwork();
    const ws = webSocketNetwork(tcp, { random: rfcRandom() });
    for (const [host, port, tls, expected] of [
      ['b', 443, true, 'b'],
      ['b', 80, false, 'b'],
      ['b', 443, false, 'b:443'],
      ['fd00::2', 8080, false, '[fd00::2]:8080'],
    ] as const) {
      ws.connect({ host, port, tls: tls ? {} : undefined, onReadable: () => undefined, onError: () => undefined });
      tcp.last.options.onWritable?.(1);
      ok(text(tcp.last.written[0]).includes(`\r\nHost: ${expected}\r\n`), expected);
    }
  });

  test('writes go as masked binary frames; longer ones as fragments of fragmentSize', () => {
    const t = setup({ fragmentSize: 4 });
    t.open();
    t.socket.write(ascii('Hel'));
    t.socket.write(ascii('Hello'));
    // 37 fa 21 3d masks every frame (rfcRandom); "Hell" as BINARY without FIN, "o" as CONTINUATION with FIN
    equal(t.raw.sent(), ['82 83 37 fa 21 3d 7f 9f 4d', '02 84 37 fa 21 3d 7f 9f 4d 51', '80 81 37 fa 21 3d 58']);
  });

  test('data frames read as one stream: fragments, several frames in one read, bytes after the 101 response', () => {
    const t = setup();
    t.open(hex('02 02 01 02'));
    equal(t.events, ['writable 4096', 'readable 2']);
    equal(toHex(t.socket.read()!), '01 02');
    t.raw.receiveBytes(hex('00 01 03 80 02 04 05 82 01 06'));
    equal(toHex(t.socket.read()!), '03 04 05 06');
    equal(t.socket.read(), undefined);
  });

  test('a ping is answered with a pong carrying its payload', () => {
    const t = setup();
    t.open();
    t.raw.receiveBytes(hex('89 05 48 65 6c 6c 6f'));
    equal(t.raw.sent(), ['8a 85 37 fa 21 3d 7f 9f 4d 51 58']);
    equal(t.events, ['writable 4096']);
  });

  test('a close frame from the server: echoed, the TCP connection closed, an error with the code and reason', () => {
    const t = setup();
    t.open();
    t.raw.receiveBytes(hex('88 06 03 e9 62 79 65 21')); // 1001 "bye!"
    // close 1001 echoed, masked: 03 e9 ^ 37 fa
    equal(t.raw.sent(), ['88 82 37 fa 21 3d 34 13']);
    ok(t.raw.closed);
    const e = t.errors[0] as WebSocketError;
    equal([e.code, e.closeCode, e.reason], ['closed', 1001, 'bye!']);
    throws(() => t.socket.write(ascii('x')), WebSocketError, 'after it closed');
  });

  test('a close code that may not be sent (1005) is a protocol error answered with 1002', () => {
    const t = setup();
    t.open();
    t.raw.receiveBytes(hex('88 02 03 ed'));
    equal((t.errors[0] as WebSocketError).closeCode, 1002);
    // 03 ea (1002) masked with 37 fa
    equal(t.raw.sent(), ['88 82 37 fa 21 3d 34 10']);
  });

  test('a protocol error in a frame: close 1002 sent, then the error', () => {
    const t = setup();
    t.open();
    t.raw.receiveBytes(hex('82 81 00 00 00 00 41'));
    equal(t.raw.sent(), ['88 82 37 fa 21 3d 34 10']);
    equal((t.errors[0] as WebSocketError).code, 'protocol');
    ok(t.raw.closed);
  });

  test('close() sends close 1000 and closes the TCP connection', () => {
    const t = setup();
    t.open();
    t.socket.close();
    // 03 e8 masked with 37 fa
    equal(t.raw.sent(), ['88 82 37 fa 21 3d 34 12']);
    ok(t.raw.closed);
    equal(t.errors, []);
  });

  test('a failed handshake says why: status, accept, sub-protocol, extension, no HTTP at all', () => {
    const where = 'ws://h:1/mqtt';
    const good = `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(KEY)}`;
    const cases: [string, string][] = [
      ['HTTP/1.1 404 Not Found', 'HTTP 404 Not Found: check the path'],
      ['HTTP/1.1 401 Unauthorized', 'check the credentials'],
      [`HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA`, 'not the one our key asks for'],
      [`${good}\r\nSec-WebSocket-Protocol: mqttv3.1`, 'chose sub-protocol "mqttv3.1"'],
      [`${good}\r\nSec-WebSocket-Extensions: permessage-deflate`, 'extension "permessage-deflate"'],
      [`HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(KEY)}`, 'without "Upgrade: websocket"'],
      ['\u0010\u0002\u0000\u0000', 'is this a WebSocket port?'],
    ];
    for (const [head, message] of cases) throws(() => checkResponse(head, KEY, ['mqtt'], where), WebSocketError, message);
    equal(checkResponse(good, KEY, ['mqtt'], where), undefined);
    equal(checkResponse(`${good}\r\nsec-websocket-protocol: mqtt\r\nconnection: keep-alive, Upgrade`, KEY, ['mqtt'], where), 'mqtt');
  });

  test('a failed handshake on the socket reports a handshake error and closes', () => {
    const t = setup();
    t.raw.options.onWritable?.(1000);
    t.raw.receiveBytes(ascii('HTTP/1.1 400 Bad Request\r\n\r\n'));
    equal((t.errors[0] as WebSocketError).code, 'handshake');
    ok(t.raw.closed);
    equal(t.events, []);
  });

  test('a response head that never ends is cut off at 8 KB', () => {
    const t = setup();
    t.raw.options.onWritable?.(1000);
    for (let i = 0; i < 10 && !t.errors.length; i++) t.raw.receiveBytes(ascii('X-Filler: '.padEnd(1000, 'y') + '\r\n'));
    ok((t.errors[0] as WebSocketError).message.includes('without ending its HTTP response head'));
  });

  test('an MQTT client over the transport: packets split across frames and frames holding several packets', () => {
    const tcp = new ScriptedNetwork();
    const received: string[] = [];
    const client = new MqttClient({
      clock: new ManualClock(),
      network: webSocketNetwork(tcp, { random: rfcRandom() }),
      host: 'broker',
      port: 8080,
      clientId: 'c1',
      onMessage: (topic, payload) => received.push(`${topic}:${text(payload)}`),
    });
    client.connect();
    const raw = tcp.last;
    raw.options.onWritable?.(1000);
    raw.sent();
    // CONNACK (20 02 00 00) split over two frames of one fragmented message, right after the 101
    const head = response();
    const first = hex('02 01 20 80 03 02 00 00');
    const all = new Uint8Array(head.length + first.length);
    all.set(head);
    all.set(first, head.length);
    raw.receiveBytes(all);
    // the CONNECT went masked in one frame once the socket opened
    equal(raw.sent().length, 1);
    ok(client.connected);
    // two PUBLISH packets (30 04 00 01 61 31, 30 04 00 01 62 32) cut across three frames
    raw.receiveBytes(hex('82 03 30 04 00 82 07 01 61 31 30 04 00 01 82 02 62 32'));
    equal(received, ['a:1', 'b:2']);
    client.destroy();
  });

  test('ws:// and wss:// URLs', () => {
    equal(parseWebSocketUrl('ws://broker.local:8080/mqtt'), { host: 'broker.local', port: 8080, tls: false, path: '/mqtt' });
    equal(parseWebSocketUrl('wss://broker.example'), { host: 'broker.example', port: 443, tls: true, path: '/' });
    equal(parseWebSocketUrl('ws://[fd00::2]/ws?x=1'), { host: 'fd00::2', port: 80, tls: false, path: '/ws?x=1' });
    for (const bad of ['mqtt://b', 'ws://', 'ws://b:99999/', 'ws://user@b/']) throws(() => parseWebSocketUrl(bad), WebSocketError, 'ws');
  });

  test('webSocketNetwork needs random()', () => {
    throws(() => webSocketNetwork(new ScriptedNetwork(), {} as WebSocketOptions), WebSocketError, 'needs random()');
  });
});
