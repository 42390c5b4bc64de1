// End-to-end QoS 1 throughput through a private mosquitto: one publisher, one subscriber, N messages,
// ours against MQTT.js, alternating rounds in the same run. Loopback only. Both publishers keep the
// same inflight limit: the driver sends the next message as one is acknowledged, at most INFLIGHT
// unacknowledged (MQTT.js has no window of its own; ours is given the same one).
import mqtt from 'mqtt';
import { RealClock } from '../../hosts/sim/clock';
import { createNodeNetwork } from '../../hosts/sim/net';
import { MqttClient } from '../../src/mqtt/client';
import { startMosquitto } from '../broker/mosquitto';
import type { BenchResult } from './result';

const N = 10000;
const INFLIGHT = 16;
/** A round that has not finished by then fails the benchmark. */
const ROUND_LIMIT_MS = 60_000;
const payload = new Uint8Array(64).fill(0x62);

function ourClient(port: number, id: string, onMessage?: () => void): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c: MqttClient = new MqttClient({
      clock: new RealClock(),
      network: createNodeNetwork(),
      host: '127.0.0.1',
      port,
      clientId: id,
      inflightWindow: INFLIGHT,
      reconnect: false,
      onConnect: () => resolve(c),
      onError: reject,
      onMessage,
    });
    c.connect();
  });
}

/** Sends N messages with `publish`, at most INFLIGHT unacknowledged; resolves when `received` says all arrived. */
async function drive(publish: (done: () => void) => void, received: Promise<void>, what: string): Promise<number> {
  let sent = 0;
  const next = () => {
    if (sent < N) {
      sent++;
      publish(next);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what}: ${N} messages not through within ${ROUND_LIMIT_MS} ms`)), ROUND_LIMIT_MS)));
  const t0 = performance.now();
  for (let i = 0; i < INFLIGHT; i++) next();
  try {
    await Promise.race([received, limit]);
  } finally {
    clearTimeout(timer);
  }
  return (N / (performance.now() - t0)) * 1000;
}

async function ours(port: number, round: number): Promise<number> {
  let got = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const sub = await ourClient(port, `o-sub-${round}`, () => ++got === N && finish());
  await new Promise<void>((r, reject) => sub.subscribe(`bench/o${round}`, { qos: 1 }, (e) => (e ? reject(e) : r())));
  const pub = await ourClient(port, `o-pub-${round}`);
  const topic = `bench/o${round}`;
  const rate = await drive((next) => pub.publish(topic, payload, { qos: 1 }, next), done, 'ours');
  pub.end();
  sub.end();
  return rate;
}

async function peer(port: number, round: number): Promise<number> {
  const opts = { host: '127.0.0.1', port, reconnectPeriod: 0, protocolVersion: 4 as const };
  const sub = await mqtt.connectAsync({ ...opts, clientId: `p-sub-${round}` });
  let got = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  sub.on('message', () => ++got === N && finish());
  await sub.subscribeAsync(`bench/p${round}`, { qos: 1 });
  const pub = await mqtt.connectAsync({ ...opts, clientId: `p-pub-${round}` });
  const buf = Buffer.from(payload);
  const topic = `bench/p${round}`;
  const rate = await drive((next) => pub.publish(topic, buf, { qos: 1 }, next), done, 'MQTT.js');
  await pub.endAsync();
  await sub.endAsync();
  return rate;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

export async function e2eBench(): Promise<BenchResult[]> {
  const broker = await startMosquitto({ extraConfig: 'max_queued_messages 0\nmax_inflight_messages 0\n' });
  try {
    await ours(broker.port, 0);
    await peer(broker.port, 0);
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 1; round <= 5; round++) {
      a.push(await ours(broker.port, round));
      b.push(await peer(broker.port, round));
    }
    const value = median(a);
    const peerValue = median(b);
    return [
      {
        name: `end-to-end QoS 1 through mosquitto (${N} x 64 B, inflight ${INFLIGHT} both)`,
        value: Math.round(value),
        unit: 'messages/s',
        peer: 'MQTT.js',
        peerValue: Math.round(peerValue),
        ratio: +(value / peerValue).toFixed(2),
        target: '>= 1.5x',
      },
    ];
  } finally {
    await broker.stop();
  }
}
