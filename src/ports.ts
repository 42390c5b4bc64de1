// The firmware's only contact with the world. Every host (Moddable, Node simulator, XS test bridge)
// implements these. Shapes follow ECMA-419: callbacks instead of events, bytes as Uint8Array.

/** Opaque timer id returned by Clock.set. */
export type TimerId = unknown;

export interface Clock {
  /** Monotonic milliseconds since boot. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, or undefined while unknown (no SNTP yet). */
  wallTime(): number | undefined;
  /** Calls `callback` after `ms`, then every `repeat` ms when given (like Moddable's Timer.set). */
  set(callback: () => void, ms: number, repeat?: number): TimerId;
  clear(id: TimerId): void;
}

export interface TlsOptions {
  /** PEM certificate(s) of the trusted CA. Without it the host's default trust store is used. */
  ca?: string;
  /** Name checked against the server certificate; defaults to `host`. */
  serverName?: string;
  /** PEM client certificate and key, for mutual TLS. */
  cert?: string;
  key?: string;
}

export interface TcpOptions {
  host: string;
  port: number;
  tls?: TlsOptions;
  /** Bytes are waiting; call read(). */
  onReadable(count: number): void;
  /** First call: the connection is established (and the TLS handshake done). */
  onWritable?(count: number): void;
  /** The connection failed or ended (peer close included). No more callbacks follow. */
  onError(error: Error): void;
}

export interface TcpSocket {
  /** All bytes received so far and not yet read, or undefined when none. */
  read(): Uint8Array | undefined;
  /** Queues bytes for sending. The host buffers (copies): the caller may reuse `bytes` once write returns. Throws after close. */
  write(bytes: Uint8Array): void;
  close(): void;
}

export interface IncomingConnection {
  readonly remoteAddress: string;
  accept(handlers: Omit<TcpOptions, 'host' | 'port' | 'tls'>): TcpSocket;
}

export interface ListenerOptions {
  port: number;
  address?: string;
  onConnection(connection: IncomingConnection): void;
  onError?(error: Error): void;
}

export interface Listener {
  /** The bound port (useful when 0 was asked for). */
  readonly port: number;
  close(): void;
}

export interface UdpPacket {
  data: Uint8Array;
  address: string;
  port: number;
}

export interface UdpOptions {
  port: number;
  address?: string;
  onReadable(count: number): void;
  onError?(error: Error): void;
}

export interface UdpSocket {
  readonly port: number;
  read(): UdpPacket | undefined;
  write(data: Uint8Array, address: string, port: number): void;
  close(): void;
}

export interface Network {
  connect(options: TcpOptions): TcpSocket;
  listen?(options: ListenerOptions): Listener;
  udp?(options: UdpOptions): UdpSocket;
}

/** Key-value store (Moddable Preference, NVS, a file in the simulator). Keys are at most 15 characters. */
export interface KeyValueStore {
  get(key: string): string | Uint8Array | undefined;
  set(key: string, value: string | Uint8Array): void;
  delete(key: string): void;
  keys(): string[];
}

export type ResetReason =
  | 'power-on'
  | 'software'
  | 'watchdog'
  | 'panic'
  | 'brownout'
  | 'deep-sleep'
  | 'external'
  | 'unknown';

export interface System {
  /** Stable unique id, e.g. the lower MAC bytes in hex. */
  deviceId(): string;
  /** Restarts the device. Does not return on hardware. */
  restart(reason: string): void;
  /** Free heap bytes. */
  freeMemory(): number;
  resetReason(): ResetReason;
  /** Uniform in [0, 1). Hosts may seed it for reproducible runs. */
  random(): number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string): void;
}

// ---- WiFi -------------------------------------------------------------------------------------

export type WiFiAuth = 'open' | 'wep' | 'wpa' | 'wpa2' | 'wpa3' | 'wpa2-enterprise' | 'unknown';

export interface WiFiNetwork {
  ssid: string;
  bssid?: string;
  rssi: number;
  channel: number;
  auth: WiFiAuth;
}

export type WiFiDisconnectReason =
  | 'auth-failed'
  | 'no-ap-found'
  | 'beacon-timeout'
  | 'assoc-failed'
  | 'connection-lost'
  | 'by-request'
  | 'other';

export type WiFiEvent =
  | { type: 'connected'; ssid: string }
  | { type: 'got-ip'; ip: string }
  | { type: 'disconnected'; reason: WiFiDisconnectReason }
  | { type: 'station-joined' }
  | { type: 'station-left' };

export interface AccessPointOptions {
  ssid: string;
  password?: string;
  channel?: number;
}

