// The options of the device's MQTT client: its identity and session from the configuration, the
// host's tuning (HostClientOptions), and the client's callbacks. The client calls those as methods of
// this object (o.onConnect(...)), so here they are methods of a class: they stay in flash, where
// closures made for each device would each copy their code into the heap (an ESP8266 has 32 KB).
import type { ClientOptions, MessageHandler } from '../mqtt/client';
import type { Dropped, OutboxLimits } from '../mqtt/outbox';
import { outboxStore as persisted } from '../mqtt/outbox-store';
import type { Clock, Logger, Network, System, TlsOptions } from '../ports';
import type { CheckedStore } from './checked-store';
import type { OutboxStore } from './outbox-store';
import type { hostClientOptions } from './client-options';
import type { ConfigValues } from './config';
import type { PresenceMessage } from './presence';

/** What the device does when the client reports (Device implements it). */
export interface ClientEvents {
  clientConnected(sessionPresent: boolean): void;
  clientDisconnected(): void;
  clientError(error: Error): void;
}

/** What a host may tune (DeviceOptions.client, checked by hostClientOptions()). */
type Tuning = ReturnType<typeof hostClientOptions>;

/** Tuning keys copied as they are (the others are the identity's, or wrapped by the methods below). */
const TUNED = ['pingTimeout', 'connectTimeout', 'reconnect', 'maxPacketSize', 'inflightWindow', 'protocol', 'tokenRefresh', 'onMessage'];

export class DeviceClientOptions implements ClientOptions {
  readonly clock: Clock;
  readonly network: Network;
  readonly system: System;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  readonly tls: TlsOptions | undefined;
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: ClientOptions['password'];
  readonly keepAlive: number;
  readonly cleanSession: boolean;
  readonly will: ClientOptions['will'];
  readonly outbox: OutboxLimits;
  // the host's tuning: own properties only when given (declared, so an absent one costs no slot)
  declare readonly pingTimeout?: number;
  declare readonly connectTimeout?: number;
  declare readonly reconnect?: ClientOptions['reconnect'];
  declare readonly maxPacketSize?: number;
  declare readonly inflightWindow?: number;
  declare readonly protocol?: ClientOptions['protocol'];
  declare readonly tokenRefresh?: ClientOptions['tokenRefresh'];
  declare readonly onMessage?: MessageHandler;

  constructor(
    private readonly events: ClientEvents,
    private readonly tuning: Tuning,
    c: ConfigValues,
    id: string,
    ports: { clock: Clock; network: Network; system: System; log: Logger },
    private readonly checked: CheckedStore,
    outboxStore: OutboxStore | undefined,
    will: PresenceMessage,
  ) {
    // the host's tuning first; the identity after it, so nothing a host passes can replace it
    this.keepAlive = tuning.keepAlive ?? c.keepAlive;
    const keys = Object.keys(tuning);
    for (let i = 0; i < keys.length; i++) if (TUNED.indexOf(keys[i]) >= 0) (this as Record<string, unknown>)[keys[i]] = (tuning as Record<string, unknown>)[keys[i]];
    this.clock = ports.clock;
    this.network = ports.network;
    this.system = ports.system;
    this.log = ports.log;
    this.host = c.brokerHost;
    this.port = c.brokerPort;
    this.tls = c.brokerTls ? tuning.tls ?? {} : undefined;
    this.clientId = `${c.prefix.split('/').join('-')}-${id}`;
    this.username = c.brokerUser || undefined;
    this.password = tuning.password ?? ((c.brokerUser && c.brokerPassword) || undefined);
    this.cleanSession = !c.persistOutbox;
    // the presence message itself (the client only reads it): no copy
    this.will = will;
    this.outbox = { maxMessages: c.outboxMessages, maxBytes: c.outboxBytes, persist: outboxStore ? persisted(outboxStore, this) : undefined };
  }

  onConnect(info: { sessionPresent: boolean }): void {
    return this.events.clientConnected(info.sessionPresent);
  }

  onDisconnect(): void {
    this.events.clientDisconnected();
  }

  onError(error: Error): void {
    this.events.clientError(error);
    this.tuning.onError?.(error);
  }

  /** A persisted outbox record (or the QoS 2 guard) was unreadable at start-up and deleted. */
  onCorruptRecord(key: string): void {
    this.checked.discard(key, 'not a stored MQTT message');
  }

  onDrop(dropped: Dropped[]): void {
    this.tuning.onDrop?.(dropped);
  }
}
