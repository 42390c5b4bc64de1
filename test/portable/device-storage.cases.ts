// Storage that cannot be read does not stop a device: the whole firmware (main()) boots on a store whose
// entries throw when read or hold garbage, for every reader on the boot path (configuration, boot
// counter, persisted outbox and QoS 2 guard, Wi-Fi networks, OTA state). Each such entry is reset to
// its default, logged, and listed in the heartbeat ("storage": {"reset": [...]}).
import { CheckedStore, MAX_REPORTED_KEYS } from '../../src/device/checked-store';
import { otaExtension } from '../../src/ota/index';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { boot, DEVICE_ID, HOME } from './device-rig';
import { equal, ok, suite } from '../../hosts/xs/harness';

/** A device that ran before: settings, boot counter, a persisted outbox, OTA state and two networks. */
function usedStore(): MemoryStore {
  const store = new MemoryStore();
  store.set('boot', '41');
  store.set('c.hb', '20');
  store.set('c.ka', '45');
  store.set('mq0', Uint8Array.of(0x09, 0, 1, 0, 1, 2, 0, 0, 0x61, 0x7b, 0x7d));
  store.set('mq1', Uint8Array.of(0x01, 0, 0, 0, 1, 2, 0, 0, 0x62, 0x5b, 0x5d));
  store.set('mqin', '7');
  store.set('ota.job', '{"id":"j1","target":"1.1.0","from":"1.0.0","tries":1,"done":true}');
  store.set('w0s', 'office');
  store.set('w0p', 'secret-office');
  store.set('w1s', HOME.ssid);
  store.set('w1p', HOME.password);
  store.set('wo', '01');
  return store;
}

/** Boots, joins HOME (unless `wifi` is false), connects, and runs until the first heartbeat (60 s by default). */
function bootToHeartbeat(store: MemoryStore, wifi = true) {
  const r = boot(store, { wifi, config: { persistOutbox: true }, extensions: [otaExtension()] });
  r.clock.advance(100); // scan, join
  ok(r.device.wifiUp, 'Wi-Fi joined');
  r.accept();
  ok(r.device.client.connected, 'connected to the broker');
  r.run(r.device.values.heartbeatInterval * 1000);
  return { r, hb: r.heartbeat() };
}

