// Helpers for tests that run our MQTT client on the sim host against a real broker.
import { MqttClient, type ClientOptions } from '../../src/mqtt/client';
import { RealClock } from '../../hosts/sim/clock';
import { createNodeNetwork } from '../../hosts/sim/net';

interface Received {
  topic: string;
  text: string;
  qos: number;
  retain: boolean;
  dup: boolean;
}

export interface TestClient {
  client: MqttClient;
  received: Received[];
  errors: Error[];
  connects: { sessionPresent: boolean }[];
  disconnects: (Error | undefined)[];
  /** Resolves at the next successful CONNACK after the call. */
  nextConnect(timeoutMs?: number): Promise<{ sessionPresent: boolean }>;
}

const decoder = new TextDecoder();

export function testClient(options: Partial<ClientOptions> & { host: string; port: number; clientId: string }): TestClient {
  const received: Received[] = [];
  const errors: Error[] = [];
  const connects: { sessionPresent: boolean }[] = [];
  const disconnects: (Error | undefined)[] = [];
  const waiters: ((info: { sessionPresent: boolean }) => void)[] = [];
  const client = new MqttClient({
    clock: new RealClock(),
    network: createNodeNetwork(),
    reconnect: { minDelay: 50, maxDelay: 500, stableAfter: 2000 },
    ...options,
    onConnect(info) {
      connects.push(info);
      for (const w of waiters.splice(0)) w(info);
      options.onConnect?.(info);
    },
    onMessage(topic, payload, info) {
      received.push({ topic, text: decoder.decode(payload), ...info });
      options.onMessage?.(topic, payload, info);
    },
    onError(error) {
      errors.push(error);
      options.onError?.(error);
    },
    onDisconnect(error) {
      disconnects.push(error);
      options.onDisconnect?.(error);
    },
  });
  return {
    client,
    received,
    errors,
    connects,
    disconnects,
    nextConnect(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${options.clientId}: no CONNACK within ${timeoutMs} ms; errors: ${errors.map((e) => e.message).join('; ')}`)), timeoutMs);
        waiters.push((info) => {
          clearTimeout(timer);
          resolve(info);
        });
      });
    },
  };
}

export async function connected(t: TestClient, timeoutMs?: number): Promise<{ sessionPresent: boolean }> {
  const next = t.nextConnect(timeoutMs);
  t.client.connect();
  return next;
}

/** Polls `condition` every 10 ms until true or the time is up (then throws with `what`). */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function subscribed(t: TestClient, filter: string, qos: 0 | 1 | 2): Promise<number[]> {
  return new Promise((resolve, reject) =>
    t.client.subscribe(filter, { qos }, (error, granted) => (error ? reject(error) : resolve(granted))),
  );
}

export function published(t: TestClient, topic: string, payload: string, qos: 0 | 1 | 2, retain = false): Promise<void> {
  return new Promise((resolve, reject) => t.client.publish(topic, payload, { qos, retain }, (error) => (error ? reject(error) : resolve())));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
