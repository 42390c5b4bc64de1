// Stored networks: short keys and values that fit ESP8266 Preference, most recent first, and
// consistent after a write interrupted at any point.
import { equal, ok, suite, throws } from '../../hosts/xs/harness';
import type { KeyValueStore } from '../../src/ports';
import { NetworkStore } from '../../src/provisioning/network-store';

class PowerCut extends Error {}

/** A store that enforces the ESP8266 limits and can fail after a number of writes. */
class LimitedStore implements KeyValueStore {
  readonly data = new Map<string, string | Uint8Array>();
  writes = 0;
  cutAfter = Infinity;

  get(key: string) {
    return this.data.get(key);
  }
  set(key: string, value: string | Uint8Array) {
    if (key.length > 15) throw new Error(`key "${key}" is longer than 15 characters`);
    const size = typeof value === 'string' ? new TextEncoderLike().length(value) : value.length;
    if (size > 63) throw new Error(`value of "${key}" is ${size} bytes; ESP8266 keeps at most 63`);
    if (this.writes >= this.cutAfter) throw new PowerCut('power cut');
    this.writes++;
    this.data.set(key, value);
  }
  delete(key: string) {
    if (this.writes >= this.cutAfter) throw new PowerCut('power cut');
    this.writes++;
    this.data.delete(key);
  }
  keys() {
    return [...this.data.keys()];
  }
}

/** UTF-8 length by hand (portable: no TextEncoder needed). */
class TextEncoderLike {
  length(s: string): number {
    let n = 0;
    for (const ch of s) {
      const c = ch.codePointAt(0) as number;
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    }
    return n;
  }
}

const ssids = (store: NetworkStore) => store.list().map((n) => n.ssid);

export default suite('provisioning network store', (test) => {
  test('networks are kept as short per-field keys, not one blob', () => {
    const kv = new LimitedStore();
    const store = new NetworkStore(kv);
    store.save({ ssid: 'Home', password: 'secret123' });
    equal(kv.get('w0s'), 'Home');
    equal(kv.get('w0p'), 'secret123');
    equal(kv.get('wo'), '0');
    equal(kv.keys().sort(), ['w0p', 'w0s', 'wo']);
  });

  test('longest SSID and passphrase fit the 63-byte value limit', () => {
    const store = new NetworkStore(new LimitedStore());
    store.save({ ssid: 'ü'.repeat(16), password: 'p'.repeat(63) });
    equal(store.list(), [{ ssid: 'ü'.repeat(16), password: 'p'.repeat(63) }]);
  });

  test('most recently saved or promoted first', () => {
    const store = new NetworkStore(new LimitedStore());
    store.save({ ssid: 'A', password: '' });
    store.save({ ssid: 'B', password: 'bbbbbbbb' });
    store.save({ ssid: 'C', password: 'cccccccc' });
    equal(ssids(store), ['C', 'B', 'A']);
    store.promote('A');
    equal(ssids(store), ['A', 'C', 'B']);
    store.save({ ssid: 'B', password: 'newpass1' });
    equal(store.list()[0], { ssid: 'B', password: 'newpass1' });
    equal(store.size, 3);
  });

  test('promoting the first network or an unknown one writes nothing', () => {
    const kv = new LimitedStore();
    const store = new NetworkStore(kv);
    store.save({ ssid: 'A', password: '' });
    const before = kv.writes;
    store.promote('A');
    store.promote('nope');
    equal(kv.writes, before);
  });

  test('a sixth network replaces the least recently successful one', () => {
    const store = new NetworkStore(new LimitedStore());
    for (const s of ['1', '2', '3', '4', '5']) store.save({ ssid: s, password: '' });
    store.promote('1');
    store.save({ ssid: '6', password: '' });
    equal(ssids(store), ['6', '1', '5', '4', '3']);
  });

  test('forget removes one network and its keys', () => {
    const kv = new LimitedStore();
    const store = new NetworkStore(kv);
    store.save({ ssid: 'A', password: 'aaaaaaaa' });
    store.save({ ssid: 'B', password: 'bbbbbbbb' });
    equal(store.forget('A'), true);
    equal(store.forget('A'), false);
    equal(ssids(store), ['B']);
    equal(kv.keys().sort(), ['w1p', 'w1s', 'wo']);
  });

  test('a power cut during any write of a save keeps every network that was stored', () => {
    for (let cut = 0; cut < 7; cut++) {
      const kv = new LimitedStore();
      const store = new NetworkStore(kv, 3);
      for (const s of ['A', 'B', 'C']) store.save({ ssid: s, password: `${s}-passwd` });
      kv.cutAfter = kv.writes + cut;
      let finished = true;
      try {
        store.save({ ssid: 'D', password: 'D-passwd' });
      } catch (error) {
        ok(error instanceof PowerCut);
        finished = false;
      }
      const after = new NetworkStore(kv, 3).list();
      const names = after.map((n) => n.ssid);
      for (const n of after) equal(n.password, `${n.ssid}-passwd`, `cut after ${cut} writes: passwords stay with their SSID`);
      if (finished) equal(names, ['D', 'C', 'B']);
      else {
        ok(names.indexOf('B') >= 0 && names.indexOf('C') >= 0, `cut after ${cut}: B and C survive (${names})`);
        ok(names.length >= 2 && names.length <= 3, `cut after ${cut}: at most the evicted A is missing (${names})`);
      }
    }
  });

  test('a damaged order entry is repaired from the slots', () => {
    const kv = new LimitedStore();
    kv.data.set('w2s', 'X');
    kv.data.set('w2p', 'xxxxxxxx');
    kv.data.set('w0s', 'Y');
    kv.data.set('w0p', '');
    kv.data.set('wo', '9z22');
    equal(ssids(new NetworkStore(kv)), ['X', 'Y']);
  });

  test('capacity must be 1..10', () => {
    throws(() => new NetworkStore(new LimitedStore(), 0), RangeError);
    throws(() => new NetworkStore(new LimitedStore(), 11), RangeError);
  });
});
