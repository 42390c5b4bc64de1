// The provisioning state machine on a virtual clock with the simulated radio: fallback timing,
// background reconnects, strongest network first, and no stored network lost to one failure.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { createNodeNetwork } from '../../hosts/sim/net';
import { SimRadio, type SimNetwork } from '../../hosts/sim/radio';
import type { Platform } from '../../src/ports';
import { NetworkStore } from '../../src/provisioning/network-store';
import { ProvisioningBusyError } from '../../src/provisioning/portal';
import { Provisioning, type AttemptResult, type ProvisioningOptions, type ProvisioningState } from '../../src/provisioning/provisioning';
import { ProvisioningInputError, type ExtraSettings, type WiFiCredentials } from '../../src/provisioning/validate';

interface Rig {
  clock: ManualClock;
  radio: SimRadio;
  kv: MemoryStore;
  states: ProvisioningState[];
  connected: Array<[string, string]>;
  extras: unknown[];
  logs: string[];
  prov: Provisioning;
}

function rig(networks: SimNetwork[], stored: Array<[string, string]>, options: Partial<ProvisioningOptions> = {}, realNetwork = false): Rig {
  const clock = new ManualClock();
  const radio = new SimRadio({ clock, networks });
  const kv = new MemoryStore({ maxValueBytes: 63 });
  const store = new NetworkStore(kv);
  for (const [ssid, password] of [...stored].reverse()) store.save({ ssid, password });
  const logs: string[] = [];
  const platform: Platform = {
    clock,
    system: { deviceId: () => 'a4cf12c0ffee', restart() {}, freeMemory: () => 40_000, resetReason: () => 'power-on', random: () => 0.5 },
    log: { log: (level, message) => logs.push(`${level}: ${message}`) },
    storage: kv,
    network: realNetwork ? createNodeNetwork() : { connect: () => { throw new Error('no TCP in this test'); } },
    wifi: radio,
  };
  const r: Rig = { clock, radio, kv, states: [], connected: [], extras: [], logs, prov: undefined as unknown as Provisioning };
  r.prov = new Provisioning({
    platform,
    prefix: 'nodemcu',
    firmwareVersion: '1.0.0',
    portal: { enabled: false },
    onState: (s) => r.states.push(s),
    onConnected: (ip, ssid) => r.connected.push([ssid, ip]),
    onExtraSettings: (e) => r.extras.push(e),
    ...options,
  });
  return r;
}

/** An attempt with the user's credentials, as a promise of how it ended. */
function attempt(prov: Provisioning, credentials: WiFiCredentials, extras?: ExtraSettings): Promise<AttemptResult> {
  return new Promise((resolve) => prov.tryCredentials(credentials, extras, resolve));
}

const home: SimNetwork = { ssid: 'Home', password: 'home-pass-1', rssi: -60, ip: '192.168.1.10' };
const office: SimNetwork = { ssid: 'Office', password: 'office-pass', rssi: -45, ip: '10.0.0.20' };

