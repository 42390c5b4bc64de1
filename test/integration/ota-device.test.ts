// One simulated device at a time against mosquitto: every job outcome the device can report, with
// real downloads into slot files and real reboots through the sim bootloader.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient as PeerClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildSimImage, type SimImageBehaviour } from '../../hosts/sim/bootloader';
import { SimFlash } from '../../hosts/sim/flash';
import { startSimHttpServer, type ImageFault, type SimHttpServer } from '../helpers/image-server';
import { otaExtension } from '../../src/ota/extension';
import { publicKeyHex } from '../../scripts/fleet/keys';
import { describeImage, signJob, type JobFields } from '../../scripts/fleet/sign';
import { RealClock } from '../../hosts/sim/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { createNodeNetwork } from '../../hosts/sim/net';
import { main } from '../../src/main';
import { observer, type Observed } from '../helpers/device';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';
import { SimFleetDevice } from '../helpers/ota-fleet';

const { privateKey } = generateKeyPairSync('ed25519');
const publicKey = publicKeyHex(privateKey);
let broker: MosquittoBroker;
let http: SimHttpServer;
let peer: PeerClient;
let seen: Observed[];
let fault: (r: { path: string; from?: number; n: number }) => ImageFault | undefined = () => undefined;
const root = mkdtempSync(join(tmpdir(), 'ota-dev-'));
const prefix = `ota${process.pid}`;
const devices: SimFleetDevice[] = [];
let counter = 0;

beforeAll(async () => {
  broker = await startMosquitto();
  http = await startSimHttpServer({ fault: (r) => fault(r) });
  ({ peer, seen } = await observer(broker.url, [`${prefix}/+/ota`]));
});
afterEach(() => {
  fault = () => undefined;
  for (const d of devices.splice(0)) d.stop();
});
afterAll(async () => {
  await peer?.endAsync(true);
  await http?.close();
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});

function image(version: string, behaviour: SimImageBehaviour = 'ok'): { path: string; bytes: Uint8Array } {
  const path = `/fw-${version}-${behaviour}.bin`;
  const bytes = buildSimImage({ version, behaviour }, 96 * 1024);
  http.setFile(path, bytes);
  return { path, bytes };
}

function job(version: string, behaviour: SimImageBehaviour = 'ok', extra: Partial<JobFields> = {}): JobFields & { signature: string } {
  const img = image(version, behaviour);
  return signJob({ id: `job${++counter}`, version, url: http.url(img.path), ...describeImage(img.bytes), ...extra }, privateKey);
}

function device(options: Partial<ConstructorParameters<typeof SimFleetDevice>[0]> = {}): SimFleetDevice {
  const id = `d${++counter}`;
  const d = new SimFleetDevice({ dir: join(root, id), id, broker, prefix, publicKey, ...options });
  devices.push(d);
  d.start();
  return d;
}

const reports = (d: { id: string }) => seen.filter((m) => m.topic === `${prefix}/${d.id}/ota`).map((m) => m.json);
const states = (d: { id: string }, jobId?: string) => reports(d).filter((r) => !jobId || r.job === jobId).map((r) => r.state);
const last = (d: { id: string }) => reports(d).at(-1) ?? {};

async function online(d: SimFleetDevice): Promise<void> {
  await until(() => !!d.device?.presence.birthAcknowledged && states(d).length > 0, `${d.id} online`);
}

async function send(d: { id: string }, j: object, topic = `${prefix}/${d.id}/ota/job`): Promise<void> {
  await peer.publishAsync(topic, JSON.stringify(j), { qos: 1, retain: true });
}

const explain = (d: SimFleetDevice) => `\n${d.logs.join('\n')}\nreports: ${JSON.stringify(reports(d))}`;

