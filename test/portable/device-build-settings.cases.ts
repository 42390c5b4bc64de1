// Configuration travels one road: Config is the only reader of Platform.config. The whole firmware
// (main() with OTA, the Wi-Fi set-up, Improv and the board's sensors) runs on a platform whose config
// getter counts its reads; every reader sees the typed values Config made of it, and an invalid
// build value is reported once and replaced by its default for everyone.
import { main } from '../../src/main';
import { encodePacket, PacketType, Command } from '../../src/improv/packet';
import { otaExtension } from '../../src/ota/index';
import { NetworkStore } from '../../src/provisioning/network-store';
import type { I2CConstructor, Platform, Serial, SerialOptions } from '../../src/ports';
import { ScriptedBroker } from '../../hosts/sim/fakes/broker';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { HOME, OneNetworkWiFi } from './device-rig';
import { equal, ok, suite } from '../../hosts/xs/harness';

const DEVICE_ID = 'a4cf12000009';
const KEY_HEX = 'ab'.repeat(32);

function firmware(config: Record<string, unknown>) {
  const clock = new ManualClock();
  // answers at once (latency 0): each advance of the clock, even by 0, delivers them
  const network = new ScriptedBroker(clock, { latencyMs: 0, record: true });
  const storage = new MemoryStore();
  new NetworkStore(storage).save(HOME); // the network in range
  const logs: string[] = [];
  const serialOut: number[] = [];
  let serialIn: Uint8Array | undefined;
  let serialOptions: SerialOptions | undefined;
  let reads = 0;
  const platform: Platform = {
    clock,
    network,
    storage,
    wifi: new OneNetworkWiFi(clock),
    // constructed only when a sensor is first sampled; present so the board's bme280 entry is valid
    i2c: class {} as unknown as I2CConstructor,
    serial: (options): Serial => {
      serialOptions = options;
      return {
        read: () => {
          const bytes = serialIn;
          serialIn = undefined;
          return bytes;
        },
        write: (bytes) => serialOut.push(...Array.from(bytes)),
        close: () => undefined,
      };
    },
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    system: { deviceId: () => DEVICE_ID, restart: () => undefined, freeMemory: () => 40_000, resetReason: () => 'power-on', random: () => 0.5 },
    get config() {
      reads++;
      return config;
    },
  };
  const device = main(platform, { version: '1.0.0', extensions: [otaExtension()], wifi: { portal: { enabled: false } } });
  clock.advance(100); // joins the network; the device starts and connects
  const broker = network;
  const improv = (command: number): string => {
    serialOut.length = 0;
    serialIn = encodePacket(PacketType.rpc, Uint8Array.of(command, 0));
    serialOptions!.onReadable(serialIn.length);
    return String.fromCharCode(...serialOut);
  };
  return { device, broker, clock, storage, logs, improv, reads: () => reads };
}

export default suite('device build settings', (test) => {
  test('Platform.config is read once, by Config; OTA, sensors, Wi-Fi set-up and Improv use its typed values', () => {
    const f = firmware({
      prefix: 'lab',
      otaPublicKey: KEY_HEX,
      otaGroups: 'kitchen, beta',
      board: 'esp32-devkit',
      sensors: [{ type: 'bme280', name: 'climate' }],
      i2c: { hz: 100_000 },
      wifiSsid: 'office',
      wifiPassword: 'secret-office',
    });
    ok(f.device.client.connected, 'connected');
    equal(f.reads(), 1);
    const build = f.device.config.build;
    equal([build.otaPublicKey, build.board, build.sensors, build.i2c, build.wifiSsid], [KEY_HEX, 'esp32-devkit', [{ type: 'bme280', name: 'climate' }], { hz: 100_000 }, 'office']);
    equal(f.device.config.otaGroups, ['kitchen', 'beta']);
    equal(Object.keys(f.device.telemetry.statuses()), ['climate'], 'the sensors of the board description');
    ok(!f.logs.some((l) => l.includes('OTA public key')), f.logs.join('\n'));
    const report = f.broker.published.filter((p) => p.topic === `lab/${DEVICE_ID}/ota`).pop();
    equal((JSON.parse(report!.payload) as { groups?: string[] }).groups, ['kitchen', 'beta'], 'OTA follows the configured groups');
    equal(new NetworkStore(f.storage).list().map((n) => n.ssid).sort(), ['home', 'office'], 'the build-time network is stored');
    ok(f.improv(Command.deviceInfo).includes('esp32-devkit'), 'Improv reports the board');
    equal(f.reads(), 1, 'still once');
  });

  test('an invalid build value is reported once and every reader gets its default', () => {
    const f = firmware({ otaPublicKey: 42, sensors: 'bme280', board: 'b'.repeat(40), i2c: [21, 22] });
    equal(f.reads(), 1);
    const warnings = f.logs.filter((l) => l.startsWith('warn config: '));
    equal(warnings.length, 4, warnings.join('\n'));
    for (const key of ['otaPublicKey', 'sensors', 'board', 'i2c']) ok(warnings.some((w) => w.startsWith(`warn config: ${key} `) && w.endsWith('(ignored)')), key);
    equal([f.device.config.build.otaPublicKey, f.device.config.build.board, f.device.config.build.sensors, f.device.config.build.i2c], ['', 'nodemcu', [], {}]);
    ok(f.logs.some((l) => l.startsWith('error no OTA public key configured')), 'OTA refuses jobs without a key');
    equal(Object.keys(f.device.telemetry.statuses()), [], 'no sensors');
    ok(f.improv(Command.deviceInfo).includes('nodemcu'), 'Improv reports the default board');
  });

  test('set-config cannot change a build setting (whoever could set the OTA key could sign jobs)', () => {
    const f = firmware({ prefix: 'lab', otaPublicKey: KEY_HEX });
    for (const key of ['otaPublicKey', 'sensors', 'wifiSsid']) {
      f.broker.publish(`lab/${DEVICE_ID}/cmd/set-config`, JSON.stringify({ id: key, args: { [key]: 'x' } }));
      f.clock.advance(0);
      const reply = JSON.parse(f.broker.to(`lab/${DEVICE_ID}/cmd/set-config/result`).pop()!.payload) as Record<string, unknown>;
      equal([reply.id, reply.status], [key, 'error']);
      ok(String(reply.error).startsWith(`unknown setting "${key}"`), String(reply.error));
    }
    equal(f.device.config.build.otaPublicKey, KEY_HEX);
  });
});
