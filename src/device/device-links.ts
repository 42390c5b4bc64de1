// The device's side of its parts' callbacks: what Telemetry publishes and the interval it asks for,
// and the discovery re-send its Throttle runs. A class, so these stay in flash: closures made for each
// device would each copy their code into the heap (an ESP8266 has 32 KB).
import type { Device } from './device';
import type { TelemetryOutput } from './telemetry';
import type { ThrottledAction } from './throttle';

export class DeviceLinks implements TelemetryOutput, ThrottledAction {
  constructor(private readonly device: Device) {}

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
