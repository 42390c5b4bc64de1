// fleet: the operator's OTA tool.
//   tsx scripts/fleet.ts <command> [options]      (see `help` below, or docs/ota.md)
import { parseArgs } from 'node:util';
import { DEFAULT_EXPIRES_S } from './sim/dashboard/liveness';
import { CampaignStore } from './fleet/campaign';
import { abortCommand, devicesCommand, imageCommand, keygen, readImage, sendCommand, signCommand, statusCommand } from './fleet/commands';
import { FleetError } from './fleet/errors';
import { loadPrivateKey } from './fleet/keys';
import { parseDuration, parseFraction, parseSize, parseStages, parseTarget } from './fleet/plan';
import { DEFAULT_CONCURRENCY } from './fleet/image-server';
import { Rollout } from './fleet/rollout';
import {
  checkImageSize,
  parseBehaviour,
  parseBrokerUrl,
  parseDeviceId,
  parseGroup,
  parseHost,
  parseImageUrlArg,
  parseJobId,
  parsePath,
  parsePort,
  parsePrefix,
  parsePublicUrl,
  parseReason,
  parseVersionArg,
  parseWhole,
} from './fleet/validate';

const HELP = `fleet: signed OTA jobs and staged rollouts over MQTT

  keygen   --out <file.pem>                         new Ed25519 signing key (+ <file>.pem.pub)
  sign     --key <pem> --image <file> --version <v> --url <url> [--id <id>] [--allow-downgrade] [--expires <duration>]
  send     --broker <url> --job <job.json> (--device <id> | --group <name>) [--clear] [--prefix <p>]
  image    --version <v> --out <file> [--behaviour ok|crash-loop|no-connect|fail-health] [--size 256k]   (simulator image)
  devices  --broker <url> [--wait 3s] [--heartbeat-wait 150s] [--json] [--prefix <p>]
  rollout  --state <dir> --broker <url> --key <pem> --image <file> --version <v>
           [--target all|group:<g>|id:<glob,...>|version:<v>] [--stages 1,10,50,100]
           [--failure-threshold 10%] [--min-sample 3] [--device-timeout 10m] [--discover 3s]
           [--heartbeat-wait 150s] [--http-host 127.0.0.1] [--http-port 0] [--public-url http://<lan-ip>:<port>]
           [--http-concurrency 64]
           [--include-offline] [--allow-downgrade] [--campaign <id>] [--prefix <p>]
  rollout  --state <dir>                              resume the unfinished campaign in <dir>
  status   --state <dir> [--json]
  abort    --state <dir> [--reason <text>] [--broker <url>]

  --prefix <topic prefix> (default nodemcu). Versions are semantic (1.4.0); image URLs http:// or
  https:// without credentials. A device whose retained status says online is stale when no heartbeat
  comes within its expires; before its first heartbeat --heartbeat-wait stands in for that (default
  ${DEFAULT_EXPIRES_S} s, the firmware's default). devices and rollout skip stale devices. The image
  server sends --http-concurrency downloads at once; the other devices wait their turn (up to 10 s,
  then 503 and they come back), and resume broken downloads with Range.
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
  'heartbeat-wait': { type: 'string', default: `${DEFAULT_EXPIRES_S}s` },
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
  'http-concurrency': { type: 'string', default: String(DEFAULT_CONCURRENCY) },
  'include-offline': { type: 'boolean' },
  'allow-downgrade': { type: 'boolean' },
  expires: { type: 'string' },
  campaign: { type: 'string' },
  reason: { type: 'string', default: 'aborted by the operator' },
  tick: { type: 'string', default: '250' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Option = keyof typeof OPTIONS;

/** The options each command takes; any other is a mistake worth saying (a typo, or the wrong command). */
const TAKES: Record<string, Option[]> = {
  keygen: ['out'],
  sign: ['key', 'image', 'version', 'url', 'id', 'allow-downgrade', 'expires'],
  send: ['broker', 'prefix', 'job', 'device', 'group', 'clear'],
  image: ['version', 'out', 'behaviour', 'size'],
  devices: ['broker', 'prefix', 'wait', 'heartbeat-wait', 'json'],
  rollout: ['state', 'broker', 'prefix', 'key', 'image', 'version', 'target', 'stages', 'failure-threshold', 'min-sample', 'device-timeout', 'discover', 'heartbeat-wait', 'http-host', 'http-port', 'public-url', 'http-concurrency', 'include-offline', 'allow-downgrade', 'campaign', 'tick'],
  status: ['state', 'json'],
  abort: ['state', 'reason', 'broker'],
};

/** Bounds of the durations: long enough for any fleet, short enough that a typo does not hang the tool. */
const HOUR = 3_600_000;
const LIMITS = {
  wait: { min: 0, max: HOUR },
  heartbeatWait: { min: 0, max: HOUR },
  discover: { min: 0, max: HOUR },
  deviceTimeout: { min: 1000, max: 7 * 24 * HOUR },
  expires: { min: 1000, max: 5 * 365 * 24 * HOUR },
};

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function need(v: Values, ...names: (keyof Values)[]): void {
  const missing = names.filter((n) => v[n] === undefined);
  if (missing.length) throw new FleetError('usage', `missing ${missing.map((m) => `--${m}`).join(', ')}; see \`fleet help\``);
}

