// The chunked KeyValueStore of hosts/moddable over Preference stores that enforce the SDK's limits:
// ESP8266 (modules/files/preference/esp/modPreference.c): domain and key at most 31 characters,
// values at most 63 bytes, every entry in one 4096-byte flash sector, entry size
// (domain+1)+(key+1)+1+bytes(+2 for a buffer) rounded up to 4, after a 4-byte magic.
// ESP32 (modules/files/preference/esp32 on NVS): names at most 15 characters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedPreferenceStore, ESP32_LIMITS, ESP8266_LIMITS, type PreferenceLike, type PreferenceValue } from '../../hosts/moddable/kv-chunks';
import { ModdableHostError } from '../../hosts/moddable/errors';
import { Config } from '../../src/device/config';

const SECTOR = 4096;
const MAGIC = 4;

class PowerCut extends Error {}

/** Preference with the SDK's ESP8266 rules; `cutAfter` writes simulates losing power mid-way. */
class Esp8266Preference implements PreferenceLike {
  readonly entries = new Map<string, PreferenceValue>();
  cutAfter = Infinity;
  writes = 0;

  private id(domain: string, key: string): string {
    return `${domain}\u0000${key}`;
  }

  static entrySize(domain: string, key: string, value: PreferenceValue): number {
    let bytes: number;
    if (value instanceof ArrayBuffer) bytes = value.byteLength + 2;
    else if (typeof value === 'string') bytes = new TextEncoder().encode(value).length + 1;
    else if (typeof value === 'boolean') bytes = 1;
    else bytes = 4;
    return (domain.length + 1 + key.length + 1 + 1 + bytes + 3) & ~3;
  }

  used(): number {
    let total = MAGIC;
    for (const [id, value] of this.entries) {
      const [domain, key] = id.split('\u0000');
      total += Esp8266Preference.entrySize(domain!, key!, value);
    }
    return total;
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    const value = this.entries.get(this.id(domain, key));
    return value instanceof ArrayBuffer ? value.slice(0) : value;
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    if (domain.length > 31 || key.length > 31) throw new Error('too long');
    const raw = value instanceof ArrayBuffer ? value.byteLength : typeof value === 'string' ? new TextEncoder().encode(value).length + 1 : 4;
    if (raw > 63) throw new Error("can't save prefs");
    if (this.writes++ >= this.cutAfter) throw new PowerCut('power cut');
    const id = this.id(domain, key);
    // modPreferenceSet erases the old entry first: when the new one then does not fit, both are gone
    this.entries.delete(id);
    if (this.used() + Esp8266Preference.entrySize(domain, key, value) > SECTOR) throw new Error("can't save prefs");
    this.entries.set(id, value instanceof ArrayBuffer ? value.slice(0) : value);
  }

  delete(domain: string, key: string): void {
    if (this.writes++ >= this.cutAfter) throw new PowerCut('power cut');
    this.entries.delete(this.id(domain, key));
  }

  keys(domain: string): string[] {
    const out: string[] = [];
    for (const id of this.entries.keys()) {
      const [d, k] = id.split('\u0000');
      if (d === domain) out.push(k!);
    }
    return out;
  }
}

/** NVS: 15-character names, 4000-byte values. */
class NvsPreference extends Esp8266Preference {
  override set(domain: string, key: string, value: PreferenceValue): void {
    if (domain.length > 15 || key.length > 15) throw new Error('nvs set fail');
    if (value instanceof ArrayBuffer && value.byteLength > 4000) throw new Error('nvs set fail');
    this.entries.set(`${domain}\u0000${key}`, value instanceof ArrayBuffer ? value.slice(0) : value);
  }
}

const utf8 = { encode: (s: string) => new TextEncoder().encode(s), decode: (b: Uint8Array) => new TextDecoder().decode(b) };

