// fleet: the operator's OTA tool.
//   tsx scripts/fleet.ts <command> [options]      (see `help` below, or docs/ota.md)
import { parseArgs } from 'node:util';
import { CampaignStore } from './fleet/campaign';
import { abortCommand, devicesCommand, imageCommand, keygen, readImage, sendCommand, signCommand, statusCommand } from './fleet/commands';
import { FleetError } from './fleet/errors';
import { loadPrivateKey } from './fleet/keys';
import { parseDuration, parseFraction, parseSize, parseStages, parseTarget } from './fleet/plan';
import { Rollout } from './fleet/rollout';

const HELP = `fleet: signed OTA jobs and staged rollouts over MQTT

  keygen   --out <file.pem>                         new Ed25519 signing key (+ <file>.pem.pub)
  sign     --key <pem> --image <file> --version <v> --url <url> [--id <id>] [--allow-downgrade] [--expires <duration>]
  send     --broker <url> --job <job.json> (--device <id> | --group <name>) [--clear]
  image    --version <v> --out <file> [--behaviour ok|crash-loop|no-connect|fail-health] [--size 256k]   (simulator image)
  devices  --broker <url> [--wait 3s] [--json]
  rollout  --state <dir> --broker <url> --key <pem> --image <file> --version <v>
           [--target all|group:<g>|id:<glob,...>|version:<v>] [--stages 1,10,50,100]
           [--failure-threshold 10%] [--min-sample 3] [--device-timeout 10m] [--discover 3s]
           [--http-host 127.0.0.1] [--http-port 0] [--public-url http://<lan-ip>:<port>]
           [--include-offline] [--allow-downgrade] [--campaign <id>]
  rollout  --state <dir>                              resume the unfinished campaign in <dir>
  status   --state <dir> [--json]
  abort    --state <dir> [--reason <text>] [--broker <url>]

  common:  --prefix <topic prefix> (default nodemcu)
Exit status: 0 done (rollout: succeeded), 1 failed or aborted, 2 usage error.`;

