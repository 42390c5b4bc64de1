// Runs a private mosquitto broker in the foreground for manual testing, the same one the tests use.
//   tsx scripts/broker.ts [--tls] [--persistence] [--websockets] [--port N] [--user name:password]...
//                         [--max-packet-size N] [--quiet]
// Type "restart", "kill" (SIGKILL, then start again) or "quit" and Enter while it runs; Ctrl-C stops it.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startMosquitto } from './broker/mosquitto';

const usage = 'usage: tsx scripts/broker.ts [--tls] [--persistence] [--websockets] [--port N] [--user name:password]... [--max-packet-size N] [--quiet]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

function portNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${flag} needs a number in 1..65535, got "${text}"`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      tls: { type: 'boolean' },
      persistence: { type: 'boolean' },
      websockets: { type: 'boolean' },
      port: { type: 'string' },
      user: { type: 'string', multiple: true },
      'max-packet-size': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (args.help) {
  process.stdout.write(usage + '\n');
  process.exit(0);
}

const users: Record<string, string> = {};
for (const entry of args.user ?? []) {
  const at = entry.indexOf(':');
  if (at <= 0) fail(`--user needs name:password, got "${entry}"`);
  users[entry.slice(0, at)] = entry.slice(at + 1);
}
const maxPacketSize = args['max-packet-size'] === undefined ? undefined : Number(args['max-packet-size']);
if (maxPacketSize !== undefined && !(Number.isInteger(maxPacketSize) && maxPacketSize > 0)) fail('--max-packet-size needs a positive integer');

const broker = await startMosquitto({
  tls: args.tls,
  persistence: args.persistence,
  websockets: args.websockets,
  port: portNumber(args.port, '--port'),
  auth: args.user ? { users } : undefined,
  maxPacketSize,
  onOutput: args.quiet ? undefined : (text) => process.stderr.write(text),
});

const lines = [`mosquitto running (pid ${broker.pid}), config ${broker.configFile}`, `  ${broker.url}`];
if (broker.tlsUrl) lines.push(`  ${broker.tlsUrl}   CA: ${broker.certs!.caFile}`);
if (broker.wsUrl) lines.push(`  ${broker.wsUrl}`);
if (broker.wssUrl) lines.push(`  ${broker.wssUrl}`);
if (broker.persistenceDir) lines.push(`  persistence: ${broker.persistenceDir}`);
lines.push('Commands: restart | kill | quit. Ctrl-C stops.');
process.stdout.write(lines.join('\n') + '\n');

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await broker.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

const input = createInterface({ input: process.stdin });
input.on('line', async (line) => {
  const command = line.trim();
  try {
    if (command === 'restart') await broker.restart();
    else if (command === 'kill') {
      await broker.kill();
      await broker.restart();
    } else if (command === 'quit' || command === 'stop') await shutdown();
    else if (command) process.stdout.write('Commands: restart | kill | quit\n');
    if (command === 'restart' || command === 'kill') process.stdout.write(`mosquitto running again (pid ${broker.pid}) on ${broker.url}\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
  }
});
