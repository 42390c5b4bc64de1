// Moddable's `preference` module as a Map, for the XS budget runs: one shallow call per operation, as
// the native module makes, so a stack measurement below a store call counts the native's depth.
import type { PreferenceLike, PreferenceValue } from '../../hosts/moddable/kv-chunks';

export function memoryPreference(): PreferenceLike {
  const entries = new Map<string, PreferenceValue>();
  return {
    get: (domain, key) => entries.get(`${domain}/${key}`),
    set: (domain, key, value) => void entries.set(`${domain}/${key}`, value),
    delete: (domain, key) => void entries.delete(`${domain}/${key}`),
    keys(domain) {
      const out: string[] = [];
      for (const name of entries.keys()) if (name.startsWith(`${domain}/`)) out.push(name.slice(domain.length + 1));
      return out;
    },
  };
}
