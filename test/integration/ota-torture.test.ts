// Torture: randomized OTA trials on a pool of simulated devices against mosquitto and a misbehaving
// image server: power cuts at random byte offsets of the slot write and during the new image's
// trial boot, truncated and stalled downloads, corrupted bytes, and bad images (crash-loop,
// no-connect, fail-health, broken image checksum). After every trial the device is power-cycled and
// must come back on a committed, working image with the version the outcome implies: no trial may
// leave a device unbootable. Seed and count: OTA_TORTURE_SEED, OTA_TORTURE_TRIALS (default 200).
import { generateKeyPairSync, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient as PeerClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSimImage, type SimImageBehaviour } from '../../hosts/sim/bootloader';
import { startSimHttpServer, type ImageFault, type SimHttpServer } from '../../hosts/sim/http-server';
import { mulberry32 } from '../../hosts/sim/system';
import { publicKeyHex } from '../../scripts/fleet/keys';
import { describeImage, signJob } from '../../scripts/fleet/sign';
import { observer, type Observed } from '../helpers/device';
import { startMosquitto, type MosquittoBroker } from '../helpers/mosquitto';
import { until } from '../helpers/mqtt';
import { SimFleetDevice, TEST_OTA } from '../helpers/ota-fleet';

const TRIALS = Number(process.env.OTA_TORTURE_TRIALS ?? 200);
const SEED = Number(process.env.OTA_TORTURE_SEED ?? randomInt(2 ** 31));
const POOL = 20;

type Kind = 'clean' | 'power-cut' | 'power-cut-trial' | 'truncated' | 'stalled' | 'corrupted' | 'crash-loop' | 'no-connect' | 'fail-health' | 'broken-image';
const KINDS: Kind[] = ['clean', 'power-cut', 'power-cut', 'power-cut-trial', 'truncated', 'stalled', 'corrupted', 'crash-loop', 'no-connect', 'fail-health', 'broken-image'];
const EXPECTED: Record<Kind, string> = {
  clean: 'success',
  'power-cut': 'success',
  'power-cut-trial': 'success',
  truncated: 'success',
  stalled: 'success',
  corrupted: 'failed',
  'crash-loop': 'rolled-back',
  'no-connect': 'rolled-back',
  'fail-health': 'rolled-back',
  'broken-image': 'failed',
};

const { privateKey } = generateKeyPairSync('ed25519');
const prefix = 'torture';
const root = mkdtempSync(join(tmpdir(), 'ota-torture-'));
const faults = new Map<string, (r: { n: number }) => ImageFault | undefined>();
let broker: MosquittoBroker;
let http: SimHttpServer;
let peer: PeerClient;
let seen: Observed[];