function esp8266(pref = new Esp8266Preference()) {
  return { pref, store: new ChunkedPreferenceStore(pref, 'fw', ESP8266_LIMITS, utf8) };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModdableHostError);
    return (error as ModdableHostError).code;
  }
  return undefined;
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('ChunkedPreferenceStore on ESP8266 preferences', () => {
  it('stores a short string as one entry: tag "s" then its UTF-8 bytes', () => {
    const { pref, store } = esp8266();
    store.set('ssid', 'abc');
    expect([...new Uint8Array(pref.get('fw', 'ssid') as ArrayBuffer)]).toEqual([0x73, 0x61, 0x62, 0x63]);
    expect(store.get('ssid')).toBe('abc');
  });

  it('stores 62 bytes in one entry and splits 63 bytes (a 63-character WPA2 passphrase) into chunks', () => {
    const { pref, store } = esp8266();
    const fits = 'p'.repeat(62);
    store.set('a', fits);
    expect(pref.keys('fw.c')).toEqual([]);

    const passphrase = 'P'.repeat(63);
    store.set('wifiPass', passphrase);
    // tag + 63 bytes is 64, one too many for an entry: head '*', kind 's', generation 0, one
    // chunk, length 63 (0x00 0x3f); the chunk holds all 63 bytes
    expect([...new Uint8Array(pref.get('fw', 'wifiPass') as ArrayBuffer)]).toEqual([0x2a, 0x73, 0, 1, 0, 63]);
    expect(pref.keys('fw.c')).toEqual(['wifiPass:00']);
    expect((pref.get('fw.c', 'wifiPass:00') as ArrayBuffer).byteLength).toBe(63);
    store.set('wifiPass', passphrase + 'x'); // 64 bytes: 63 + 1
    expect(pref.keys('fw.c').sort()).toEqual(['wifiPass:10', 'wifiPass:11']);
    expect((pref.get('fw.c', 'wifiPass:11') as ArrayBuffer).byteLength).toBe(1);
    store.set('wifiPass', passphrase);
    expect(store.get('wifiPass')).toBe(passphrase);
  });

  it('round-trips multi-byte UTF-8 and raw bytes, and keeps the two kinds apart', () => {
    const { store } = esp8266();
    const text = 'Grüße, 世界 🚀'.repeat(5); // 2-, 3- and 4-byte sequences across chunk borders
    store.set('t', text);
    expect(store.get('t')).toBe(text);
    const data = bytes(200);
    store.set('b', data);
    expect(store.get('b')).toEqual(data);
    store.set('e', new Uint8Array(0));
    expect(store.get('e')).toEqual(new Uint8Array(0));
    store.set('s', '');
    expect(store.get('s')).toBe('');
  });

  it('alternates generations on rewrite and leaves no chunk of the old value', () => {
    const { pref, store } = esp8266();
    store.set('k', bytes(130, 1));
    expect(pref.keys('fw.c').sort()).toEqual(['k:00', 'k:01', 'k:02']);
    store.set('k', bytes(70, 2));
    expect(pref.keys('fw.c').sort()).toEqual(['k:10', 'k:11']);
    expect(store.get('k')).toEqual(bytes(70, 2));
    store.set('k', 'short');
    expect(pref.keys('fw.c')).toEqual([]);
    store.delete('k');
    expect(store.get('k')).toBeUndefined();
    expect(pref.entries.size).toBe(0);
  });

  it('lists only the firmware keys, not the chunks', () => {
    const { store } = esp8266();
    store.set('one', 'x'.repeat(100));
    store.set('two', '2');
    expect(store.keys().sort()).toEqual(['one', 'two']);
  });

  it('rejects keys the port does not allow, with a typed error, and stores nothing', () => {
    const { pref, store } = esp8266();
    expect(codeOf(() => store.set('sixteen-chars-xx', 'v'))).toBe('KV_BAD_KEY');
    expect(codeOf(() => store.set('', 'v'))).toBe('KV_BAD_KEY');
    expect(codeOf(() => store.set('has space', 'v'))).toBe('KV_BAD_KEY');
    expect(codeOf(() => store.get('sixteen-chars-xx'))).toBe('KV_BAD_KEY');
    expect(pref.entries.size).toBe(0);
  });

  it('refuses a value over 512 bytes and keeps the old one', () => {
    const { store } = esp8266();
    store.set('cert', bytes(300));
    expect(codeOf(() => store.set('cert', bytes(513)))).toBe('KV_TOO_LARGE');
    expect(store.get('cert')).toEqual(bytes(300));
  });

  it('reports a full sector as KV_WRITE_FAILED, undoes the partial write, and keeps the old value', () => {
    const { pref, store } = esp8266();
    for (let i = 0; i < 6; i++) store.set(`fill${i}`, bytes(450, i));
    store.set('last', 'old');
    const before = pref.used();
    expect(codeOf(() => store.set('last', bytes(500)))).toBe('KV_WRITE_FAILED');
    expect(store.get('last')).toBe('old');
    expect(pref.used()).toBe(before);
    for (let i = 0; i < 6; i++) expect(store.get(`fill${i}`)).toEqual(bytes(450, i));
  });

  it('reads a corrupt head or a missing chunk as KV_CORRUPT, naming the key to delete', () => {
    const { pref, store } = esp8266();
    store.set('k', bytes(100));
    pref.entries.delete('fw.c\u0000k:01');
    expect(codeOf(() => store.get('k'))).toBe('KV_CORRUPT');
    pref.set('fw', 'h', new Uint8Array([0x2a, 0x73, 5, 1, 0, 1]).buffer);
    expect(codeOf(() => store.get('h'))).toBe('KV_CORRUPT');
    pref.set('fw', 'u', new Uint8Array([0x01]).buffer);
    expect(codeOf(() => store.get('u'))).toBe('KV_CORRUPT');
    store.delete('k');
    expect(store.get('k')).toBeUndefined();
  });

  it('reads values another program stored as plain preferences', () => {
    const { pref, store } = esp8266();
    pref.set('fw', 'n', 42);
    pref.set('fw', 's', 'plain');
    expect(store.get('n')).toBe('42');
    expect(store.get('s')).toBe('plain');
  });

  it('after a power cut at any write, reads the old or the new value whole, and sweep() clears leftovers', () => {
    const oldValue = bytes(200, 7);
    const newValue = bytes(150, 9);
    for (let cut = 0; cut < 12; cut++) {
      const { pref, store } = esp8266();
      store.set('k', oldValue);
      store.set('other', 'x'.repeat(80));
      pref.writes = 0;
      pref.cutAfter = cut;
      try {
        store.set('k', newValue);
      } catch (error) {
        if (!(error instanceof PowerCut) && !(error instanceof ModdableHostError)) throw error;
      }
      pref.cutAfter = Infinity; // power is back
      const seen = store.get('k') as Uint8Array;
      expect([oldValue, newValue].some((v) => v.length === seen.length && v.every((b, i) => b === seen[i]))).toBe(true);
      store.sweep();
      const head = new Uint8Array(pref.get('fw', 'k') as ArrayBuffer);
      const expected = new Set([`k:${head[2]}0`, `k:${head[2]}1`, `k:${head[2]}2`, `k:${head[2]}3`].slice(0, head[3]));
      for (let i = 0; i < 2; i++) expected.add(`other:0${i}`);
      expect(new Set(pref.keys('fw.c'))).toEqual(expected);
      expect(store.get('other')).toBe('x'.repeat(80));
    }
  });

  it('behaves like a map for any sequence of sets and deletes, within the sector', () => {
    const key = fc.constantFrom('a', 'wifiPass', 'c.bpass', 'mqin', 'k15-chars-long!');
    const value = fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }));
    const op = fc.oneof(fc.record({ set: key, value }), fc.record({ del: key }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { pref, store } = esp8266();
        const model = new Map<string, string | Uint8Array>();
        for (const o of ops) {
          if ('del' in o) {
            store.delete(o.del);
            model.delete(o.del);
            continue;
          }
          const size = typeof o.value === 'string' ? utf8.encode(o.value).length : o.value.length;
          if (size > 512) continue;
          try {
            store.set(o.set, o.value);
            model.set(o.set, o.value);
          } catch (error) {
            expect((error as ModdableHostError).code).toBe('KV_WRITE_FAILED');
            // new chunks fail before the head is touched; a one-entry value is erased first by the SDK
            const now = store.get(o.set);
            if (now === undefined) model.delete(o.set);
            else expect(now).toEqual(model.get(o.set));
          }
          expect(pref.used()).toBeLessThanOrEqual(SECTOR);
        }
        expect(store.keys().sort()).toEqual([...model.keys()].sort());
        for (const [k, v] of model) expect(store.get(k)).toEqual(v);
        store.sweep();
        for (const [k, v] of model) expect(store.get(k)).toEqual(v);
      }),
      { numRuns: 200 },
    );
  });
});

