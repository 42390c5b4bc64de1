// The operator's MQTT connection (MQTT.js), bounded in time, with an actionable error.
import mqtt from 'mqtt';
import { FleetError } from './errors';
import { redactUrl } from './validate';

export async function connectBroker(url: string): Promise<mqtt.MqttClient> {
  let timer: NodeJS.Timeout | undefined;
  const shown = redactUrl(url); // the broker's password stays out of messages
  const client = mqtt.connect(url, { clientId: `fleet-${process.pid}-${Math.random().toString(16).slice(2, 8)}`, reconnectPeriod: 1000, connectTimeout: 10_000 });
  try {
    return await new Promise<mqtt.MqttClient>((resolve, reject) => {
      timer = setTimeout(() => reject(new FleetError('broker', `cannot connect to the broker ${shown} within 15 s`)), 15_000);
      client.once('connect', () => resolve(client));
      client.once('error', (error) => reject(new FleetError('broker', `cannot connect to the broker ${shown}: ${error.message}`)));
    });
  } catch (error) {
    client.end(true);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