const OPTIONS = {
  broker: { type: 'string' },
  prefix: { type: 'string', default: 'nodemcu' },
  state: { type: 'string' },
  key: { type: 'string' },
  image: { type: 'string' },
  version: { type: 'string' },
  url: { type: 'string' },
  id: { type: 'string' },
  out: { type: 'string' },
  job: { type: 'string' },
  device: { type: 'string' },
  group: { type: 'string' },
  clear: { type: 'boolean' },
  behaviour: { type: 'string', default: 'ok' },
  size: { type: 'string', default: '256k' },
  wait: { type: 'string', default: '3s' },
  json: { type: 'boolean' },
  target: { type: 'string', default: 'all' },
  stages: { type: 'string', default: '1,10,50,100' },
  'failure-threshold': { type: 'string', default: '10%' },
  'min-sample': { type: 'string', default: '3' },
  'device-timeout': { type: 'string', default: '10m' },
  discover: { type: 'string', default: '3s' },
  'http-host': { type: 'string', default: '127.0.0.1' },
  'http-port': { type: 'string', default: '0' },
  'public-url': { type: 'string' },
  'include-offline': { type: 'boolean' },
  'allow-downgrade': { type: 'boolean' },
  expires: { type: 'string' },
  campaign: { type: 'string' },
  reason: { type: 'string', default: 'aborted by the operator' },
  tick: { type: 'string', default: '250' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function need(v: Values, ...names: (keyof Values)[]): void {
  const missing = names.filter((n) => v[n] === undefined);
  if (missing.length) throw new FleetError('usage', `missing ${missing.map((m) => `--${m}`).join(', ')}; see \`fleet help\``);
}

async function rollout(v: Values): Promise<number> {
  need(v, 'state');
  const store = new CampaignStore(v.state!);
  const r = new Rollout({ store, tick: Number(v.tick) });
  const fresh = v.image !== undefined || v.version !== undefined || v.key !== undefined;
  const stop = () => {
    // Ctrl-C leaves the campaign resumable; abort is a separate, explicit command
    console.log(`\ninterrupted: the campaign stays in ${v.state}; \`fleet rollout --state ${v.state}\` resumes it, \`fleet abort --state ${v.state}\` stops it`);
    void r.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (fresh && !store.exists()) {
    need(v, 'broker', 'key', 'image', 'version');
    const port = Number(v['http-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FleetError('usage', `--http-port ${v['http-port']} is not a port number`);
    const minSample = Number(v['min-sample']);
    if (!Number.isInteger(minSample) || minSample < 1) throw new FleetError('usage', '--min-sample must be a whole number of devices, at least 1');
    // every option is checked before any file is read or anything is published
    const plan = {
      target: parseTarget(v.target!),
      stages: parseStages(v.stages!),
      failureThreshold: parseFraction(v['failure-threshold']!, '--failure-threshold'),
      deviceTimeout: parseDuration(v['device-timeout']!, '--device-timeout'),
      discover: parseDuration(v.discover!, '--discover'),
    };
    await r.create({
      ...plan,
      broker: v.broker!,
      prefix: v.prefix!,
      key: loadPrivateKey(v.key!),
      image: readImage(v.image!),
      version: v.version!,
      minSample,
      http: { host: v['http-host']!, port, publicUrl: v['public-url'] },
      includeOffline: v['include-offline'],
      allowDowngrade: v['allow-downgrade'],
      id: v.campaign,
    });
  } else {
    if (fresh) console.log(`${v.state} holds a campaign: resuming it (--image, --version and --key are ignored)`);
    await r.resume();
  }
  const report = await r.run();
  return report.status === 'succeeded' ? 0 : 1;
}

async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const command = positionals[0];
  const out = (line: string) => console.log(line);
  if (!command || command === 'help' || v.help) {
    out(HELP);
    return command || v.help ? 0 : 2;
  }
  if (positionals.length > 1) throw new FleetError('usage', `unexpected argument "${positionals[1]}"`);
  switch (command) {
    case 'keygen':
      need(v, 'out');
      keygen(out, v.out!);
      return 0;
    case 'sign':
      need(v, 'key', 'image', 'version', 'url');
      signCommand(out, { key: v.key!, image: v.image!, version: v.version!, url: v.url!, id: v.id, allowDowngrade: v['allow-downgrade'], expires: v.expires === undefined ? undefined : Math.floor((Date.now() + parseDuration(v.expires, '--expires')) / 1000) });
      return 0;
    case 'send':
      need(v, 'broker');
      if (!v.clear) need(v, 'job');
      await sendCommand(out, { broker: v.broker!, prefix: v.prefix!, job: v.job ?? '', device: v.device, group: v.group, clear: v.clear });
      return 0;
    case 'image':
      need(v, 'version', 'out');
      imageCommand(out, { version: v.version!, behaviour: v.behaviour!, size: parseSize(v.size!, '--size'), out: v.out! });
      return 0;
    case 'devices':
      need(v, 'broker');
      await devicesCommand(out, { broker: v.broker!, prefix: v.prefix!, wait: parseDuration(v.wait!, '--wait'), json: v.json });
      return 0;
    case 'rollout':
      return rollout(v);
    case 'status':
      need(v, 'state');
      statusCommand(out, { state: v.state!, json: v.json });
      return 0;
    case 'abort':
      need(v, 'state');
      await abortCommand(out, { state: v.state!, reason: v.reason!, broker: v.broker });
      return 0;
    default:
      throw new FleetError('usage', `unknown command "${command}"; commands: keygen, sign, send, image, devices, rollout, status, abort`);
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof FleetError ? error.code === 'usage' : (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`fleet: ${(error as Error).message}`);
    process.exit(usage ? 2 : 1);
  },
);