async function rollout(v: Values): Promise<number> {
  need(v, 'state');
  const tick = parseWhole(v.tick!, '--tick', 10, 10_000, ' ms');
  const store = new CampaignStore(parsePath(v.state!, '--state'));
  const fresh = v.image !== undefined || v.version !== undefined || v.key !== undefined;
  let create: (() => Promise<unknown>) | undefined;
  const r = new Rollout({ store, tick });
  if (fresh && !store.exists()) {
    need(v, 'broker', 'key', 'image', 'version');
    // every option is checked before any file is read or anything is published
    const plan = {
      broker: parseBrokerUrl(v.broker!),
      prefix: parsePrefix(v.prefix!),
      version: parseVersionArg(v.version!, '--version'),
      target: parseTarget(v.target!),
      stages: parseStages(v.stages!),
      failureThreshold: parseFraction(v['failure-threshold']!, '--failure-threshold'),
      minSample: parseWhole(v['min-sample']!, '--min-sample', 1, 1_000_000, ' devices'),
      deviceTimeout: parseDuration(v['device-timeout']!, '--device-timeout', LIMITS.deviceTimeout),
      discover: parseDuration(v.discover!, '--discover', LIMITS.discover),
      heartbeatWait: parseDuration(v['heartbeat-wait']!, '--heartbeat-wait', LIMITS.heartbeatWait),
      http: {
        host: parseHost(v['http-host']!, '--http-host'),
        port: parsePort(v['http-port']!, '--http-port'),
        publicUrl: v['public-url'] === undefined ? undefined : parsePublicUrl(v['public-url'], '--public-url'),
        concurrency: parseWhole(v['http-concurrency']!, '--http-concurrency', 1, 10_000, ' downloads'),
      },
      includeOffline: v['include-offline'],
      allowDowngrade: v['allow-downgrade'],
      id: v.campaign === undefined ? undefined : parseJobId(v.campaign, '--campaign'),
    };
    const keyFile = parsePath(v.key!, '--key');
    const imageFile = parsePath(v.image!, '--image');
    create = () => r.create({ ...plan, key: loadPrivateKey(keyFile), image: readImage(imageFile) });
  }
  const stop = () => {
    // Ctrl-C leaves the campaign resumable; abort is a separate, explicit command
    console.log(`\ninterrupted: the campaign stays in ${v.state}; \`fleet rollout --state ${v.state}\` resumes it, \`fleet abort --state ${v.state}\` stops it`);
    void r.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (create) await create();
  else {
    if (fresh) console.log(`${v.state} holds a campaign: resuming it (--image, --version and --key are ignored)`);
    await r.resume();
  }
  const report = await r.run();
  return report.status === 'succeeded' ? 0 : 1;
}

async function run(argv: string[]): Promise<number> {
  const { values: v, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  const command = positionals[0];
  const out = (line: string) => console.log(line);
  if (!command || command === 'help' || v.help) {
    out(HELP);
    return command || v.help ? 0 : 2;
  }
  if (positionals.length > 1) throw new FleetError('usage', `unexpected argument "${positionals[1]}"`);
  const takes = TAKES[command];
  if (!takes) throw new FleetError('usage', `unknown command "${command}"; commands: ${Object.keys(TAKES).join(', ')}`);
  const given = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (given.has(t.name)) throw new FleetError('usage', `--${t.name} is given twice; give it once`);
    given.add(t.name);
    if (takes.indexOf(t.name as Option) < 0) throw new FleetError('usage', `${command} does not take --${t.name}; it takes ${takes.map((o) => `--${o}`).join(' ')} (see \`fleet help\`)`);
  }
  switch (command) {
    case 'keygen':
      need(v, 'out');
      keygen(out, parsePath(v.out!, '--out'));
      return 0;
    case 'sign': {
      need(v, 'key', 'image', 'version', 'url');
      const o = {
        key: parsePath(v.key!, '--key'),
        image: parsePath(v.image!, '--image'),
        version: parseVersionArg(v.version!, '--version'),
        url: parseImageUrlArg(v.url!, '--url'),
        id: v.id === undefined ? undefined : parseJobId(v.id, '--id'),
        allowDowngrade: v['allow-downgrade'],
        expires: v.expires === undefined ? undefined : Math.floor((Date.now() + parseDuration(v.expires, '--expires', LIMITS.expires)) / 1000),
      };
      signCommand(out, o);
      return 0;
    }
    case 'send': {
      need(v, 'broker');
      if (!v.clear) need(v, 'job');
      if (v.clear && v.job !== undefined) throw new FleetError('usage', 'send --clear withdraws the retained job: it takes no --job');
      if ((v.device === undefined) === (v.group === undefined)) throw new FleetError('usage', 'send needs exactly one of --device <id> or --group <name>');
      const o = {
        broker: parseBrokerUrl(v.broker!),
        prefix: parsePrefix(v.prefix!),
        job: v.job === undefined ? '' : parsePath(v.job, '--job'),
        device: v.device === undefined ? undefined : parseDeviceId(v.device),
        group: v.group === undefined ? undefined : parseGroup(v.group),
        clear: v.clear,
      };
      await sendCommand(out, o);
      return 0;
    }
    case 'image':
      need(v, 'version', 'out');
      imageCommand(out, { version: parseVersionArg(v.version!, '--version'), behaviour: parseBehaviour(v.behaviour!), size: checkImageSize(parseSize(v.size!, '--size'), 1), out: parsePath(v.out!, '--out') });
      return 0;
    case 'devices':
      need(v, 'broker');
      await devicesCommand(out, {
        broker: parseBrokerUrl(v.broker!),
        prefix: parsePrefix(v.prefix!),
        wait: parseDuration(v.wait!, '--wait', LIMITS.wait),
        heartbeatWait: parseDuration(v['heartbeat-wait']!, '--heartbeat-wait', LIMITS.heartbeatWait),
        json: v.json,
      });
      return 0;
    case 'rollout':
      return rollout(v);
    case 'status':
      need(v, 'state');
      statusCommand(out, { state: parsePath(v.state!, '--state'), json: v.json });
      return 0;
    case 'abort': {
      need(v, 'state');
      const o = { state: parsePath(v.state!, '--state'), reason: parseReason(v.reason!), broker: v.broker === undefined ? undefined : parseBrokerUrl(v.broker) };
      await abortCommand(out, o);
      return 0;
    }
    default:
      throw new FleetError('usage', `unknown command "${command}"`);
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