export interface WiFi {
  /** Calls back once with the networks found, strongest first, or with an error. */
  scan(callback: (networks: WiFiNetwork[] | undefined, error?: Error) => void): void;
  connect(options: { ssid: string; password?: string; bssid?: string }): void;
  disconnect(): void;
  /** Sets the single event handler (replaces any earlier one). */
  onEvent(handler: (event: WiFiEvent) => void): void;
  /** Signal of the current station link, when connected. */
  rssi(): number | undefined;
  /** Starts an access point; returns its IP address. Station mode keeps working beside it. */
  startAccessPoint(options: AccessPointOptions): { ip: string };
  stopAccessPoint(): void;
}

// ---- Buses (ECMA-419 IO classes) ---------------------------------------------------------------

export interface I2COptions {
  address: number;
  hz?: number;
  data?: number;
  clock?: number;
  port?: number;
}

/** An open I2C device. Errors (NACK, bus stuck) are thrown as Error. */
export interface I2C {
  read(count: number, stop?: boolean): Uint8Array;
  read(buffer: Uint8Array, stop?: boolean): void;
  write(bytes: Uint8Array, stop?: boolean): void;
  close(): void;
}

export type I2CConstructor = new (options: I2COptions) => I2C;

export interface DigitalOptions {
  pin: number;
  mode: 'input' | 'input-pull-up' | 'input-pull-down' | 'output' | 'output-open-drain';
}

export interface Digital {
  read(): 0 | 1;
  write(value: 0 | 1): void;
  close(): void;
}

export type DigitalConstructor = new (options: DigitalOptions) => Digital;

export interface AnalogOptions {
  pin: number;
  resolution?: number;
}

export interface Analog {
  /** Bits per sample, e.g. 10 on ESP8266, 12 on ESP32. */
  readonly resolution: number;
  read(): number;
  close(): void;
}

export type AnalogConstructor = new (options: AnalogOptions) => Analog;

export interface OneWireOptions {
  pin: number;
}

/** 1-Wire bus master. ROM search is done in software on top of the bit operations. */
export interface OneWire {
  /** Reset pulse; true when at least one device answered with a presence pulse. */
  reset(): boolean;
  readBit(): 0 | 1;
  writeBit(bit: 0 | 1): void;
  read(count: number): Uint8Array;
  write(bytes: Uint8Array): void;
  close(): void;
}

export type OneWireConstructor = new (options: OneWireOptions) => OneWire;

export interface SerialOptions {
  baud?: number;
  onReadable(count: number): void;
  onError?(error: Error): void;
}

export interface Serial {
  read(): Uint8Array | undefined;
  write(bytes: Uint8Array): void;
  close(): void;
}

// ---- Firmware update --------------------------------------------------------------------------

export type ImageState = 'valid' | 'pending-verify' | 'unknown';

export interface RunningImage {
  slot: number;
  version: string;
  state: ImageState;
  /** Set when the bootloader fell back to this slot; says why when the host knows. */
  rolledBack?: { fromVersion: string; reason: string };
  /** Set when the bootloader could not trust its boot state and chose this image from what the slots hold; says what happened. */
  recovered?: string;
}

export interface UpdateWriter {
  write(bytes: Uint8Array): void;
  /** Marks the new image to boot next (pending verification). */
  complete(): void;
  cancel(): void;
  /** Bytes of the image already in place when open() continued an interrupted update (absent or 0: from the start). */
  readonly resumedAt?: number;
  /** What the caller saved with that checkpoint (the download's hash state). */
  readonly resumedState?: Uint8Array;
  /**
   * Makes the bytes written so far survive a restart, with the caller's `state`, so open() with the
   * same key continues from here. False when the port cannot at this offset (e.g. not a sector boundary).
   */
  checkpoint?(state: Uint8Array): boolean;
  /** Stops writing but keeps what was written and checkpointed (a restart pauses the job). */
  suspend?(): void;
}

export interface FlashUpdate {
  /**
   * Opens the inactive slot for an image of `size` bytes. Throws if no room or unsupported.
   * `resumeKey` names the update (the same job, the same image hash): a port that keeps checkpoints
   * continues an update of that key that a restart interrupted (see UpdateWriter.resumedAt).
   */
  open(size: number, version: string, resumeKey?: string): UpdateWriter;
  running(): RunningImage;
  /** Commits the running pending image, so no rollback happens. */
  markValid(): void;
  /** Marks the running pending image bad and restarts into the previous one. */
  rollback(reason: string): void;
}

// ---- The platform object handed to the firmware ------------------------------------------------

export interface Platform {
  clock: Clock;
  system: System;
  log: Logger;
  storage: KeyValueStore;
  network: Network;
  wifi?: WiFi;
  i2c?: I2CConstructor;
  digital?: DigitalConstructor;
  analog?: AnalogConstructor;
  oneWire?: OneWireConstructor;
  serial?(options: SerialOptions): Serial;
  update?: FlashUpdate;
  /** Build-time defaults (Moddable manifest `config`, simulator flags). Read by src/device/config.ts only. */
  config?: Record<string, unknown>;
}
