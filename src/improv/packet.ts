// Improv Wi-Fi serial packets (https://www.improv-wifi.com/serial/):
//   "IMPROV" | version 1 | type | length | data[length] | checksum (sum of all previous bytes, low 8 bits)
import { utf8Decode, utf8Encode } from '../text/utf8';

export const IMPROV_VERSION = 1;
export const IMPROV_HEADER = [0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56]; // "IMPROV"

export const PacketType = { currentState: 0x01, errorState: 0x02, rpc: 0x03, rpcResult: 0x04 } as const;

export const ImprovState = { ready: 0x02, provisioning: 0x03, provisioned: 0x04 } as const;

export const ImprovError = {
  none: 0x00,
  invalidRpc: 0x01,
  unknownRpc: 0x02,
  unableToConnect: 0x03,
  badHostname: 0x05,
  unknown: 0xff,
} as const;

export const Command = {
  wifiSettings: 0x01,
  currentState: 0x02,
  deviceInfo: 0x03,
  scan: 0x04,
} as const;

export class ImprovPacketError extends Error {
  constructor(
    readonly code: 'too-long' | 'malformed-rpc',
    message: string,
  ) {
    super(message);
  }
}
ImprovPacketError.prototype.name = 'ImprovPacketError';

export const checksum = (bytes: Uint8Array, end = bytes.length): number => {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += bytes[i];
  return sum & 0xff;
};

/** A whole packet with header, length and checksum. */
export const encodePacket = (type: number, data: Uint8Array): Uint8Array => {
  if (data.length > 255) throw new ImprovPacketError('too-long', `Improv packet data is ${data.length} bytes; at most 255 fit`);
  const out = new Uint8Array(10 + data.length);
  out.set(IMPROV_HEADER);
  out[6] = IMPROV_VERSION;
  out[7] = type;
  out[8] = data.length;
  out.set(data, 9);
  out[9 + data.length] = checksum(out, 9 + data.length);
  return out;
};

/** RPC result data: command, length, then each string as length + UTF-8 bytes. */
export const encodeRpcResult = (command: number, strings: string[]): Uint8Array => {
  const encoded = strings.map((s) => utf8Encode(s));
  let total = 0;
  for (const e of encoded) {
    if (e.length > 255) throw new ImprovPacketError('too-long', 'an Improv result string is longer than 255 bytes');
    total += 1 + e.length;
  }
  if (total > 253) throw new ImprovPacketError('too-long', `Improv result strings take ${total} bytes; at most 253 fit`);
  const out = new Uint8Array(2 + total);
  out[0] = command;
  out[1] = total;
  let o = 2;
  for (const e of encoded) {
    out[o++] = e.length;
    out.set(e, o);
    o += e.length;
  }
  return out;
};

export interface RpcCommand {
  command: number;
  payload: Uint8Array;
}

/** Splits RPC packet data into command and payload; the inner length must cover the rest exactly. */
export const decodeRpc = (data: Uint8Array): RpcCommand => {
  if (data.length < 2) throw new ImprovPacketError('malformed-rpc', 'RPC data needs at least a command and a length byte');
  if (data[1] !== data.length - 2) {
    throw new ImprovPacketError('malformed-rpc', `RPC length byte says ${data[1]} but ${data.length - 2} bytes follow`);
  }
  return { command: data[0], payload: data.subarray(2) };
};

/** Length-prefixed strings filling `payload` exactly (Send Wi-Fi settings: SSID, password). */
export const decodeStrings = (payload: Uint8Array): string[] => {
  const out: string[] = [];
  let o = 0;
  while (o < payload.length) {
    const len = payload[o];
    if (o + 1 + len > payload.length) throw new ImprovPacketError('malformed-rpc', 'a string runs past the end of the RPC data');
    try {
      out.push(utf8Decode(payload, o + 1, o + 1 + len));
    } catch (error) {
      throw new ImprovPacketError('malformed-rpc', `a string is not valid UTF-8: ${(error as Error).message}`);
    }
    o += 1 + len;
  }
  return out;
};
