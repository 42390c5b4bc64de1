// Character classes tested by code instead of regular expressions. No module of the firmware uses a
// RegExp, so xsl leaves XS's regular expression engine (about 40 KB) out of the ESP8266 image
// (docs/flash.md). Each test takes a UTF-16 code unit, as a regular expression without the u flag.

export const isDigitCode = (c: number): boolean => {
  return c >= 0x30 && c <= 0x39;
};

/** 0-9 A-F a-f */
export const isHexCode = (c: number): boolean => {
  const l = c | 0x20;
  return (c >= 0x30 && c <= 0x39) || (l >= 0x61 && l <= 0x66);
};

/** 0-9 a-f */
export const isLowerHexCode = (c: number): boolean => {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
};

/** 0-9 A-Z a-z */
export const isAlnumCode = (c: number): boolean => {
  const l = c | 0x20;
  return (c >= 0x30 && c <= 0x39) || (l >= 0x61 && l <= 0x7a);
};

/** What \s matches: ECMAScript's WhiteSpace and LineTerminator. */
export const isSpaceCode = (c: number): boolean => {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x20 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
};

/** Where the run of characters that pass `test` ends, from `start`. */
export const runEnd = (text: string, start: number, test: (c: number) => boolean): number => {
  let i = start;
  while (i < text.length && test(text.charCodeAt(i))) i++;
  return i;
};

/** Whether `text` has `min` to `max` characters, each passing `test`. */
export const allChars = (text: string, test: (c: number) => boolean, min = 1, max = text.length): boolean => {
  return text.length >= min && text.length <= max && runEnd(text, 0, test) === text.length;
};

/** Whether `text` is `min` to `max` ASCII digits. */
export const isDigits = (text: string, min = 1, max = text.length): boolean => {
  return allChars(text, isDigitCode, min, max);
};

/** Whether `text` starts with `prefix` (lower-case ASCII) in any case, as a regular expression's i flag matches it. */
export const startsWithIgnoringCase = (text: string, prefix: string): boolean => {
  if (text.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== prefix.charCodeAt(i)) return false;
  }
  return true;
};

/** Whether `text` has a C0 control character or DEL. */
export const hasControl = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
};

/** The characters of `text` that pass `test`. */
export const keepChars = (text: string, test: (c: number) => boolean): string => {
  let out = '';
  for (let i = 0; i < text.length; i++) if (test(text.charCodeAt(i))) out += text[i];
  return out;
};

/** `text` with A-Z made a-z and nothing else changed: XS's toLowerCase brings Unicode case tables (12 KB of flash on the ESP8266). */
export const asciiLower = (text: string): string => {
  return changeCase(text, 0x41, 0x20);
};

/** `text` with a-z made A-Z and nothing else changed. */
export const asciiUpper = (text: string): string => {
  return changeCase(text, 0x61, -0x20);
};

const changeCase = (text: string, first: number, shift: number): string => {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= first && c < first + 26) {
      out += text.slice(from, i) + String.fromCharCode(c + shift);
      from = i + 1;
    }
  }
  return from ? out + text.slice(from) : text;
};
