// Listens on the broker as a back end would (our own MQTT client, on the fleet's timer wheel) and
// feeds what it hears into the FleetModel: status, heartbeat, telemetry and OTA reports.
import { MqttClient } from '../../../src/mqtt/client';
import type { Clock, Network, TlsOptions } from '../../../src/ports';
import type { FleetModel } from './model';

export interface MonitorOptions {
  model: FleetModel;
  clock: Clock;
  network: Network;
  host: string;
  port: number;
  tls?: TlsOptions;
  username?: string;
  password?: string;
  onError?: (error: Error) => void;
}

export class Monitor {
  readonly client: MqttClient;

  constructor(options: MonitorOptions) {
    const p = options.model.prefix;
    this.client = new MqttClient({
      clock: options.clock,
      network: options.network,
      host: options.host,
      port: options.port,
      tls: options.tls,
      clientId: `sim-monitor-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
      username: options.username,
      password: options.username ? options.password : undefined,
      keepAlive: 30,
      maxPacketSize: 1 << 20,
      reconnect: { minDelay: 250, maxDelay: 2000, stableAfter: 5000 },
      onError: options.onError,
    });
    const onMessage = (topic: string, payload: Uint8Array) => options.model.message(topic, payload);
    this.client.subscribe(
      [
        { filter: `${p}/+/status`, qos: 1 },
        { filter: `${p}/+/heartbeat`, qos: 0 },
        { filter: `${p}/+/telemetry/+`, qos: 0 },
        { filter: `${p}/+/ota`, qos: 1 },
      ],
      { onMessage },
    );
  }

  start(): void {
    this.client.connect();
  }

  get connected(): boolean {
    return this.client.connected;
  }

  stop(): void {
    this.client.end();
  }
}