describe('provisioning state machine', () => {
  it('with nothing stored, opens the access point <prefix>-<short id> at once', () => {
    const r = rig([home], [], { apPassword: 'setup-pass' });
    r.prov.start();
    expect(r.prov.state).toBe('ap');
    expect(r.radio.accessPoint).toEqual({ ssid: 'nodemcu-C0FFEE', password: 'setup-pass', ip: '192.168.4.1' });
    r.clock.advance(600_000);
    expect(r.radio.connects).toEqual([]);
  });

  it('joins a stored network that is in range, without opening the access point', () => {
    const r = rig([home], [['Home', 'home-pass-1']]);
    r.prov.start();
    r.clock.advance(5_000);
    expect(r.states).toEqual(['connecting', 'connected']);
    expect(r.connected).toEqual([['Home', '192.168.1.10']]);
    expect(r.prov.ip).toBe('192.168.1.10');
    expect(r.radio.accessPoint).toBeUndefined();
  });

  it('tries the strongest stored network first, and its strongest access point', () => {
    const r = rig(
      [home, office, { ...home, rssi: -40, bssid: '02:aa:00:00:00:01', ip: '192.168.1.11' }],
      [['Office', 'office-pass'], ['Home', 'home-pass-1']],
    );
    r.prov.start();
    r.clock.advance(5_000);
    expect(r.radio.connects[0]).toMatchObject({ ssid: 'Home', bssid: '02:aa:00:00:00:01' });
    expect(r.connected).toEqual([['Home', '192.168.1.11']]);
    expect(r.prov.savedNetworks()).toEqual(['Home', 'Office']);
  });

  it('moves on to the next network when the strongest fails', () => {
    const r = rig([home, office], [['Home', 'home-pass-1'], ['Office', 'stale-password']]);
    r.prov.start();
    r.clock.advance(10_000);
    expect(r.radio.connects.map((c) => c.ssid)).toEqual(['Office', 'Home']);
    expect(r.connected).toEqual([['Home', '192.168.1.10']]);
    expect(r.prov.savedNetworks()).toEqual(['Home', 'Office']);
  });

  it('opens the access point exactly when the fallback time runs out', () => {
    const r = rig([home], [['Home', 'home-pass-1']]);
    r.radio.vanish('Home');
    r.prov.start();
    r.clock.advance(89_999);
    expect(r.radio.accessPoint).toBeUndefined();
    expect(r.prov.state).toBe('connecting');
    r.clock.advance(1);
    expect(r.radio.accessPoint?.ssid).toBe('nodemcu-C0FFEE');
    expect(r.prov.state).toBe('ap');
  });

  it('honours a configured fallback time', () => {
    const r = rig([home], [['Home', 'home-pass-1']], { fallbackMs: 30_000 });
    r.radio.vanish('Home');
    r.prov.start();
    r.clock.advance(29_999);
    expect(r.prov.accessPointActive).toBe(false);
    r.clock.advance(1);
    expect(r.prov.accessPointActive).toBe(true);
  });

  it('retries with growing pauses, then keeps reconnecting in the background while in AP mode', () => {
    const r = rig([home], [['Home', 'home-pass-1']], { retryInitialMs: 2_000, retryMaxMs: 60_000 });
    r.radio.vanish('Home');
    r.prov.start();
    r.clock.advance(400_000);
    expect(r.prov.state).toBe('ap');
    // Each round: scan (500 ms), join attempt fails as no-ap-found (300 ms), then the pause.
    const times = r.radio.connects.map((c) => c.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps.slice(0, 6)).toEqual([2_800, 4_800, 8_800, 16_800, 32_800, 60_800]);
    expect(gaps.slice(6).every((g) => g === 60_800)).toBe(true);
    r.radio.restore('Home');
    r.clock.advance(62_000);
    expect(r.prov.state).toBe('connected');
    expect(r.radio.accessPoint).toBeUndefined();
    expect(r.prov.savedNetworks()).toEqual(['Home']);
  });

  it('a lost network is retried at once and the AP waits for a sustained failure', () => {
    const r = rig([home], [['Home', 'home-pass-1']]);
    r.prov.start();
    r.clock.advance(2_000);
    expect(r.prov.state).toBe('connected');
    const before = r.radio.connects.length;
    r.radio.vanish('Home');
    r.clock.advance(1);
    expect(r.prov.state).toBe('connecting');
    expect(r.radio.connects.length).toBe(before + 1);
    expect(r.radio.connects[before].at).toBe(2_000);
    r.clock.advance(299_000);
    expect(r.prov.accessPointActive).toBe(false);
    r.clock.advance(1_000);
    expect(r.prov.accessPointActive).toBe(true);
    expect(r.prov.savedNetworks()).toEqual(['Home']);
    r.radio.restore('Home');
    r.clock.advance(62_000);
    expect(r.prov.state).toBe('connected');
    expect(r.prov.accessPointActive).toBe(false);
  });

  it('a short outage reconnects without the access point', () => {
    const r = rig([home], [['Home', 'home-pass-1']]);
    r.prov.start();
    r.clock.advance(2_000);
    r.radio.vanish('Home');
    r.clock.advance(20_000);
    r.radio.restore('Home');
    r.clock.advance(20_000);
    expect(r.prov.state).toBe('connected');
    expect(r.states).toEqual(['connecting', 'connected', 'connecting', 'connected']);
    expect(r.radio.accessPoint).toBeUndefined();
  });

  it('a wrong password on a stored network does not forget it', () => {
    const r = rig([home], [['Home', 'home-pass-1']]);
    r.prov.start();
    r.clock.advance(2_000);
    r.radio.changePassword('Home', 'new-router-pass');
    r.clock.advance(400_000);
    expect(r.prov.state).toBe('ap');
    expect(r.prov.store.list()).toEqual([{ ssid: 'Home', password: 'home-pass-1' }]);
    // The router goes back to the old password: the stored one works again.
    r.radio.changePassword('Home', 'home-pass-1');
    r.clock.advance(62_000);
    expect(r.prov.state).toBe('connected');
  });

  it('tries a hidden stored network even though scans never show it', () => {
    const r = rig([{ ...home, hidden: true }], [['Home', 'home-pass-1']]);
    r.prov.start();
    r.clock.advance(5_000);
    expect(r.prov.state).toBe('connected');
  });

  it('tries stored networks when the scan fails', () => {
    const r = rig([home], [['Home', 'home-pass-1']]);
    r.radio.scanError = new Error('scan busy');
    r.prov.start();
    r.clock.advance(5_000);
    expect(r.prov.state).toBe('connected');
    expect(r.logs.some((l) => l.includes('scan failed: scan busy'))).toBe(true);
  });

  it('credentials from the user: a wrong password stores nothing and stays in AP mode', async () => {
    const r = rig([home], []);
    r.prov.start();
    const pending = attempt(r.prov, { ssid: 'Home', password: 'wrong-pass' }, { brokerUrl: 'mqtt://b' });
    expect(r.prov.state).toBe('testing');
    await r.clock.advanceAsync(5_000);
    await expect(pending).resolves.toMatchObject({ ok: false, reason: 'auth-failed', message: expect.stringContaining('Wrong password for “Home”') });
    expect(r.prov.state).toBe('ap');
    expect(r.prov.accessPointActive).toBe(true);
    expect(r.kv.keys()).toEqual([]);
    expect(r.extras).toEqual([]);
  });

  it('credentials from the user: the right password is stored, extras handed over, AP closed', async () => {
    const r = rig([home], []);
    r.prov.start();
    const pending = attempt(r.prov, { ssid: 'Home', password: 'home-pass-1' }, { deviceName: 'Hall', brokerUrl: 'mqtt://b:1883' });
    await r.clock.advanceAsync(5_000);
    await expect(pending).resolves.toEqual({ ok: true, ssid: 'Home', ip: '192.168.1.10' });
    expect(r.prov.store.list()).toEqual([{ ssid: 'Home', password: 'home-pass-1' }]);
    expect(r.extras).toEqual([{ deviceName: 'Hall', brokerUrl: 'mqtt://b:1883' }]);
    expect(r.prov.state).toBe('connected');
    expect(r.prov.accessPointActive).toBe(false);
    expect(r.states).toEqual(['ap', 'testing', 'connected']);
  });

  it('a failed new password for a stored network keeps the old one', async () => {
    const r = rig([home], [['Home', 'home-pass-1']]);
    r.prov.start();
    await r.clock.advanceAsync(2_000);
    const result = await (async () => {
      const p = attempt(r.prov, { ssid: 'Home', password: 'typo-pass' });
      await r.clock.advanceAsync(5_000);
      return p;
    })();
    expect(result.ok).toBe(false);
    expect(r.prov.store.list()).toEqual([{ ssid: 'Home', password: 'home-pass-1' }]);
    await r.clock.advanceAsync(10_000);
    expect(r.prov.state).toBe('connected');
  });

  it('user credentials time out when the network does not answer', async () => {
    const r = rig([home], [], { testTimeoutMs: 20_000 });
    r.prov.start();
    r.radio.timing.dhcpMs = 60_000; // DHCP does not answer in time
    const p = attempt(r.prov, { ssid: 'Home', password: 'home-pass-1' });
    await r.clock.advanceAsync(19_999);
    expect(r.prov.state).toBe('testing');
    await r.clock.advanceAsync(1);
    await expect(p).resolves.toMatchObject({ ok: false, reason: 'timeout' });
    expect(r.prov.store.size).toBe(0);
  });

  it('rejects invalid input and a second attempt while one runs', () => {
    const r = rig([home], []);
    r.prov.start();
    expect(() => r.prov.tryCredentials({ ssid: '', password: '' })).toThrow(ProvisioningInputError);
    expect(() => r.prov.tryCredentials({ ssid: 'Home', password: 'short' })).toThrow(ProvisioningInputError);
    r.prov.tryCredentials({ ssid: 'Home', password: 'home-pass-1' });
    expect(() => r.prov.tryCredentials({ ssid: 'Home', password: 'home-pass-1' })).toThrow(ProvisioningBusyError);
  });

  it('keeps at most five networks, the most recently successful first', async () => {
    const nets = ['A', 'B', 'C', 'D', 'E', 'F'].map((s, i) => ({ ssid: s, password: `${s}-password`, rssi: -50 - i }));
    const r = rig(nets, []);
    r.prov.start();
    for (const n of nets) {
      const p = attempt(r.prov, { ssid: n.ssid, password: n.password });
      await r.clock.advanceAsync(3_000);
      expect((await p).ok).toBe(true);
    }
    expect(r.prov.savedNetworks()).toEqual(['F', 'E', 'D', 'C', 'B']);
    for (const key of r.kv.keys()) expect(key.length).toBeLessThanOrEqual(15);
  });

  it('stop() ends all activity', () => {
    const r = rig([home], [['Home', 'home-pass-1']]);
    r.radio.vanish('Home');
    r.prov.start();
    r.clock.advance(100_000);
    r.prov.stop();
    const n = r.radio.connects.length;
    r.clock.advance(1_000_000);
    expect(r.radio.connects.length).toBe(n);
    expect(r.prov.state).toBe('stopped');
    expect(r.radio.accessPoint).toBeUndefined();
  });

  it('pauses background retries while someone uses the portal, then resumes', async () => {
    const r = rig([home], [['Home', 'home-pass-1']], { portal: { listenAddress: '127.0.0.1', httpPort: 0, dnsPort: 0 } }, true);
    try {
      r.radio.vanish('Home');
      r.prov.start();
      r.clock.advance(90_000);
      expect(r.prov.state).toBe('ap');
      // The listener binds on the next event-loop turn.
      let port = 0;
      for (let i = 0; i < 100 && !port; i++) {
        await new Promise((done) => setTimeout(done, 10));
        port = r.prov.portalHttpPort ?? 0;
      }
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('GET / HTTP/1.1\r\nHost: 192.168.4.1\r\n\r\n'));
        let text = '';
        socket.on('data', (d) => (text += d.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer.startsWith('HTTP/1.1 200 OK')).toBe(true);
      r.clock.advance(60_000 - 1);
      expect(r.radio.connects.filter((c) => c.at > 90_000)).toEqual([]);
      r.clock.advance(10_000);
      const resumed = r.radio.connects.filter((c) => c.at > 90_000);
      expect(resumed.length).toBe(1);
      expect(resumed[0].at).toBeGreaterThanOrEqual(150_000);
    } finally {
      r.prov.stop();
    }
  });

  it('retries the access point when the radio refuses to start it', () => {
    const r = rig([home], []);
    const start = r.radio.startAccessPoint.bind(r.radio);
    let refusals = 2;
    r.radio.startAccessPoint = (o) => {
      if (refusals-- > 0) throw new Error('radio busy');
      return start(o);
    };
    r.prov.start();
    expect(r.prov.accessPointActive).toBe(false);
    r.clock.advance(10_000);
    expect(r.prov.accessPointActive).toBe(false);
    r.clock.advance(10_000);
    expect(r.prov.accessPointActive).toBe(true);
    expect(r.prov.state).toBe('ap');
    expect(r.logs.filter((l) => l.includes('access point did not start (radio busy)')).length).toBe(2);
  });
});
