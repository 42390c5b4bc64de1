// Home Assistant MQTT discovery: one retained config message per sensor reading, plus a connectivity
// binary_sensor for the device's status. Keys are Home Assistant's documented abbreviations-free names.
import type { Topics } from './topics';
import type { TelemetrySensor } from './telemetry';

export interface DiscoveryDevice {
  id: string;
  name: string;
  version: string;
  model: string;
}

export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/**
 * The `index`-th discovery message (0: the device's status, then one per sensor reading), or undefined
 * past the last: the device publishes them one at a time, so only one payload is built at once.
 */
export const discoveryMessage = (topics: Topics, device: DiscoveryDevice, sensors: TelemetrySensor[], expireAfter: number, index: number): DiscoveryMessage | undefined => {
  const dev = { identifiers: [device.id], name: device.name, sw_version: device.version, model: device.model, manufacturer: 'nodemcu-mqtt-firmware' };
  if (index === 0) {
    return {
      topic: topics.discovery('binary_sensor', 'status'),
      payload: JSON.stringify({
        name: 'Status',
        unique_id: `${device.id}_status`,
        object_id: `${device.id}_status`,
        device_class: 'connectivity',
        entity_category: 'diagnostic',
        state_topic: topics.status,
        value_template: '{{ value_json.status }}',
        payload_on: 'online',
        payload_off: 'offline',
        device: dev,
      }),
    };
  }
  let n = index - 1;
  for (let i = 0; i < sensors.length; i++) {
    const s = sensors[i];
    const keys = Object.keys(s.readings);
    if (n >= keys.length) {
      n -= keys.length;
      continue;
    }
    const key = keys[n];
    const r = s.readings[key];
    const objectId = `${s.name}_${key}`;
    const config: Record<string, unknown> = {
      name: `${s.name} ${key}`,
      unique_id: `${device.id}_${objectId}`,
      object_id: `${device.id}_${objectId}`,
      state_topic: topics.telemetry(s.name),
      value_template: `{{ value_json.${key} }}`,
      state_class: 'measurement',
      expire_after: expireAfter,
      availability_topic: topics.status,
      availability_template: '{{ value_json.status }}',
      payload_available: 'online',
      payload_not_available: 'offline',
      device: dev,
    };
    if (r.unit) config.unit_of_measurement = r.unit;
    if (r.deviceClass) config.device_class = r.deviceClass;
    return { topic: topics.discovery('sensor', objectId), payload: JSON.stringify(config) };
  }
  return undefined;
};
