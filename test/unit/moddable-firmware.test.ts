// hosts/moddable/firmware.ts seeds the build-time Wi-Fi network before the firmware starts. It reads the
// stored networks through the raw store: an unreadable entry there must not stop the boot (the
// firmware's checked storage then resets and reports it).
import { expect, it } from 'vitest';
import { startFirmware } from '../../hosts/moddable/firmware';
import type { Platform } from '../../src/ports';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { HOME, OneNetworkWiFi } from '../portable/device-rig';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork } from '../../hosts/sim/fakes/network';

it('an unreadable stored network list: the build-time network is not seeded, the firmware still boots and joins', () => {
  const store = new MemoryStore();
  store.set('w0s', HOME.ssid);
  store.set('w0p', HOME.password);
  store.set('wo', '0');
  store.unreadable.push('wo');
  const clock = new ManualClock();
  const logs: string[] = [];
  const network = new ScriptedNetwork();
  const platform: Platform = {
    clock,
    network,
    storage: store,
    wifi: new OneNetworkWiFi(clock),
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    system: { deviceId: () => 'a4cf12000002', restart: () => {}, freeMemory: () => 40_000, resetReason: () => 'power-on', random: () => 0.5 },
    config: { wifiSsid: 'office', wifiPassword: 'secret-office' },
  };
  expect(() => startFirmware(platform)).not.toThrow();
  clock.advance(100);
  expect(logs).toContainEqual(expect.stringMatching(/^warn Wi-Fi network "office" from the build configuration not stored: .*"wo" is corrupt/));
  expect(logs).toContainEqual(expect.stringMatching(/^warn storage: "wo" is unreadable/));
  expect(network.sockets.length).toBe(1); // joined "home" and went on to the broker
});
