// The device's side of its parts' callbacks: what Telemetry publishes and the interval it asks for,
// and the discovery re-send its Throttle runs. A class, so these stay in flash: closures made for each
// device would each copy their code into the heap (an ESP8266 has 32 KB).
import type { MqttClient } from '../mqtt/client';
import type { Config } from './config';
import type { TelemetryOutput } from './telemetry';
import type { ThrottledAction } from './throttle';
import type { Topics } from './topics';

/** What the links need of the device (Device implements it; no import of device.ts, no cycle). */
export interface LinkedDevice {
  readonly client: MqttClient;
  readonly topics: Topics;
  readonly config: Config;
  resendDiscovery(): void;
}

export class DeviceLinks implements TelemetryOutput, ThrottledAction {
  constructor(private readonly device: LinkedDevice) {}

  publish(sensor: string, payload: string): boolean {
    const d = this.device;
    return d.client.publish(d.topics.telemetry(sensor), payload, { qos: d.config.values.telemetryQos as 0 | 1 | 2 });
  }

  defaultInterval(): number {
    return this.device.config.values.telemetryInterval * 1000;
  }

  /** The discovery re-send the Throttle lets through. */
  run(): void {
    this.device.resendDiscovery();
  }
}
