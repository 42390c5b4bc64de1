// The simulator application behind `npm start`: the embedded broker (or an external one), the fleet,
// a monitor that listens like a back end, the web dashboard, and the terminal view or log lines.
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { FleetModel, type SimView } from './dashboard/model';
import { Monitor } from './dashboard/monitor';
import { Dashboard } from './dashboard/server';
import type { SimDeviceRunner } from './device-runner';
import { EmbeddedBroker } from './embedded-broker';
import { describeShard, Fleet, shardSize } from './population';
import { checkDescriptorLimit } from './limits';
import { otaExtension } from '../../src/ota/extension';
import { createNodeNetwork } from '../../hosts/sim/net';
import { TtyView } from './tty/screen';
import type { LogLevel } from '../../src/ports';
import type { SimOptions } from './cli';
import { runCommand } from './commands';
import { loadOtaKey } from './ota-key';

export interface AppIo {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number; rows?: number; on?(event: 'resize', listener: () => void): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
}

export interface SimApp {
  fleet: Fleet;
  model: FleetModel;
  broker?: EmbeddedBroker;
  brokerUrl: string;
  dashboard?: Dashboard;
  /** Stops every device cleanly ("offline"), then the rest. Safe to call twice. */
  stop(): Promise<void>;
  /** Resolves when stopped (by stop(), the q key or the quit command). */
  done: Promise<void>;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function simView(r: SimDeviceRunner): SimView {
  const ota = r.ota;
  return {
    label: r.index + 1,
    power: r.power,
    wifi: r.wifiState,
    presence: r.presence,
    stalled: r.stalled,
    wifiDown: r.wifiDown,
    broken: [...r.brokenSensors],
    otaCutArmed: r.otaCutArmed,
    outbox: r.device?.client.outboxState.depth,
    flashing: ota && ota.size ? Math.floor((100 * ota.written) / ota.size) : undefined,
    version: r.version,
    boot: r.device?.boot,
    board: r.options.boardType,
  };
}

/** Every this many ms, log lines say how many of the devices are online (fleets of this many devices or more). */
const SUMMARY_EVERY_MS = 10_000;
const SUMMARY_FROM_DEVICES = 100;
/** Fleets up to this many devices per process flush every storage write to the disk. */
const FLUSHED_FLEET = 1000;

export async function startSim(options: SimOptions, io: AppIo): Promise<SimApp> {
  const json = options.log === 'json';
  const table = options.view === 'table' || (options.view === 'auto' && !!io.stdout.isTTY && !!io.stdin.isTTY);
  // The fleet as a back end hears it (a monitor client, a row per device) is for the views: without
  // a table or a dashboard, a large fleet costs no second copy of every message.
  const watching = table || options.dashboardPort !== undefined;
  const local = shardSize(options.devices, options.shard);
  // one socket per device, and some for the simulator itself: fail now with the fix, not later with EMFILE
  checkDescriptorLimit(local);
  let view: TtyView | undefined;
  const emit = (line: string) => (view ? view.log(line) : io.stdout.write(line + '\n'));
  const line = (level: LogLevel, message: string, device?: SimDeviceRunner) => {
    // --level quiets the devices; the simulator's own lines (where things are, the summaries) stay
    if (RANK[level] < (device ? RANK[options.level] : Math.min(RANK[options.level], RANK.info))) return;
    const time = new Date().toISOString();
    if (json) {
      emit(JSON.stringify(device ? { time, device: device.deviceId, n: device.index + 1, level, msg: message } : { time, component: 'sim', level, msg: message }));
    } else {
      const who = device ? `[${device.index + 1} ${device.deviceId}]` : '[sim]';
      emit(`${time} ${who} ${level.toUpperCase().padEnd(5)} ${message}`);
    }
  };
  const say = (message: string, level: LogLevel = 'info') => line(level, message);

  // ---- broker ----
  let broker: EmbeddedBroker | undefined;
  let host: string;
  let port: number;
  let brokerUrl: string;
  if (options.broker) {
    ({ host, port, url: brokerUrl } = options.broker);
  } else {
    broker = await EmbeddedBroker.start({ port: options.port, fallbackToFreePort: !options.portGiven });
    ({ host, port, url: brokerUrl } = broker);
    if (broker.requestedPort !== undefined) say(`port ${broker.requestedPort} is taken (another broker?): the embedded broker uses ${broker.port} instead`, 'warn');
  }

  // ---- OTA: the key the devices trust ----
  const stateDir = resolve(options.stateDir);
  // OTA needs the flash slots in the state dir
  const ota = options.otaKey === false || options.stateDir === 'off' ? undefined : loadOtaKey(stateDir, options.otaKey);

  // ---- fleet and what watches it ----
  const model = new FleetModel(options.prefix, brokerUrl);
  const lastPresence: string[] = [];
  const fleet: Fleet = new Fleet({
    devices: options.devices,
    shard: options.shard,
    broker: { host, port, ports: options.broker?.ports, tls: options.broker?.tls, ca: options.broker?.ca, username: options.broker?.username, password: options.broker?.password },
    prefix: options.prefix,
    stateDir: options.stateDir === 'off' ? undefined : stateDir,
    // a large fleet does not wait for the disk at every boot counter (a crash still leaves old or new values)
    flushStorage: local <= FLUSHED_FLEET,
    seed: options.seed,
    // every device follows the group "sim" too, so `fleet send --group sim` reaches all of them
    extensions: ota ? () => [otaExtension({ publicKey: ota.publicHex, groups: ['sim'], progressInterval: 1000, healthWindow: 30_000, healthSettle: 5_000 })] : undefined,
    heartbeat: options.heartbeat,
    telemetry: options.telemetry,
    keepAlive: options.keepAlive,
    board: options.board,
    boardTypes: options.chip,
    startRate: options.startRate,
    log: (runner, level, message) => line(level, message, runner),
    onChange: (runner) => {
      if (!runner.deviceId) return;
      if (watching) model.simulated(runner.deviceId, simView(runner));
      const presence = runner.power === 'off' ? 'off' : runner.presence;
      if (lastPresence[runner.index] !== presence) {
        lastPresence[runner.index] = presence;
        const words: Record<string, string> = { ready: 'online', init: 'booting', lost: 'connection lost', disconnected: 'stopped cleanly', off: 'powered off' };
        line('info', `[sim] ${words[presence] ?? presence}`, runner);
      }
    },
  });
  const network = createNodeNetwork();
  const monitor = new Monitor({
    model,
    clock: fleet.wheel.clock(),
    network,
    host,
    port,
    tls: options.broker?.tls ? { ca: options.broker.ca } : undefined,
    username: options.broker?.username,
    password: options.broker?.password,
  });
  if (watching) monitor.start();
  // outbox depth and flashing progress change without an event: refresh the views every second
  const refresh = setInterval(() => {
    if (watching) for (const r of fleet.devices) if (r.deviceId) model.simulated(r.deviceId, simView(r));
  }, 1000);
  // without a table, a large fleet says how it is doing now and then, instead of a line per device
  const summary =
    !table && local >= SUMMARY_FROM_DEVICES
      ? setInterval(() => {
          let online = 0;
          let on = 0;
          for (const r of fleet.devices) {
            if (r.power === 'on') on++;
            if (r.presence === 'ready') online++;
          }
          say(`online ${online.toLocaleString('en-US')} of ${local.toLocaleString('en-US')}${fleet.shard ? ` (shard ${describeShard(fleet.shard)})` : ''}; ${on.toLocaleString('en-US')} powered`);
        }, SUMMARY_EVERY_MS)
      : undefined;

  let dashboard: Dashboard | undefined;
  if (options.dashboardPort !== undefined) {
    dashboard = await Dashboard.start({ model, port: options.dashboardPort, fallbackToFreePort: !options.dashboardPortGiven });
    if (dashboard.requestedPort !== undefined) say(`port ${dashboard.requestedPort} is taken: the dashboard uses ${dashboard.port} instead`, 'warn');
  }

  // ---- stopping ----
  let stopping: Promise<void> | undefined;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      say(`stopping ${fleet.devices.length} device${fleet.devices.length === 1 ? '' : 's'}: each publishes "offline"`);
      clearInterval(refresh);
      clearInterval(summary);
      await fleet.stop('simulator stopped');
      // let subscribers receive the last "offline" messages before the broker goes
      await new Promise((r) => setTimeout(r, 300));
      monitor.stop();
      view?.stop();
      view = undefined;
      await dashboard?.close();
      await broker?.stop();
      fleet.close();
      say('stopped');
      finished();
    })();
    return stopping;
  };

  const ctx = { fleet, model, broker, quit: () => void stop() };
  const count = fleet.shard
    ? `${fleet.devices.length.toLocaleString('en-US')} of ${fleet.size.toLocaleString('en-US')} devices (shard ${describeShard(fleet.shard)})`
    : `${fleet.devices.length} device${fleet.devices.length === 1 ? '' : 's'}`;
  const header = () => [
    `NodeMCU fleet simulator · ${count} · prefix ${options.prefix} · seed ${fleet.seed}`,
    `broker ${brokerUrl}${broker ? ' (embedded)' : ''}${dashboard ? ` · dashboard ${dashboard.url}` : ''} · state ${options.stateDir === 'off' ? 'in memory' : resolve(options.stateDir)}`,
  ];

  for (const h of header()) say(h);
  if (options.seed === undefined) say(`pass --seed ${fleet.seed} to repeat this run's values`);
  if (ota?.signingKeyFile) say(`OTA: devices trust ${ota.created ? 'a new fleet key, ' : ''}${ota.signingKeyFile}; roll out with: tsx scripts/fleet.ts rollout --state .state/campaign --broker ${brokerUrl} --prefix ${options.prefix} --key ${ota.signingKeyFile} --image <file> --version <v>`);
  else if (ota) say(`OTA: devices trust the public key ${ota.publicHex.slice(0, 16)}…`);
  if (dashboard) say(`dashboard: ${dashboard.url}`);

  if (table) {
    view = new TtyView({ input: io.stdin as never, output: io.stdout, model, header, run: (c) => runCommand(ctx, c), quit: () => void stop() });
    view.start();
  } else {
    // Without a terminal, commands come one per line on stdin (when it is a pipe or a file).
    const rl = createInterface({ input: io.stdin, terminal: false });
    rl.on('line', (text) => {
      if (!text.trim()) return;
      runCommand(ctx, text).then(
        (out) => say(`> ${text.trim()}: ${out}`),
        (error: Error) => say(`> ${text.trim()}: ${error.message}`, 'warn'),
      );
    });
    void done.then(() => rl.close());
  }

  void fleet.start();
  return { fleet, model, broker, brokerUrl, dashboard, stop, done };
}
