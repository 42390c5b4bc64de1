// Percent-encoding of a URL component (RFC 3986 section 2): every byte of the UTF-8 form except the
// unreserved characters A-Z a-z 0-9 - . _ ~ becomes %XX with upper-case hex. Stricter than
// encodeURIComponent, which keeps ! ' ( ) *; cloud SDKs (Azure's, Python's quote) encode those too.
import { utf8Encode } from '../crypto/utf8';

const HEX = '0123456789ABCDEF';

export function percentEncode(text: string): string {
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < text.length; i++) {
    if (isUnreserved(text.charCodeAt(i))) continue;
    out += text.slice(plainFrom, i);
    let end = i + 1;
    while (end < text.length && !isUnreserved(text.charCodeAt(end))) end++;
    const bytes = utf8Encode(text.slice(i, end));
    for (let k = 0; k < bytes.length; k++) out += '%' + HEX.charAt(bytes[k] >> 4) + HEX.charAt(bytes[k] & 15);
    plainFrom = end;
    i = end - 1;
  }
  return out + text.slice(plainFrom);
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126
  );
}
