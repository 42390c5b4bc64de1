// The device application: presence, heartbeat, telemetry, commands, configuration and discovery,
// wired to one MQTT client. Built by main.ts from the platform ports.
import { MqttClient, type MessageInfo } from '../mqtt/client';
import { MqttMessageTooLargeError } from '../mqtt/errors';
import { outboxStore } from '../mqtt/outbox-store';
import type { Platform, TimerId } from '../ports';
import { BrokerTrial } from './broker-trial';
import { CheckedStore } from './checked-store';
import { HOST_CLIENT_KEYS, hostClientOptions, type HostClientOptions } from './client-options';
import { Commands, CommandError, type CommandHandler, type Reply } from './commands';
import { Config, ConfigError, type ConfigValues } from './config';
import { resolveDeviceId } from './device-id';
import { discoveryMessages } from './discovery';
import { Presence } from './presence';
import { replyTopicProblem } from './reply-space';
import { Telemetry, type TelemetrySensor } from './telemetry';
import { Throttle } from './throttle';
import { Topics } from './topics';
import { utf8Decode } from '../text/utf8';

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

const BOOT_KEY = 'boot';
/**
 * Discovery re-sends asked for by "online" on the discovery status topic: at most one per this many
 * ms (births meanwhile coalesce into one re-send), so forged births cannot flood the broker.
 */
const DISCOVERY_RESEND_INTERVAL_MS = 30_000;

export class Device {
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
  private heartbeatTimer: TimerId | undefined;
  private identifyTimer: TimerId | undefined;
  /** Whether the station has an address (kept by the WiFi set-up; true on hosts without a radio). */
  wifiUp: boolean;
  /** The WiFi provisioning, when the platform has a radio (set by main). */
  provisioning: { readonly state: string; stop(): void } | undefined;
  private discoverySent = false;
  private readonly discoveryResend: Throttle;
  private stopping = false;
  private readonly connectHooks: ((sessionPresent: boolean) => void)[] = [];
  private readonly stopHooks: (() => void)[] = [];

  constructor(private readonly options: DeviceOptions) {
    const storage = (this.storage = new CheckedStore(options.platform.storage, options.platform.log));
    // the host's ports, with the checked store in front of its own (inherited, not copied: less memory)
    const p = (this.platform = Object.create(options.platform) as Platform);
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
    const will = this.presence.will();
    const host = hostClientOptions(options.client, (key) =>
      log('warn', `client option "${key}" ignored: a host may set only ${HOST_CLIENT_KEYS.join(', ')}; the broker, client id, user name, will and session come from the configuration`),
    );
    if (host.tls && !c.brokerTls) log('warn', 'client option "tls" ignored: brokerTls is off');
    // the host's tuning first; the identity after it, so nothing a host passes can replace it
    this.client = new MqttClient({
      keepAlive: c.keepAlive,
      ...host,
      clock: p.clock,
      network: p.network,
      system: p.system,
      log: p.log,
      host: c.brokerHost,
      port: c.brokerPort,
      tls: c.brokerTls ? host.tls ?? {} : undefined,
      clientId: `${c.prefix.replace(/\//g, '-')}-${id}`,
      username: c.brokerUser || undefined,
      password: host.password ?? ((c.brokerUser && c.brokerPassword) || undefined),
      cleanSession: !c.persistOutbox,
      will: { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain },
      outbox: { maxMessages: c.outboxMessages, maxBytes: c.outboxBytes, persist: c.persistOutbox ? outboxStore(p.storage, (key) => storage.discard(key, 'not a stored MQTT message')) : undefined },
      onConnect: this.connectHandler(),
      onDisconnect: () => {
        this.presence.disconnected();
        this.state();
      },
      onError: (e) => {
        if (e instanceof MqttMessageTooLargeError) this.onTooLarge(e);
        else this.brokerTrial.failed(e);
        host.onError?.(e);
      },
      onDrop: (d) => host.onDrop?.(d),
    });
    const sensors = typeof options.sensors === 'function' ? options.sensors(this) : options.sensors;
    this.telemetry = new Telemetry(p.clock, sensors ?? [], () => this.config.values.telemetryInterval * 1000, {
      publish: (sensor, payload) => this.client.publish(this.topics.telemetry(sensor), payload, { qos: this.config.values.telemetryQos as 0 | 1 | 2 }),
    });
    this.commands = new Commands(
      (name) => this.topics.commandResult(name),
      this.replier(),
      (topic) => replyTopicProblem(topic, this.topics, this.config.values.replyTopics),
    );
    this.discoveryResend = new Throttle(p.clock, DISCOVERY_RESEND_INTERVAL_MS, () => {
      if (this.config.values.discovery && !this.stopping) this.sendDiscovery();
    });
    this.registerCommands();
    // not for-of, whose iterator costs ~16 XS stack slots under each extension (an ESP8266 has 256)
    const extensions = options.extensions ?? [];
    for (let i = 0; i < extensions.length; i++) extensions[i](this);
  }

