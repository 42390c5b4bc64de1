// Runs inside the 32-bit XS worker: the Platform of the esp8266 memory scenario (esp8266.bench.ts),
// made of the test kit's fakes (hosts/sim/fakes: ManualClock, ScriptedNetwork, ScriptedBroker; the
// simulated radio and BME280 of hosts/sim) where a device has its native ports, and of the ESP8266
// build's own adapters where a device runs JavaScript below the ports: the key-value store is
// hosts/moddable/kv-chunks.ts with the ESP8266's limits, the update port hosts/moddable's
// update-unsupported.ts as hosts/moddable/target/esp/main.ts makes it, the build values come from
// the manifests through hosts/moddable/config.ts.
//
// Only what a device keeps in its XS heap may grow here: the fakes hold counts and the last thing
// they need for a check, never a copy of what the device sent. The preference store (flash on the
// device) is kept by the Node side of the worker (issueCommand), so the stored values are not in the
// heap either; it has the capacity of the ESP8266's preference sector.
import type { Clock, FlashUpdate, KeyValueStore, Listener, ListenerOptions, Logger, LogLevel, Network, Platform, ResetReason, Serial, SerialOptions, System, TcpOptions, TcpSocket, UdpOptions, UdpPacket, UdpSocket } from '../../src/ports';
import { ChunkedPreferenceStore, ESP8266_LIMITS, type PreferenceLike, type PreferenceValue } from '../../hosts/moddable/kv-chunks';
import { memoryPreference } from './memory-preference';
import { normalizeConfig } from '../../hosts/moddable/config';
import { createUnsupportedUpdate } from '../../hosts/moddable/update-unsupported';
import { ScriptedBroker } from '../../hosts/sim/fakes/broker';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork, type ScriptedSocket } from '../../hosts/sim/fakes/network';
import { SimRadio } from '../../hosts/sim/radio';
import { decodeFrame, encodeFrame } from '../../hosts/xs/bridge/wire';
import { toArrayBuffer, xsnap } from '../../hosts/xs/in-xs/globals';
import { FIRMWARE_VERSION } from '../../src/version';
import { benchI2C, RegisterImageBME280 } from './firmware-platform';

/** The device's id, and the Ed25519 key its OTA jobs are checked against (RFC 8032 section 7.1, test 1). */
export const DEVICE_ID = '3c71bf4a2d10';
export const OTA_PUBLIC_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
/** The home network the phone and Improv give the device. */
export const HOME = { ssid: 'home', password: 'correct horse battery' };
/** Wall time SNTP gives once the station has an address. */
const EPOCH_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z
/**
 * Why the ESP8266's update port refuses, as hosts/moddable/target/esp/main.ts says it: a module
 * constant, as that main's literal (not preloaded, so read from flash) takes no heap on the device.
 */
const NO_OTA = 'OTA is not available on the ESP8266 (the Moddable SDK has no OTA module for it); update over USB with npm run flash -- --target esp8266';
/** ms before a refused connection reports its error (the broker is down). */
const REFUSED_MS = 20;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Moddable's `preference` module as the ESP8266 keeps it: in flash, so its entries live in the Node
 * side of the worker (esp8266.ts) and a read copies the value into the heap, as the native module does.
 */
