// Stored networks: short keys and values that fit ESP8266 Preference, most recent first, and
// consistent after a write interrupted at any point.
import { MemoryStore, PowerCut } from '../../hosts/sim/fakes/store';
import { equal, ok, suite, throws } from '../../hosts/xs/harness';
import { NetworkStore } from '../../src/provisioning/network-store';

/** The ESP8266 Preference limit per value. */
const ESP8266_VALUE_BYTES = 63;
const esp8266Store = () => new MemoryStore({ maxValueBytes: ESP8266_VALUE_BYTES });

const ssids = (store: NetworkStore) => store.list().map((n) => n.ssid);

export default suite('provisioning network store', (test) => {
  test('networks are kept as short per-field keys, not one blob', () => {
    const kv = esp8266Store();
    const store = new NetworkStore(kv);
    store.save({ ssid: 'Home', password: 'secret123' });
    equal(kv.get('w0s'), 'Home');
    equal(kv.get('w0p'), 'secret123');
    equal(kv.get('wo'), '0');
    equal(kv.keys().sort(), ['w0p', 'w0s', 'wo']);
  });

  test('longest SSID and passphrase fit the 63-byte value limit', () => {
    const store = new NetworkStore(esp8266Store());
    store.save({ ssid: 'ü'.repeat(16), password: 'p'.repeat(63) });
    equal(store.list(), [{ ssid: 'ü'.repeat(16), password: 'p'.repeat(63) }]);
  });

  test('most recently saved or promoted first', () => {
    const store = new NetworkStore(esp8266Store());
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
    const kv = esp8266Store();
    const store = new NetworkStore(kv);
    store.save({ ssid: 'A', password: '' });
    const before = kv.writes;
    store.promote('A');
    store.promote('nope');
    equal(kv.writes, before);
  });

  test('a sixth network replaces the least recently successful one', () => {
    const store = new NetworkStore(esp8266Store());
    for (const s of ['1', '2', '3', '4', '5']) store.save({ ssid: s, password: '' });
    store.promote('1');
    store.save({ ssid: '6', password: '' });
    equal(ssids(store), ['6', '1', '5', '4', '3']);
  });

  test('forget removes one network and its keys', () => {
    const kv = esp8266Store();
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
      const kv = esp8266Store();
      const store = new NetworkStore(kv, 3);
      for (const s of ['A', 'B', 'C']) store.save({ ssid: s, password: `${s}-passwd` });
      kv.cutAt = kv.writes + cut + 1;
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
    const kv = esp8266Store();
    kv.map.set('w2s', 'X');
    kv.map.set('w2p', 'xxxxxxxx');
    kv.map.set('w0s', 'Y');
    kv.map.set('w0p', '');
    kv.map.set('wo', '9z22');
    equal(ssids(new NetworkStore(kv)), ['X', 'Y']);
  });

  test('capacity must be 1..10', () => {
    throws(() => new NetworkStore(esp8266Store(), 0), RangeError);
    throws(() => new NetworkStore(esp8266Store(), 11), RangeError);
  });
});
