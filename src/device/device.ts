// The device application: presence, heartbeat, telemetry, commands, configuration and discovery,
// wired to one MQTT client. Built by main.ts from the platform ports.
import { MqttClient, type MessageHandler, type MessageInfo } from '../mqtt/client';
import { MqttMessageTooLargeError } from '../mqtt/errors';
import type { Platform, TimerId } from '../ports';
import { BrokerTrial } from './broker-trial';
import { CheckedStore } from './checked-store';
import { OutboxStore } from './outbox-store';
import { HOST_CLIENT_KEYS, hostClientOptions, type HostClientOptions } from './client-options';
import { Commands } from './commands';
import { Config, type ConfigValues } from './config';
import { DeviceClientOptions, type ClientEvents } from './device-client';
import { DeviceCommands } from './device-commands';
import { DeviceLinks } from './device-links';
import { resolveDeviceId } from './device-id';
import { discoveryMessage } from './discovery';
import { Presence } from './presence';
import { Telemetry, type TelemetrySensor } from './telemetry';
import { Throttle } from './throttle';
import { Topics } from './topics';
import { utf8Decode } from '../text/utf8';
import { isDigits } from '../text/chars';

export interface DeviceOptions {
  platform: Platform;
  /** Firmware version, e.g. "1.4.2". */
  version: string;
  model?: string;
  /** The sensors, or a function that builds them from the configuration (main: the board description). */
  sensors?: TelemetrySensor[] | ((device: Device) => TelemetrySensor[]);
  /** Host configuration defaults: above the platform's build-time values, below the persisted overrides. */
  config?: Record<string, unknown>;
  /**
   * MQTT client options from the host (a TLS CA, a token password provider, MQTT 5, timing). The
   * device's identity (broker, client id, user name, will, session) is not among them.
   */
  client?: HostClientOptions;
  /** Bound on waiting for the "offline" PUBACK at a clean stop, ms. Default 3000. */
  stopTimeout?: number;
  /** Features that attach to the device (OTA, provisioning): called once, before start(). */
  extensions?: ((device: Device) => void)[];
  onState?(state: string): void;
}

/** What an extension hears of its device (Device.listen): methods called on the object given. */
export interface DeviceListener {
  /** At every successful connect, after the birth was queued (extensions subscribe here). */
  connected?(sessionPresent: boolean): void;
  /** When a clean stop begins. */
  stopping?(): void;
}

const BOOT_KEY = 'boot';
/**
 * Discovery re-sends asked for by "online" on the discovery status topic: at most one per this many
 * ms (births meanwhile coalesce into one re-send), so forged births cannot flood the broker.
 */
const DISCOVERY_RESEND_INTERVAL_MS = 30_000;

export class Device implements ClientEvents {
  /** The host's platform, with `storage` checked: an unreadable entry is reset and reported, never thrown. */
  readonly platform: Platform;
  readonly storage: CheckedStore;
  readonly config: Config;
  /** The device id in topics and the client id: the system's, or one derived from it when unsafe. */
  readonly id: string;
  /** Stored broker settings on trial, with the last known good to go back to. */
  readonly brokerTrial: BrokerTrial;
  readonly topics: Topics;
  readonly boot: number;
  readonly presence: Presence;
  readonly client: MqttClient;
  readonly telemetry: Telemetry;
  readonly commands: Commands;
  /** The device's own commands and where replies go (Commands' host). */
  private readonly ownCommands: DeviceCommands;
  private heartbeatTimer: TimerId | undefined;
  /** The outbox's store (persistOutbox): writes queued for a fresh stack, made before a restart. */
  private readonly outboxStore: OutboxStore | undefined;
  /** Whether the station has an address (kept by the WiFi set-up; true on hosts without a radio). */
  wifiUp: boolean;
  /** The WiFi provisioning, when the platform has a radio (set by main). */
  provisioning: { readonly state: string; stop(): void } | undefined;
  private discoverySent = false;
  /** The next discovery message, and whether one is on its way (sendDiscovery). */
  private discoveryNext = 0;
  private discoveryBusy = false;
  private readonly discoveryResend: Throttle;
  private stopping = false;
  /** The subscriptions' handler, made at the first connect. */
  private received: MessageHandler | undefined;
  /** What extensions listen with (listen(), onConnected(), onStopping()). */
  private readonly listeners: DeviceListener[] = [];

