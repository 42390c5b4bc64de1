// A whole firmware (main() from src/) on the test kit's fakes (hosts/sim/fakes), for portable cases: a
// clock moved by hand, a scripted network that plays the broker byte by byte, a key-value store the
// caller gives (faults planted there), and a Wi-Fi radio with one network. Pure TypeScript: runs on XS too.
import type { Device } from '../../src/device/device';
import { main, type MainOptions } from '../../src/main';
import { encodePublish } from '../../src/mqtt/codec';
import { PUBLISH } from '../../src/mqtt/packets';
import { decodeUtf8, encodeUtf8 } from '../../src/mqtt/utf8';
import type { KeyValueStore, Platform, WiFi, WiFiEvent, WiFiNetwork } from '../../src/ports';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, toHex } from '../../hosts/sim/fakes/network';

export const HOME = { ssid: 'home', password: 'secret-home' };

/** A radio with one network, HOME; joins answer after 10 ms of the clock. */
export class OneNetworkWiFi implements WiFi {
  private handler: (event: WiFiEvent) => void = () => {};
  private up = false;
  constructor(private readonly clock: ManualClock) {}
  scan(callback: (networks: WiFiNetwork[] | undefined) => void): void {
    this.clock.set(() => callback([{ ssid: HOME.ssid, rssi: -50, channel: 6, auth: 'wpa2' }]), 10);
  }
  connect(options: { ssid: string; password?: string }): void {
    this.clock.set(() => {
      if (options.ssid === HOME.ssid && options.password === HOME.password) {
        this.up = true;
        this.handler({ type: 'connected', ssid: options.ssid });
        this.handler({ type: 'got-ip', ip: '10.0.0.5' });
      } else this.handler({ type: 'disconnected', reason: options.ssid === HOME.ssid ? 'auth-failed' : 'no-ap-found' });
    }, 10);
  }
  disconnect(): void {
    this.up = false;
  }
  onEvent(handler: (event: WiFiEvent) => void): void {
    this.handler = handler;
  }
  rssi(): number | undefined {
    return this.up ? -50 : undefined;
  }
  startAccessPoint(): { ip: string } {
    return { ip: '192.168.4.1' };
  }
  stopAccessPoint(): void {}
}

interface Published {
  topic: string;
  payload: string;
  qos: number;
  id: number;
}

/** The PUBLISH packets in bytes a client wrote (other packets skipped); `onOther` sees the types of the rest. */
function publishesIn(written: string[], onOther?: (type: number) => void): Published[] {
  const out: Published[] = [];
  for (const text of written) {
    const b = text.split(' ').map((x) => parseInt(x, 16));
    let i = 0;
    while (i < b.length) {
      const first = b[i++];
      let length = 0;
      let scale = 1;
      let digit: number;
      do {
        digit = b[i++];
        length += (digit & 127) * scale;
        scale *= 128;
      } while (digit & 128);
      const end = i + length;
      if (first >> 4 === 3) {
        const n = (b[i] << 8) | b[i + 1];
        const topic = String.fromCharCode(...b.slice(i + 2, i + 2 + n));
        let at = i + 2 + n;
        const qos = (first >> 1) & 3;
        let id = 0;
        if (qos) {
          id = (b[at] << 8) | b[at + 1];
          at += 2;
        }
        const payload = Uint8Array.from(b.slice(at, end));
        out.push({ topic, payload: decodeUtf8(payload, 0, payload.length), qos, id });
      } else if (onOther) onOther(first >> 4);
      i = end;
    }
  }
  return out;
}

export interface Rig {
  device: Device;
  clock: ManualClock;
  network: ScriptedNetwork;
  store: KeyValueStore;
  logs: string[];
  restarts: string[];
  /** Everything the device published so far (drained from its sockets). */
  published(): Published[];
  /** Advances the clock by `ms` in steps of a second, answering PINGREQ as a broker does. */
  run(ms: number): void;
  /** Plays a broker that accepts the connection of the newest socket. */
  accept(): void;
  /** The newest connection attempt fails as a refused TCP connection does. */
  refuse(): void;
  /** Delivers a message from the broker (QoS 0) on the newest socket. */
  deliver(topic: string, payload: string): void;
  /** Acknowledges every QoS 1 message published so far (PUBACK). */
  ackAll(): void;
  /** The last heartbeat the device published, parsed. */
  heartbeat(): Record<string, unknown>;
}

export const DEVICE_ID = 'a4cf12000001';

/** Boots the firmware on `store` (a new boot on the same store is a restart of the same device). */
export function boot(store: KeyValueStore, options: MainOptions & { wifi?: boolean } = {}): Rig {
  const clock = new ManualClock();
  const network = new ScriptedNetwork();
  const logs: string[] = [];
  const restarts: string[] = [];
  const platform: Platform = {
    clock,
    network,
    storage: store,
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    system: {
      deviceId: () => DEVICE_ID,
      restart: (reason) => restarts.push(reason),
      freeMemory: () => 40_000,
      resetReason: () => 'power-on',
      random: () => 0.5,
    },
  };
  const { wifi, ...rest } = options;
  if (wifi) platform.wifi = new OneNetworkWiFi(clock);
  const device = main(platform, { sensors: [], version: '1.0.0', ...rest, wifi: wifi ? { portal: { enabled: false }, improv: false } : false });
  const seen: Published[] = [];
  let pinged = false;
  const published = () => {
    for (const socket of network.sockets) for (const p of publishesIn(socket.sent(), (type) => (pinged ||= type === 12))) seen.push(p);
    return seen;
  };
  const socket = () => {
    const s = network.sockets[network.sockets.length - 1];
    if (!s) throw new Error('the device opened no connection');
    return s;
  };
  let acked = 0;
  return {
    device,
    clock,
    network,
    store,
    logs,
    restarts,
    published,
    run(ms) {
      for (let left = ms; left > 0; left -= 1000) {
        clock.advance(Math.min(1000, left));
        published();
        if (pinged) {
          pinged = false;
          const s = socket();
          if (!s.closed) s.receive('d0 00');
        }
      }
    },
    accept() {
      const s = socket();
      s.open();
      s.receive('20 02 00 00');
    },
    refuse() {
      socket().options.onError(new Error('connection refused'));
    },
    deliver(topic, payload) {
      socket().receive(toHex(encodePublish({ type: PUBLISH, topic, payload: encodeUtf8(payload), qos: 0, retain: false, dup: false })));
    },
    ackAll() {
      const all = published();
      for (; acked < all.length; acked++) {
        const p = all[acked];
        if (p.qos === 1) socket().receive(`40 02 ${toHex(Uint8Array.of(p.id >> 8, p.id & 255))}`);
      }
    },
    heartbeat() {
      const beats = published().filter((p) => p.topic.endsWith('/heartbeat'));
      if (!beats.length) throw new Error('no heartbeat published');
      return JSON.parse(beats[beats.length - 1].payload) as Record<string, unknown>;
    },
  };
}
