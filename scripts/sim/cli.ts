// Flags of `npm start` (scripts/sim.ts). Every value is checked here, so a typo fails at once with
// a message that says what to type instead.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BOARD_PROFILES, type BoardProfile } from './device-board';
import { MAX_DEVICES, MAX_SHARDS, type Shard } from './population';
import { parseLogLevel } from '../../hosts/sim/logger';
import type { LogLevel } from '../../src/ports';

export interface SimOptions {
  /** Devices in the whole fleet (every shard together). */
  devices: number;
  /** Run only this shard: the devices whose 0-based number n has n % count === index. */
  shard?: Shard;
  prefix: string;
  stateDir: string;
  seed?: number;
  log: 'text' | 'json';
  level: LogLevel;
  /** External broker; undefined: the embedded one. */
  broker?: { url: string; host: string; port: number; tls: boolean; ca?: string; username?: string; password?: string; ports?: number[] };
  /** Embedded broker port; `portGiven` false lets it fall back to a free port when 1883 is taken. */
  port: number;
  portGiven: boolean;
  /** undefined: no dashboard. */
  dashboardPort?: number;
  dashboardPortGiven: boolean;
  heartbeat: number;
  telemetry: number;
  /** MQTT keep-alive, seconds; undefined: the firmware's default. */
  keepAlive?: number;
  board: BoardProfile;
  startRate: number;
  /** Fleet signing key for OTA: a PEM private key or a file with the 64-hex public key; undefined: <state-dir>/fleet-key.pem; false: no OTA. */
  otaKey?: string | false;
  view: 'auto' | 'table' | 'log';
  help: boolean;
}

export class CliError extends Error {
  override name = 'CliError';
  readonly code = 'usage';
}

export const USAGE = `usage: npm start -- [options]

Runs simulated NodeMCU devices (the firmware from src/) against an MQTT broker, with a live view
and a web dashboard. Ctrl-C stops them cleanly: every device publishes "offline".

  --devices N          devices in the fleet (default 3, at most ${MAX_DEVICES.toLocaleString('en-US')})
  --shard I/N          run only shard I of N of the fleet (device numbers I, I+N, I+2N, ...): N
                       processes or machines with the same --devices, --seed, --prefix and
                       --broker run one fleet between them, each device once
  --prefix TEXT        topic prefix (default nodemcu, as the firmware and the fleet tool)
  --state-dir DIR      where devices keep id, boot counter, Wi-Fi and settings (default .state/sim);
                       off keeps them in memory (no OTA: the flash slots live there; large fleets)
  --seed N             seed for sensor values, device ids and jitter: repeat a run exactly
  --broker URL         use this broker: mqtt://host[:port] or mqtts://host[:port] (default: embedded)
  --broker-ports P,..  more listener ports of that broker: devices spread over them (on one machine,
                       connections to one address and port share ~28,000 source ports: 100,000
                       devices on loopback need 4 ports)
  --ca FILE            CA certificate (PEM) that signed an mqtts:// broker's certificate
  --user NAME          broker user name (with --password)
  --password TEXT      broker password
  --port N             port of the embedded broker (default 1883; a free one if that is taken)
  --dashboard-port N   web dashboard port on 127.0.0.1 (default 8080; 0 = any free port; off = none)
  --heartbeat S        heartbeat interval, seconds (default 10)
  --telemetry S        telemetry interval, seconds (default 5)
  --keep-alive S       MQTT keep-alive, seconds (default: the firmware's, 30)
  --board KIND         sensors per device: ${BOARD_PROFILES.join(', ')} (default mixed)
  --start-rate N       devices powered on per second (default 200)
  --ota-key FILE       fleet key the devices trust for OTA jobs: the signing key (PEM) or its .pub
                       (default <state-dir>/fleet-key.pem, made on the first run; off = no OTA)
  --view MODE          auto (table on a terminal, log lines otherwise), table or log
  --log FORMAT         text (default) or json: one JSON object per line
  --level LEVEL        the devices' log lines: debug, info (default), warn or error (the
                       simulator's own lines, such as where the broker is, are always shown)
  -h, --help           this text`;

