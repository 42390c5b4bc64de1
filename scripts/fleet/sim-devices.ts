// Simulated devices with OTA, for trying the fleet tool without hardware: the simulator's fleet
// (scripts/sim/population.ts) with the sim bootloader (two flash slots per device) and the OTA extension.
//   tsx scripts/fleet/sim-devices.ts --broker mqtt://127.0.0.1:1883 --public-key <hex> [--devices 20]
//        [--prefix nodemcu] [--state-dir .state/ota-sim] [--groups a,b] [--health-window 20s] [--health-settle 5s] [--verbose]
// Prints the OTA lines of every device's log (bootloader decisions, downloads, health verdicts).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bootSim } from '../../hosts/sim/bootloader';
import { Fleet } from '../sim/population';
import { otaExtension } from '../../src/ota/extension';
import { FleetError } from './errors';
import { parseDuration } from './plan';
import { parseBrokerUrl, parseGroup, parsePrefix, parseWhole } from './validate';

function fail(message: string): never {
  process.stderr.write(`sim-devices: ${message}\n`);
  process.exit(2);
}

/** The value, or exit 2 with the parser's message. */
function check<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FleetError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail((error as Error).message);
    throw error;
  }
}

const { values: v } = check(() => parseArgs({
  options: {
    broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    'public-key': { type: 'string' },
    devices: { type: 'string', default: '20' },
    prefix: { type: 'string', default: 'nodemcu' },
    'state-dir': { type: 'string', default: '.state/ota-sim' },
    groups: { type: 'string', default: '' },
    'health-window': { type: 'string', default: '20s' },
    'health-settle': { type: 'string', default: '5s' },
    verbose: { type: 'boolean', default: false },
  },
}));

const key = v['public-key'];
if (!key || !/^[0-9a-f]{64}$/i.test(key)) fail('--public-key must be the 64 hex digits `fleet keygen` printed');
const url = new URL(check(() => parseBrokerUrl(v.broker!)));
if (url.protocol !== 'mqtt:') fail('--broker must be mqtt://host:port');
const devices = check(() => parseWhole(v.devices!, '--devices', 1, 1000));
const prefix = check(() => parsePrefix(v.prefix!));
const healthWindow = check(() => parseDuration(v['health-window']!, '--health-window', { min: 1000, max: 3_600_000 }));
const healthSettle = check(() => parseDuration(v['health-settle']!, '--health-settle', { min: 0, max: healthWindow }));
const groups = v.groups ? v.groups.split(',').map((g) => check(() => parseGroup(g, '--groups'))) : [];
const otaLine = /ota|bootloader|image|update|rolled|restart/i;

const fleet = new Fleet({
  devices,
  broker: { host: url.hostname, port: Number(url.port || 1883) },
  prefix,
  stateDir: resolve(v['state-dir']!),
  heartbeat: 5,
  telemetry: 2,
  discovery: false,
  bootLoader: (dir, factory) => bootSim(dir, factory), // the runner logs the bootloader's notes
  extensions: (runner) => [otaExtension({ publicKey: key, groups: groups.length ? [groups[runner.index % groups.length]] : [], healthWindow, healthSettle, progressInterval: 1000 })],
  log: (runner, level, message) => {
    if (v.verbose || otaLine.test(message) || level === 'error') process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${runner.deviceId || `#${runner.index + 1}`} ${level} ${message}\n`);
  },
});
process.stdout.write(`${devices} simulated devices with OTA on ${v.broker} (prefix ${v.prefix}, state in ${v['state-dir']}); Ctrl-C stops them\n`);
await fleet.start();
let stopping = false;
const stop = () => {
  if (stopping) process.exit(130);
  stopping = true;
  void fleet.stop().then(() => {
    fleet.close();
    process.exit(0);
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
