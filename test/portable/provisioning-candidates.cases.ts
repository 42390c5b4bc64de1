// Which stored network to try first, and the retry backoff.
import { equal, suite } from '../../hosts/xs/harness';
import type { WiFiNetwork } from '../../src/ports';
import { Backoff } from '../../src/provisioning/backoff';
import { pickCandidates, strongestPerSsid } from '../../src/provisioning/candidates';

const net = (ssid: string, rssi: number, bssid?: string): WiFiNetwork => ({ ssid, rssi, bssid, channel: 6, auth: 'wpa2' });
const stored = [
  { ssid: 'Recent', password: 'rrrrrrrr' },
  { ssid: 'Older', password: 'oooooooo' },
  { ssid: 'Oldest', password: '' },
];

export default suite('provisioning candidates and backoff', (test) => {
  test('stored networks in the scan are tried strongest first', () => {
    const scan = [net('Neighbour', -30), net('Oldest', -50, 'aa'), net('Recent', -80, 'bb'), net('Older', -60, 'cc')];
    equal(pickCandidates(stored, scan), [
      { ssid: 'Oldest', password: '', bssid: 'aa', rssi: -50 },
      { ssid: 'Older', password: 'oooooooo', bssid: 'cc', rssi: -60 },
      { ssid: 'Recent', password: 'rrrrrrrr', bssid: 'bb', rssi: -80 },
    ]);
  });

  test('a stored network not in the scan is left out while others are visible', () => {
    equal(pickCandidates(stored, [net('Older', -70)]).map((c) => c.ssid), ['Older']);
  });

  test('equal signal keeps the most recent first', () => {
    equal(pickCandidates(stored, [net('Older', -60), net('Recent', -60)]).map((c) => c.ssid), ['Recent', 'Older']);
  });

  test('the strongest access point of an SSID is the one joined', () => {
    const scan = [net('Recent', -75, 'weak'), net('Recent', -45, 'strong')];
    equal(pickCandidates(stored, scan)[0].bssid, 'strong');
  });

  test('nothing visible, or no scan: all stored networks, most recent first (hidden networks)', () => {
    const all = stored.map((s) => ({ ssid: s.ssid, password: s.password }));
    equal(pickCandidates(stored, []), all);
    equal(pickCandidates(stored, undefined), all);
    equal(pickCandidates(stored, [net('Neighbour', -40)]), all);
  });

  test('strongestPerSsid: one entry per SSID, hidden ones dropped, strongest first', () => {
    const out = strongestPerSsid([net('A', -70), net('', -20), net('B', -50), net('A', -40)]);
    equal(out.map((n) => [n.ssid, n.rssi]), [['A', -40], ['B', -50]]);
  });

  test('backoff doubles up to the cap; jitter scales by 0.8 to 1.2; reset starts over', () => {
    let r = 0.5;
    const b = new Backoff(2000, 60000, { random: () => r });
    equal([b.next(), b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    b.reset();
    r = 0;
    equal(b.next(), 1600);
    r = 0.999999;
    equal(b.next(), 4800);
  });
});
