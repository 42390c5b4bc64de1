// The client's own CPU per message, ours against MQTT.js, through a private mosquitto on loopback.
// Each client runs alone in a child process (client-cpu-child.ts) and reports the CPU time the
// operating system charged it (user + system) over the measured messages, at a fixed offered rate
// below the broker's limit, so that both clients do the same work in the same time and the broker is
// never the bottleneck. Per QoS and round, three runs, in turn:
// - ours publishing to ours: both of our figures;
// - MQTT.js publishing to ours: MQTT.js's publisher figure, fed to the same subscriber;
// - ours publishing to MQTT.js: MQTT.js's subscriber figure, fed by the same publisher.
// - the harness alone (client-cpu-child.ts `--lib null`): the publisher's driving timer and loop, and
//   an idle subscriber process, metered the same way.
// The broker keeps mosquitto's own set_tcp_nodelay (false). Medians over the rounds. QoS 1/2
// publishers keep the same inflight limit (the driver's, and ours is set to it too), high enough
// never to hold back the offered rate. The end-to-end throughput row (e2e.ts, the suite before this one) keeps that same
// limit on both sides.
//
// Two rows per figure: the raw one (each process's whole CPU, as the rows are named) and the
// same net of the harness (each round's harness figure taken off both sides before the ratio): the
// targets are about the client's own cost, which the raw ratio understates when the harness is a
// large shared part of both.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startMosquitto } from '../broker/mosquitto';
import type { ChildResult } from './client-cpu-child';
import type { BenchResult } from './result';

const CHILD = fileURLToPath(new URL('./client-cpu-child.ts', import.meta.url));

export interface ClientCpuOptions {
  /** Messages per second offered. Default 10,000 (mosquitto here tops out near 30,000 per second at QoS 1 with two cores shared). */
  rate?: number;
  /** Messages measured per run, after `warm` unmeasured ones. */
  count?: number;
  warm?: number;
  rounds?: number;
  qos?: (0 | 1 | 2)[];
  /** Node arguments for the children, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeArgs?: string[];
}

type Lib = 'ours' | 'mqttjs' | 'null';
/** µs of CPU per message. */
interface Run {
  pub: number;
  sub: number;
}

/** Unacknowledged messages a publisher may have: a tick's burst several times over. */
const INFLIGHT = 1000;
/** A child that has not finished by then is killed and the run fails. */
const CHILD_LIMIT_MS = 60_000;

interface Child {
  ready: Promise<void>;
  result: Promise<ChildResult>;
  kill(): void;
}

function startChild(args: Record<string, string | number>, nodeArgs: string[]): Child {
  const argv = [...nodeArgs, '--import', 'tsx', CHILD, ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)])];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let ready!: () => void;
  let settle!: (r: ChildResult) => void;
  let refuse!: (e: Error) => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const result = new Promise<ChildResult>((resolve, reject) => {
    settle = resolve;
    refuse = reject;
  });
  const what = `${args.lib} ${args.role} QoS ${args.qos}`;
  lines.on('line', (line) => {
    let r: ChildResult;
    try {
      r = JSON.parse(line) as ChildResult;
    } catch {
      return;
    }
    if (r.ready) ready();
    else if (r.error) refuse(new Error(`${what}: ${r.error}`));
    else settle(r);
  });
  child.on('exit', (code) => refuse(new Error(`${what}: exited (${code}) without a result`)));
  // a child that fails before it is ready fails the wait for it too
  result.catch(() => ready());
  return { ready: readyP, result, kill: () => child.kill('SIGKILL') };
}

async function run(port: number, qos: 0 | 1 | 2, pubLib: Lib, subLib: Lib, o: Required<Omit<ClientCpuOptions, 'qos'>>, n: number): Promise<Run> {
  const topic = `bench/cpu/${n}`;
  const common = { port, topic, qos, rate: o.rate, warm: o.warm, count: o.count, inflight: INFLIGHT, limit: CHILD_LIMIT_MS };
  const sub = startChild({ ...common, lib: subLib, role: 'sub' }, o.nodeArgs);
  let pub: Child | undefined;
  try {
    await sub.ready;
    pub = startChild({ ...common, lib: pubLib, role: 'pub' }, o.nodeArgs);
    const [p, s] = await Promise.all([pub.result, sub.result]);
    const perMessage = (r: ChildResult) => (r.user! + r.system!) / r.messages!;
    return { pub: perMessage(p), sub: perMessage(s) };
  } finally {
    sub.kill();
    pub?.kill();
  }
}

