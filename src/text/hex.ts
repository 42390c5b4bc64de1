// Hex encode/decode (Uint8Array.toHex/fromHex are missing on XS).
import { codesToString } from './ascii';
import { TextError } from './errors';

/** Lower-case hex, two digits per byte. */
export const hexEncode = (bytes: Uint8Array): string => {
  const codes = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const hi = bytes[i] >> 4;
    const lo = bytes[i] & 15;
    codes[2 * i] = hi < 10 ? 48 + hi : 87 + hi;
    codes[2 * i + 1] = lo < 10 ? 48 + lo : 87 + lo;
  }
  return codesToString(codes);
};

/** Decodes hex digits (either case, no separators). Throws TextError 'bad-hex' saying where. */
export const hexDecode = (text: string): Uint8Array => {
  if (text.length % 2 !== 0) {
    throw new TextError('bad-hex', `hex text has an odd length (${text.length}); every byte needs two digits`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = (digit(text, 2 * i) << 4) | digit(text, 2 * i + 1);
  }
  return out;
};

const digit = (text: string, at: number): number => {
  const c = text.charCodeAt(at);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  throw new TextError('bad-hex', `not a hex digit: ${JSON.stringify(text.charAt(at))} at index ${at}`);
};
