// Staged rollouts by the fleet tool's engine (the code `fleet rollout` runs) to simulated devices
// against mosquitto: a good image reaches everyone stage by stage; a crash-looping image is stopped
// by its canaries and never reaches the rest.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient as PeerClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CampaignStore } from '../../scripts/fleet/campaign';
import { loadPrivateKey } from '../../scripts/fleet/keys';
import { parseTarget, rolloutOrder } from '../../scripts/fleet/plan';
import { Rollout } from '../../scripts/fleet/rollout';
import { observer, type Observed } from '../helpers/device';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';
import { startFleet, type Fleet } from '../helpers/ota-fleet';
import { writeImage, writeOperatorKey, type OperatorKey } from '../helpers/ota-operator';

let broker: MosquittoBroker;
let peer: PeerClient;
let seen: Observed[];
let key: OperatorKey;
const work = mkdtempSync(join(tmpdir(), 'ota-rollout-'));
const fleets: Fleet[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  key = writeOperatorKey(work);
  ({ peer, seen } = await observer(broker.url, ['+/+/ota', '+/+/ota/job', '+/+/status']));
});
afterEach(() => {
  for (const f of fleets.splice(0)) f.stop();
});
afterAll(async () => {
  await peer?.endAsync(true);
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

function fleet(n: number, prefix: string): Fleet {
  const f = startFleet(n, { broker, prefix, publicKey: key.publicHex, idPrefix: 'n' });
  fleets.push(f);
  return f;
}

async function allOnline(f: Fleet, prefix: string): Promise<void> {
  await until(() => f.devices.every((d) => d.device?.presence.birthAcknowledged), 'fleet online', 20_000);
  // the tool plans from retained reports: wait until every device's is on the broker
  await until(() => f.devices.every((d) => seen.some((m) => m.topic === `${prefix}/${d.id}/ota`)), 'retained OTA reports', 10_000);
}

function collect(): { write(s: string): void; text(): string } {
  let text = '';
  return { write: (s) => void (text += s), text: () => text };
}

describe('fleet rollout', () => {
  it('a good image reaches 20 devices in 3 stages, and every device reports the new version', async () => {
    const prefix = 'good';
    const f = fleet(20, prefix);
    await allOnline(f, prefix);
    const store = new CampaignStore(join(work, 'good-state'));
    const out = collect();
    const r = new Rollout({ store, out, tick: 100 });
    const t0 = Date.now();
    await r.create({
      broker: broker.url,
      prefix,
      key: loadPrivateKey(key.file),
      image: readFileSync(writeImage(work, '1.1.0')),
      version: '1.1.0',
      target: parseTarget('all'),
      stages: [10, 50, 100],
      failureThreshold: 0.1,
      minSample: 2,
      deviceTimeout: 30_000,
      discover: 1000,
      http: { host: '127.0.0.1', port: 0 },
      id: 'good1',
    });
    const report = await r.run();
    const seconds = (Date.now() - t0) / 1000;
    console.log(`${out.text()}\nrollout of 20 devices in 3 stages: ${seconds.toFixed(1)} s (stages ${report.stages.map((s) => s.seconds).join(' s, ')} s)`);
    expect(report).toMatchObject({ status: 'succeeded', devices: 20, succeeded: 20, failed: 0, untouched: 0 });
    expect(report.stages.map((s) => [s.percent, s.devices, s.succeeded])).toEqual([
      [10, 2, 2],
      [50, 8, 8],
      [100, 10, 10],
    ]);
    // every device reports 1.1.0, retained, on its OTA and status topics
    for (const d of f.devices) {
      expect(d.version).toBe('1.1.0');
      const ota = seen.filter((m) => m.topic === `${prefix}/${d.id}/ota`).at(-1)!;
      expect(ota.json).toMatchObject({ state: 'success', version: '1.1.0', job: 'good1' });
      const status = seen.filter((m) => m.topic === `${prefix}/${d.id}/status`).at(-1)!;
      expect(status.json).toMatchObject({ status: 'online', version: '1.1.0' });
    }
    // stage 2 started only after stage 1 ended, stage 3 after stage 2
    const c = store.load();
    for (let i = 1; i < 3; i++) expect(c.stages[i].startedAt).toBeGreaterThanOrEqual(c.stages[i - 1].endedAt!);
    // the retained jobs were withdrawn once each device finished
    for (const d of f.devices) expect(seen.filter((m) => m.topic === `${prefix}/${d.id}/ota/job`).at(-1)!.text).toBe('');
    expect(out.text()).toMatch(/stage 3\/3 100%  \[#{30}\]  10\/10  ok 10  failed 0/);
    expect(readFileSync(join(store.dir, 'report.txt'), 'utf8')).toContain('campaign good1: SUCCEEDED');
  });

  it('a crash-looping image: the canaries roll back by themselves, the campaign aborts, the others are never touched', async () => {
    const prefix = 'crash';
    const f = fleet(20, prefix);
    await allOnline(f, prefix);
    const store = new CampaignStore(join(work, 'crash-state'));
    const out = collect();
    const r = new Rollout({ store, out, tick: 100 });
    await r.create({
      broker: broker.url,
      prefix,
      key: loadPrivateKey(key.file),
      image: readFileSync(writeImage(work, '2.0.0', 'crash-loop')),
      version: '2.0.0',
      target: parseTarget('all'),
      stages: [10, 50, 100],
      failureThreshold: 0.2,
      minSample: 2,
      deviceTimeout: 30_000,
      discover: 1000,
      http: { host: '127.0.0.1', port: 0 },
      id: 'crash1',
    });
    const canaries = store.load().stages[0].devices;
    const report = await r.run();
    console.log(out.text());
    expect(report).toMatchObject({ status: 'aborted', devices: 20, succeeded: 0, failed: 2, untouched: 18 });
    expect(report.abortReason).toMatch(/2 of 2 devices failed \(100%\), above the 20% threshold/);
    expect(report.failures.map((x) => x.id).sort()).toEqual([...canaries].sort());
    for (const x of report.failures) {
      expect(x.error).toBe('rolled-back');
      expect(x.reason).toMatch(/crash loop/);
    }
    for (const d of f.devices) {
      const canary = canaries.includes(d.id);
      expect(d.version, d.id).toBe('1.0.0');
      if (canary) {
        expect(d.boots.map((b) => b.version)).toEqual(['1.0.0', '2.0.0', '2.0.0', '2.0.0', '1.0.0']);
      } else {
        // never touched: one boot, no job ever published to it
        expect(d.boots).toHaveLength(1);
        expect(seen.some((m) => m.topic === `${prefix}/${d.id}/ota/job`)).toBe(false);
      }
    }
    expect(report.stages.map((s) => [s.devices, s.failed, s.untouched])).toEqual([
      [2, 2, 0],
      [8, 0, 8],
      [10, 0, 10],
    ]);
  });

  it('a device that goes silent before its stage is skipped as stale when the stage starts, not sent a job to time out', async () => {
    const prefix = 'midstale';
    const f = fleet(1, prefix);
    await allOnline(f, prefix);
    // a ghost that answers the broker while the campaign is planned, then falls silent; the version is
    // chosen so that the ghost comes second in the rollout order, i.e. in stage 2
    const ghost = 'ghost';
    const version = Array.from({ length: 16 }, (_, i) => `1.6.${i}`).find((v) => rolloutOrder([f.devices[0].id, ghost], v)[1] === ghost)!;
    expect(version).toBeDefined();
    await peer.publishAsync(`${prefix}/${ghost}/status`, JSON.stringify({ status: 'online', state: 'ready', boot: 2, version: '1.0.0' }), { qos: 1, retain: true });
    const beat = () => void peer.publishAsync(`${prefix}/${ghost}/heartbeat`, JSON.stringify({ up: 1, boot: 2, version: '1.0.0', interval: 1, expires: 1 }), { qos: 0 });
    beat();
    const beating = setInterval(beat, 250);
    const store = new CampaignStore(join(work, 'midstale-state'));
    const out = collect();
    const r = new Rollout({ store, out, tick: 100 });
    try {
      await r.create({
        broker: broker.url,
        prefix,
        key: loadPrivateKey(key.file),
        image: readFileSync(writeImage(work, version)),
        version,
        target: parseTarget('all'),
        stages: [50, 100],
        failureThreshold: 0.1,
        minSample: 1,
        deviceTimeout: 20_000,
        discover: 1000,
        heartbeatWait: 3000,
        http: { host: '127.0.0.1', port: 0 },
        id: 'midstale1',
      });
    } finally {
      clearInterval(beating);
    }
    expect(store.load().stages.map((s) => s.devices)).toEqual([[f.devices[0].id], [ghost]]);
    // silent for longer than its heartbeat's expires (1 s) before any stage starts
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const report = await r.run();
    console.log(out.text());
    expect(report).toMatchObject({ status: 'succeeded', devices: 2, succeeded: 1, failed: 0, cancelled: 1 });
    expect(report.skipped).toEqual([{ id: ghost, why: 'stale: its retained status says online (boot 2, version 1.0.0), but no heartbeat came within 1 s' }]);
    expect(out.text()).toContain(`skipped ${ghost}: stale:`);
    expect(store.load().devices[ghost]).toMatchObject({ state: 'cancelled', error: 'stale' });
    expect(seen.some((m) => m.topic === `${prefix}/${ghost}/ota/job`)).toBe(false);
    expect(f.devices[0].version).toBe(version);
  });

  it('a stage larger than the image server serves at once is paced: jobs go out as devices come back on the new image, every device updated', async () => {
    const prefix = 'paced';
    const f = fleet(8, prefix);
    await allOnline(f, prefix);
    const from = seen.length;
    const store = new CampaignStore(join(work, 'paced-state'));
    const out = collect();
    const r = new Rollout({ store, out, tick: 100 });
    await r.create({
      broker: broker.url,
      prefix,
      key: loadPrivateKey(key.file),
      image: readFileSync(writeImage(work, '1.4.0')),
      version: '1.4.0',
      target: parseTarget('all'),
      stages: [100],
      failureThreshold: 0.1,
      minSample: 2,
      deviceTimeout: 30_000,
      discover: 500,
      http: { host: '127.0.0.1', port: 0, concurrency: 1 },
      id: 'paced1',
    });
    const report = await r.run();
    expect(report).toMatchObject({ status: 'succeeded', devices: 8, succeeded: 8, failed: 0 });
    expect(out.text()).toContain('publishing the job to 8 device(s), at most 2 downloading or restarting at a time');
    // replay what the broker carried: a job counts from its publication until its device is back on
    // the new image (its report after "rebooting"); at most two at any time, and never all eight at once
    const events = seen.slice(from).filter((m) => m.topic.startsWith(`${prefix}/`));
    const downloading = new Set<string>();
    let most = 0;
    for (const m of events) {
      const id = m.topic.split('/')[1];
      if (m.topic.endsWith('/ota/job') && m.text) downloading.add(id);
      else if (m.topic.endsWith('/ota') && m.json.job === 'paced1' && m.json.state !== 'downloading' && m.json.state !== 'rebooting') downloading.delete(id);
      most = Math.max(most, downloading.size);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
  });
});
