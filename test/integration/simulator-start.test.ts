// `npm start` as a user runs it: without a terminal it prints log lines, three devices come online
// and publish, stdin takes fault commands, and Ctrl-C (SIGINT to the process group) stops every
// device with a retained "offline". A second run on the same state dir is the same fleet, one boot
// later. In a terminal (tmux) it draws the table and takes fault keys.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSim } from '../../scripts/sim/app';
import { parseSimArgs } from '../../scripts/sim/cli';
import { runCommand } from '../../scripts/sim/commands';
import { startMosquitto } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';

const root = join(import.meta.dirname, '..', '..');
const stateDir = mkdtempSync(join(tmpdir(), 'sim-start-'));
const running: ChildProcess[] = [];
const cleanup: (() => unknown)[] = [];

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
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

interface Sim {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

function npmStart(args: string[]): Sim {
  // detached: its own process group, so a SIGINT to the group is what Ctrl-C in a terminal sends
  const child = spawn('npm', ['start', '--silent', '--', ...args], { cwd: root, detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  running.push(child);
  const out: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    out.push(...lines);
  });
  const err: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (text: string) => err.push(text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    out,
    exited,
    async waitFor(pattern, ms = 30_000) {
      let match: RegExpMatchArray | undefined;
      await until(
        () => {
          for (const line of out) {
            const m = line.match(pattern);
            if (m) {
              match = m;
              return true;
            }
          }
          if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) before ${pattern}:\n${out.join('\n')}\n${err.join('')}`);
          return false;
        },
        `${pattern} in the output of npm start`,
        ms,
      );
      return match!;
    },
  };
}

interface Heard {
  topic: string;
  json: Record<string, unknown>;
  retain: boolean;
}

async function listen(url: string, filters: string[]): Promise<Heard[]> {
  const peer = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  cleanup.push(() => peer.endAsync(true));
  const heard: Heard[] = [];
  peer.on('message', (topic, payload, packet) => {
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(payload.toString());
    } catch {
      // not JSON
    }
    heard.push({ topic, json, retain: packet.retain });
  });
  await peer.subscribeAsync(filters, { qos: 1 });
  return heard;
}

const idOf = (topic: string) => topic.split('/')[1];

/** True once no process of the group is left (npm, tsx and the simulator all exited). */
function groupGone(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('npm start without a terminal', () => {
  let firstIds: string[] = [];

  it('starts the embedded broker and three devices that come online and publish; stdin takes commands; Ctrl-C publishes "offline" for each', async () => {
    const sim = npmStart(['--state-dir', stateDir, '--port', '0', '--dashboard-port', '0', '--heartbeat', '1', '--telemetry', '1', '--seed', '42']);
    const [, url] = await sim.waitFor(/broker (mqtt:\/\/127\.0\.0\.1:\d+) \(embedded\)/);
    await sim.waitFor(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    const heard = await listen(url, ['nodemcu/+/status', 'nodemcu/+/heartbeat', 'nodemcu/+/telemetry/+']);
    const onlineIds = () => new Set(heard.filter((h) => h.topic.endsWith('/status') && h.json.status === 'online').map((h) => idOf(h.topic)));
    await until(() => onlineIds().size === 3, 'three devices online', 30_000);
    const ids = [...onlineIds()].sort();
    for (const id of ids) {
      await until(() => heard.some((h) => h.topic === `nodemcu/${id}/heartbeat`), `a heartbeat of ${id}`, 10_000);
      await until(() => heard.some((h) => h.topic.startsWith(`nodemcu/${id}/telemetry/`) && Object.values(h.json).some((v) => typeof v === 'number')), `telemetry of ${id}`, 10_000);
    }
    const hb = heard.find((h) => h.topic.endsWith('/heartbeat'))!.json;
    expect(hb).toMatchObject({ boot: 1, version: expect.any(String), reset: 'power-on', interval: 1 });
    expect(typeof hb.rssi).toBe('number');
    firstIds = ids;

    // a fault command on stdin, as a test harness or a script would send it
    sim.child.stdin!.write('cut 2\n');
    await sim.waitFor(/> cut 2: cut 1 connection of device 2/);
    sim.child.stdin!.write('frobnicate 1\n');
    await sim.waitFor(/> frobnicate 1: unknown command "frobnicate"/);
    // every device online again (the cut one reconnects after its backoff): a device stopped while
    // reconnecting has no connection to say "offline" on (its will already said so)
    await until(() => heard.some((h) => h.topic.endsWith('/status') && h.json.state === 'lost'), 'the will of the cut device', 10_000);
    await until(() => ids.every((id) => heard.filter((h) => h.topic === `nodemcu/${id}/status`).at(-1)?.json.status === 'online'), 'all online', 15_000);

    const before = heard.length;
    process.kill(-sim.child.pid!, 'SIGINT');
    const offline = () => heard.slice(before).filter((h) => h.topic.endsWith('/status') && h.json.status === 'offline' && h.json.state === 'disconnected');
    await until(() => new Set(offline().map((h) => idOf(h.topic))).size === 3, '"offline" from every device', 15_000);
    for (const h of offline()) expect(h.json).toMatchObject({ reason: 'simulator stopped', boot: 1 });
    // the simulator finishes its stop and exits by itself (npm and tsx may leave first on the signal)
    await sim.waitFor(/\[sim\] INFO  stopped$/, 10_000);
    await until(() => groupGone(sim.child.pid!), 'every process of npm start gone', 10_000);
    expect(sim.out.some((l) => /SIGINT again|exiting without waiting/.test(l))).toBe(false);
  });

  it('a second run on the same state dir is the same fleet one boot later, with JSON log lines; SIGTERM stops it cleanly', async () => {
    expect(firstIds).toHaveLength(3);
    const sim = npmStart(['--state-dir', stateDir, '--port', '0', '--dashboard-port', 'off', '--heartbeat', '1', '--log', 'json', '--seed', '42']);
    await sim.waitFor(/"msg":"broker mqtt:\/\/127\.0\.0\.1:\d+ \(embedded\)/);
    const url = (await sim.waitFor(/broker (mqtt:\/\/127\.0\.0\.1:\d+)/))[1];
    const heard = await listen(url, ['nodemcu/+/heartbeat']);
    await until(() => new Set(heard.map((h) => idOf(h.topic))).size === 3, 'heartbeats of three devices', 30_000);
    expect([...new Set(heard.map((h) => idOf(h.topic)))].sort()).toEqual(firstIds);
    for (const h of heard) expect(h.json.boot).toBe(2);
    process.kill(-sim.child.pid!, 'SIGTERM');
    await sim.waitFor(/"msg":"stopped"/, 10_000);
    await until(() => groupGone(sim.child.pid!), 'every process of npm start gone', 10_000);
    const lines = sim.out.filter((l) => l.trim());
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: expect.stringMatching(/^(debug|info|warn|error)$/), msg: expect.any(String) });
    }
    const deviceLine = lines.map((l) => JSON.parse(l)).find((e) => e.device);
    expect(firstIds).toContain(deviceLine.device);
    expect(deviceLine.n).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => /"msg":"stopped"/.test(l))).toBe(true);
  });

  it('a bad flag fails at once with the usage text and exit code 2', async () => {
    const sim = npmStart(['--devices', 'lots']);
    expect(await sim.exited).toBe(2);
  });
});

describe('npm start in a terminal', () => {
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', `sim-test-${process.pid}`, ...args], { encoding: 'utf8' });
  const screen = () => tmux('capture-pane', '-p', '-t', 'sim').stdout;

  it('draws the device table, takes fault keys, and quits with q', async () => {
    if (spawnSync('tmux', ['-V']).status !== 0) throw new Error('tmux is missing: apt-get install -y tmux');
    const dir = mkdtempSync(join(tmpdir(), 'sim-tty-'));
    const exitFile = join(dir, 'exit');
    cleanup.push(() => {
      tmux('kill-server');
      rmSync(dir, { recursive: true, force: true });
    });
    const command = `cd ${root} && npm start --silent -- --state-dir ${dir}/state --port 0 --dashboard-port 0 --heartbeat 1 --telemetry 1 --seed 7; echo $? > ${exitFile}`;
    expect(tmux('new-session', '-d', '-s', 'sim', '-x', '150', '-y', '40', command).status).toBe(0);
    await until(() => /online 3\/3/.test(screen()), 'three devices online on the screen', 40_000);
    const table = screen();
    expect(table).toMatch(/NodeMCU fleet simulator · 3 devices · prefix nodemcu · seed 7/);
    expect(table).toMatch(/#\s+device\s+state\s+version\s+boot\s+rssi\s+outbox\s+last telemetry\s+faults/);
    expect(table.match(/^\s?>?[123]\s+[0-9a-f]{12}\s+online/gm)).toHaveLength(3);
    tmux('send-keys', '-t', 'sim', 'j');
    tmux('send-keys', '-t', 'sim', 's');
    await until(() => /> stall 2: stalled device 2/.test(screen()), 'the stall of device 2', 15_000);
    await until(() => /^\s?>2\s+[0-9a-f]{12}.*stalled/m.test(screen()), 'the fault in the table', 15_000);
    tmux('send-keys', '-t', 'sim', 's');
    await until(() => /> stall 2: un-stalled device 2/.test(screen()), 'the stall over', 15_000);
    tmux('send-keys', '-t', 'sim', '?');
    await until(() => /p  power cut \(no "offline": the will\)/.test(screen()), 'the help', 15_000);
    tmux('send-keys', '-t', 'sim', 'q');
    await until(() => existsSync(exitFile), 'the simulator to exit', 30_000);
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('0');
  });
});

describe('the simulator against an external broker', () => {
  it('--broker mqtts:// with --ca: devices connect over TLS, verified against that CA; broker-restart is refused', async () => {
    const broker = await startMosquitto({ tls: true });
    cleanup.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'sim-tls-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const lines: string[] = [];
    const app = await startSim(parseSimArgs(['--devices', '2', '--broker', broker.tlsUrl!, '--ca', broker.certs!.caFile, '--state-dir', dir, '--dashboard-port', 'off', '--heartbeat', '1', '--view', 'log', '--ota-key', 'off']), {
      stdout: { write: (t: string) => lines.push(t) },
      stdin: new PassThrough(),
    });
    cleanup.push(() => app.stop());
    expect(app.broker).toBeUndefined();
    const heard = await listen(broker.url, ['nodemcu/+/heartbeat']);
    await until(() => new Set(heard.map((h) => idOf(h.topic))).size === 2, 'heartbeats of both devices over TLS', 30_000);
    expect(app.fleet.devices.every((d) => d.device!.values.brokerTls)).toBe(true);
    await expect(runCommand({ fleet: app.fleet, model: app.model, broker: app.broker, quit: () => {} }, 'broker-restart')).rejects.toThrow(/external broker/);
    await app.stop();

    // the same broker with a CA that did not sign its certificate: no device connects, and the log says why
    const wrongCa = join(dir, 'wrong-ca.pem');
    writeFileSync(wrongCa, broker.wrongCa!);
    const refused: string[] = [];
    const other = await startSim(parseSimArgs(['--devices', '1', '--broker', broker.tlsUrl!, '--ca', wrongCa, '--state-dir', join(dir, 'other'), '--dashboard-port', 'off', '--view', 'log', '--ota-key', 'off']), {
      stdout: { write: (t: string) => refused.push(t) },
      stdin: new PassThrough(),
    });
    cleanup.push(() => other.stop());
    await until(() => refused.some((l) => /TLS to 127\.0\.0\.1:\d+ failed .*not trusted by tls\.ca/.test(l)), 'the TLS verification failure in the log', 20_000);
    expect(other.fleet.devices[0].presence).not.toBe('ready');
  });
});