function flashPreference(): PreferenceLike {
  const xs = xsnap();
  const call = (header: Record<string, unknown>, body?: Uint8Array) => decodeFrame(new Uint8Array(xs.issueCommand(toArrayBuffer(encodeFrame(header, body)))));
  return {
    get(domain, key) {
      const { header, body } = call({ op: 'get', domain, key });
      if (header.error) throw new Error(String(header.error));
      if (header.type === 'buffer') return body.slice().buffer as ArrayBuffer;
      if (header.type === 'string') return decoder.decode(body);
      return header.value as PreferenceValue | undefined;
    },
    set(domain, key, value) {
      const buffer = value instanceof ArrayBuffer;
      const { header } = call(
        { op: 'set', domain, key, type: buffer ? 'buffer' : typeof value === 'string' ? 'string' : 'value', value: buffer || typeof value === 'string' ? undefined : value },
        buffer ? new Uint8Array(value) : typeof value === 'string' ? encoder.encode(value) : undefined,
      );
      if (header.error) throw new Error(String(header.error));
    },
    delete(domain, key) {
      const { header } = call({ op: 'delete', domain, key });
      if (header.error) throw new Error(String(header.error));
    },
    keys(domain) {
      const { header } = call({ op: 'keys', domain });
      return header.keys as string[];
    },
  };
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * The device's logger (hosts/moddable/logger.ts: a level floor, one line per message), counting. A
 * warning or an error also goes to the Node side (print), which shows the last ones when a check
 * fails; nothing of a line stays in the heap.
 */
export class DeviceLog implements Logger {
  readonly counts: Record<LogLevel, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  constructor(private readonly clock: Clock) {}
  log(level: LogLevel, message: string): void {
    if (RANK[level] < RANK.info) return;
    const line = `${this.clock.now()} ${level} ${message}`;
    this.counts[level]++;
    if (level === 'warn' || level === 'error') xsnap().print(line);
  }
  get problems(): number {
    return this.counts.warn + this.counts.error;
  }
}

/**
 * The station's network: the broker (a ScriptedBroker; refused while `brokerDown`), the phone's side
 * of the access point (a ScriptedNetwork listener for the portal's HTTP server) and UDP (the captive
 * DNS server). Counts what the device publishes to one topic of interest (`watch`), without copies.
 */
export class DeviceNetwork implements Network {
  brokerDown = false;
  /** Bytes to look for in what the device writes to the broker, and how often they were seen. */
  watch: Uint8Array | undefined;
  seen = 0;
  private open: { socket: TcpSocket; options: TcpOptions } | undefined;

  constructor(
    private readonly clock: Clock,
    readonly broker: ScriptedBroker,
    readonly lan: ScriptedNetwork,
    readonly dns: ScriptedUdp,
  ) {}

  connect(options: TcpOptions): TcpSocket {
    if (this.brokerDown) return new RefusedSocket(this.clock, options);
    const socket = new TappedSocket(this, this.broker.connect(options));
    this.open = { socket, options };
    return socket;
  }

  /** @internal What the device writes to the broker. */
  tap(bytes: Uint8Array): void {
    if (this.watch && contains(bytes, this.watch)) this.seen++;
  }

  /** @internal The device closed its connection. */
  closed(socket: TcpSocket): void {
    if (this.open?.socket === socket) this.open = undefined;
  }

  listen(options: ListenerOptions): Listener {
    return this.lan.listen(options);
  }

  udp(options: UdpOptions): UdpSocket {
    return this.dns.open(options);
  }

  /** The broker goes away: the open connection is reset, and new ones are refused until `restore()`. */
  outage(): void {
    this.brokerDown = true;
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    o.socket.close();
    o.options.onError(new Error('connection reset by peer'));
  }

  restore(): void {
    this.brokerDown = false;
  }
}

/** The broker's connection, with what the device writes looked at on the way (classes: no code copied into the heap per connection). */
class TappedSocket implements TcpSocket {
  constructor(
    private readonly network: DeviceNetwork,
    private readonly socket: TcpSocket,
  ) {}
  read(): Uint8Array | undefined {
    return this.socket.read();
  }
  write(bytes: Uint8Array): void {
    this.network.tap(bytes);
    this.socket.write(bytes);
  }
  close(): void {
    this.network.closed(this);
    this.socket.close();
  }
}

/** A connection to a broker that is down: refused after REFUSED_MS. */
class RefusedSocket implements TcpSocket {
  private isClosed = false;
  constructor(clock: Clock, options: TcpOptions) {
    clock.set(() => {
      if (!this.isClosed) options.onError(new Error('connection refused'));
    }, REFUSED_MS);
  }
  read(): undefined {
    return undefined;
  }
  write(): void {
    throw new Error('write on a refused connection');
  }
  close(): void {
    this.isClosed = true;
  }
}

/** Whether `pattern` occurs in `bytes`. */
function contains(bytes: Uint8Array, pattern: Uint8Array): boolean {
  const first = pattern[0];
  for (let i = 0; i + pattern.length <= bytes.length; i++) {
    if (bytes[i] !== first) continue;
    let j = 1;
    while (j < pattern.length && bytes[i + j] === pattern[j]) j++;
    if (j === pattern.length) return true;
  }
  return false;
}

/** UDP for the captive DNS server: the phone's queries go in one at a time; the last answer is kept for the check. */
export class ScriptedUdp {
  options: UdpOptions | undefined;
  pending: UdpPacket | undefined;
  answer: Uint8Array | undefined;
  answers = 0;

  open(options: UdpOptions): UdpSocket {
    this.options = options;
    return new ScriptedUdpSocket(this, options);
  }

  get listening(): boolean {
    return this.options !== undefined;
  }

  /** A datagram from the phone. */
  query(data: Uint8Array, address: string, port: number): void {
    if (!this.options) throw new Error('nothing listens on UDP: the captive DNS server is not running');
    this.pending = { data, address, port };
    this.options.onReadable(data.length);
  }
}

class ScriptedUdpSocket implements UdpSocket {
  readonly port: number;
  constructor(
    private readonly udp: ScriptedUdp,
    private readonly options: UdpOptions,
  ) {
    this.port = options.port;
  }
  read(): UdpPacket | undefined {
    const packet = this.udp.pending;
    this.udp.pending = undefined;
    return packet;
  }
  write(data: Uint8Array): void {
    this.udp.answers++;
    this.udp.answer = data;
  }
  close(): void {
    if (this.udp.options === this.options) this.udp.options = undefined;
  }
}

/** The serial port, host side: bytes go to the device; what it writes is handed to `onDevice`, not kept. */
export class ScriptedSerial implements Serial {
  options: SerialOptions | undefined;
  private pending: Uint8Array | undefined;
  onDevice: (bytes: Uint8Array) => void = () => {};

  /** The port the device opens (one: this object is also the device's end). */
  open(options: SerialOptions): Serial {
    this.options = options;
    return this;
  }

  read(): Uint8Array | undefined {
    const bytes = this.pending;
    this.pending = undefined;
    return bytes;
  }

  write(bytes: Uint8Array): void {
    this.onDevice(bytes);
  }

  close(): void {
    this.options = undefined;
  }

  send(bytes: Uint8Array): void {
    if (!this.options) throw new Error('the serial port is not open: Improv did not start');
    this.pending = bytes;
    this.options.onReadable(bytes.length);
  }
}

/** A phone on the access point: one HTTP exchange at a time with the portal, through the ScriptedNetwork. */
export class Phone {
  private socket: ScriptedSocket | undefined;
  private status = 0;
  private bytes = 0;
  private head = '';
  /** Looks at each write of the portal as it comes and keeps none (a phone's TCP stack has them, not the device); made once, before the mark. */
  private readonly take = (w: Uint8Array) => this.written(w);

  constructor(
    private readonly lan: ScriptedNetwork,
    private readonly clock: ManualClock,
    readonly address = '192.168.4.2',
  ) {}

  /**
   * Sends `request` on a new connection and reads the answer as a phone's TCP stack does (1,460
   * bytes at a time); returns its status and length.
   */
  exchange(request: string): { status: number; bytes: number; head: string } {
    const socket = this.lan.incoming(this.address);
    if (!socket) throw new Error('the portal did not accept the connection');
    this.socket = socket;
    this.status = this.bytes = 0;
    this.head = '';
    socket.write = this.take;
    socket.open(1460);
    socket.receiveText(request);
    for (let round = 0; round < 64 && !socket.closed; round++) {
      socket.open(1460);
      this.clock.settle(10);
    }
    // the fake keeps every socket it made: this one is done
    const i = this.lan.sockets.indexOf(socket);
    if (i >= 0) this.lan.sockets.splice(i, 1);
    this.socket = undefined;
    if (!socket.closed) throw new Error(`the portal did not finish its answer to ${request.split('\r\n')[0]}`);
    return { status: this.status, bytes: this.bytes, head: this.head };
  }

  private written(w: Uint8Array): void {
    if (this.socket?.closed) throw new Error('write after close');
    if (!this.bytes) {
      let line = '';
      for (let i = 0; i < w.length && i < 160 && w[i] !== 13; i++) line += String.fromCharCode(w[i]!);
      this.head = line;
      this.status = Number(line.split(' ')[1]);
    }
    this.bytes += w.length;
  }
}

export interface Esp8266Rig {
  platform: Platform;
  clock: ManualClock;
  network: DeviceNetwork;
  broker: ScriptedBroker;
  radio: SimRadio;
  serial: ScriptedSerial;
  phone: Phone;
  log: DeviceLog;
  system: BenchSystem;
}

/** The fakes: made before the mark, as a device's native ports are not in its XS heap. */
export interface Esp8266Fakes {
  clock: ManualClock;
  network: DeviceNetwork;
  radio: SimRadio;
  serial: ScriptedSerial;
  phone: Phone;
  i2c: NonNullable<Platform['i2c']>;
  preference: PreferenceLike;
}

/** `stack`: for the stack run (a preference store as shallow as the native one). */
export function esp8266Fakes(stack = false): Esp8266Fakes {
  const clock = new ManualClock();
  const lan = new ScriptedNetwork({ keep: 'last' });
  const network = new DeviceNetwork(clock, new ScriptedBroker(clock), lan, new ScriptedUdp());
  const radio = new SimRadio({
    clock,
    networks: [
      { ssid: HOME.ssid, password: HOME.password, rssi: -58, ip: '192.168.1.57' },
      { ssid: 'neighbour', password: 'not ours at all', rssi: -71 },
      { ssid: 'cafe-guest', rssi: -80 },
    ],
  });
  const chip = new RegisterImageBME280({ temperature: 21.5, pressure: 101_325, humidity: 45 });
  return { clock, network, radio, serial: new ScriptedSerial(), phone: new Phone(lan, clock), i2c: benchI2C([chip]), preference: stack ? memoryPreference() : flashPreference() };
}

/** The system port as hosts/moddable/system.ts gives it, with a seeded random(); restarts are kept for the checks. */
export class BenchSystem implements System {
  readonly restarts: string[] = [];
  private seed = 0x2545f491;
  deviceId(): string {
    return DEVICE_ID;
  }
  restart(reason: string): void {
    this.restarts.push(reason);
  }
  freeMemory(): number {
    return 20_000;
  }
  resetReason(): ResetReason {
    return 'power-on';
  }
  random(): number {
    // xorshift32
    let seed = this.seed;
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    this.seed = seed;
    return (seed >>> 0) / 4294967296;
  }
}

class Utf8Codec {
  encode(text: string): Uint8Array {
    return encoder.encode(text);
  }
  decode(bytes: Uint8Array): string {
    return decoder.decode(bytes);
  }
}

/** The ports hosts/moddable/boot.ts gives the firmware, as one object whose serial() is a method, not a closure. */
class DevicePlatform implements Platform {
  constructor(
    readonly clock: ManualClock,
    readonly system: System,
    readonly log: Logger,
    readonly storage: KeyValueStore,
    readonly network: Network,
    readonly wifi: SimRadio,
    readonly i2c: NonNullable<Platform['i2c']>,
    readonly update: FlashUpdate,
    readonly config: Record<string, unknown>,
    private readonly port: ScriptedSerial,
  ) {}
  serial(options: SerialOptions): Serial {
    return this.port.open(options);
  }
}

/**
 * The device's platform over the fakes, as hosts/moddable/boot.ts makes it for the ESP8266: made after
 * the mark, as the host's adapters are in a device's heap. `build` is the ESP8266 build's mc/config.
 */
export function esp8266Platform(fakes: Esp8266Fakes, build: Record<string, unknown>): Esp8266Rig {
  const { clock } = fakes;
  const { config } = normalizeConfig(build);
  const log = new DeviceLog(clock);
  const codec = new Utf8Codec();
  const storage = new ChunkedPreferenceStore(fakes.preference, String(config.kvDomain ?? 'fw'), ESP8266_LIMITS, codec);
  const hostStore = new ChunkedPreferenceStore(fakes.preference, 'host', ESP8266_LIMITS, codec);
  storage.sweep();
  hostStore.sweep();
  const system = new BenchSystem();
  const update = createUnsupportedUpdate(FIRMWARE_VERSION, NO_OTA);
  const platform = new DevicePlatform(clock, system, log, storage, fakes.network, fakes.radio, fakes.i2c, update, config, fakes.serial);
  return { platform, clock, network: fakes.network, broker: fakes.network.broker, radio: fakes.radio, serial: fakes.serial, phone: fakes.phone, log, system };
}

/** Sets the wall time, as SNTP does once the station has an address. */
export function sntp(clock: ManualClock): void {
  clock.setWallTime(EPOCH_MS + clock.now());
}
