// The fleet CLI as an operator runs it, in child processes: keys and signing, input it refuses,
// listing devices, a rollout past a dead device, a rollout killed in the middle and resumed, and
// status and abort from another shell.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient as PeerClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Campaign } from '../../scripts/fleet/campaign';
import { loadPrivateKey } from '../../scripts/fleet/keys';
import { describeImage, signJob } from '../../scripts/fleet/sign';
import { hexDecode } from '../../src/text/hex';
import { validateJob, verifyJob } from '../../src/ota/job';
import { observer, type Observed } from '../helpers/device';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { until } from '../helpers/mqtt';
import { startFleet, type Fleet } from '../helpers/ota-fleet';
import { fleetCli, writeImage, writeOperatorKey, type OperatorKey } from '../helpers/ota-operator';

let broker: MosquittoBroker;
let peer: PeerClient;
let seen: Observed[];
let key: OperatorKey;
const work = mkdtempSync(join(tmpdir(), 'ota-cli-'));
const fleets: Fleet[] = [];
const beating: NodeJS.Timeout[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  key = writeOperatorKey(work);
  ({ peer, seen } = await observer(broker.url, ['+/+/ota', '+/+/ota/job']));
});
afterEach(() => {
  for (const f of fleets.splice(0)) f.stop();
  for (const t of beating.splice(0)) clearInterval(t);
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

/**
 * Devices that exist only as messages: a retained "online" and live heartbeats (so the tool believes
 * them), and nothing that ever acts on a job.
 */
async function ghosts(prefix: string, ids: string[], boot: number): Promise<void> {
  for (const id of ids) await peer.publishAsync(`${prefix}/${id}/status`, JSON.stringify({ status: 'online', state: 'ready', boot, version: '1.0.0' }), { qos: 1, retain: true });
  const beat = () => {
    for (const id of ids) void peer.publishAsync(`${prefix}/${id}/heartbeat`, JSON.stringify({ up: 1, boot, version: '1.0.0', interval: 1, expires: 5 }), { qos: 0 });
  };
  beat();
  beating.push(setInterval(beat, 500));
}

/** Runs CLI invocations a few at a time (each is a Node process with tsx). */
async function runAll(runs: string[][], parallel = 3): Promise<{ code: number; output: string }[]> {
  const results: { code: number; output: string }[] = [];
  for (let i = 0; i < runs.length; i += parallel) {
    const batch = runs.slice(i, i + parallel).map((args) => fleetCli(args));
    for (const r of batch) results.push({ code: await r.exit, output: r.output() });
  }
  return results;
}

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

  it('sign, image, rollout and devices refuse input no device would accept: exit 2, a message naming the option, nothing signed', async () => {
    const image = writeImage(work, '4.5.7');
    const sign = ['sign', '--key', key.file, '--image', image];
    const rollout = ['rollout', '--state', join(work, 'never'), '--broker', broker.url, '--key', join(work, 'no-such-key.pem'), '--image', join(work, 'no-such-image.bin')];
    const cases: [string[], RegExp][] = [
      [[...sign, '--version', 'banana', '--url', 'http://10.1.2.3:8070/fw.bin'], /^fleet: --version "banana" is not a semantic version: give MAJOR\.MINOR\.PATCH/m],
      [[...sign, '--version', '4.5.7', '--url', 'ftp://user:pw@x/y'], /^fleet: --url carries credentials \(user:password@\)/m],
      [[...sign, '--version', '4.5.7', '--url', 'http://user:pw@10.1.2.3/fw.bin'], /^fleet: --url carries credentials/m],
      [[...sign, '--version', '4.5.7', '--url', 'ftp://10.1.2.3/fw.bin'], /^fleet: --url "ftp:\/\/10\.1\.2\.3\/fw\.bin": devices fetch images over http:\/\/ or https:\/\/ only, not ftp$/m],
      [[...sign, '--version', '4.5.7', '--url', 'http://10.1.2.3/fw.bin', '--version', '4.5.8'], /^fleet: --version is given twice/m],
      [['image', '--version', '1.0.0', '--out', join(work, 'x.bin'), '--behaviour', 'banana'], /^fleet: --behaviour "banana" is not one of ok, crash-loop, no-connect, fail-health$/m],
      // checked before the key or the image is read, and before the broker is contacted
      [[...rollout, '--version', 'banana'], /^fleet: --version "banana" is not a semantic version/m],
      [[...rollout, '--version', '1.0.0', '--tick', 'banana'], /^fleet: --tick "banana" must be a whole number/m],
      [['devices', '--broker', broker.url, '--prefix', 'a/#'], /^fleet: --prefix "a\/#" must be up to 48 characters of topic levels/m],
      [['status', '--state', join(work, 'never'), '--broker', broker.url], /^fleet: status does not take --broker/m],
    ];
    const results = await runAll(cases.map(([args]) => args));
    results.forEach(({ code, output }, i) => {
      expect({ args: cases[i][0].join(' '), code }).toEqual({ args: cases[i][0].join(' '), code: 2 });
      expect(output).toMatch(cases[i][1]);
      expect(output).not.toContain('"signature"');
      expect(output).not.toContain(':pw@');
    });
    expect(existsSync(join(work, 'x.bin'))).toBe(false);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('send refuses a job file no device would accept and publishes nothing', async () => {
    // signed, but with a version no device takes: what the old tool signed for `--version banana`
    const bytes = readFileSync(writeImage(work, '4.5.8'));
    const bad = join(work, 'banana-job.json');
    writeFileSync(bad, JSON.stringify(signJob({ id: 'banana-1', version: 'banana', url: 'http://10.1.2.3/fw.bin', ...describeImage(bytes) }, loadPrivateKey(key.file))));
    const garbage = join(work, 'garbage-job.json');
    writeFileSync(garbage, '{"id":');
    const [banana, broken] = await runAll([
      ['send', '--broker', broker.url, '--prefix', 'badjob', '--job', bad, '--device', 'x1'],
      ['send', '--broker', broker.url, '--prefix', 'badjob', '--job', garbage, '--device', 'x1'],
    ]);
    expect(banana.code).toBe(1);
    expect(banana.output).toContain(`fleet: ${bad} is not a job devices accept: job "version" must be a semantic version like 1.4.0, not "banana"`);
    expect(broken.code).toBe(1);
    expect(broken.output).toMatch(/is not a job devices accept: job message is not UTF-8 JSON/);
    // a marker published after both exited arrives, with nothing from the tool before it
    await peer.publishAsync('badjob/x1/ota/job', 'marker', { qos: 1 });
    await until(() => seen.some((m) => m.topic === 'badjob/x1/ota/job'), 'marker');
    expect(seen.filter((m) => m.topic === 'badjob/x1/ota/job').map((m) => m.text)).toEqual(['marker']);
  });

  it('a rollout skips a dead device whose retained status still says online, without waiting for it to time out; devices and status show it stale', async () => {
    const prefix = 'stale';
    const f = await onlineFleet(2, prefix);
    // a device that does not exist: only its retained "online" is on the broker (left behind, or forged);
    // the real ones send a heartbeat every 2 s, well within the 5 s allowed
    await peer.publishAsync(`${prefix}/c-dead/status`, JSON.stringify({ status: 'online', state: 'ready', boot: 3, version: '9.9.9' }), { qos: 1, retain: true });
    const list = fleetCli(['devices', '--broker', broker.url, '--prefix', prefix, '--wait', '1s', '--heartbeat-wait', '5s']);
    expect(await list.exit).toBe(0);
    const listed = list.output();
    expect(listed).toMatch(/^c-dead\s+9\.9\.9\s+stale \(no heartbeat in 5 s\)\s+-\s+3\s+-\s+-\s+-$/m);
    for (const d of f.devices) expect(listed).toMatch(new RegExp(`^${d.id}\\s+1\\.0\\.0\\s+online\\s`, 'm'));
    expect(listed).toContain('3 device(s) under "stale", 1 stale');

    const state = join(work, 'stale-state');
    const deviceTimeout = 60;
    const t0 = Date.now();
    const tool = fleetCli(['rollout', '--state', state, '--broker', broker.url, '--prefix', prefix, '--key', key.file, '--image', writeImage(work, '1.5.0'), '--version', '1.5.0', '--stages', '100', '--min-sample', '1', '--discover', '1s', '--heartbeat-wait', '5s', '--device-timeout', `${deviceTimeout}s`, '--tick', '100'], 90_000);
    const code = await tool.exit;
    const seconds = (Date.now() - t0) / 1000;
    const out = tool.output();
    console.log(`rollout past a dead device in ${seconds.toFixed(1)} s:\n${out}`);
    expect(code, out).toBe(0);
    expect(out).toContain('skipped c-dead: stale: its retained status says online (boot 3, version 9.9.9), but no heartbeat came within 5 s');
    expect(out).toMatch(/campaign \S+: SUCCEEDED/);
    // it never waited for the dead device: no job, no device timeout
    expect(seconds).toBeLessThan(deviceTimeout);
    expect(seen.some((m) => m.topic === `${prefix}/c-dead/ota/job`)).toBe(false);
    const c = campaignOf(state)!;
    expect(Object.keys(c.devices).sort()).toEqual(f.devices.map((d) => d.id).sort());
    expect(c.skipped).toEqual([{ id: 'c-dead', why: 'stale: its retained status says online (boot 3, version 9.9.9), but no heartbeat came within 5 s' }]);
    for (const d of f.devices) expect(d.version).toBe('1.5.0');
    const status = fleetCli(['status', '--state', state]);
    expect(await status.exit).toBe(0);
    expect(status.output()).toContain('skipped: c-dead (stale: its retained status says online');
  });

  it('devices lists id, version, online state, last seen, boot counter and board type', async () => {
    const f = await onlineFleet(3, 'list');
    const run = fleetCli(['devices', '--broker', broker.url, '--prefix', 'list', '--wait', '2500ms']);
    expect(await run.exit).toBe(0);
    const out = run.output();
    expect(out).toMatch(/^ID\s+VERSION\s+ONLINE\s+LAST SEEN\s+BOOT\s+BOARD\s+OTA\s+GROUPS$/m);
    for (const d of f.devices) expect(out).toMatch(new RegExp(`^${d.id}\\s+1\\.0\\.0\\s+online\\s+\\d+ s ago\\s+1\\s+nodemcu\\s+idle\\s+-$`, 'm'));
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
    await ghosts('ghost', ['g1', 'g2'], 7);
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
    await ghosts('lone', ['g9'], 1);
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