  readonly version: string;
  /** What start(), stop() and discovery need of the options (the rest, extensions included, is not kept). */
  private readonly model: string | undefined;
  private readonly stopTimeout: number | undefined;
  private readonly onState: ((state: string) => void) | undefined;

  constructor(options: DeviceOptions) {
    this.version = options.version;
    this.model = options.model;
    this.stopTimeout = options.stopTimeout;
    this.onState = options.onState;
    const given = options.platform;
    // A host may hand its store already checked (the simulator: on V8 an object inheriting from the
    // host's platform gives that platform a shape of its own, hundreds of bytes per device).
    const checked = given.storage instanceof CheckedStore;
    const storage = (this.storage = checked ? (given.storage as CheckedStore) : new CheckedStore(given.storage, given.log));
    // otherwise the host's ports, with the checked store in front of its own (inherited, not copied: less memory)
    const p = (this.platform = checked ? given : (Object.create(given) as Platform));
    p.storage = storage;
    this.wifiUp = !p.wifi;
    const log = (level: 'warn' | 'info', m: string) => p.log.log(level, m);
    this.config = new Config(storage, Config.base(options.platform, options.config), (e, storedKey) => (storedKey ? storage.discard(storedKey, e.message) : log('warn', `config: ${e.message} (ignored)`)));
    if (this.config.recovered) log('info', `config: a settings change cut short by a restart was ${this.config.recovered === 'rolled-forward' ? 'completed' : 'discarded'}`);
    this.brokerTrial = new BrokerTrial(this);
    const c = this.config.values;
    const resolved = resolveDeviceId(p.system.deviceId());
    if (resolved.warning) log('warn', resolved.warning);
    const id = (this.id = resolved.id);
    this.topics = new Topics(c.prefix, id, c.discoveryPrefix);
    this.boot = bumpBootCounter(storage, p.log);
    this.presence = new Presence({ topic: this.topics.status, boot: this.boot, version: options.version });
    const host = hostClientOptions(options.client, (key) =>
      log('warn', `client option "${key}" ignored: a host may set only ${HOST_CLIENT_KEYS.join(', ')}; the broker, client id, user name, will and session come from the configuration`),
    );
    if (host.tls && !c.brokerTls) log('warn', 'client option "tls" ignored: brokerTls is off');
    if (c.persistOutbox) this.outboxStore = new OutboxStore(storage, p.log, p.clock);
    this.client = new MqttClient(new DeviceClientOptions(this, host, c, id, p, storage, this.outboxStore, this.presence.will()));
    const links = new DeviceLinks(this);
    const sensors = typeof options.sensors === 'function' ? options.sensors(this) : options.sensors;
    this.telemetry = new Telemetry(p.clock, sensors ?? [], links);
    this.ownCommands = new DeviceCommands(this);
    this.commands = new Commands(this.ownCommands);
    this.discoveryResend = new Throttle(p.clock, DISCOVERY_RESEND_INTERVAL_MS, links);
    // not for-of, whose iterator costs ~16 XS stack slots under each extension (an ESP8266 has 256)
    const extensions = options.extensions ?? [];
    for (let i = 0; i < extensions.length; i++) extensions[i](this);
  }

  /** Calls the listener's methods as the device connects and stops (an extension listens with itself: no closures kept). */
  listen(listener: DeviceListener): void {
    this.listeners.push(listener);
  }

  /** Runs at every successful connect, after the birth was queued (extensions subscribe here). */
  onConnected(hook: (sessionPresent: boolean) => void): void {
    this.listeners.push({ connected: hook });
  }

  /** Runs when a clean stop begins. */
  onStopping(hook: () => void): void {
    this.listeners.push({ stopping: hook });
  }

  get values(): ConfigValues {
    return this.config.values;
  }

  start(): void {
    const p = this.platform;
    p.log.log('info', `boot ${this.boot}, firmware ${this.version}, reset reason ${p.system.resetReason()}, id ${this.id}`);
    this.state();
    this.brokerTrial.start();
    this.client.connect();
    this.telemetry.start();
    this.scheduleHeartbeat();
  }

