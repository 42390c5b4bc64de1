// What the fleet tool takes in and no longer trusts: its command-line values (versions, URLs, broker,
// prefix, ids, numbers), and what devices (or anyone) publish under the prefix: a retained "online" is
// believed only once a live heartbeat comes within its expires.
import { describe, expect, it } from 'vitest';
import { FleetError } from '../../scripts/fleet/errors';
import { FleetView } from '../../scripts/fleet/fleet-view';
import { parseBoard, parseImageChoice } from '../../scripts/fleet/boards';
import {
  parseBrokerUrl,
  parseDeviceId,
  parseGroup,
  parseHost,
  parseImageUrlArg,
  parseJobId,
  parsePrefix,
  parsePublicUrl,
  parseReason,
  parseVersionArg,
  parseWhole,
  printable,
  redactUrl,
} from '../../scripts/fleet/validate';

/** The usage error `run` throws, or a failure naming what was accepted. */
function usage(run: () => unknown): FleetError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FleetError);
    expect((error as FleetError).code).toBe('usage');
    return error as FleetError;
  }
  throw new Error('accepted');
}

const bytes = (text: string) => new TextEncoder().encode(text);
const T = 1_700_000_000_000;

describe('fleet tool arguments', () => {
  it('--image is a file, or board=file entries (one image per board type), with at most one for any other board', () => {
    expect(parseImageChoice('fw.bin')).toEqual({ any: 'fw.bin', boards: [] });
    expect(parseImageChoice('esp32=a.bin,esp8266=b/c.bin')).toEqual({ boards: [{ board: 'esp32', path: 'a.bin' }, { board: 'esp8266', path: 'b/c.bin' }] });
    expect(parseImageChoice('any.bin,esp8266=b.bin')).toEqual({ any: 'any.bin', boards: [{ board: 'esp8266', path: 'b.bin' }] });
    expect(usage(() => parseImageChoice('a.bin,b.bin')).message).toMatch(/two images for any board/);
    expect(usage(() => parseImageChoice('esp32=a.bin,esp32=b.bin')).message).toMatch(/two images for esp32/);
    expect(usage(() => parseImageChoice('esp 32=a.bin')).message).toMatch(/"esp 32" is not a board type/);
    expect(usage(() => parseImageChoice('esp32=')).message).toMatch(/no file after "esp32="/);
    expect(usage(() => parseImageChoice('a.bin,')).message).toMatch(/empty entry/);
    expect(parseBoard('esp8266')).toBe('esp8266');
    expect(usage(() => parseBoard('x'.repeat(33))).message).toMatch(/--board "x+" is not a board type/);
  });

  it('a device\'s board type comes from its OTA reports, when it is one', () => {
    const view = new FleetView('p');
    view.handle('p/d1/ota', bytes(JSON.stringify({ state: 'idle', version: '1.0.0', board: 'esp8266' })), true, T);
    view.handle('p/d2/ota', bytes(JSON.stringify({ state: 'idle', version: '1.0.0', board: 'esp 8266\u0007' })), true, T);
    expect(view.devices.get('d1')!.board).toBe('esp8266');
    expect(view.devices.get('d2')!.board).toBeUndefined();
  });

  it('versions are semantic versions, as the device parses them', () => {
    for (const v of ['1.4.0', '0.0.1', '1.4.0-rc.1', '1.4.0+build.7', '10.20.30-alpha.beta']) expect(parseVersionArg(v, '--version')).toBe(v);
    for (const v of ['banana', '1.0', '1', '01.0.0', '1.0.0-', '1.0.0-01', '1.0.0 ', '', `1.0.0-${'a'.repeat(70)}`]) {
      expect(usage(() => parseVersionArg(v, '--version')).message).toMatch(/^--version .* is not a semantic version: give MAJOR\.MINOR\.PATCH/);
    }
  });

  it('image URLs are http or https, without credentials, and never repeat a password in the message', () => {
    for (const u of ['http://10.0.0.2:8070/fw.bin', 'https://updates.example.com/a/fw.bin?v=2', 'http://[::1]:8070/fw.bin']) expect(parseImageUrlArg(u, '--url')).toBe(u);
    const ftpCreds = usage(() => parseImageUrlArg('ftp://user:pw@x/y', '--url')).message;
    expect(ftpCreds).toMatch(/--url carries credentials \(user:password@\)/);
    expect(ftpCreds).not.toContain('pw');
    expect(usage(() => parseImageUrlArg('http://user:secret@10.0.0.2/fw.bin', '--url')).message).not.toContain('secret');
    expect(usage(() => parseImageUrlArg('http://token@10.0.0.2/fw.bin', '--url')).message).toMatch(/credentials/);
    expect(usage(() => parseImageUrlArg('ftp://x/y', '--url')).message).toBe('--url "ftp://x/y": devices fetch images over http:// or https:// only, not ftp');
    expect(usage(() => parseImageUrlArg('file:///etc/passwd', '--url')).message).toMatch(/only, not file/);
    expect(usage(() => parseImageUrlArg('10.0.0.2/fw.bin', '--url')).message).toMatch(/is not a URL/);
    expect(usage(() => parseImageUrlArg('http://10.0.0.2:99999/fw.bin', '--url')).message).toMatch(/is not a URL/);
    expect(usage(() => parseImageUrlArg(`http://x/${'a'.repeat(520)}`, '--url')).message).toMatch(/at most 512/);
    // what WHATWG URL takes but the device's parser refuses
    expect(usage(() => parseImageUrlArg('http://hé.example/fw.bin', '--url')).message).toMatch(/^--url: cannot fetch/);
    // the rollout appends the image path to --public-url
    expect(parsePublicUrl('http://192.168.1.10:8070', '--public-url')).toBe('http://192.168.1.10:8070');
    expect(usage(() => parsePublicUrl('http://192.168.1.10:8070/?x=1', '--public-url')).message).toMatch(/no \? or #/);
  });

  it('broker URLs are MQTT ones, and their password stays out of messages', () => {
    for (const u of ['mqtt://127.0.0.1:1883', 'mqtts://broker.example:8883', 'ws://127.0.0.1:8080/mqtt', 'wss://b.example/mqtt', 'mqtt://u:p@127.0.0.1']) expect(parseBrokerUrl(u)).toBe(u);
    expect(usage(() => parseBrokerUrl('http://127.0.0.1:1883')).message).toMatch(/http is not a broker protocol/);
    expect(usage(() => parseBrokerUrl('127.0.0.1:1883')).message).toMatch(/is not a URL/);
    expect(usage(() => parseBrokerUrl('localhost:1883')).message).toMatch(/is not a URL/);
    expect(redactUrl('mqtt://user:hunter2@127.0.0.1:1883')).toBe('mqtt://user:***@127.0.0.1:1883');
  });

  it('prefixes, device ids, groups and job ids are what devices use in topics', () => {
    for (const p of ['nodemcu', 'site-1/nodemcu', 'a/b/c']) expect(parsePrefix(p)).toBe(p);
    for (const p of ['', 'a/#', '+', 'a//b', '/a', 'a/', '$SYS', 'a\nb', 'x'.repeat(49)]) usage(() => parsePrefix(p));
    for (const id of ['0242ac110002', 'kitchen-3', 'dev.01']) expect(parseDeviceId(id)).toBe(id);
    for (const id of ['', 'a/b', 'a+b', '#', 'a b', '\ufffd\ufffd', 'a\u0007', 'x'.repeat(65)]) expect(usage(() => parseDeviceId(id)).message).toMatch(/^--device .* is not a device id/);
    expect(parseGroup('beta')).toBe('beta');
    for (const g of ['', 'a/b', 'a+', 'a\tb']) usage(() => parseGroup(g));
    expect(parseJobId('rollout-2024.06_1', '--id')).toBe('rollout-2024.06_1');
    for (const id of ['', 'a b', 'a/b', 'x'.repeat(65)]) usage(() => parseJobId(id, '--id'));
  });

  it('numbers are decimal digits within bounds; hosts and reasons are checked too', () => {
    expect(parseWhole('3', '--min-sample', 1, 10)).toBe(3);
    expect(parseWhole(' 7 ', '--min-sample', 1, 10)).toBe(7);
    for (const n of ['0', '11', '0x3', '3.0', '-1', '', '1e1', 'three']) expect(usage(() => parseWhole(n, '--min-sample', 1, 10)).message).toMatch(/^--min-sample .* must be a whole number from 1 to 10/);
    for (const h of ['0.0.0.0', '127.0.0.1', '::1', 'localhost', 'fleet-host.lan']) expect(parseHost(h, '--http-host')).toBe(h);
    for (const h of ['', 'a b', 'http://x', '-x']) usage(() => parseHost(h, '--http-host'));
    expect(parseReason('  canaries crashed  ')).toBe('canaries crashed');
    for (const r of ['', '   ', 'two\nlines', 'x'.repeat(201)]) usage(() => parseReason(r));
  });

  it('text devices publish is made safe for a terminal', () => {
    expect(printable('9.9.9\u001b[2J\u001b[31m')).toBe('9.9.9?[2J?[31m');
    expect(printable('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('fleet view: is a device that says online there?', () => {
  const status = (boot: number, version = '1.0.0') => bytes(JSON.stringify({ status: 'online', state: 'ready', boot, version }));
  const heartbeat = (expires: number) => bytes(JSON.stringify({ up: 10, boot: 3, version: '1.0.0', interval: 2, expires }));

  it('a retained "online" waits for a heartbeat up to the wait, then is stale; a live heartbeat makes it online', () => {
    const v = new FleetView('p');
    v.handle('p/dead/status', status(3, '9.9.9'), true, T);
    v.handle('p/live/status', status(3), true, T);
    const d = v.devices.get('dead')!;
    const l = v.devices.get('live')!;
    expect(v.presence(d, 5000, T + 5000)).toBe('waiting');
    expect(v.presence(d, 5000, T + 5001)).toBe('stale');
    v.handle('p/live/heartbeat', heartbeat(14), false, T + 1000);
    expect(v.presence(l, 5000, T + 1000)).toBe('online');
    // after its first heartbeat a device's own expires counts, not the wait
    expect(v.presence(l, 5000, T + 15_000)).toBe('online');
    expect(v.presence(l, 5000, T + 15_001)).toBe('stale');
  });

  it('a retained heartbeat proves nothing; a repeated "online" does not restart the clock, a new boot does', () => {
    const v = new FleetView('p');
    v.handle('p/d1/status', status(3), true, T);
    v.handle('p/d1/heartbeat', heartbeat(14), true, T + 100);
    const d = v.devices.get('d1')!;
    expect(d.heartbeatAt).toBeUndefined();
    expect(v.presence(d, 1000, T + 1001)).toBe('stale');
    v.handle('p/d1/status', status(3), true, T + 2000);
    expect(v.presence(d, 1000, T + 2000)).toBe('stale');
    v.handle('p/d1/status', status(4), false, T + 3000); // a birth: the device rebooted
    expect(v.presence(d, 1000, T + 3000)).toBe('waiting');
    v.handle('p/d1/status', bytes('{"status":"offline","state":"lost","boot":4}'), false, T + 3500);
    expect(v.presence(d, 1000, T + 9000)).toBe('offline');
  });

  it('ignores messages under ids that are not device ids, and payloads that are not JSON objects', () => {
    const v = new FleetView('p');
    expect(v.handle('p/\u001b[31m/status', status(1), true, T)).toBeUndefined();
    expect(v.handle(`p/${'x'.repeat(65)}/status`, status(1), true, T)).toBeUndefined();
    expect(v.ignored).toBe(2);
    expect(v.handle('p/d1/status', bytes('[1,2]'), true, T)).toBeUndefined();
    expect(v.handle('p/d1/status', bytes('"online"'), true, T)).toBeUndefined();
    expect(v.devices.size).toBe(0);
  });
});