describe('ChunkedPreferenceStore on ESP32 NVS', () => {
  it('keeps values up to 3999 bytes in one entry and accepts 15-character keys', () => {
    const pref = new NvsPreference();
    const store = new ChunkedPreferenceStore(pref, 'fw', ESP32_LIMITS, utf8);
    store.set('k15-chars-long!', bytes(3999));
    expect(store.get('k15-chars-long!')).toEqual(bytes(3999));
    expect(pref.keys('fw.c')).toEqual([]);
    expect(codeOf(() => store.set('k', bytes(4000)))).toBe('KV_TOO_LARGE');
  });

  it('refuses a storage domain the target cannot name', () => {
    expect(codeOf(() => new ChunkedPreferenceStore(new NvsPreference(), 'fourteen-chars', ESP32_LIMITS, utf8))).toBe('KV_BAD_KEY');
  });
});

describe('settings (src/device/config.ts) over the ESP8266 store', () => {
  const keys = ['brokerHost', 'brokerPort', 'brokerPassword', 'heartbeatInterval'] as const;
  // 63-character values take two Preference entries each on the ESP8266 (62 bytes and a tag per entry)
  const before = { brokerHost: 'old.example', brokerPort: 1883, brokerPassword: 'p'.repeat(63), heartbeatInterval: 60 };
  const after = { brokerHost: 'h'.repeat(63), brokerPort: 8883, brokerPassword: 'q'.repeat(40), heartbeatInterval: 15 };
  const pick = (c: Config) => keys.map((k) => c.values[k]);

  /** A boot as hosts/moddable/boot.ts does it on the ESP8266: sweep, then the firmware reads its settings. */
  function bootOn(pref: Esp8266Preference): Config {
    const store = new ChunkedPreferenceStore(pref, 'fw', ESP8266_LIMITS, utf8);
    store.sweep();
    return new Config(store);
  }

  function copyOf(pref: Esp8266Preference): Esp8266Preference {
    const copy = new Esp8266Preference();
    for (const [id, value] of pref.entries) copy.entries.set(id, value instanceof ArrayBuffer ? value.slice(0) : value);
    return copy;
  }

  it('a power cut at any Preference write, and another in the next boot, leaves all the old settings or all the new', () => {
    const outcomes = { old: 0, new: 0 };
    let cuts = 0;
    for (let n = 0; ; n++) {
      const pref = new Esp8266Preference();
      bootOn(pref).set(before);
      pref.writes = 0;
      pref.cutAfter = n;
      try {
        bootOn(pref).set(after);
      } catch {
        // the power went (the chunked store reports it as a failed write)
      }
      const cut = pref.writes > n;
      for (let m = 0; ; m++) {
        const next = copyOf(pref);
        next.cutAfter = m;
        try {
          bootOn(next);
        } catch {
          // the power went during the sweep or the recovery
        }
        const cutAgain = next.writes > m;
        next.cutAfter = Infinity;
        const got = pick(bootOn(next));
        const isOld = JSON.stringify(got) === JSON.stringify(keys.map((k) => before[k]));
        const isNew = JSON.stringify(got) === JSON.stringify(keys.map((k) => after[k]));
        expect(isOld || isNew, `cut after ${n} writes, then after ${m} in the next boot: ${JSON.stringify(got)}`).toBe(true);
        if (m === 0) outcomes[isOld ? 'old' : 'new']++;
        if (!cutAgain) break;
      }
      if (!cut) break;
      cuts++;
    }
    expect(cuts).toBeGreaterThan(2 * keys.length);
    expect(outcomes.old).toBeGreaterThan(0);
    expect(outcomes.new).toBeGreaterThan(0);
  });
});