  /**
   * Clean stop: publishes "offline" (retained, QoS 1), waits for its PUBACK (bounded), then
   * DISCONNECT, so the broker discards the will and the retained status is truthful.
   */
  stop(reason: string, done?: () => void): void {
    if (this.stopping) return;
    this.stopping = true;
    this.brokerTrial.stop();
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i].stopping?.();
    this.telemetry.stop();
    this.clearTimers();
    const message = this.presence.stop(reason);
    this.state();
    const p = this.platform;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      p.clock.clear(bound);
      this.client.end();
      this.outboxStore?.flush();
      this.telemetry.close();
      this.provisioning?.stop();
      done?.();
    };
    const bound = p.clock.set(finish, this.stopTimeout ?? 3000);
    if (this.client.connected) this.client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, finish);
    else finish();
  }

  /** Clean stop, then the platform restart. */
  restart(reason: string): void {
    this.stop(reason, () => this.platform.system.restart(reason));
  }

  /** What the OTA health gate checks. */
  health(): { wifi: boolean; mqtt: boolean; birthAcknowledged: boolean; sensorsSampled: boolean; freeMemory: number } {
    return {
      wifi: this.wifiUp,
      mqtt: this.client.connected,
      birthAcknowledged: this.presence.birthAcknowledged,
      sensorsSampled: this.telemetry.allSampled,
      freeMemory: this.platform.system.freeMemory(),
    };
  }

  heartbeat(): Record<string, unknown> {
    const p = this.platform;
    const c = this.config.values;
    const o = this.client.outboxState;
    const body: Record<string, unknown> = {
      up: Math.round(p.clock.now() / 1000),
      mem: p.system.freeMemory(),
      reconnects: this.client.stats.reconnects,
      outbox: o.depth,
      outboxBytes: o.bytes,
      dropped: o.dropped,
      version: this.version,
      boot: this.boot,
      reset: p.system.resetReason(),
      interval: c.heartbeatInterval,
      // silence for longer than this many seconds means trouble: two missed beats plus a keep-alive
      expires: 2 * c.heartbeatInterval + c.keepAlive,
      sensors: this.telemetry.statuses(),
    };
    const rssi = p.wifi?.rssi();
    if (rssi !== undefined) body.rssi = rssi;
    const storage = this.storage.report();
    if (storage) body.storage = storage;
    const rolledBack = this.brokerTrial.rolledBack;
    if (rolledBack) body.config = { rolledBack };
    return body;
  }

  // ---------------------------------------------------------------------------------------------

  private state(): void {
    this.onState?.(this.presence.state);
  }

  /** @internal The client lost its connection (DeviceClientOptions.onDisconnect). */
  clientDisconnected(): void {
    this.presence.disconnected();
    this.state();
  }

  /** @internal The client reports an error (DeviceClientOptions.onError). */
  clientError(e: Error): void {
    if (e instanceof MqttMessageTooLargeError) this.onTooLarge(e);
    else this.brokerTrial.failed(e);
  }

  /** @internal Discovery again, when it is on and the device is not stopping (the Throttle's run). */
  resendDiscovery(): void {
    if (this.config.values.discovery && !this.stopping) this.sendDiscovery();
  }

  /** @internal The client connected (DeviceClientOptions.onConnect). */
  clientConnected(sessionPresent: boolean): void {
    const c = this.config.values;
    const { message, acknowledged } = this.presence.birth();
    // ahead of telemetry queued while offline: the world learns first that the device is back
    this.client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain, first: true }, acknowledged);
    this.brokerTrial.accepted();
    this.brokerTrial.announce((payload, done) => this.client.publish(this.topics.commandResult('set-config'), payload, { qos: 1 }, done));
    if (!sessionPresent || !this.discoverySent) {
      // one handler, made once, for both subscriptions: it tells them apart by topic (an arrow made in a
      // method, so its call is a tail call: no frame of its own under the command)
      const onMessage = (this.received ??= (topic, payload, info) => this.onMessage(topic, payload, info));
      this.client.subscribe(this.topics.commands, { qos: 1, onMessage });
      if (c.discovery) this.client.subscribe(this.topics.discoveryStatus, { qos: 1, onMessage });
    }
    if (c.discovery && !this.discoverySent) this.sendDiscovery();
    // not for-of: its iterator costs ~16 XS stack slots under every hook (an ESP8266 has 256)
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i].connected?.(sessionPresent);
    this.state();
  }

  /**
   * (Re)starts the discovery messages: one at a time, the next once the broker acknowledged the last,
   * so one payload is built and one is held at once (the outbox keeps the bytes of each until its
   * PUBACK; all at once they took ~4 KB of an ESP8266's heap at every first connect).
   */
  private sendDiscovery(): void {
    this.discoverySent = true;
    this.discoveryNext = 0;
    if (!this.discoveryBusy) this.sendDiscoveryMessage();
  }

  private sendDiscoveryMessage(): void {
    const c = this.config.values;
    const sensors = this.telemetry.sensors;
    let longest = 1;
    for (let i = 0; i < sensors.length; i++) longest = Math.max(longest, (sensors[i].interval ?? c.telemetryInterval * 1000) / 1000);
    const device = { id: this.id, name: c.name || this.id, version: this.version, model: this.model ?? 'NodeMCU' };
    const m = this.stopping ? undefined : discoveryMessage(this.topics, device, sensors, Math.ceil(longest * 3), this.discoveryNext++);
    this.discoveryBusy = !!m;
    if (m) this.client.publish(m.topic, m.payload, { qos: 1, retain: true }, (error) => this.discoveryDone(error));
  }

  /** A discovery message was acknowledged: the next one. Dropped (a full outbox): the rest waits for the next connect. */
  private discoveryDone(error: Error | undefined): void {
    if (!error) return this.sendDiscoveryMessage();
    this.discoveryBusy = false;
    this.discoverySent = false;
    this.platform.log.log('warn', `discovery: a message was not sent (${error.message}); all are sent again at the next connect`);
  }

  /** A message on the commands or the discovery status subscription. */
  private onMessage(topic: string, payload: Uint8Array, info: MessageInfo): void {
    if (topic === this.topics.discoveryStatus) {
      if (isAscii(payload, 'online')) this.discoveryResend.request();
      return;
    }
    const name = this.topics.commandName(topic);
    // returned: a tail call, so this frame is gone while the command runs (the ESP8266 has 256 stack slots)
    // (info.properties: the request's MQTT 5 response topic and correlation data, when the client speaks MQTT 5)
    if (name) return this.commands.handle(name, payload, utf8Decode, info.properties);
  }

  /** A message over the client's maxPacketSize was skipped unread; a command's sender gets an error reply. */
  private onTooLarge(e: MqttMessageTooLargeError): void {
    const name = e.topic && this.topics.commandName(e.topic);
    if (name) this.commands.refuseUnread(name, `request of ${e.size} bytes is over this device's limit of ${e.limit} bytes (maxPacketSize): not read`, e.properties);
  }

  private scheduleHeartbeat(): void {
    const p = this.platform;
    if (this.heartbeatTimer !== undefined) p.clock.clear(this.heartbeatTimer);
    const ms = this.config.values.heartbeatInterval * 1000;
    this.heartbeatTimer = p.clock.set(() => this.publishHeartbeat(), ms, ms);
  }

  private publishHeartbeat(): void {
    // QoS 0 and not kept while offline: a heartbeat is only worth something when it is current
    if (this.client.connected) this.client.publish(this.topics.heartbeat, JSON.stringify(this.heartbeat()), { qos: 0 });
  }

  private clearTimers(): void {
    const clock = this.platform.clock;
    if (this.heartbeatTimer !== undefined) clock.clear(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.ownCommands.stop();
    this.discoveryResend.cancel();
  }

  /** @internal Applies settings that take effect at once (set-config). */
  applyLive(changed: string[]): void {
    if (changed.includes('heartbeatInterval')) this.scheduleHeartbeat();
    if (changed.includes('telemetryInterval')) this.telemetry.reschedule();
    if (changed.includes('name') || (changed.includes('discovery') && this.config.values.discovery)) this.sendDiscovery();
  }
}

const bumpBootCounter = (store: CheckedStore, log: Platform['log']): number => {
  const raw = store.get(BOOT_KEY);
  const valid = typeof raw === 'string' && isDigits(raw, 1, 15);
  if (raw !== undefined && !valid) store.discard(BOOT_KEY, 'not a boot count');
  const boot = (valid ? Number(raw) : 0) + 1;
  try {
    store.set(BOOT_KEY, String(boot));
  } catch (error) {
    log.log('warn', `boot counter not saved: ${(error as Error).message}`);
  }
  return boot;
};

/** Whether `payload` is exactly the ASCII `word`: compared as bytes, so a payload that is not UTF-8 is simply another word. */
const isAscii = (payload: Uint8Array, word: string): boolean => {
  if (payload.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (payload[i] !== word.charCodeAt(i)) return false;
  return true;
};
