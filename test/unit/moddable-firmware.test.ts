// hosts/moddable/firmware.ts starts the firmware, whose Wi-Fi set-up stores the build-time network
// (wifiSsid, wifiPassword) before provisioning starts. It reads the stored networks through the
// firmware's checked storage: an unreadable entry there is reset and reported, never stops the boot,
// and loses no other network.
import { expect, it } from 'vitest';
import { startFirmware } from '../../hosts/moddable/firmware';
import type { Platform } from '../../src/ports';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { NetworkStore } from '../../src/provisioning/network-store';
import { HOME, OneNetworkWiFi } from '../portable/device-rig';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork } from '../../hosts/sim/fakes/network';

it('an unreadable stored network list: it is reset and reported, the build-time network is stored beside the others, the firmware boots and joins', () => {
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
  expect(logs).toContainEqual(expect.stringMatching(/^warn storage: "wo" is unreadable \(.*"wo" is corrupt/));
  expect(logs).toContain('info stored Wi-Fi network "office" from the build configuration');
  expect(new NetworkStore(store).list()).toEqual([HOME, { ssid: 'office', password: 'secret-office' }]); // home joined, so promoted
  expect(network.sockets.length).toBe(1); // joined "home" and went on to the broker
});
