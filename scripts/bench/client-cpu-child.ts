// One side of the client CPU benchmark (client-cpu.ts), alone in its process so that the operating
// system's count of its CPU time (user + system) is the client's own: a publisher sending at a fixed
// rate, or a subscriber counting what arrives, with our client or MQTT.js. It prints one JSON line,
// "ready" once connected (and subscribed), then the result: CPU microseconds over the measured messages
// (after `warm` ones), and the wall time they took. Loopback only; every wait is bounded.
//
// `--lib null` is the harness without a client, to measure what the figures share: a publisher whose
// publish() only calls back (the driving timer and loop, the meter, Node itself), and a subscriber
// that receives nothing and is metered over the time the measured messages take at the offered rate.
import mqtt from 'mqtt';
import { RealClock } from '../../hosts/sim/clock';
import { createNodeNetwork } from '../../hosts/sim/net';
import { MqttClient } from '../../src/mqtt/client';
import type { QoS } from '../../src/mqtt/packets';

export interface ChildArgs {
  lib: 'ours' | 'mqttjs' | 'null';
  role: 'pub' | 'sub';
  port: number;
  topic: string;
  qos: QoS;
  /** Messages per second the publisher offers. */
  rate: number;
  /** Messages before the measurement starts (connection warm, JIT done). */
  warm: number;
  /** Messages measured. */
  count: number;
  /** Most unacknowledged QoS 1/2 messages the publisher lets out (the driver's limit, the same for both clients). */
  inflight: number;
  /** The whole run ends (with an error) after this many ms. */
  limitMs: number;
}

export interface ChildResult {
  ready?: boolean;
  /** CPU time over the measured messages, µs (user, system). */
  user?: number;
  system?: number;
  /** Wall time over the measured messages, ms. */
  ms?: number;
  messages?: number;
  /** Times the process slept and was woken (voluntary context switches) over the measured messages. */
  wakeups?: number;
  error?: string;
}

/** The publisher's tick: what the rate owes is sent every TICK_MS. */
const TICK_MS = 5;
const PAYLOAD = new Uint8Array(64).fill(0x62);

interface Side {
  publish(topic: string, payload: Uint8Array, qos: QoS, done: () => void): void;
  end(): void;
}

function say(result: ChildResult): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}

function fail(message: string): never {
  say({ error: message });
  process.exit(1);
}

function connectOurs(a: ChildArgs, onMessage: () => void): Promise<Side> {
  return new Promise((resolve, reject) => {
    const client = new MqttClient({
      clock: new RealClock(),
      network: createNodeNetwork(),
      host: '127.0.0.1',
      port: a.port,
      clientId: `cpu-${a.lib}-${a.role}-${process.pid}`,
      // the driver keeps the inflight limit; the client's own window and outbox must not bind first
      inflightWindow: a.inflight,
      outbox: { maxMessages: a.rate, maxBytes: a.rate * 256 },
      reconnect: false,
      onMessage,
      onError: (e) => reject(e),
      onConnect() {
        const side: Side = {
          publish: (topic, payload, qos, done) => void client.publish(topic, payload, qos ? { qos } : undefined, done),
          end: () => client.end(),
        };
        if (a.role === 'pub') resolve(side);
        else client.subscribe(a.topic, { qos: a.qos }, (e) => (e ? reject(e) : resolve(side)));
      },
    });
    client.connect();
  });
}

async function connectPeer(a: ChildArgs, onMessage: () => void): Promise<Side> {
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port: a.port, clientId: `cpu-${a.lib}-${a.role}-${process.pid}`, protocolVersion: 4, reconnectPeriod: 0 });
  if (a.role === 'sub') {
    client.on('message', onMessage);
    await client.subscribeAsync(a.topic, { qos: a.qos });
  }
  return {
    publish: (topic, payload, qos, done) => void client.publish(topic, payload as Buffer, { qos }, done),
    end: () => void client.end(),
  };
}

/** The harness alone: publish() calls back at once; a subscriber gets nothing (see main). */
function connectNull(): Promise<Side> {
  return Promise.resolve({ publish: (_topic, _payload, _qos, done) => done(), end: () => {} });
}

/** Measures from the `warm`th message to the last: call at each message (sent and done, or received). */
function meter(a: ChildArgs, finish: (r: ChildResult) => void): () => void {
  let seen = 0;
  let cpu: NodeJS.CpuUsage;
  let t0 = 0;
  let switches = 0;
  return () => {
    seen++;
    if (seen === a.warm) {
      t0 = performance.now();
      switches = process.resourceUsage().voluntaryContextSwitches;
      cpu = process.cpuUsage();
    } else if (seen === a.warm + a.count) {
      const used = process.cpuUsage(cpu);
      const wakeups = process.resourceUsage().voluntaryContextSwitches - switches;
      finish({ user: used.user, system: used.system, ms: performance.now() - t0, messages: a.count, wakeups });
    }
  };
}

async function main(a: ChildArgs): Promise<void> {
  const limit = setTimeout(() => fail(`${a.lib} ${a.role} QoS ${a.qos}: not done within ${a.limitMs} ms`), a.limitMs);
  let side: Side | undefined;
  const finish = (r: ChildResult) => {
    clearTimeout(limit);
    say(r);
    side?.end();
    // the peer's end() may wait on its stores: the result is out, so leave
    setTimeout(() => process.exit(0), 50);
  };
  const tick = meter(a, finish);
  const total = a.warm + a.count;
  side = await (a.lib === 'ours' ? connectOurs : a.lib === 'mqttjs' ? connectPeer : connectNull)(a, a.role === 'sub' ? tick : () => {});
  say({ ready: true });
  if (a.role === 'sub') {
    if (a.lib !== 'null') return;
    // nothing arrives: metered over the time the measured messages take at the offered rate
    for (let i = 0; i < a.warm; i++) tick();
    setTimeout(() => {
      for (let i = 0; i < a.count; i++) tick();
    }, (a.count * 1000) / a.rate);
    return;
  }

  // Publisher: each tick sends what the rate owes since the start, within the inflight limit.
  const s = side;
  let sent = 0;
  let done = 0;
  const onDone = () => {
    done++;
    tick();
  };
  const start = performance.now();
  const timer = setInterval(() => {
    const owed = Math.min(total, Math.floor(((performance.now() - start) * a.rate) / 1000));
    while (sent < owed && (!a.qos || sent - done < a.inflight)) {
      sent++;
      s.publish(a.topic, PAYLOAD, a.qos, onDone);
    }
    if (sent === total) clearInterval(timer);
  }, TICK_MS);
}

function parse(argv: string[]): ChildArgs {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
  const n = (k: string) => {
    const v = Number(o[k]);
    if (!Number.isFinite(v)) fail(`--${k} must be a number, not ${o[k]}`);
    return v;
  };
  if (o.lib !== 'ours' && o.lib !== 'mqttjs' && o.lib !== 'null') fail('--lib is ours, mqttjs or null');
  if (o.role !== 'pub' && o.role !== 'sub') fail('--role is pub or sub');
  return { lib: o.lib, role: o.role, port: n('port'), topic: o.topic ?? 'bench/cpu', qos: n('qos') as QoS, rate: n('rate'), warm: n('warm'), count: n('count'), inflight: n('inflight'), limitMs: n('limit') };
}

main(parse(process.argv.slice(2))).catch((e: Error) => fail(e.message));
