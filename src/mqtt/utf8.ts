// UTF-8 as MQTT wants it (3.1.1 section 1.5.3): well-formed, no surrogates, no U+0000.
import { MqttProtocolError } from './errors';

export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 4 bytes for 2 UTF-16 units
        i++;
        continue;
      }
      n += 2;
    } else n += 2;
  }
  return n;
}

/** Writes `text` at `offset`; returns the offset after it. Lone surrogates become U+FFFD. */
export function writeUtf8(text: string, out: Uint8Array, offset: number): number {
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[offset++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = c <= 0xdbff && i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out[offset++] = 0xf0 | (c >> 18);
        out[offset++] = 0x80 | ((c >> 12) & 63);
      } else {
        c = 0xfffd;
        out[offset++] = 0xe0 | (c >> 12);
      }
    } else if (c < 0x800) {
      out[offset++] = 0xc0 | (c >> 6);
      out[offset++] = 0x80 | (c & 63);
      continue;
    } else out[offset++] = 0xe0 | (c >> 12);
    out[offset++] = 0x80 | ((c >> 6) & 63);
    out[offset++] = 0x80 | (c & 63);
  }
  return offset;
}

export function encodeUtf8(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  writeUtf8(text, out, 0);
  return out;
}

function bad(what: string): never {
  throw new MqttProtocolError('bad-utf8', `invalid UTF-8 in ${what}`);
}

/** Decodes bytes[start, end) strictly; `what` names the field in the error. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number, what = 'string'): string {
  let i = start;
  while (i < end && bytes[i] < 0x80 && bytes[i] !== 0) i++;
  if (i === end && end - start <= 4096) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  const units: number[] = [];
  for (i = start; i < end; ) {
    let c = bytes[i++];
    if (c < 0x80) {
      if (c === 0) bad(what);
      units.push(c);
      continue;
    }
    let extra: number, min: number;
    if ((c & 0xe0) === 0xc0) (extra = 1), (min = 0x80), (c &= 0x1f);
    else if ((c & 0xf0) === 0xe0) (extra = 2), (min = 0x800), (c &= 0x0f);
    else if ((c & 0xf8) === 0xf0) (extra = 3), (min = 0x10000), (c &= 0x07);
    else return bad(what);
    if (i + extra > end) bad(what);
    while (extra--) {
      const b = bytes[i++];
      if ((b & 0xc0) !== 0x80) bad(what);
      c = (c << 6) | (b & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) bad(what);
    if (c >= 0x10000) {
      c -= 0x10000;
      units.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
    } else units.push(c);
  }
  let s = '';
  for (let k = 0; k < units.length; k += 4096) s += String.fromCharCode.apply(null, units.slice(k, k + 4096));
  return s;
}