/** "2/4" -> shard index 1 of 4. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*$/.exec(text);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || i < 1 || n < 1 || i > n || n > MAX_SHARDS) {
    throw new CliError(`--shard needs I/N with 1 <= I <= N <= ${MAX_SHARDS} (this process runs shard I of N), not "${text}"; e.g. --shard 1/2 here and --shard 2/2 on the other machine`);
  }
  return { index: i - 1, count: n };
}

function whole(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliError(`${flag} needs a whole number from ${min} to ${max}, not "${text}"`);
  }
  return n;
}

/** mqtt://host[:port] or mqtts://host[:port] -> its parts. */
export function parseBrokerUrl(text: string): { url: string; host: string; port: number; tls: boolean; username?: string; password?: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`--broker "${text}" is not a URL: use mqtt://host:1883 or mqtts://host:8883`);
  }
  const tls = url.protocol === 'mqtts:';
  if (url.protocol !== 'mqtt:' && !tls) throw new CliError(`--broker must start with mqtt:// or mqtts://, not ${url.protocol}// (websockets are not supported by the firmware)`);
  if (url.pathname && url.pathname !== '/') throw new CliError(`--broker takes no path ("${url.pathname}"): use ${url.protocol}//${url.host}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new CliError(`--broker "${text}" names no host`);
  const port = url.port ? Number(url.port) : tls ? 8883 : 1883;
  return {
    url: `${url.protocol}//${url.host}${url.port ? '' : `:${port}`}`,
    host,
    port,
    tls,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

export function parseSimArgs(argv: string[]): SimOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        devices: { type: 'string' },
        shard: { type: 'string' },
        prefix: { type: 'string' },
        'state-dir': { type: 'string' },
        seed: { type: 'string' },
        broker: { type: 'string' },
        'broker-ports': { type: 'string' },
        'keep-alive': { type: 'string' },
        ca: { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        port: { type: 'string' },
        'dashboard-port': { type: 'string' },
        heartbeat: { type: 'string' },
        telemetry: { type: 'string' },
        board: { type: 'string' },
        'start-rate': { type: 'string' },
        'ota-key': { type: 'string' },
        view: { type: 'string' },
        log: { type: 'string' },
        level: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new CliError(`${(error as Error).message}. Run with --help for the options.`);
  }
  const s = (k: string) => values[k] as string | undefined;

  const prefix = s('prefix') ?? 'nodemcu';
  if (!prefix.split('/').every((level) => level.length > 0 && level.length <= 64 && !/[+#\u0000]/.test(level)) || prefix.length > 48) {
    throw new CliError(`--prefix "${prefix}" must be topic levels without + or # (at most 48 characters), like sim or lab/floor1`);
  }
  const log = s('log') ?? 'text';
  if (log !== 'text' && log !== 'json') throw new CliError(`--log must be text or json, not "${log}"`);
  const view = s('view') ?? 'auto';
  if (view !== 'auto' && view !== 'table' && view !== 'log') throw new CliError(`--view must be auto, table or log, not "${view}"`);
  const board = (s('board') ?? 'mixed') as BoardProfile;
  if (!BOARD_PROFILES.includes(board)) throw new CliError(`--board must be one of ${BOARD_PROFILES.join(', ')}, not "${board}"`);
  let level: LogLevel;
  try {
    level = parseLogLevel(s('level') ?? 'info');
  } catch (error) {
    throw new CliError(`--level: ${(error as Error).message}`);
  }

  let broker: SimOptions['broker'];
  if (s('broker') !== undefined) {
    const parsed = parseBrokerUrl(s('broker')!);
    let ca: string | undefined;
    if (s('ca') !== undefined) {
      if (!parsed.tls) throw new CliError('--ca is for mqtts:// brokers; this one is mqtt://');
      try {
        ca = readFileSync(s('ca')!, 'utf8');
      } catch (error) {
        throw new CliError(`--ca ${s('ca')}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
      }
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`--ca ${s('ca')} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
    }
    const username = s('user') ?? parsed.username;
    const password = s('password') ?? parsed.password;
    if (password !== undefined && username === undefined) throw new CliError('--password needs --user too (MQTT 3.1.1 sends a password only with a user name)');
    const ports = s('broker-ports')?.split(',').map((p) => whole(p.trim(), '--broker-ports', 1, 65535));
    broker = { ...parsed, ca, username, password, ports };
  } else {
    for (const flag of ['ca', 'user', 'password', 'broker-ports']) if (s(flag) !== undefined) throw new CliError(`--${flag} applies to an external broker: give --broker mqtts://host:port too`);
  }
  if (broker && s('port') !== undefined) throw new CliError('--port sets the embedded broker, which does not run with --broker');
  if (s('state-dir') === 'off' && s('ota-key') !== undefined && s('ota-key') !== 'off') throw new CliError('--ota-key needs a state dir: OTA writes the flash slots there (--state-dir off keeps no flash)');

  const dash = s('dashboard-port');
  const shard = s('shard') === undefined ? undefined : parseShard(s('shard')!);
  if (shard && s('seed') === undefined) throw new CliError(`--shard needs --seed: every shard derives the device ids and values from it, so give all ${shard.count} the same one (e.g. --seed 42)`);
  if (shard && shard.count > 1 && !broker) throw new CliError('--shard needs --broker: the shards of a fleet share one broker (an embedded one would be a broker per shard)');
  return {
    devices: whole(s('devices') ?? '3', '--devices', 0, MAX_DEVICES),
    shard,
    prefix,
    stateDir: s('state-dir') ?? '.state/sim',
    seed: s('seed') === undefined ? undefined : whole(s('seed')!, '--seed', 0, 2 ** 32 - 1),
    log,
    level,
    broker,
    port: s('port') === undefined ? 1883 : whole(s('port')!, '--port', 0, 65535),
    portGiven: s('port') !== undefined,
    dashboardPort: dash === 'off' ? undefined : whole(dash ?? '8080', '--dashboard-port', 0, 65535),
    dashboardPortGiven: dash !== undefined,
    heartbeat: whole(s('heartbeat') ?? '10', '--heartbeat', 1, 86400),
    telemetry: whole(s('telemetry') ?? '5', '--telemetry', 1, 86400),
    keepAlive: s('keep-alive') === undefined ? undefined : whole(s('keep-alive')!, '--keep-alive', 5, 65535),
    board,
    startRate: whole(s('start-rate') ?? '200', '--start-rate', 1, 100_000),
    otaKey: s('ota-key') === 'off' ? false : s('ota-key'),
    view,
    help: !!values.help,
  };
}
