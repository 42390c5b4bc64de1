// Comparing a received MAC with the expected one must not stop at the first difference, or the time
// taken tells an attacker how many leading bytes were right.

/** True when a and b hold the same bytes; the time depends only on the lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
