// The fleet CLI as an operator runs it, in child processes: keys and signing, listing devices,
// a rollout killed in the middle and resumed, and status and abort from another shell.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient as PeerClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Campaign } from '../../scripts/fleet/campaign';
import { hexDecode } from '../../src/crypto/hex';
import { validateJob, verifyJob } from '../../src/ota/job';
import { observer, type Observed } from '../helpers/device';
import { startMosquitto, type MosquittoBroker } from '../helpers/mosquitto';
import { until } from '../helpers/mqtt';
import { startFleet, type Fleet } from '../helpers/ota-fleet';
import { fleetCli, writeImage, writeOperatorKey, type OperatorKey } from '../helpers/ota-operator';

let broker: MosquittoBroker;
let peer: PeerClient;
let seen: Observed[];
let key: OperatorKey;
const work = mkdtempSync(join(tmpdir(), 'ota-cli-'));
const fleets: Fleet[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  key = writeOperatorKey(work);
  ({ peer, seen } = await observer(broker.url, ['+/+/ota', '+/+/ota/job']));
});
afterEach(() => {
  for (const f of fleets.splice(0)) f.stop();
});
afterAll(async () => {
  await peer?.endAsync(true);
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

const campaignOf = (state: string): Campaign | undefined => {
  try {
    return JSON.parse(readFileSync(join(state, 'campaign.json'), 'utf8')) as Campaign;
  } catch {
    return undefined;
  }
};

async function onlineFleet(n: number, prefix: string): Promise<Fleet> {
  const f = startFleet(n, { broker, prefix, publicKey: key.publicHex, idPrefix: 'c' });
  fleets.push(f);
  await until(() => f.devices.every((d) => d.device?.presence.birthAcknowledged), 'fleet online', 20_000);
  await until(() => f.devices.every((d) => seen.some((m) => m.topic === `${prefix}/${d.id}/ota`)), 'retained OTA reports');
  return f;
}

describe('fleet CLI', () => {
  it('keygen writes a key the device accepts; sign makes a job that verifies; keygen never overwrites', async () => {
    const file = join(work, 'k.pem');
    const gen = fleetCli(['keygen', '--out', file]);
    expect(await gen.exit).toBe(0);
    const pub = readFileSync(`${file}.pub`, 'utf8').trim();
    expect(gen.output()).toContain(`otaPublicKey = "${pub}"`);
    const image = writeImage(work, '4.5.6');
    const sign = fleetCli(['sign', '--key', file, '--image', image, '--version', '4.5.6', '--url', 'http://10.1.2.3:8070/fw.bin', '--id', 'manual-1']);
    expect(await sign.exit).toBe(0);
    const job = JSON.parse(sign.output()) as Record<string, unknown>;
    verifyJob(job, hexDecode(pub));
    expect(validateJob(job)).toMatchObject({ id: 'manual-1', version: '4.5.6', size: 128 * 1024 });
    const again = fleetCli(['keygen', '--out', file]);
    expect(await again.exit).toBe(1);
    expect(again.output()).toMatch(/exists; remove it first/);
  });

  it('usage errors exit with 2 and say what to type', async () => {
    const bad = fleetCli(['rollout', '--state', join(work, 'x'), '--broker', broker.url, '--key', key.file, '--image', 'a', '--version', '1.0.0', '--stages', '50,10']);
    expect(await bad.exit).toBe(2);
    expect(bad.output()).toContain('percentages must increase');
    const unknown = fleetCli(['deploy']);
    expect(await unknown.exit).toBe(2);
    expect(unknown.output()).toContain('unknown command "deploy"');
  });

  it('devices lists id, version, online state, last seen and boot counter', async () => {
    const f = await onlineFleet(3, 'list');
    const run = fleetCli(['devices', '--broker', broker.url, '--prefix', 'list', '--wait', '2500ms']);
    expect(await run.exit).toBe(0);
    const out = run.output();
    expect(out).toMatch(/^ID\s+VERSION\s+ONLINE\s+LAST SEEN\s+BOOT\s+OTA\s+GROUPS$/m);
    for (const d of f.devices) expect(out).toMatch(new RegExp(`^${d.id}\\s+1\\.0\\.0\\s+online\\s+\\d+ s ago\\s+1\\s+idle\\s+-$`, 'm'));
    expect(out).toContain('3 device(s) under "list"');
  });

  it('a rollout killed in the middle resumes when the tool is started again', async () => {
    const prefix = 'resume';
    const f = await onlineFleet(10, prefix);
    const state = join(work, 'resume-state');
    const image = writeImage(work, '1.2.0', 'ok', 256 * 1024);
    const args = ['rollout', '--state', state, '--broker', broker.url, '--prefix', prefix, '--key', key.file, '--image', image, '--version', '1.2.0', '--stages', '20,60,100', '--failure-threshold', '10%', '--min-sample', '2', '--device-timeout', '60s', '--discover', '1s', '--tick', '100'];
    const first = fleetCli(args);
    await until(() => (campaignOf(state)?.current ?? 0) >= 1, 'stage 2 started', 30_000).catch((e) => Promise.reject(new Error(`${e.message}\n${first.output()}`)));
    first.child.kill('SIGKILL');
    expect(await first.exit).toBe(137);
    const killedAt = campaignOf(state)!;
    expect(killedAt.finishedAt).toBeUndefined();
    // `status` from another shell sees that no tool runs it
    const status = fleetCli(['status', '--state', state]);
    expect(await status.exit).toBe(0);
    expect(status.output()).toContain('tool NOT running');
    const second = fleetCli(['rollout', '--state', state, '--tick', '100']);
    const code = await second.exit;
    const out = second.output();
    console.log(`first run:\n${first.output()}\nsecond run:\n${out}`);
    expect(code).toBe(0);
    expect(out).toContain('resuming campaign');
    expect(out).toMatch(/campaign \S+: SUCCEEDED/);
    const c = campaignOf(state)!;
    expect(c.runs).toHaveLength(2);
    expect(Object.values(c.devices).every((d) => d.state === 'succeeded')).toBe(true);
    for (const d of f.devices) {
      expect(d.version).toBe('1.2.0');
      expect(d.boots.map((b) => b.version)).toEqual(['1.0.0', '1.2.0']);
    }
  });

  it('status and abort work from another shell while the tool runs; the tool stops and withdraws unstarted jobs', async () => {
    // two devices the broker says are online, that never act on a job
    for (const id of ['g1', 'g2']) await peer.publishAsync(`ghost/${id}/status`, JSON.stringify({ status: 'online', state: 'ready', boot: 7, version: '1.0.0' }), { qos: 1, retain: true });
    const state = join(work, 'abort-state');
    const image = writeImage(work, '1.3.0');
    const tool = fleetCli(['rollout', '--state', state, '--broker', broker.url, '--prefix', 'ghost', '--key', key.file, '--image', image, '--version', '1.3.0', '--target', 'id:g*', '--device-timeout', '60s', '--discover', '1s', '--tick', '100', '--campaign', 'ghostly']);
    await until(() => campaignOf(state)?.stages[0].startedAt !== undefined, 'stage 1 started', 20_000).catch((e) => Promise.reject(new Error(`${e.message}\n${tool.output()}`)));
    const first = campaignOf(state)!.stages[0].devices[0];
    await until(() => seen.some((m) => m.topic === `ghost/${first}/ota/job` && m.text.includes('"ghostly"')), 'job published');
    const status = fleetCli(['status', '--state', state]);
    expect(await status.exit).toBe(0);
    expect(status.output()).toMatch(new RegExp(`status: running, tool running \\(pid ${tool.child.pid}\\)`));
    expect(status.output()).toContain(`in flight: ${first} sent`);
    const abort = fleetCli(['abort', '--state', state, '--reason', 'operator says no']);
    expect(await abort.exit).toBe(0);
    expect(abort.output()).toContain('abort requested');
    expect(await tool.exit).toBe(1);
    expect(tool.output()).toContain('ABORT: operator says no; no new jobs, 1 unstarted job(s) withdrawn');
    await until(() => seen.filter((m) => m.topic === `ghost/${first}/ota/job`).at(-1)?.text === '', 'job withdrawn');
    const after = fleetCli(['status', '--state', state]);
    expect(await after.exit).toBe(0);
    expect(after.output()).toContain('status: aborted (operator says no), finished');
    expect(after.output()).toMatch(/campaign ghostly: ABORTED/);
    expect(existsSync(join(state, 'report.json'))).toBe(true);
  });

  it('abort with no tool running marks the campaign aborted and withdraws retained jobs through the broker', async () => {
    await peer.publishAsync('lone/g9/status', JSON.stringify({ status: 'online', state: 'ready', boot: 1, version: '1.0.0' }), { qos: 1, retain: true });
    const state = join(work, 'lone-state');
    const tool = fleetCli(['rollout', '--state', state, '--broker', broker.url, '--prefix', 'lone', '--key', key.file, '--image', writeImage(work, '1.4.0'), '--version', '1.4.0', '--device-timeout', '60s', '--discover', '1s', '--tick', '100']);
    await until(() => seen.some((m) => m.topic === 'lone/g9/ota/job' && m.text.length > 0), 'job published', 20_000).catch((e) => Promise.reject(new Error(`${e.message}\n${tool.output()}`)));
    tool.child.kill('SIGKILL');
    await tool.exit;
    const abort = fleetCli(['abort', '--state', state, '--broker', broker.url]);
    expect(await abort.exit).toBe(0);
    expect(abort.output()).toMatch(/aborted \(no tool was running\); 1 unstarted job\(s\) withdrawn/);
    await until(() => seen.filter((m) => m.topic === 'lone/g9/ota/job').at(-1)?.text === '', 'job withdrawn');
    expect(campaignOf(state)).toMatchObject({ status: 'aborted' });
    const resume = fleetCli(['rollout', '--state', state]);
    expect(await resume.exit).toBe(1);
    expect(resume.output()).toContain('finished (aborted)');
  });
});
