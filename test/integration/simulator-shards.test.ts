// A fleet spread over processes: `npm start -- --devices N --shard i/2` twice against one external
// mosquitto is one fleet: every device online exactly once (no id twice, none missing), each shard
// running its own devices, and the same devices, by id, as one process running the whole fleet.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';

const root = join(import.meta.dirname, '..', '..');
const DEVICES = 7;
const SEED = 31;
let broker: MosquittoBroker;
const running: ChildProcess[] = [];
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  broker = await startMosquitto({ logTypes: ['error', 'warning', 'notice', 'information'] });
});
afterAll(() => broker.stop());
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

interface Sim {
  child: ChildProcess;
  out: string[];
  /** Device numbers and ids this process logged: "[3 02ab...]". */
  devices(): Map<number, string>;
  stopped(): Promise<void>;
}

function npmStart(args: string[]): Sim {
  const child = spawn('npm', ['start', '--silent', '--', ...args], { cwd: root, detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  running.push(child);
  const out: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    out.push(...lines);
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => out.push(text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    out,
    devices() {
      const found = new Map<number, string>();
      for (const line of out) {
        const m = /\[(\d+) ([0-9a-f]{12})\]/.exec(line);
        if (m) found.set(Number(m[1]), m[2]);
      }
      return found;
    },
    async stopped() {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    },
  };
}

/** Device ids whose retained status under `prefix` says online, as a back end sees them. */
async function onlineIds(prefix: string): Promise<{ ids: () => string[]; births: () => number }> {
  const peer = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  cleanup.push(() => peer.endAsync(true));
  const status = new Map<string, string>();
  let births = 0;
  peer.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString() || '{}') as { status?: string };
    if (body.status === 'online') births++;
    status.set(topic.split('/')[1], body.status ?? '');
  });
  await peer.subscribeAsync(`${prefix}/+/status`, { qos: 1 });
  return { ids: () => [...status].filter(([, s]) => s === 'online').map(([id]) => id).sort(), births: () => births };
}

/** The same fleet for every process: size, seed, broker; state in memory, log lines, no dashboard. */
const args = (prefix: string, extra: string[]) => [
  ...['--devices', String(DEVICES), '--seed', String(SEED), '--broker', broker.url, '--prefix', prefix],
  ...['--state-dir', 'off', '--dashboard-port', 'off', '--view', 'log', '--heartbeat', '2', '--telemetry', '5', '--start-rate', '50'],
  ...extra,
];

describe('a fleet in shards', () => {
  it('two processes with --shard 1/2 and 2/2 are one fleet: every device once, none missing, the same ids as one process', async () => {
    const fleet = await onlineIds('shards');
    const first = npmStart(args('shards', ['--shard', '1/2']));
    const second = npmStart(args('shards', ['--shard', '2/2']));
    await until(() => fleet.ids().length === DEVICES, `${DEVICES} devices online across both shards`, 60_000);
    // each shard ran only its own numbers (1, 3, 5, 7 and 2, 4, 6), and no device ran in both
    const a = first.devices();
    const b = second.devices();
    expect([...a.keys()].sort()).toEqual([1, 3, 5, 7]);
    expect([...b.keys()].sort()).toEqual([2, 4, 6]);
    const sharded = [...a.values(), ...b.values()].sort();
    expect(new Set(sharded).size).toBe(DEVICES);
    expect(fleet.ids()).toEqual(sharded);
    // every device came online once: a duplicate id would have been kicked and come back, again and again
    expect(fleet.births()).toBe(DEVICES);
    expect(first.out.some((l) => /NodeMCU fleet simulator · 4 of 7 devices \(shard 1\/2\)/.test(l))).toBe(true);
    await Promise.all([first.stopped(), second.stopped()]);

    // the whole fleet in one process: the same devices
    const whole = await onlineIds('whole');
    const one = npmStart(args('whole', []));
    await until(() => whole.ids().length === DEVICES, `${DEVICES} devices online in one process`, 60_000);
    expect([...one.devices().values()].sort()).toEqual(sharded);
    await one.stopped();
  });
});