beforeAll(async () => {
  broker = await startMosquitto();
  http = await startSimHttpServer({ fault: (r) => faults.get(r.path)?.(r) });
  ({ peer, seen } = await observer(broker.url, [`${prefix}/+/ota`]));
});
afterAll(async () => {
  await peer?.endAsync(true);
  await http?.close();
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Result {
  device: string;
  trial: number;
  kind: Kind;
  outcome: string;
  error?: string;
  bootable: boolean;
  version: string;
  expectedVersion: string;
  detail: string;
  /** The device's log lines of this trial. */
  log: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function online(d: SimFleetDevice, boots: number, timeoutMs: number): Promise<boolean> {
  try {
    await until(() => d.boots.length >= boots && !!d.device?.presence.birthAcknowledged, `${d.id} online`, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

async function trial(d: SimFleetDevice, k: number, version: string, from: string, random: () => number): Promise<Result> {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const logFrom = d.logs.length;
  const kind = KINDS[int(0, KINDS.length - 1)];
  const behaviour: SimImageBehaviour = kind === 'crash-loop' || kind === 'no-connect' || kind === 'fail-health' ? kind : 'ok';
  const size = int(64, 160) * 1024 + int(0, 1023);
  const bytes = buildSimImage({ version, behaviour }, size);
  if (kind === 'broken-image') bytes[int(100, size - 33)] ^= 1 << int(0, 7);
  const path = `/${d.id}/${version}.bin`;
  http.setFile(path, bytes);
  const cutAt = int(0, size);
  const truncations = int(1, 3);
  const truncateAfter = int(1, size - 1);
  const corruptAt = int(0, size - 1);
  const stallAfter = int(0, size - 1);
  if (kind === 'truncated') faults.set(path, (r) => (r.n <= truncations ? { truncateAfter: Math.max(1, truncateAfter >> (r.n - 1)) } : undefined));
  if (kind === 'stalled') faults.set(path, (r) => (r.n === 1 ? { stallAfter } : undefined));
  if (kind === 'corrupted') faults.set(path, () => ({ corruptAt }));
  if (kind === 'power-cut') d.armPowerCut(cutAt);
  const id = `t${k}-${d.id}`;
  const job = signJob({ id, version, url: http.url(path), ...describeImage(bytes) }, privateKey);
  const topic = `${prefix}/${d.id}/ota/job`;
  await peer.publishAsync(topic, JSON.stringify(job), { qos: 1, retain: true });
  const detail = kind === 'power-cut' ? `cut at byte ${cutAt} of ${size}` : kind === 'truncated' ? `${truncations} truncation(s) from byte ${truncateAfter}` : kind === 'corrupted' ? `byte ${corruptAt} flipped` : kind === 'stalled' ? `stall at byte ${stallAfter}` : `${size} bytes`;

  const report = () => seen.filter((m) => m.topic === `${prefix}/${d.id}/ota` && m.json.job === id).at(-1)?.json;
  const final = new Set(['success', 'failed', 'rolled-back', 'rejected', 'unsupported']);
  if (kind === 'power-cut-trial') {
    // lose power while the new image is on trial, before its health check can commit it
    await until(() => d.boots.at(-1)?.version === version && d.boots.at(-1)!.pending, 'trial boot', 20_000).catch(() => undefined);
    await sleep(int(0, 600));
    d.powerCut();
  }
  // a health failure is reported as "failed" by the new image, then "rolled-back" by the old one
  const done = () => {
    const r = report();
    return !!r && final.has(String(r.state)) && !(r.state === 'failed' && r.error === 'health');
  };
  await until(done, `${id} (${kind}) to finish`, 30_000).catch(() => undefined);
  const r = report() ?? {};
  faults.delete(path);
  await peer.publishAsync(topic, '', { qos: 1, retain: true });

  // power-cycle: the device must come back on a committed image that works
  const boots = d.boots.length;
  d.powerCut();
  const bootable = await online(d, boots + 1, 15_000);
  const last = d.boots.at(-1);
  const expectedVersion = EXPECTED[kind] === 'success' ? version : from;
  return {
    device: d.id,
    trial: k,
    kind,
    outcome: String(r.state ?? 'none'),
    error: r.error as string | undefined,
    bootable: bootable && last?.behaviour === 'ok' && !last.pending,
    version: last?.version ?? '?',
    expectedVersion,
    detail,
    log: d.logs.slice(logFrom),
  };
}

it(`${TRIALS} randomized OTA trials leave no device unbootable`, async () => {
  console.log(`torture seed ${SEED} (OTA_TORTURE_SEED=${SEED} repeats this run), ${TRIALS} trials on ${POOL} devices`);
  const publicKey = publicKeyHex(privateKey);
  const devices = Array.from({ length: Math.min(POOL, TRIALS) }, (_, i) => {
    const id = `tt${String(i).padStart(2, '0')}`;
    return new SimFleetDevice({
      dir: join(root, id),
      id,
      broker,
      prefix,
      publicKey,
      ota: { ...TEST_OTA, download: { retryDelay: 100, stallTimeout: 500, maxAttempts: 6 } },
    });
  });
  const results: Result[] = [];
  const t0 = Date.now();
  try {
    await Promise.all(
      devices.map(async (d, i) => {
        const random = mulberry32(SEED + i);
        d.start();
        if (!(await online(d, 1, 20_000))) throw new Error(`${d.id} never came online`);
        let current = '1.0.0';
        for (let k = i; k < TRIALS; k += devices.length) {
          const version = `1.${k + 1}.0`;
          const r = await trial(d, k, version, current, random);
          results.push(r);
          if (r.bootable) current = r.version;
        }
      }),
    );
  } finally {
    for (const d of devices) d.stop();
  }
  const seconds = (Date.now() - t0) / 1000;

  const tally = new Map<string, number>();
  for (const r of results) tally.set(`${r.kind.padEnd(16)} -> ${r.outcome}${r.error ? ` (${r.error})` : ''}`, (tally.get(`${r.kind.padEnd(16)} -> ${r.outcome}${r.error ? ` (${r.error})` : ''}`) ?? 0) + 1);
  const unbootable = results.filter((r) => !r.bootable);
  const unexpected = results.filter((r) => r.outcome !== EXPECTED[r.kind] || r.version !== r.expectedVersion);
  console.log(
    [
      `OTA torture: ${results.length} trials in ${seconds.toFixed(1)} s (seed ${SEED})`,
      ...[...tally.entries()].sort().map(([k, n]) => `  ${String(n).padStart(4)}  ${k}`),
      `  devices left unbootable: ${unbootable.length}`,
      `  outcomes other than expected: ${unexpected.length}`,
    ].join('\n'),
  );
  for (const r of [...unbootable, ...unexpected].slice(0, 10)) console.log(`${JSON.stringify({ ...r, log: undefined })}\n${r.log.join('\n')}`);
  const brief = (list: Result[]) => list.map((r) => `${r.device} trial ${r.trial} ${r.kind} (${r.detail}): ${r.outcome}, runs ${r.version}`);
  expect(results).toHaveLength(TRIALS);
  expect(brief(unbootable)).toEqual([]);
  expect(brief(unexpected)).toEqual([]);
}, 170_000);
