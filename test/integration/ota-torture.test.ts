// Torture: randomized OTA trials on a pool of simulated devices against mosquitto and a misbehaving
// image server, on each flash layout (ESP32: two slots run in place; ESP8266: slots staged and
// copied into the app area): power cuts at random byte offsets of the slot write (the download then
// continues from its last checkpoint), during the bootloader's copy (ESP8266) and during the new
// image's trial boot, truncated and stalled downloads, corrupted bytes, bad images (crash-loop,
// no-connect, fail-health, broken image checksum), and a boot record made unreadable during the
// trial. After a trial, the flash may be damaged on top (one or both boot record copies, garbage in
// the spare or in the running slot, or in the ESP8266's app area), with the rejected images of failed
// trials still around. Then the device is power-cycled and must come back on a committed, working
// image with the version the outcome and the damage imply, and no rejected image may ever boot
// again: no trial may leave a device unbootable. Printed per layout: unbootable devices, rollbacks,
// and bytes downloaded per successful update against the image size.
// Seed and count: OTA_TORTURE_SEED, OTA_TORTURE_TRIALS (default 200 per layout).
import { generateKeyPairSync, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient as PeerClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSimImage, checkSimImage, SIM_LAYOUTS, type SimImageBehaviour, type SimLayout } from '../../hosts/sim/bootloader';
import { SimCopyFlash, SimFlash, type SlotIndex } from '../../hosts/sim/flash';
import { startSimHttpServer, type ImageFault, type SimHttpServer } from '../helpers/image-server';
import { mulberry32 } from '../../hosts/sim/system';
import { publicKeyHex } from '../../scripts/fleet/keys';
import { describeImage, signJob } from '../../scripts/fleet/sign';
import { observer, type Observed } from '../helpers/device';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';
import { SimFleetDevice, TEST_OTA } from '../helpers/ota-fleet';

const TRIALS = Number(process.env.OTA_TORTURE_TRIALS ?? 200);
const SEED = Number(process.env.OTA_TORTURE_SEED ?? randomInt(2 ** 31));
const POOL = 20;

type Kind = 'clean' | 'power-cut' | 'power-cut-copy' | 'power-cut-trial' | 'truncated' | 'stalled' | 'corrupted' | 'crash-loop' | 'no-connect' | 'fail-health' | 'broken-image' | 'state-in-trial';
const KINDS: Kind[] = ['clean', 'power-cut', 'power-cut', 'power-cut-trial', 'truncated', 'stalled', 'corrupted', 'crash-loop', 'no-connect', 'fail-health', 'broken-image', 'state-in-trial'];
/** The ESP8266 layout adds power cuts during the bootloader's copy of the new image into the app area. */
const KINDS_COPY: Kind[] = [...KINDS, 'power-cut-copy', 'power-cut-copy'];
const EXPECTED: Record<Kind, string> = {
  clean: 'success',
  'power-cut': 'success',
  'power-cut-copy': 'success',
  'power-cut-trial': 'success',
  truncated: 'success',
  stalled: 'success',
  corrupted: 'failed',
  'crash-loop': 'rolled-back',
  'no-connect': 'rolled-back',
  'fail-health': 'rolled-back',
  'broken-image': 'failed',
  'state-in-trial': 'failed',
};
/** Damage to the flash after the trial, before the power cycle. */
type Damage = 'none' | 'record-one' | 'record-both' | 'garbage-spare' | 'garbage-running' | 'garbage-app';
const DAMAGE: Damage[] = ['none', 'none', 'none', 'none', 'record-one', 'record-both', 'record-both', 'garbage-spare', 'garbage-running', 'garbage-running'];
/** ESP8266: "running" is the slot the app area was copied from; the app area itself can be damaged too. */
const DAMAGE_COPY: Damage[] = [...DAMAGE, 'garbage-app'];
const FACTORY_VERSION = '1.0.0';

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
  layout: SimLayout;
  device: string;
  trial: number;
  kind: Kind;
  damage: Damage;
  outcome: string;
  error?: string;
  bootable: boolean;
  version: string;
  expectedVersion: string;
  /** Versions this device had rejected that booted during this trial. */
  rejectedBooted: string[];
  /** The image of a failed trial was still whole (bootable) in a slot once the outcome was known. */
  leftBootable: boolean;
  /** The damage needs the bootloader to recover, and say so. */
  needsReport: boolean;
  /** The device reported the recovery over MQTT after the power cycle. */
  recoveryReported: boolean;
  detail: string;
  /** The device's log lines of this trial. */
  log: string[];
  size: number;
  /** Bytes the device received from the image server until the outcome. */
  downloaded: number;
}

