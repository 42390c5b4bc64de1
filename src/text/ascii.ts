// Turns an array of ASCII/UTF-16 code units into a string in chunks: XS limits argument counts.
const CHUNK = 1024;

export const codesToString = (codes: Uint8Array): string => {
  let text = '';
  for (let i = 0; i < codes.length; i += CHUNK) {
    text += String.fromCharCode.apply(null, codes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return text;
};
