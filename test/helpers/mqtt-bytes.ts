// MQTT 3.1.1 packets written by hand from the OASIS spec layout (sections 2 and 3), independent of
// src/mqtt, so tests can talk to a broker through a raw socket.
const utf8 = new TextEncoder();

function field(text: string): number[] {
  const b = utf8.encode(text);
  return [b.length >> 8, b.length & 0xff, ...b];
}

/** Remaining Length, spec 2.2.3: 7 bits per byte, high bit = more bytes follow. */
function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function packet(first: number, body: number[]): Uint8Array {
  return Uint8Array.from([first, ...remainingLength(body.length), ...body]);
}

/** CONNECT, spec 3.1: protocol name "MQTT", level 4, flags, keep alive, then the payload fields. */
export function connectBytes(
  clientId: string,
  options: { username?: string; password?: string; keepAlive?: number; cleanSession?: boolean } = {},
): Uint8Array {
  const keepAlive = options.keepAlive ?? 60;
  let flags = options.cleanSession === false ? 0 : 0x02;
  if (options.username !== undefined) flags |= 0x80;
  if (options.password !== undefined) flags |= 0x40;
  const body = [0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, keepAlive >> 8, keepAlive & 0xff, ...field(clientId)];
  if (options.username !== undefined) body.push(...field(options.username));
  if (options.password !== undefined) body.push(...field(options.password));
  return packet(0x10, body);
}

/** PUBLISH, spec 3.3: QoS 0 has no packet identifier. */
export function publishBytes(topic: string, payload: string, options: { qos?: 0 | 1; retain?: boolean; packetId?: number } = {}): Uint8Array {
  const qos = options.qos ?? 0;
  const first = 0x30 | (qos << 1) | (options.retain ? 1 : 0);
  const id = options.packetId ?? 1;
  return packet(first, [...field(topic), ...(qos > 0 ? [id >> 8, id & 0xff] : []), ...utf8.encode(payload)]);
}

/** SUBSCRIBE, spec 3.8: fixed header flags must be 0010. */
export function subscribeBytes(filter: string, qos: 0 | 1 | 2 = 0, packetId = 1): Uint8Array {
  return packet(0x82, [packetId >> 8, packetId & 0xff, ...field(filter), qos]);
}

/** DISCONNECT, spec 3.14. */
export const disconnectBytes = Uint8Array.of(0xe0, 0x00);
