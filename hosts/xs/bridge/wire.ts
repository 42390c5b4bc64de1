// Frames between the Platform inside XS and its Node host: a 2-byte big-endian header length, the
// header as UTF-8 JSON, then raw body bytes (socket data, stored values), so bytes never go through
// JSON. Used on both sides, so only ES2022 plus TextEncoder/TextDecoder (both exist in xsnap).

export type Header = Record<string, unknown>;

export interface Frame {
  header: Header;
  body: Uint8Array;
}

const MAX_HEADER = 0xffff;

export class BridgeWireError extends Error {
  readonly code = 'BRIDGE_WIRE';
}
BridgeWireError.prototype.name = 'BridgeWireError';

export function encodeFrame(header: Header, body?: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  if (head.length > MAX_HEADER) throw new BridgeWireError(`bridge header of ${head.length} bytes exceeds ${MAX_HEADER}: put bulk data in the body`);
  const out = new Uint8Array(2 + head.length + (body?.length ?? 0));
  out[0] = head.length >> 8;
  out[1] = head.length & 0xff;
  out.set(head, 2);
  if (body) out.set(body, 2 + head.length);
  return out;
}

export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < 2) throw new BridgeWireError(`bridge frame of ${bytes.length} bytes is shorter than its 2-byte header length`);
  const length = (bytes[0]! << 8) | bytes[1]!;
  if (2 + length > bytes.length) throw new BridgeWireError(`bridge header length ${length} runs past the ${bytes.length}-byte frame`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(2, 2 + length))) as Header;
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new BridgeWireError('bridge header is not a JSON object');
  return { header, body: bytes.subarray(2 + length) };
}
