// KeyValueStore port on Moddable's Preference module, through the chunking store. The module comes
// from the target's main (see Target.preference in boot.ts), never from an import here: this file is
// preloaded, and a preloaded import of the desktop build's `preference` (a JavaScript module that
// reads its JSON file when it is loaded) would run that read at build time, so every run would start
// from an empty cache and its first save would overwrite the file.
import type { KeyValueStore } from '../../src/ports';
import { ChunkedPreferenceStore, type KvLimits, type PreferenceLike } from './kv-chunks';

const utf8 = {
  encode: (text: string) => new Uint8Array(ArrayBuffer.fromString(text)),
  decode: (bytes: Uint8Array) => String.fromArrayBuffer(bytes.slice().buffer as ArrayBuffer),
};

export const createStorage = (preference: PreferenceLike, domain: string, limits: KvLimits): KeyValueStore & { sweep(): number } => {
  return new ChunkedPreferenceStore(preference, domain, limits, utf8);
};
