// The shape every digest has, so HMAC and signatures work over ours or a host's native one
// (e.g. a Moddable `Digest` wrapped by a host adapter).

export interface Hash {
  /** Input block size in bytes (64 for SHA-1/SHA-256/MD5, 128 for SHA-512); HMAC needs it. */
  readonly blockSize: number;
  /** Digest size in bytes. */
  readonly outputLength: number;
  /** Feeds more bytes; returns the same object so calls can chain. */
  update(bytes: Uint8Array): this;
  /** Finishes the message and returns its digest; the hash is then reset, ready for a new message. */
  digest(): Uint8Array;
  /** Drops any input fed so far. */
  reset(): this;
  /** The progress so far as bytes, so a restarted device can continue the message (optional: not every hash can). */
  save?(): Uint8Array;
  /** Continues from what save() returned; throws when `state` is not a saved state of this hash. */
  restore?(state: Uint8Array): this;
}

/** Makes a fresh hash object (one per message, or reuse it: digest() resets it). */
export type HashFactory = () => Hash;
