// Simulated devices with their state dir, against mosquitto, as an operator sees them (MQTT.js):
// a garbage or emptied entry under the device's nvs folder no longer means a panic loop (the device
// boots with defaults and says so in its heartbeat), and a stored broker that never accepts the
// device is rolled back to the last one that did, with a notice once the device is back.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimDeviceRunner, type SimDeviceOptions } from '../../scripts/sim/device-runner';
import { Environment } from '../../scripts/sim/environment';
import { createNodeNetwork } from '../../hosts/sim/net';
import { TimerWheel } from '../../hosts/sim/shared-clock';
import { observer, type Observed } from '../helpers/device';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';
import { freePorts } from '../../scripts/broker/free-ports';

let broker: MosquittoBroker;
let wheel: TimerWheel;
let dir: string;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  wheel = new TimerWheel();
  dir = mkdtempSync(join(tmpdir(), 'sim-storage-'));
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(async () => {
  wheel?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let serial = 0;

function device(name: string, options: Partial<SimDeviceOptions> = {}): SimDeviceRunner {
  const runner = new SimDeviceRunner({
    index: serial++,
    wheel,
    environment: new Environment({ seed: 5, utcOffsetMinutes: 0 }),
    network: createNodeNetwork(),
    stateDir: join(dir, name),
    seed: 5,
    board: 'env',
    bootMs: 50,
    ...options,
    config: { prefix: 'sto', brokerHost: broker.host, brokerPort: broker.port, heartbeatInterval: 1, telemetryInterval: 5, discovery: false },
  });
  cleanup.push(() => runner.stop());
  return runner;
}

interface Operator {
  seen: Observed[];
  /** Publishes a command request and waits for its result. */
  command(name: string, request: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** An operator's MQTT.js client watching everything of device `id`. */
async function operator(id: string): Promise<Operator> {
  const { peer, seen } = await observer(broker.url, [`sto/${id}/#`]);
  cleanup.push(() => peer.endAsync(true));
  return {
    seen,
    async command(name, request) {
      await peer.publishAsync(`sto/${id}/cmd/${name}`, JSON.stringify(request), { qos: 1 });
      let reply: Observed | undefined;
      await until(() => !!(reply = seen.find((m) => m.topic === `sto/${id}/cmd/${name}/result` && m.json.id === request.id)), `${name} result`);
      return reply!.json;
    },
  };
}

async function online(r: SimDeviceRunner, ms = 20_000): Promise<void> {
  await until(() => r.presence === 'ready', `device ${r.index} online`, ms);
}

describe('simulated device storage', () => {
  it('a garbage and an emptied entry under nvs/: the device boots with defaults and says so over MQTT', async () => {
    let r = device('garbage');
    r.start();
    await online(r);
    const id = r.deviceId;
    const op = await operator(id);
    const seen = op.seen;
    expect(await op.command('set-config', { id: 'c1', args: { telemetryQos: 0 } })).toMatchObject({ status: 'ok' });
    await r.stop();
    const nvs = join(dir, 'garbage', 'nvs');
    expect(readdirSync(nvs)).toEqual(expect.arrayContaining(['boot.json', 'c%2Etq.json']));
    writeFileSync(join(nvs, 'c%2Etq.json'), '\u0000\u0007 not json');
    writeFileSync(join(nvs, 'boot.json'), '');
    const logs: string[] = [];
    r = device('garbage', { log: (_r, _level, message) => logs.push(message) });
    r.start();
    await online(r);
    expect(r.boots).toBe(1); // no panic, no second boot
    let beat: Observed | undefined;
    await until(() => !!(beat = seen.find((m) => m.topic === `sto/${id}/heartbeat` && m.json.storage)), 'a heartbeat that reports the reset entries');
    expect((beat!.json.storage as { reset: string[] }).reset.sort()).toEqual(['boot', 'c.tq']);
    expect(beat!.json.boot).toBe(1);
    expect((await op.command('get-config', { id: 'g1' })).result).toMatchObject({ telemetryQos: 1 });
    expect(logs.some((l) => /storage: "c\.tq" is unreadable \(KeyValueError: stored value of "c\.tq" .* is not valid JSON/.test(l))).toBe(true);
    expect(readdirSync(nvs)).not.toContain('c%2Etq.json');
  });

  it('a stored broker that never accepts the device is rolled back to the last one that did, and the operator is told', async () => {
    const [closed] = await freePorts(1);
    const r = device('rollback');
    const logs: string[] = [];
    r.options.log = (_r, _level, message) => logs.push(message);
    r.start();
    await online(r);
    const id = r.deviceId;
    const op = await operator(id);
    const seen = op.seen;
    const set = await op.command('set-config', { id: 's1', args: { brokerPort: closed } });
    expect(set).toMatchObject({ status: 'ok', result: { restartRequired: ['brokerPort'] } });
    const boot = r.device!.boot;
    await op.command('reboot', { id: 'r1' });
    await until(() => logs.some((l) => /config: broker .* did not accept the device \(3 connection attempts failed/.test(l)), 'the rollback', 30_000);
    await until(() => r.presence === 'ready' && r.device!.boot === boot + 2, 'online again on the old broker', 30_000);
    let notice: Observed | undefined;
    await until(() => !!(notice = seen.find((m) => m.topic === `sto/${id}/cmd/set-config/result` && m.json.rolledBack)), 'the rollback notice');
    expect(notice!.json).toMatchObject({ id: null, status: 'error', rolledBack: { from: `127.0.0.1:${closed}`, to: `127.0.0.1:${broker.port}`, keys: ['brokerPort'] } });
    await until(() => seen.some((m) => m.topic === `sto/${id}/heartbeat` && (m.json.config as { rolledBack?: unknown })?.rolledBack), 'the heartbeat field');
    expect((await op.command('get-config', { id: 'g2' })).result).toMatchObject({ brokerPort: broker.port });
  });
});
