// The simulated radio behaves like ESP-IDF's station: events, failure reasons, scans.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { SimRadio, SimRadioError } from '../../hosts/sim/radio';
import type { WiFiEvent, WiFiNetwork } from '../../src/ports';

function setup() {
  const clock = new ManualClock();
  const radio = new SimRadio({
    clock,
    networks: [
      { ssid: 'Home', password: 'home-pass-1', rssi: -60, ip: '192.168.1.10' },
      { ssid: 'Cafe', rssi: -80 },
      { ssid: 'Secret', password: 'hidden-pass', rssi: -50, hidden: true },
    ],
  });
  const events: Array<[number, WiFiEvent]> = [];
  radio.onEvent((e) => events.push([clock.now(), e]));
  return { clock, radio, events };
}

describe('simulated radio', () => {
  it('joins with the right password: connected, then got-ip after DHCP', () => {
    const { clock, radio, events } = setup();
    radio.connect({ ssid: 'Home', password: 'home-pass-1' });
    clock.advance(1_000);
    expect(events).toEqual([
      [300, { type: 'connected', ssid: 'Home' }],
      [500, { type: 'got-ip', ip: '192.168.1.10' }],
    ]);
    expect(radio.connectedSsid).toBe('Home');
    expect(radio.rssi()).toBe(-60);
  });

  it('a wrong or missing password fails with auth-failed after the handshake timeout', () => {
    const { clock, radio, events } = setup();
    radio.connect({ ssid: 'Home', password: 'nope-nope' });
    clock.advance(2_000);
    expect(events).toEqual([[1_300, { type: 'disconnected', reason: 'auth-failed' }]]);
    radio.connect({ ssid: 'Home' });
    clock.advance(2_000);
    expect(events[1][1]).toEqual({ type: 'disconnected', reason: 'auth-failed' });
  });

  it('an absent network fails with no-ap-found; open networks need no password', () => {
    const { clock, radio, events } = setup();
    radio.vanish('Cafe');
    radio.connect({ ssid: 'Cafe' });
    clock.advance(1_000);
    expect(events).toEqual([[300, { type: 'disconnected', reason: 'no-ap-found' }]]);
    radio.restore('Cafe');
    radio.connect({ ssid: 'Cafe' });
    clock.advance(1_000);
    expect(events.slice(1).map((e) => e[1].type)).toEqual(['connected', 'got-ip']);
  });

  it('a network that vanishes drops the link with beacon-timeout', () => {
    const { clock, radio, events } = setup();
    radio.connect({ ssid: 'Home', password: 'home-pass-1' });
    clock.advance(1_000);
    radio.vanish('Home');
    clock.advance(1);
    expect(events.at(-1)).toEqual([1_000, { type: 'disconnected', reason: 'beacon-timeout' }]);
    expect(radio.rssi()).toBeUndefined();
  });

  it('scans list visible, non-hidden networks strongest first', () => {
    const { clock, radio } = setup();
    let found: WiFiNetwork[] | undefined;
    radio.vanish('Cafe');
    radio.scan((n) => (found = n));
    clock.advance(499);
    expect(found).toBeUndefined();
    clock.advance(1);
    expect(found?.map((n) => [n.ssid, n.rssi, n.auth])).toEqual([['Home', -60, 'wpa2']]);
    radio.restore('Cafe');
    radio.setRssi('Cafe', -30);
    radio.scan((n) => (found = n));
    clock.advance(500);
    expect(found?.map((n) => [n.ssid, n.auth])).toEqual([['Cafe', 'open'], ['Home', 'wpa2']]);
  });

  it('a hidden network can be joined by name', () => {
    const { clock, radio } = setup();
    radio.connect({ ssid: 'Secret', password: 'hidden-pass' });
    clock.advance(1_000);
    expect(radio.connectedSsid).toBe('Secret');
  });

  it('disconnect() cancels a join in progress and reports by-request', () => {
    const { clock, radio, events } = setup();
    radio.connect({ ssid: 'Home', password: 'home-pass-1' });
    clock.advance(100);
    radio.disconnect();
    clock.advance(1_000);
    expect(events).toEqual([[100, { type: 'disconnected', reason: 'by-request' }]]);
  });

  it('a scan is not cancelled by a join', () => {
    const { clock, radio } = setup();
    let found: WiFiNetwork[] | undefined;
    radio.scan((n) => (found = n));
    radio.connect({ ssid: 'Home', password: 'home-pass-1' });
    clock.advance(1_000);
    expect(found?.length).toBe(2);
  });

  it('access point: validated options, station events', () => {
    const { clock, radio, events } = setup();
    expect(() => radio.startAccessPoint({ ssid: 'x', password: 'short' })).toThrow(SimRadioError);
    expect(radio.startAccessPoint({ ssid: 'dev-ABC' })).toEqual({ ip: '192.168.4.1' });
    radio.stationJoins();
    radio.stationLeaves();
    clock.advance(1);
    expect(events.map((e) => e[1].type)).toEqual(['station-joined', 'station-left']);
    radio.stopAccessPoint();
    expect(radio.accessPoint).toBeUndefined();
  });

  it('unknown networks in scenario calls are a typed error', () => {
    const { radio } = setup();
    expect(() => radio.vanish('Nope')).toThrow(/no simulated network "Nope"/);
  });

  it('radios given one list of networks each see their own changes to it', () => {
    const clock = new ManualClock();
    const networks = [{ ssid: 'Home', password: 'home-pass-1', rssi: -60 }];
    const a = new SimRadio({ clock, networks, recordConnects: false });
    const b = new SimRadio({ clock, networks, recordConnects: false });
    const aEvents: WiFiEvent[] = [];
    const bEvents: WiFiEvent[] = [];
    a.onEvent((e) => aEvents.push(e));
    b.onEvent((e) => bEvents.push(e));
    a.vanish('Home');
    b.setRssi('Home', -40);
    a.connect({ ssid: 'Home', password: 'home-pass-1' });
    b.connect({ ssid: 'Home', password: 'home-pass-1' });
    clock.advance(1_000);
    expect(aEvents).toEqual([{ type: 'disconnected', reason: 'no-ap-found' }]);
    expect(bEvents.map((e) => e.type)).toEqual(['connected', 'got-ip']);
    expect(b.rssi()).toBe(-40);
    // a third radio on the same list starts from it as given
    const c = new SimRadio({ clock, networks, recordConnects: false });
    c.connect({ ssid: 'Home', password: 'home-pass-1' });
    clock.advance(1_000);
    expect(c.rssi()).toBe(-60);
  });

  it('a network that vanishes while the station associates fails the join with no-ap-found', () => {
    const { clock, radio, events } = setup();
    radio.connect({ ssid: 'Home', password: 'home-pass-1' });
    clock.advance(100);
    radio.vanish('Home');
    clock.advance(1_000);
    expect(events).toEqual([[300, { type: 'disconnected', reason: 'no-ap-found' }]]);
    expect(radio.connectedSsid).toBeUndefined();
  });
});