/** What a device's flash holds, as the test follows it: the committed version and the committed image in the spare slot. */
interface Holding {
  committed: string;
  /** The image the bootloader falls back to when the running slot is lost (the factory image when none). */
  spare: string | undefined;
  /** Rejected version -> boots of the device when it was rejected. */
  rejected: Map<string, number>;
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

/** Garbage of one of several sorts, for a slot that held `old` (maybe nothing). */
function garbage(old: Uint8Array | undefined, int: (lo: number, hi: number) => number): { bytes: Uint8Array; what: string } {
  const sort = int(0, 4);
  const size = int(1, 96 * 1024);
  if (sort === 0) return { bytes: Uint8Array.from({ length: size }, () => int(0, 255)), what: `${size} random bytes` };
  if (sort === 1) return { bytes: new Uint8Array(size), what: `${size} zero bytes` };
  if (sort === 2) return { bytes: new Uint8Array(size).fill(0xff), what: `${size} erased bytes` };
  if (old && old.length > 64 && sort === 3) return { bytes: old.subarray(0, int(1, old.length - 1)), what: 'its image truncated' };
  if (old && old.length > 64) {
    const bytes = old.slice();
    bytes[int(0, bytes.length - 1)] ^= 1 << int(0, 7);
    return { bytes, what: 'its image with a bit flipped' };
  }
  return { bytes: Uint8Array.from({ length: size }, () => int(0, 255)), what: `${size} random bytes` };
}

/** Makes record copies unreadable: garbage, a torn write, a flipped bit, or erased. */
function breakRecords(flash: SimFlash, copies: (0 | 1)[], int: (lo: number, hi: number) => number): { what: string; erased: boolean } {
  const ways: string[] = [];
  let erased = true;
  for (const copy of copies) {
    const path = flash.recordPath(copy);
    const old = existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
    const way = old && old.length > 12 ? int(0, 3) : int(0, 1);
    if (way !== 0) erased = false;
    if (way === 0) rmSync(path, { force: true });
    else if (way === 1) writeFileSync(path, Uint8Array.from({ length: int(1, 600) }, () => int(0, 255)));
    else if (way === 2) writeFileSync(path, old!.subarray(0, int(1, old!.length - 1)));
    else {
      const bytes = old!.slice();
      bytes[int(0, bytes.length - 1)] ^= 1 << int(0, 7);
      writeFileSync(path, bytes);
    }
    ways.push(`copy ${copy} ${['erased', 'garbage', 'torn', 'bit flipped'][way]}`);
  }
  return { what: ways.join(', '), erased };
}

async function trial(layout: SimLayout, d: SimFleetDevice, k: number, version: string, holding: Holding, random: () => number): Promise<Result> {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const copyLayout = layout === 'esp8266';
  const kinds = copyLayout ? KINDS_COPY : KINDS;
  const damages = copyLayout ? DAMAGE_COPY : DAMAGE;
  const logFrom = d.logs.length;
  const bootsFrom = d.boots.length;
  const downloadedFrom = d.downloaded;
  const kind = kinds[int(0, kinds.length - 1)];
  const damage = damages[int(0, damages.length - 1)];
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
  if (kind === 'power-cut-copy') d.armCopyCut(cutAt); // the boot into the new image copies `size` bytes
  const id = `t${k}-${d.id}`;
  const job = signJob({ id, version, url: http.url(path), ...describeImage(bytes) }, privateKey);
  const topic = `${prefix}/${d.id}/ota/job`;
  await peer.publishAsync(topic, JSON.stringify(job), { qos: 1, retain: true });
  let detail = kind === 'power-cut' || kind === 'power-cut-copy' ? `cut at byte ${cutAt} of ${size}` : kind === 'truncated' ? `${truncations} truncation(s) from byte ${truncateAfter}` : kind === 'corrupted' ? `byte ${corruptAt} flipped` : kind === 'stalled' ? `stall at byte ${stallAfter}` : `${size} bytes`;

  const report = () => seen.filter((m) => m.topic === `${prefix}/${d.id}/ota` && m.json.job === id).at(-1)?.json;
  const final = new Set(['success', 'failed', 'rolled-back', 'rejected', 'unsupported']);
  if (kind === 'power-cut-trial' || kind === 'state-in-trial') {
    // lose power while the new image is on trial, before its health check can commit it
    await until(() => d.boots.at(-1)?.version === version && d.boots.at(-1)!.pending, 'trial boot', 20_000).catch(() => undefined);
    await sleep(kind === 'state-in-trial' ? int(0, 150) : int(0, 600));
    if (kind === 'state-in-trial') detail += `; during the trial: ${breakRecords(new SimFlash(d.o.dir), [0, 1], int).what}`;
    d.powerCut();
  }
  // a health failure is reported as "failed" by the new image, then "rolled-back" by the old one
  const done = () => {
    const r = report();
    return !!r && final.has(String(r.state)) && !(r.state === 'failed' && r.error === 'health');
  };
  await until(done, `${id} (${kind}) to finish`, 30_000).catch(() => undefined);
  const r = report() ?? {};
  const downloaded = d.downloaded - downloadedFrom;
  faults.delete(path);
  await peer.publishAsync(topic, '', { qos: 1, retain: true });

  // what the flash holds now, as the outcome implies
  const succeeded = r.state === 'success' && r.version === version;
  if (succeeded) {
    holding.spare = holding.committed;
    holding.committed = version;
  } else {
    holding.spare = undefined; // the update was written over the spare slot, then invalidated
    if (r.state === 'failed' || r.state === 'rolled-back') holding.rejected.set(version, d.boots.length);
  }
  // a rejected image must not be left where a bootloader could start it (nor in the app area, once the device runs again)
  const holds = (bytes: Uint8Array | undefined) => checkSimImage(bytes ?? new Uint8Array(0)).version === version;
  const leftBootable =
    !succeeded && (([0, 1] as SlotIndex[]).some((slot) => holds(new SimFlash(d.o.dir).readSlot(slot))) || (copyLayout && holds(new SimCopyFlash(d.o.dir).readAppImage())));

  // damage on top, then a power cycle: the device must come back on a committed image that works
  const flash = new SimCopyFlash(d.o.dir);
  const now = d.boots.at(-1);
  const running = (now?.slot ?? 0) as SlotIndex;
  const spareSlot: SlotIndex = running === 0 ? 1 : 0;
  // The bootloader has something to recover from, and must say so, unless the factory image runs
  // (no slot holds a committed image, so no commit stamp) and nothing is lost: an erased record then
  // is a first boot, and garbage in "its" slot changes nothing.
  let needsReport = false;
  if (damage === 'record-one') detail += `; then ${breakRecords(flash, [int(0, 1) as 0 | 1], int).what}`;
  if (damage === 'record-both') {
    const broken = breakRecords(flash, [0, 1], int);
    detail += `; then ${broken.what}`;
    needsReport = !(broken.erased && now?.factory);
  }
  if (damage === 'garbage-spare' || damage === 'garbage-running') {
    const slot = damage === 'garbage-spare' ? spareSlot : running;
    const g = garbage(flash.readSlot(slot), int);
    writeFileSync(flash.slotPath(slot), g.bytes);
    detail += `; then slot ${slot} (${damage === 'garbage-spare' ? 'spare' : 'running'}): ${g.what}`;
    if (damage === 'garbage-running' && copyLayout) {
      // the app area still holds the committed image: it is kept, backed up into the damaged slot, and reported
      needsReport = true;
    } else if (damage === 'garbage-running') {
      holding.committed = holding.spare ?? FACTORY_VERSION;
      holding.spare = undefined;
      needsReport = !now?.factory;
    } else {
      holding.spare = undefined;
    }
  }
  if (damage === 'garbage-app') {
    // the committed slot is copied in again: nothing lost, nothing to report
    const g = garbage(flash.readAppImage(), int);
    writeFileSync(flash.appPath(), g.bytes);
    detail += `; then the app area: ${g.what}`;
  }
  const expectedVersion = holding.committed;
  const boots = d.boots.length;
  const reportsBefore = seen.length;
  d.powerCut();
  const bootable = await online(d, boots + 1, 15_000);
  const last = d.boots.at(-1);
  let recoveryReported = false;
  if (needsReport) {
    recoveryReported = await until(() => seen.slice(reportsBefore).some((m) => m.topic === `${prefix}/${d.id}/ota` && m.json.recovered !== undefined), 'recovery report', 3_000)
      .then(() => true)
      .catch(() => false);
  }
  const rejectedBooted = d.boots
    .slice(bootsFrom)
    .map((b, i) => ({ version: b.version, at: bootsFrom + i }))
    .filter((b) => holding.rejected.has(b.version) && b.at >= holding.rejected.get(b.version)!)
    .map((b) => b.version);
  if (bootable && last) holding.committed = last.version; // a wrong version is counted as unexpected; go on from what runs
  return {
    layout,
    size,
    downloaded,
    device: d.id,
    trial: k,
    kind,
    damage,
    outcome: String(r.state ?? 'none'),
    error: r.error as string | undefined,
    bootable: bootable && last?.behaviour === 'ok' && !last.pending,
    version: last?.version ?? '?',
    expectedVersion,
    rejectedBooted,
    leftBootable,
    needsReport,
    recoveryReported,
    detail,
    log: d.logs.slice(logFrom),
  };
}

for (const layout of SIM_LAYOUTS) {
  it(`${layout} layout: ${TRIALS} randomized OTA trials leave no device unbootable`, async () => {
    console.log(`torture (${layout}) seed ${SEED} (OTA_TORTURE_SEED=${SEED} repeats this run), ${TRIALS} trials on ${POOL} devices`);
    const publicKey = publicKeyHex(privateKey);
    const devices = Array.from({ length: Math.min(POOL, TRIALS) }, (_, i) => {
      const id = `${layout === 'esp32' ? 'tt' : 'te'}${String(i).padStart(2, '0')}`;
      return new SimFleetDevice({
        dir: join(root, id),
        id,
        broker,
        prefix,
        publicKey,
        layout,
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
          const holding: Holding = { committed: FACTORY_VERSION, spare: undefined, rejected: new Map() };
          for (let k = i; k < TRIALS; k += devices.length) {
            results.push(await trial(layout, d, k, `1.${k + 1}.0`, holding, random));
          }
        }),
      );
    } finally {
      for (const d of devices) d.stop();
    }
    const seconds = (Date.now() - t0) / 1000;

    const count = (keys: string[]) => {
      const tally = new Map<string, number>();
      for (const key of keys) tally.set(key, (tally.get(key) ?? 0) + 1);
      return [...tally.entries()].sort().map(([key, n]) => `  ${String(n).padStart(4)}  ${key}`);
    };
    const unbootable = results.filter((r) => !r.bootable);
    const unexpected = results.filter((r) => r.outcome !== EXPECTED[r.kind] || r.version !== r.expectedVersion);
    const rejectedBooted = results.filter((r) => r.rejectedBooted.length);
    const leftBootable = results.filter((r) => r.leftBootable);
    const recoveries = results.filter((r) => r.needsReport);
    const unreported = recoveries.filter((r) => !r.recoveryReported);
    const rollbacks = results.filter((r) => r.outcome === 'rolled-back' || r.error === 'rolled-back');
    const updated = results.filter((r) => r.outcome === 'success');
    const ratio = (list: Result[]) => list.reduce((n, r) => n + r.downloaded, 0) / Math.max(1, list.reduce((n, r) => n + r.size, 0));
    const worst = updated.reduce((m, r) => Math.max(m, r.downloaded / r.size), 0);
    const cut = updated.filter((r) => r.kind === 'power-cut');
    const perUpdate = ratio(updated);
    console.log(
      [
        `OTA torture (${layout} layout): ${results.length} trials in ${seconds.toFixed(1)} s (seed ${SEED})`,
        ...count(results.map((r) => `${r.kind.padEnd(16)} -> ${r.outcome}${r.error ? ` (${r.error})` : ''}`)),
        '  then, before the power cycle:',
        ...count(results.map((r) => r.damage)),
        `  devices left unbootable: ${unbootable.length}`,
        `  rollbacks: ${rollbacks.length}`,
        `  bytes downloaded per successful update: ${perUpdate.toFixed(3)}x the image size (${updated.length} updates; worst ${worst.toFixed(2)}x; after a power cut during the download ${ratio(cut).toFixed(3)}x over ${cut.length})`,
        `  rejected images left bootable in a slot: ${leftBootable.length}`,
        `  rejected images booted: ${rejectedBooted.length}`,
        `  outcomes other than expected: ${unexpected.length}`,
        `  recoveries reported over MQTT: ${recoveries.length - unreported.length} of ${recoveries.length}`,
      ].join('\n'),
    );
    for (const r of [...unbootable, ...rejectedBooted, ...leftBootable, ...unexpected, ...unreported].slice(0, 10)) console.log(`${JSON.stringify({ ...r, log: undefined })}\n${r.log.join('\n')}`);
    const brief = (list: Result[]) => list.map((r) => `${r.device} trial ${r.trial} ${r.kind} (${r.detail}): ${r.outcome}, runs ${r.version}${r.rejectedBooted.length ? `, booted rejected ${r.rejectedBooted.join(' ')}` : ''}`);
    expect(results).toHaveLength(TRIALS);
    expect(brief(unbootable)).toEqual([]);
    expect(brief(rejectedBooted)).toEqual([]);
    expect(brief(leftBootable)).toEqual([]);
    expect(brief(unexpected)).toEqual([]);
    expect(brief(unreported)).toEqual([]);
    expect(perUpdate, 'bytes downloaded per successful update, against the image size').toBeLessThanOrEqual(1.25);
  }, 170_000);
}