/** The harness alone, publisher or subscriber: µs of CPU per message. */
async function alone(port: number, qos: 0 | 1 | 2, role: 'pub' | 'sub', o: Required<Omit<ClientCpuOptions, 'qos'>>): Promise<number> {
  const child = startChild({ port, topic: 'bench/cpu/null', qos, rate: o.rate, warm: o.warm, count: o.count, inflight: INFLIGHT, limit: CHILD_LIMIT_MS, lib: 'null', role }, o.nodeArgs);
  try {
    const r = await child.result;
    return (r.user! + r.system!) / r.messages!;
  } finally {
    child.kill();
  }
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}/${median(xs).toFixed(2)}/${Math.max(...xs).toFixed(2)}`;
const round2 = (x: number) => Math.round(x * 100) / 100;

export async function clientCpuBench(options: ClientCpuOptions = {}): Promise<BenchResult[]> {
  const o = { rate: 10_000, count: 30_000, warm: 10_000, rounds: 5, nodeArgs: [], ...options };
  const qosList = options.qos ?? [1, 0, 2];
  // mosquitto as it runs when nobody set set_tcp_nodelay (Nagle on), not the tests' harness default:
  // with it off, every PUBACK and every forwarded PUBLISH is a segment of its own, and both clients
  // are woken per packet (that run's figures are in the README)
  const broker = await startMosquitto({ tcpNoDelay: false, extraConfig: 'max_queued_messages 0\nmax_inflight_messages 0\n' });
  const results: BenchResult[] = [];
  try {
    let n = 0;
    for (const qos of qosList) {
      const ours: Run[] = [];
      const peerPub: number[] = [];
      const peerSub: number[] = [];
      const harness: Run[] = [];
      for (let r = 0; r < o.rounds; r++) {
        ours.push(await run(broker.port, qos, 'ours', 'ours', o, n++));
        peerPub.push((await run(broker.port, qos, 'mqttjs', 'ours', o, n++)).pub);
        peerSub.push((await run(broker.port, qos, 'ours', 'mqttjs', o, n++)).sub);
        harness.push({ pub: await alone(broker.port, qos, 'pub', o), sub: await alone(broker.port, qos, 'sub', o) });
        process.stderr.write(
          `  QoS ${qos} round ${r + 1}: pub ${ours[r].pub.toFixed(2)} vs ${peerPub[r].toFixed(2)} µs, sub ${ours[r].sub.toFixed(2)} vs ${peerSub[r].toFixed(2)} µs; harness alone pub ${harness[r].pub.toFixed(2)}, sub ${harness[r].sub.toFixed(2)} µs\n`,
        );
      }
      const target = qos === 2 ? '<= 0.7x' : '<= 0.5x';
      for (const [role, mine, theirs, shared] of [
        ['publisher', ours.map((x) => x.pub), peerPub, harness.map((x) => x.pub)],
        ['subscriber', ours.map((x) => x.sub), peerSub, harness.map((x) => x.sub)],
      ] as const) {
        const net = (xs: readonly number[]) => xs.map((x, i) => x - shared[i]);
        for (const [name, a, b] of [
          [`client CPU per message, QoS ${qos} ${role}`, mine, theirs],
          [`client CPU per message, QoS ${qos} ${role}, net of the harness`, net(mine), net(theirs)],
        ] as const) {
          const value = median(a);
          const peerValue = median(b);
          process.stderr.write(`  ${name}: ours ${spread(a)}, MQTT.js ${spread(b)} µs (min/median/max); ratios ${spread(a.map((x, i) => x / b[i]))}\n`);
          results.push({
            name,
            value: round2(value),
            unit: `µs CPU/message (${o.rate}/s offered)`,
            peer: 'MQTT.js',
            peerValue: round2(peerValue),
            // ours / MQTT.js: lower is better, as the targets read
            ratio: round2(value / peerValue),
            lowerIsBetter: true,
            target,
          });
        }
        results.push({ name: `client CPU benchmark harness alone, QoS ${qos} ${role}`, value: round2(median(shared)), unit: `µs CPU/message (${o.rate}/s offered)` });
      }
    }
  } finally {
    await broker.stop();
  }
  return results;
}
