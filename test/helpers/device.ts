// Builds a simulated device (our firmware on the sim host) and an independent observer (MQTT.js,
// as a user's back end would be) for device-level tests against a real broker.
import mqtt, { type MqttClient as PeerClient } from 'mqtt';
import { RealClock } from '../../hosts/sim/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { createNodeNetwork } from '../../hosts/sim/net';
import { SimBME280 } from '../../hosts/sim/chips/bme280';
import { SimI2CBus } from '../../hosts/sim/chips/i2c-bus';
import type { Device, DeviceOptions } from '../../src/device/device';
import type { TelemetrySensor } from '../../src/device/telemetry';
import { main } from '../../src/main';
import type { Clock, KeyValueStore, Platform } from '../../src/ports';
import { BME280 } from '../../src/sensors/bme280/bme280';

export interface SimDeviceOptions {
  id?: string;
  clock?: Clock;
  storage?: KeyValueStore;
  config?: Record<string, unknown>;
  client?: DeviceOptions['client'];
  sensors?: (clock: Clock, bus: SimI2CBus) => TelemetrySensor[];
  version?: string;
  onRestart?: (reason: string) => void;
}

export interface SimDevice {
  device: Device;
  platform: Platform;
  bus: SimI2CBus;
  chip?: SimBME280;
  logs: string[];
  restarts: string[];
}

/** An environment sensor (BME280 on a simulated I2C bus) sampled every `interval` ms. */
export function envSensor(clock: Clock, bus: SimI2CBus, interval?: number): { sensor: TelemetrySensor; chip: SimBME280 } {
  const chip = bus.attach(new SimBME280({ now: () => clock.now(), address: 0x76 }));
  const driver = new BME280({ sensor: { io: bus.io, address: 0x76 } });
  return {
    chip,
    sensor: {
      name: 'env',
      sensor: driver,
      interval,
      readings: {
        temperature: { path: 'thermometer.temperature', unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } },
        humidity: { path: 'hygrometer.humidity', unit: '%', deviceClass: 'humidity', filter: { decimals: 1 } },
        pressure: { path: 'barometer.pressure', unit: 'Pa', deviceClass: 'pressure', filter: { decimals: 0 } },
      },
    },
  };
}

let counter = 0;

export function simDevice(options: SimDeviceOptions = {}): SimDevice {
  const clock = options.clock ?? new RealClock();
  const logs: string[] = [];
  const restarts: string[] = [];
  const id = options.id ?? `dev${process.pid}x${counter++}`;
  const platform: Platform = {
    clock,
    network: createNodeNetwork(),
    storage: options.storage ?? new MemoryStore(),
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    system: {
      deviceId: () => id,
      restart: (reason) => {
        restarts.push(reason);
        options.onRestart?.(reason);
      },
      freeMemory: () => 40_000,
      resetReason: () => 'power-on',
      random: Math.random,
    },
  };
  const bus = new SimI2CBus();
  let chip: SimBME280 | undefined;
  let sensors: TelemetrySensor[] = [];
  if (options.sensors) sensors = options.sensors(clock, bus);
  else {
    const env = envSensor(clock, bus);
    chip = env.chip;
    sensors = [env.sensor];
  }
  const device = main(platform, { config: options.config, client: options.client, sensors, version: options.version });
  return { device, platform, bus, chip, logs, restarts };
}

export interface Observed {
  topic: string;
  text: string;
  json: Record<string, unknown>;
  retain: boolean;
  at: number;
}

/** An MQTT.js observer that records every message on `filters`. */
export async function observer(url: string, filters: string[], options: mqtt.IClientOptions = {}): Promise<{ peer: PeerClient; seen: Observed[] }> {
  const peer = await mqtt.connectAsync(url, { reconnectPeriod: 200, ...options });
  const seen: Observed[] = [];
  peer.on('message', (topic, payload, packet) => {
    const text = payload.toString();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    seen.push({ topic, text, json, retain: packet.retain, at: Date.now() });
  });
  await peer.subscribeAsync(filters, { qos: 1 });
  return { peer, seen };
}
