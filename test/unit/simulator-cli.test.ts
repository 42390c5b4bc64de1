// npm start flags: defaults that work on a fresh clone, and a typed, actionable error for every bad
// value. Also the terminal view's keys.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetModel } from '../../scripts/sim/dashboard/model';
import { Fleet } from '../../scripts/sim/population';
import { keyAction } from '../../scripts/sim/tty/keys';
import { CliError, parseBrokerUrl, parseSimArgs } from '../../scripts/sim/cli';
import { CommandError, runCommand } from '../../scripts/sim/commands';

function fails(argv: string[], message: RegExp): void {
  let error: unknown;
  try {
    parseSimArgs(argv);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).code).toBe('usage');
  expect((error as CliError).message).toMatch(message);
}

describe('simulator flags', () => {
  it('needs no flag: three devices, embedded broker on 1883, dashboard on 8080, state in .state/sim, OTA with the default key', () => {
    const o = parseSimArgs([]);
    expect(o).toMatchObject({
      devices: 3,
      prefix: 'nodemcu',
      stateDir: '.state/sim',
      seed: undefined,
      log: 'text',
      level: 'info',
      broker: undefined,
      port: 1883,
      portGiven: false,
      dashboardPort: 8080,
      dashboardPortGiven: false,
      heartbeat: 10,
      telemetry: 5,
      board: 'mixed',
      view: 'auto',
      otaKey: undefined,
    });
    expect(parseSimArgs(['--ota-key', 'off']).otaKey).toBe(false);
    expect(parseSimArgs(['--ota-key', 'k.pem']).otaKey).toBe('k.pem');
  });

  it('reads a shard: 1-based on the command line, 0-based in the options', () => {
    const o = parseSimArgs(['--devices', '100000', '--shard', '2/4', '--seed', '9', '--broker', 'mqtt://127.0.0.1:1883', '--state-dir', 'off']);
    expect(o).toMatchObject({ devices: 100_000, shard: { index: 1, count: 4 }, seed: 9, stateDir: 'off' });
    expect(parseSimArgs(['--shard', '1/1', '--seed', '1']).shard).toEqual({ index: 0, count: 1 });
    expect(parseSimArgs(['--broker', 'mqtt://127.0.0.1:1883', '--broker-ports', '1884, 1885', '--keep-alive', '60'])).toMatchObject({ broker: { port: 1883, ports: [1884, 1885] }, keepAlive: 60 });
  });

  it('reads every flag', () => {
    const o = parseSimArgs(['--devices', '250', '--prefix', 'lab/floor1', '--state-dir', '/tmp/x', '--seed', '42', '--log', 'json', '--level', 'debug', '--port', '0', '--dashboard-port', 'off', '--heartbeat', '1', '--telemetry', '2', '--board', 'env', '--start-rate', '50', '--view', 'log']);
    expect(o).toMatchObject({ devices: 250, prefix: 'lab/floor1', stateDir: '/tmp/x', seed: 42, log: 'json', level: 'debug', port: 0, portGiven: true, dashboardPort: undefined, heartbeat: 1, telemetry: 2, board: 'env', startRate: 50, view: 'log' });
  });

  it('takes an external broker: mqtt:// and mqtts:// with the default ports, user and password, a CA file', () => {
    expect(parseBrokerUrl('mqtt://127.0.0.1')).toEqual({ url: 'mqtt://127.0.0.1:1883', host: '127.0.0.1', port: 1883, tls: false, username: undefined, password: undefined });
    expect(parseBrokerUrl('mqtts://[::1]')).toMatchObject({ host: '::1', port: 8883, tls: true });
    expect(parseBrokerUrl('mqtt://ann:s%3Acret@localhost:1999')).toMatchObject({ host: 'localhost', port: 1999, username: 'ann', password: 's:cret' });
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const o = parseSimArgs(['--broker', 'mqtts://127.0.0.1:8883', '--ca', ca, '--user', 'dev', '--password', 'pw']);
    expect(o.broker).toMatchObject({ host: '127.0.0.1', port: 8883, tls: true, username: 'dev', password: 'pw' });
    expect(o.broker!.ca).toContain('BEGIN CERTIFICATE');
  });

  it('refuses bad values with a message that says what to type instead', () => {
    fails(['--devices', 'many'], /--devices needs a whole number from 0 to 1000000, not "many"/);
    fails(['--devices', '1000001'], /--devices needs a whole number/);
    fails(['--shard', '3/2', '--seed', '1', '--broker', 'mqtt://127.0.0.1'], /--shard needs I\/N with 1 <= I <= N <= 1000 .*not "3\/2"/);
    fails(['--shard', '0/2', '--seed', '1', '--broker', 'mqtt://127.0.0.1'], /--shard needs I\/N/);
    fails(['--shard', 'half', '--seed', '1', '--broker', 'mqtt://127.0.0.1'], /--shard needs I\/N/);
    fails(['--shard', '1/2', '--broker', 'mqtt://127.0.0.1'], /--shard needs --seed: every shard derives the device ids and values from it, so give all 2 the same one/);
    fails(['--shard', '1/2', '--seed', '1'], /--shard needs --broker: the shards of a fleet share one broker/);
    fails(['--state-dir', 'off', '--ota-key', 'k.pem'], /--ota-key needs a state dir/);
    fails(['--broker-ports', '1884'], /--broker-ports applies to an external broker/);
    fails(['--broker', 'mqtt://127.0.0.1', '--broker-ports', '1884,x'], /--broker-ports needs a whole number from 1 to 65535, not "x"/);
    fails(['--keep-alive', '2'], /--keep-alive needs a whole number from 5 to 65535/);
    fails(['--heartbeat', '0'], /--heartbeat needs a whole number from 1 to 86400/);
    fails(['--prefix', 'a/+/b'], /--prefix "a\/\+\/b" must be topic levels without \+ or #/);
    fails(['--log', 'xml'], /--log must be text or json, not "xml"/);
    fails(['--view', 'fancy'], /--view must be auto, table or log/);
    fails(['--board', 'bmp'], /--board must be one of env, env\+light, climate\+soil, mixed/);
    fails(['--level', 'loud'], /--level: unknown log level "loud"/);
    fails(['--broker', 'ws://127.0.0.1:9001'], /must start with mqtt:\/\/ or mqtts:\/\//);
    fails(['--broker', 'not a url'], /is not a URL: use mqtt:\/\/host:1883/);
    fails(['--broker', 'mqtt://127.0.0.1/topic'], /takes no path/);
    fails(['--ca', 'x.pem'], /--ca applies to an external broker/);
    fails(['--broker', 'mqtt://127.0.0.1', '--ca', 'x.pem'], /--ca is for mqtts:\/\/ brokers/);
    fails(['--broker', 'mqtts://127.0.0.1', '--ca', '/nonexistent/ca.pem'], /--ca \/nonexistent\/ca.pem: no such file/);
    fails(['--broker', 'mqtt://127.0.0.1', '--password', 'x'], /--password needs --user too/);
    fails(['--broker', 'mqtt://127.0.0.1', '--port', '1884'], /--port sets the embedded broker/);
    fails(['--dashboard-port', '70000'], /--dashboard-port needs a whole number from 0 to 65535/);
    fails(['--frobnicate'], /Unknown option '--frobnicate'.*--help/);
    fails(['extra'], /--help/);
  });

  it('a CA file without a certificate is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    const ca = join(dir, 'key.pem');
    writeFileSync(ca, '-----BEGIN PRIVATE KEY-----\n');
    fails(['--broker', 'mqtts://127.0.0.1', '--ca', ca], /holds no PEM certificate/);
  });
});

describe('terminal view keys', () => {
  it('maps arrows, fault keys, the prompt and quit', () => {
    expect(keyAction('\x1b[A')).toEqual({ type: 'move', by: -1 });
    expect(keyAction('j')).toEqual({ type: 'move', by: 1 });
    expect(keyAction('a')).toEqual({ type: 'toggle-all' });
    expect(keyAction('w')).toEqual({ type: 'command', verb: 'wifi' });
    expect(keyAction('c')).toEqual({ type: 'command', verb: 'cut' });
    expect(keyAction('s')).toEqual({ type: 'command', verb: 'stall' });
    expect(keyAction('r')).toEqual({ type: 'command', verb: 'restart' });
    expect(keyAction('p')).toEqual({ type: 'command', verb: 'power' });
    expect(keyAction('o')).toEqual({ type: 'command', verb: 'ota-power' });
    expect(keyAction('f')).toEqual({ type: 'command', verb: 'sensor' });
    expect(keyAction('b')).toEqual({ type: 'command', verb: 'broker-restart' });
    expect(keyAction(':')).toEqual({ type: 'prompt' });
    expect(keyAction('\x03')).toEqual({ type: 'quit' });
    expect(keyAction('q')).toEqual({ type: 'quit' });
    expect(keyAction('z')).toBeUndefined();
  });
});

describe('simulator commands', () => {
  // devices that are never started: commands are checked before anything is done
  const fleet = new Fleet({ devices: 3, broker: { host: '127.0.0.1', port: 1 }, seed: 1 });
  const ctx = { fleet, model: new FleetModel('nodemcu', ''), quit: () => {} };

  it('selects devices by number, range, list or all', () => {
    expect(fleet.select('2').map((d) => d.index)).toEqual([1]);
    expect(fleet.select('1-3').map((d) => d.index)).toEqual([0, 1, 2]);
    expect(fleet.select('1,3').map((d) => d.index)).toEqual([0, 2]);
    expect(fleet.select('all')).toHaveLength(3);
  });

  it('refuses bad commands with a CommandError that says what would work', async () => {
    const fails = async (line: string, message: RegExp) => {
      const error = await runCommand(ctx, line).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandError);
      expect((error as Error).message).toMatch(message);
    };
    await fails('cut 9', /"9" is not a device: use a number from 1 to 3, a range like 1-3, a list like 1,3, or "all"/);
    await fails('cut 0-2', /is not a device/);
    await fails('cut', /cut needs devices: a number from 1 to 3/);
    await fails('wifi 1 soon', /wifi: "soon" is not a number of seconds/);
    await fails('power 1 -3', /power: "-3" is not a number of seconds/);
    await fails('stall 1 maybe', /stall: "maybe" is not on or off/);
    await fails('sensor 1 broken', /sensor: "broken" is not fail or ok/);
    await fails('broker-restart', /external broker; restart that one yourself/);
    await fails('reboot 1', /unknown command "reboot"; commands: wifi, cut, stall, restart, power, ota-power, sensor, broker-restart, status, quit/);
  });

  it('lists the devices and the help', async () => {
    expect(await runCommand(ctx, 'status')).toBe('1 - off boot -\n2 - off boot -\n3 - off boot -');
    expect(await runCommand(ctx, 'help')).toMatch(/^wifi <devices> \[seconds\]/);
  });
});