describe('OTA on one device', () => {
  it('installs a good image: download, reboot, health check, commit; reports each step', async () => {
    const d = device();
    await online(d);
    expect(last(d)).toMatchObject({ state: 'idle', version: '1.0.0' });
    const j = job('1.1.0');
    await send(d, j);
    await until(() => last(d).state === 'success', 'success', 15_000).catch((e) => Promise.reject(new Error(e.message + explain(d))));
    const s = states(d, j.id);
    expect(s[0]).toBe('downloading');
    expect(s.slice(-3)).toEqual(['rebooting', 'pending', 'success']);
    expect(last(d)).toMatchObject({ state: 'success', version: '1.1.0', target: '1.1.0', job: j.id });
    expect(d.boots.map((b) => [b.version, b.pending])).toEqual([
      ['1.0.0', false],
      ['1.1.0', true],
    ]);
    // committed: the next power cycle boots 1.1.0 again, not on trial, and the retained job is ignored
    d.powerCut();
    await until(() => d.boots.length === 3 && !!d.device?.presence.birthAcknowledged, 'rebooted');
    await new Promise((r) => setTimeout(r, 300));
    expect(d.boots[2]).toMatchObject({ version: '1.1.0', pending: false });
    expect(http.requests.filter((r) => r.path === new URL(j.url).pathname)).toHaveLength(1);
  });

  it('publishes download progress at a bounded rate', async () => {
    const d = device({ ota: { progressInterval: 50 } });
    await online(d);
    const j = job('1.2.0');
    await send(d, j);
    await until(() => last(d).state === 'success', 'success', 15_000);
    const times = seen.filter((m) => m.topic === `${prefix}/${d.id}/ota` && m.json.job === j.id && m.json.state === 'downloading').map((m) => m.at);
    expect(times.length).toBeGreaterThanOrEqual(1);
    // at most one per 50 ms, plus the first
    for (let i = 2; i < times.length; i++) expect(times[i] - times[i - 2]).toBeGreaterThanOrEqual(50);
  });

  it('rejects a bad signature before any download', async () => {
    const d = device();
    await online(d);
    const before = http.requests.length;
    const j = { ...job('1.3.0'), size: 1234 }; // changed after signing
    await send(d, j);
    await until(() => last(d).state === 'rejected', 'rejected');
    expect(last(d)).toMatchObject({ state: 'rejected', error: 'bad-signature', job: j.id, version: '1.0.0' });
    await new Promise((r) => setTimeout(r, 200));
    expect(http.requests.length).toBe(before);
  });

  it('rejects a job signed by another key', async () => {
    const d = device();
    await online(d);
    const other = generateKeyPairSync('ed25519').privateKey;
    const img = image('1.3.1');
    const j = signJob({ id: `job${++counter}`, version: '1.3.1', url: http.url(img.path), ...describeImage(img.bytes) }, other);
    await send(d, j);
    await until(() => last(d).state === 'rejected', 'rejected');
    expect(last(d).error).toBe('bad-signature');
  });

  it('refuses a downgrade unless the job allows it', async () => {
    const d = device({ factory: { version: '2.0.0', behaviour: 'ok' } });
    await online(d);
    const j = job('1.9.0');
    await send(d, j);
    await until(() => last(d).state === 'rejected', 'rejected');
    expect(last(d)).toMatchObject({ error: 'downgrade', target: '1.9.0', version: '2.0.0' });
    expect(String(last(d).reason)).toContain('allowDowngrade');
    const allowed = job('1.9.0', 'ok', { allowDowngrade: true });
    await send(d, allowed);
    await until(() => last(d).state === 'success' && last(d).job === allowed.id, 'downgrade installed', 15_000);
    expect(last(d).version).toBe('1.9.0');
  });

  it('rejects a corrupted download (hash mismatch) and keeps running the old image', async () => {
    const d = device();
    await online(d);
    const j = job('1.4.0');
    fault = () => ({ corruptAt: 5000 });
    await send(d, j);
    await until(() => last(d).state === 'failed', 'failed', 15_000);
    expect(last(d)).toMatchObject({ error: 'hash-mismatch', version: '1.0.0', job: j.id });
    expect(d.boots).toHaveLength(1);
    expect(new SimFlash(d.o.dir).readState()?.trial).toBeUndefined();
  });

  it('an image rejected for its hash never boots, even once the boot state is unreadable; the recovery is reported', async () => {
    const d = device();
    await online(d);
    // a first update, so that the spare slot is slot 0
    const first = job('2.1.0');
    await send(d, first);
    await until(() => last(d).state === 'success' && last(d).version === '2.1.0', 'first update', 15_000).catch((e) => Promise.reject(new Error(e.message + explain(d))));
    // a job with a valid signature whose URL serves a different, crash-looping image of the same size
    const wanted = image('2.2.0');
    http.setFile('/wrong-2.2.0.bin', buildSimImage({ version: '2.2.0', behaviour: 'crash-loop' }, wanted.bytes.length));
    const j = signJob({ id: `job${++counter}`, version: '2.2.0', url: http.url('/wrong-2.2.0.bin'), ...describeImage(wanted.bytes) }, privateKey);
    await send(d, j);
    await until(() => last(d).state === 'failed' && last(d).job === j.id, 'failed', 15_000);
    expect(last(d)).toMatchObject({ error: 'hash-mismatch', version: '2.1.0' });
    // the boot state is made unreadable, then the power goes
    const flashDir = join(d.o.dir, 'flash');
    const stateFiles = readdirSync(flashDir).filter((f) => f.startsWith('boot'));
    expect(stateFiles.length).toBeGreaterThan(0);
    for (const f of stateFiles) writeFileSync(join(flashDir, f), 'not a boot state');
    const before = d.boots.length;
    d.powerCut();
    await until(() => d.boots.length > before && !!d.device?.presence.birthAcknowledged, 'back online', 15_000);
    await new Promise((r) => setTimeout(r, 1000)); // a crash-looping image would have panicked by now
    expect(d.boots.slice(before).map((b) => b.version)).not.toContain('2.2.0');
    expect(d.boots.at(-1)).toMatchObject({ version: '2.1.0', behaviour: 'ok', pending: false });
    await until(() => last(d).recovered !== undefined, 'recovery reported');
    expect(last(d)).toMatchObject({ version: '2.1.0', job: j.id, state: 'failed' });
    expect(String(last(d).recovered)).toMatch(/boot record unreadable .*booted 2\.1\.0 from slot 1, the last committed image/);
    expect(d.logs.some((l) => /error ota: the bootloader could not trust its boot state/.test(l))).toBe(true);
  });

  it('resumes a truncated download with Range requests', async () => {
    const d = device();
    await online(d);
    const j = job('1.4.1');
    const path = new URL(j.url).pathname;
    fault = (r) => (r.path === path && r.n <= 2 ? { truncateAfter: 30_000 } : undefined);
    await send(d, j);
    await until(() => last(d).state === 'success', 'success', 15_000);
    expect(http.requests.filter((r) => r.path === path).map((r) => [r.from ?? 0, r.status])).toEqual([
      [0, 200],
      [30_000, 206],
      [60_000, 206],
    ]);
  });

  it('an image the update slot rejects (bad image checksum) fails without a reboot', async () => {
    const d = device();
    await online(d);
    const bytes = buildSimImage({ version: '1.4.2', behaviour: 'ok' }, 96 * 1024);
    bytes[5000] ^= 1; // the image's own checksum no longer matches; the job hashes these bytes
    http.setFile('/broken.bin', bytes);
    const j = signJob({ id: `job${++counter}`, version: '1.4.2', url: http.url('/broken.bin'), ...describeImage(bytes) }, privateKey);
    await send(d, j);
    await until(() => last(d).state === 'failed', 'failed', 15_000);
    expect(last(d)).toMatchObject({ error: 'flash', version: '1.0.0' });
    expect(String(last(d).reason)).toContain('checksum');
    expect(d.boots).toHaveLength(1);
  });

  it.each([
    ['crash-loop', /crash loop: the image restarted 3 times/, 3],
    ['no-connect', /not passed within 2\.5 s: MQTT not connected/, 1],
    ['fail-health', /free memory 2048 bytes, below the floor of 16384/, 1],
  ] as [SimImageBehaviour, RegExp, number][])('a %s image is rolled back by itself and the rollback is reported', async (behaviour, reason, trials) => {
    const d = device();
    await online(d);
    const j = job('3.0.0', behaviour);
    await send(d, j);
    await until(() => last(d).state === 'rolled-back', 'rolled back', 20_000).catch((e) => Promise.reject(new Error(e.message + explain(d))));
    expect(last(d)).toMatchObject({ state: 'rolled-back', version: '1.0.0', target: '3.0.0', job: j.id, error: 'rolled-back' });
    expect(String(last(d).reason)).toMatch(reason);
    expect(d.boots.map((b) => b.version)).toEqual(['1.0.0', ...Array(trials).fill('3.0.0'), '1.0.0']);
    expect(d.boots.at(-1)).toMatchObject({ version: '1.0.0', pending: false });
    // the retained job is not installed again
    await new Promise((r) => setTimeout(r, 500));
    expect(d.boots).toHaveLength(trials + 2);
    expect(http.requests.filter((r) => r.path === new URL(j.url).pathname)).toHaveLength(1);
  });

  it('refuses a second job while one runs, without losing the first', async () => {
    const d = device();
    await online(d);
    const first = job('1.5.0');
    const path = new URL(first.url).pathname;
    fault = (r) => (r.path === path && r.n === 1 ? { stallAfter: 10_000 } : undefined);
    await send(d, first);
    await until(() => states(d, first.id).includes('downloading'), 'downloading');
    const second = job('1.6.0');
    await send(d, second, `${prefix}/${d.id}/ota/job2`); // a topic the device does not follow: nothing happens
    await peer.publishAsync(`${prefix}/${d.id}/ota/job`, JSON.stringify(second), { qos: 1 });
    await until(() => states(d, second.id).includes('rejected'), 'second rejected', 10_000);
    expect(reports(d).find((r) => r.job === second.id)).toMatchObject({ error: 'busy' });
    await until(() => last(d).state === 'success' && last(d).job === first.id, 'first installed', 15_000);
    expect(last(d).version).toBe('1.5.0');
  });

  it('follows its group topics', async () => {
    const d = device({ groups: ['kitchen', 'beta'] });
    await online(d);
    expect(last(d).groups).toEqual(['kitchen', 'beta']);
    const j = job('1.7.0');
    await send(d, j, `${prefix}/group/beta/ota/job`);
    await until(() => last(d).state === 'success', 'success via group', 15_000);
  });

  for (const layout of ['esp32', 'esp8266'] as const) {
    it(`${layout} layout: a power cut in the middle of the download: the old image boots, the retained job continues from its last checkpoint and completes`, async () => {
      const d = device({ layout });
      await online(d);
      d.armPowerCut(40_000);
      const j = job(layout === 'esp32' ? '1.8.0' : '1.8.1');
      await send(d, j);
      await until(() => last(d).state === 'success', 'success after the power cut', 20_000).catch((e) => Promise.reject(new Error(e.message + explain(d))));
      expect(d.boots.map((b) => [b.version, b.reset])).toEqual([
        ['1.0.0', 'power-on'],
        ['1.0.0', 'power-on'],
        [j.version, 'software'],
      ]);
      // checkpoints every 16 KB: 32768 bytes (32760 programmed, the magic held back) were safe at the cut
      expect(http.requests.filter((r) => r.path === new URL(j.url).pathname).map((r) => r.from ?? 0)).toEqual([0, 32768]);
      expect(d.logs.join('\n')).toMatch(/continuing from byte 32768/);
    });
  }

  it('refuses a job for another board type with a clear report, and takes the one for its own', async () => {
    const d = device({ layout: 'esp8266', board: 'esp8266' });
    await online(d);
    expect(last(d)).toMatchObject({ state: 'idle', board: 'esp8266' });
    const wrong = job('1.9.7', 'ok', { board: 'esp32' });
    await send(d, wrong);
    await until(() => states(d, wrong.id).includes('rejected'), 'wrong-board refusal');
    expect(reports(d).find((r) => r.job === wrong.id)).toMatchObject({
      state: 'rejected',
      error: 'wrong-board',
      reason: 'the image is built for esp32 boards; this device is a esp8266: send it the esp8266 image',
      board: 'esp8266',
    });
    expect(http.requests.filter((r) => r.path === new URL(wrong.url).pathname)).toHaveLength(0);
    const right = job('1.9.8', 'ok', { board: 'esp8266' });
    await send(d, right);
    await until(() => last(d).state === 'success' && last(d).version === '1.9.8', 'the esp8266 image installed', 20_000).catch((e) => Promise.reject(new Error(e.message + explain(d))));
    expect(d.boots.at(-1)).toMatchObject({ version: '1.9.8', pending: true });
  });

  it('reports "unsupported" on a device without an update port (an ESP8266 flashed without nmboot)', async () => {
    const id = `esp8266x${++counter}`;
    const dev = main(
      {
        clock: new RealClock(),
        network: createNodeNetwork(),
        storage: new MemoryStore(),
        log: { log: () => undefined },
        system: { deviceId: () => id, restart: () => undefined, freeMemory: () => 30000, resetReason: () => 'power-on', random: Math.random },
      },
      { version: '1.0.0', config: { brokerHost: broker.host, brokerPort: broker.port, prefix, discovery: false }, extensions: [otaExtension({ publicKey })] },
    );
    try {
      await until(() => states({ id }).length > 0, 'idle report');
      await send({ id }, job('1.9.5'));
      await until(() => last({ id }).state === 'unsupported', 'unsupported');
      expect(last({ id })).toMatchObject({ error: 'unsupported', version: '1.0.0' });
    } finally {
      dev.client.destroy();
    }
  });

  it('rejects a malformed job and one with no key configured, with reasons', async () => {
    const d = device();
    await online(d);
    await peer.publishAsync(`${prefix}/${d.id}/ota/job`, '{"id": "x1", "version": ', { qos: 1 });
    await until(() => last(d).state === 'rejected', 'rejected');
    expect(last(d)).toMatchObject({ error: 'bad-job' });
    const k = device({ publicKey: '' });
    await online(k);
    await send(k, job('1.9.9'));
    await until(() => last(k).state === 'rejected', 'rejected without key');
    expect(last(k)).toMatchObject({ error: 'no-key' });
    expect(String(last(k).reason)).toContain('otaPublicKey');
  });
});
