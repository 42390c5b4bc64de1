// KeyValueStore port on Moddable's Preference module, through the chunking store.
import type { KeyValueStore } from '../../src/ports';
import Preference from 'preference';
import { ChunkedPreferenceStore, type KvLimits } from './kv-chunks';

const utf8 = {
  encode: (text: string) => new Uint8Array(ArrayBuffer.fromString(text)),
  decode: (bytes: Uint8Array) => String.fromArrayBuffer(bytes.slice().buffer as ArrayBuffer),
};

export function createStorage(domain: string, limits: KvLimits): KeyValueStore & { sweep(): number } {
  return new ChunkedPreferenceStore(Preference, domain, limits, utf8);
}