export default suite('device storage faults', (test) => {
  test('a clean store: no "storage" field in the heartbeat, nothing logged about storage', () => {
    const { r, hb } = bootToHeartbeat(usedStore());
    equal(hb.storage, undefined);
    equal(r.device.boot, 42);
    equal(r.logs.filter((l) => l.indexOf('storage:') >= 0), []);
  });

  test('unreadable entries of every boot reader: the device boots, connects, resets them to defaults and says so', () => {
    const store = usedStore();
    store.unreadable.push('boot', 'c.hb', 'mq0', 'mqin', 'ota.job', 'wo', 'w0s');
    const { r, hb } = bootToHeartbeat(store);
    equal(r.device.boot, 1, 'the boot counter starts again');
    equal(r.device.values.heartbeatInterval, 60, 'the default heartbeat interval');
    equal(r.device.values.keepAlive, 45, 'readable settings are kept');
    equal((hb.storage as { reset: string[] }).reset.slice().sort(), ['boot', 'c.hb', 'mq0', 'mqin', 'ota.job', 'w0s', 'wo']);
    equal(store.unreadable, [], 'every unreadable entry was deleted (or written again)');
    for (const key of ['c.hb', 'mq0', 'ota.job', 'w0s']) equal(store.get(key), undefined, `${key} reset`);
    ok(r.logs.some((l) => l.indexOf('warn storage: "c.hb" is unreadable') === 0), 'logged');
    equal(r.device.provisioning?.state, 'connected', 'the readable network (home) was joined');
    // the next boot is clean
    const again = bootToHeartbeat(store.powerOn());
    equal(again.hb.storage, undefined);
    equal(again.r.device.boot, 2);
  });

  test('a host that hands its store already checked: the device uses it, and unreadable entries are reset and reported all the same', () => {
    const store = usedStore();
    store.unreadable.push('boot', 'c.hb');
    const logged: string[] = [];
    const checked = new CheckedStore(store, { log: (level, message) => logged.push(`${level} ${message}`) });
    const r = boot(checked, { config: { persistOutbox: true } });
    equal(r.device.storage, checked, 'the host\'s checked store, not a second one around it');
    equal(r.device.platform.storage, checked);
    r.accept();
    r.run(r.device.values.heartbeatInterval * 1000);
    equal(r.device.boot, 1, 'the boot counter starts again');
    equal(r.device.values.keepAlive, 45, 'readable settings are kept');
    equal((r.heartbeat().storage as { reset: string[] }).reset.slice().sort(), ['boot', 'c.hb']);
    ok(logged.some((l) => l.indexOf('warn storage: "c.hb" is unreadable') === 0), 'logged');
  });

  test('garbage values of every boot reader are reset and reported the same way', () => {
    const store = usedStore();
    store.set('boot', 'forty-one');
    store.set('c.hb', 'often');
    store.set('mq0', Uint8Array.of(0xff, 0xff)); // not an outbox record
    store.set('mqin', '7,x');
    store.set('ota.job', '{"id":');
    const { r, hb } = bootToHeartbeat(store);
    equal(r.device.boot, 1);
    equal(r.device.values.heartbeatInterval, 60);
    equal((hb.storage as { reset: string[] }).reset.slice().sort(), ['boot', 'c.hb', 'mq0', 'mqin', 'ota.job']);
    equal([store.get('c.hb'), store.get('ota.job'), store.get('boot')], [undefined, undefined, '1']);
    const mq0 = store.get('mq0') as Uint8Array | undefined;
    ok(mq0 === undefined || mq0[0] !== 0xff, 'the record was deleted (the key may hold a new message since)');
    ok(r.logs.some((l) => /storage: "c\.hb" is unreadable \(.*heartbeatInterval must be a whole number/.test(l)), 'the log says what was wrong');
  });

  test('a store whose every read throws: the device still boots and connects with defaults', () => {
    const store = usedStore();
    for (const [key, value] of [['c.name', 'porch'], ['c.tq', '2'], ['c.disc', '0'], ['c.led', '4']]) store.set(key, value);
    for (const key of store.keys()) store.unreadable.push(key);
    const { r, hb } = bootToHeartbeat(store, false); // without a radio: the Wi-Fi entries are not read
    equal(r.device.boot, 1);
    equal([r.device.values.keepAlive, r.device.values.name, r.device.values.telemetryQos, r.device.values.discovery], [30, '', 1, true]);
    const storage = hb.storage as { reset: string[]; more?: number };
    equal(storage.reset.length, MAX_REPORTED_KEYS, 'the list is bounded');
    const read = ['boot', 'c.hb', 'c.ka', 'mq0', 'mq1', 'mqin', 'ota.job', 'c.name', 'c.tq', 'c.disc', 'c.led'];
    equal(storage.reset.length + (storage.more ?? 0), read.length, `the rest are counted: ${JSON.stringify(r.logs.filter((l) => l.indexOf('storage:') >= 0))}`);
    equal(r.published().filter((p) => p.topic === `nodemcu/${DEVICE_ID}/status`).length > 0, true, 'the birth went out');
  });

  test('a store whose list of keys cannot be read: the device boots and reports it', () => {
    const store = usedStore();
    store.keysThrow = true;
    const { r, hb } = bootToHeartbeat(store);
    ok(r.device.client.connected);
    equal((hb.storage as { reset: string[] }).reset, ['*']);
    ok(r.logs.some((l) => l.indexOf('storage: the list of keys cannot be read') >= 0));
  });
});