  /** Runs at every successful connect, after the birth was queued (extensions subscribe here). */
  onConnected(hook: (sessionPresent: boolean) => void): void {
    this.connectHooks.push(hook);
  }

  /** Runs when a clean stop begins. */
  onStopping(hook: () => void): void {
    this.stopHooks.push(hook);
  }

  get version(): string {
    return this.options.version;
  }

  get values(): ConfigValues {
    return this.config.values;
  }

  start(): void {
    const p = this.platform;
    p.log.log('info', `boot ${this.boot}, firmware ${this.options.version}, reset reason ${p.system.resetReason()}, id ${this.id}`);
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
    for (const hook of this.stopHooks) hook();
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
      this.telemetry.close();
      this.provisioning?.stop();
      done?.();
    };
    const bound = p.clock.set(finish, this.options.stopTimeout ?? 3000);
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
      version: this.options.version,
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
    this.options.onState?.(this.presence.state);
  }

  private onConnect(sessionPresent: boolean): void {
    const c = this.config.values;
    const { message, acknowledged } = this.presence.birth();
    // ahead of telemetry queued while offline: the world learns first that the device is back
    this.client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain, first: true }, acknowledged);
    this.brokerTrial.accepted();
    this.brokerTrial.announce((payload, done) => this.client.publish(this.topics.commandResult('set-config'), payload, { qos: 1 }, done));
    if (!sessionPresent || !this.discoverySent) {
      this.client.subscribe(this.topics.commands, { qos: 1, onMessage: (topic, payload, info) => this.onCommand(topic, payload, info.properties) });
      if (c.discovery) {
        this.client.subscribe(this.topics.discoveryStatus, {
          qos: 1,
          onMessage: (_t, payload) => {
            if (isAscii(payload, 'online')) this.discoveryResend.request();
          },
        });
      }
    }
    if (c.discovery && !this.discoverySent) this.sendDiscovery();
    // not for-of: its iterator costs ~16 XS stack slots under every hook (an ESP8266 has 256)
    const hooks = this.connectHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i](sessionPresent);
    this.state();
  }

  private sendDiscovery(): void {
    const c = this.config.values;
    this.discoverySent = true;
    const expire = Math.max(...this.telemetry.sensors.map((s) => (s.interval ?? c.telemetryInterval * 1000) / 1000), 1) * 3;
    const device = { id: this.id, name: c.name || this.id, version: this.options.version, model: this.options.model ?? 'NodeMCU' };
    for (const m of discoveryMessages(this.topics, device, this.telemetry.sensors, Math.ceil(expire))) {
      this.client.publish(m.topic, m.payload, { qos: 1, retain: true });
    }
  }

  /** `mqtt5`: the request's MQTT 5 properties (response topic, correlation data), when the client speaks MQTT 5. */
  private onCommand(topic: string, payload: Uint8Array, mqtt5?: MessageInfo['properties']): void {
    const name = this.topics.commandName(topic);
    // returned: a tail call, so this frame is gone while the command runs (the ESP8266 has 256 stack slots)
    if (name) return this.commands.handle(name, payload, (b) => utf8Decode(b), mqtt5);
  }

  /** A message over the client's maxPacketSize was skipped unread; a command's sender gets an error reply. */
  private onTooLarge(e: MqttMessageTooLargeError): void {
    const name = e.topic && this.topics.commandName(e.topic);
    if (name) this.commands.refuseUnread(name, `request of ${e.size} bytes is over this device's limit of ${e.limit} bytes (maxPacketSize): not read`, e.properties);
  }

  /** The client's onConnect, made by a method for the reason given at replier(). */
  private connectHandler(): (info: { sessionPresent: boolean }) => void {
    return (info) => this.onConnect(info.sessionPresent);
  }

  /**
   * How Commands sends a reply. Made here rather than in the constructor: XS makes no tail call from an
   * arrow function made in a constructor, and the reply's frames sit under the publish.
   */
  private replier(): (r: Reply) => boolean {
    return (r) => this.reply(r);
  }

  private reply(r: Reply): boolean {
    const options = r.properties ? { qos: 1 as const, properties: r.properties } : { qos: 1 as const };
    return this.client.publish(r.topic, r.payload, options, r.after && (() => r.after!()));
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
    for (const t of [this.heartbeatTimer, this.identifyTimer]) if (t !== undefined) clock.clear(t);
    this.heartbeatTimer = this.identifyTimer = undefined;
    this.discoveryResend.cancel();
  }

  private registerCommands(): void {
    const p = this.platform;
    this.commands.register('ping', () => ({ pong: true, up: Math.round(p.clock.now() / 1000), boot: this.boot }));
    this.commands.register('reboot', (ctx) => {
      ctx.reply(undefined, { rebooting: true }, () => this.restart('reboot command'));
      return 'async';
    });
    this.commands.register('identify', (ctx) => {
      const seconds = ctx.args.seconds ?? 10;
      if (typeof seconds !== 'number' || !(seconds >= 1 && seconds <= 120)) throw new CommandError('"seconds" must be a number from 1 to 120');
      this.identify(seconds);
      return { identifying: seconds };
    });
    this.commands.register('get-config', () => this.config.redacted());
    this.commands.register('set-config', (ctx) => {
      // The journal's writes go deep into the store (on an ESP8266 a long value is several entries),
      // and under the MQTT delivery's frames that overflows its 256 XS stack slots. So the change runs
      // on a fresh stack, from a timer, and replies from there.
      p.clock.set(() => this.setConfig(ctx), 0);
      return 'async';
    });
  }

  private setConfig(ctx: Parameters<CommandHandler>[0]): void {
    let result: { changed: string[]; restartRequired: string[] };
    try {
      result = this.config.set(ctx.args);
      this.applyLive(result.changed);
    } catch (error) {
      return ctx.reply(error instanceof ConfigError ? new CommandError(error.message) : error instanceof Error ? error : new CommandError(String(error)));
    }
    return ctx.reply(undefined, result);
  }

  private applyLive(changed: string[]): void {
    if (changed.includes('heartbeatInterval')) this.scheduleHeartbeat();
    if (changed.includes('telemetryInterval')) this.telemetry.reschedule();
    if (changed.includes('name') || (changed.includes('discovery') && this.config.values.discovery)) this.sendDiscovery();
  }

  /** Blinks the status LED (or logs, without one) so a person can find this board. */
  private identify(seconds: number): void {
    const p = this.platform;
    p.log.log('info', `identify: blinking for ${seconds} s`);
    const pin = this.config.values.ledPin;
    if (!p.digital || pin < 0) return;
    if (this.identifyTimer !== undefined) p.clock.clear(this.identifyTimer);
    let led: InstanceType<NonNullable<Platform['digital']>> | undefined;
    try {
      led = new p.digital({ pin, mode: 'output' });
    } catch (error) {
      p.log.log('warn', `identify: LED pin ${pin} unavailable: ${(error as Error).message}`);
      return;
    }
    let n = Math.round(seconds * 4);
    this.identifyTimer = p.clock.set(() => {
      led!.write((n & 1) as 0 | 1);
      if (--n <= 0) {
        p.clock.clear(this.identifyTimer);
        this.identifyTimer = undefined;
        led!.write(1); // NodeMCU LEDs are active low: 1 is off
        led!.close();
      }
    }, 250, 250);
  }
}

function bumpBootCounter(store: CheckedStore, log: Platform['log']): number {
  const raw = store.get(BOOT_KEY);
  const valid = typeof raw === 'string' && /^\d{1,15}$/.test(raw);
  if (raw !== undefined && !valid) store.discard(BOOT_KEY, 'not a boot count');
  const boot = (valid ? Number(raw) : 0) + 1;
  try {
    store.set(BOOT_KEY, String(boot));
  } catch (error) {
    log.log('warn', `boot counter not saved: ${(error as Error).message}`);
  }
  return boot;
}

/** Whether `payload` is exactly the ASCII `word`: compared as bytes, so a payload that is not UTF-8 is simply another word. */
function isAscii(payload: Uint8Array, word: string): boolean {
  if (payload.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (payload[i] !== word.charCodeAt(i)) return false;
  return true;
}
