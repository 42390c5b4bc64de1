// 32-bit word helpers shared by the hash functions.

export const writeBigEndian = (out: Uint8Array, at: number, value: number): void => {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16;
  out[at + 2] = value >>> 8;
  out[at + 3] = value;
};

export const writeLittleEndian = (out: Uint8Array, at: number, value: number): void => {
  out[at] = value;
  out[at + 1] = value >>> 8;
  out[at + 2] = value >>> 16;
  out[at + 3] = value >>> 24;
};

/** Copies src[from, from + count) into dst at `at` without making subarray views. */
export const copyBytes = (src: Uint8Array, from: number, dst: Uint8Array, at: number, count: number): void => {
  for (let i = 0; i < count; i++) dst[at + i] = src[from + i];
};
