// The simulator's web dashboard in Debian chromium (headless, playwright-core): the device list with
// live state and sparklines, a fault showing up without a reload, and a real OTA campaign (signed
// jobs, a slow image server, a power cut half way through one device's download, an image that
// crash-loops and is rolled back) with its progress. Saves the README screenshot to
// docs/img/dashboard.png while the campaign runs.
import { createHash, createPrivateKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import mqtt from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { screenshotPath } from '../helpers/screenshots';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSimImage } from '../../hosts/sim/bootloader';
import { generateKey, writeKeyFile } from '../../scripts/fleet/keys';
import { signJob } from '../../scripts/fleet/sign';
import { startSim, type SimApp } from '../../scripts/sim/app';
import { parseSimArgs } from '../../scripts/sim/cli';
import { runCommand } from '../../scripts/sim/commands';
import { until } from '../helpers/mqtt';

let dir: string;
let app: SimApp;
let context: BrowserContext;
let page: Page;
let profile: string;
let signingKey: ReturnType<typeof generateKey>;
const logs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-dashboard-'));
  signingKey = generateKey();
  writeKeyFile(join(dir, 'fleet-key.pem'), signingKey);
  const options = parseSimArgs(['--devices', '6', '--state-dir', dir, '--port', '0', '--dashboard-port', '0', '--heartbeat', '1', '--telemetry', '1', '--seed', '11', '--view', 'log', '--chip', 'mixed']);
  app = await startSim(options, { stdout: { write: (text: string) => logs.push(...text.split('\n').filter(Boolean)) }, stdin: new PassThrough() });
  profile = mkdtempSync(join(tmpdir(), 'sim-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 700 },
    deviceScaleFactor: 2,
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  await app?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ctx = () => ({ fleet: app.fleet, model: app.model, broker: app.broker, quit: () => {} });
const rowOf = (n: number) => page.locator(`#rows tr:nth-child(${n})`);

describe('dashboard in chromium', () => {
  it('renders the device list: six devices online with version, boot, RSSI and values with sparklines', async () => {
    await page.goto(app.dashboard!.url);
    await expect(page.title()).resolves.toBe('Fleet · nodemcu');
    await page.waitForSelector('#live.on', { timeout: 10_000 });
    await until(() => app.fleet.devices.every((d) => d.presence === 'ready'), 'devices online', 30_000);
    await page.waitForFunction(() => document.querySelectorAll('#rows .badge.online').length === 6, undefined, { timeout: 15_000 });
    const ids = await page.locator('#rows td.id').allTextContents();
    expect(ids.sort()).toEqual(app.fleet.devices.map((d) => d.deviceId).sort());
    expect(await page.locator('#online').textContent()).toBe('6 / 6');
    // three samples of each reading make a line
    await page.waitForFunction(() => document.querySelectorAll('#rows tr:first-child polyline').length >= 3, undefined, { timeout: 15_000 });
    const first = await rowOf(1).locator('td').allTextContents();
    expect(first[0]).toBe('1');
    expect(first[1]).toBe(app.fleet.devices[0].deviceId);
    expect(first[3]).toBe('0.1.0');
    expect(first[4]).toBe('1');
    expect(first[5]).toMatch(/^-\d+ dBm$/);
    // device 1 carries a BME280: temperature, humidity and pressure, in that order
    expect(first[8]).toMatch(/^temperature-?\d+\.\d °Chumidity\d+\.\d %pressure\d+\.\d hPa$/);
    // the board type: every third device an ESP8266 (--chip mixed)
    expect(await page.locator('#rows td.board').allTextContents()).toEqual(['esp32', 'esp32', 'esp8266', 'esp32', 'esp32', 'esp8266']);
    expect(app.model.get(app.fleet.devices[2].deviceId)?.board).toBe('esp8266'); // as its OTA reports say
  });

  it('shows a fault live, without a reload: a power cut turns the row to "power off", then online again', async () => {
    await runCommand(ctx(), 'power 3 2');
    await page.waitForFunction(() => document.querySelector('#rows tr:nth-child(3) .badge')?.textContent === 'power off', undefined, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('#rows tr:nth-child(3) .badge')?.textContent === 'online' && document.querySelectorAll('#rows tr:nth-child(3) td')[4]?.textContent === '2', undefined, { timeout: 20_000 });
    await runCommand(ctx(), 'sensor 4 fail');
    await page.waitForFunction(() => /sensor fault/.test(document.querySelector('#rows tr:nth-child(4) .fault')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.waitForFunction(() => /: absent/.test(document.querySelector('#rows tr:nth-child(4) .err')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await runCommand(ctx(), 'sensor 4 ok');
  });

  it('follows an OTA campaign: progress while devices download (one loses power half way), then success and a rollback', async () => {
    // images and a slow server, so the download takes seconds (8 KB every 60 ms)
    const good = buildSimImage({ version: '0.2.0', behaviour: 'ok' });
    const bad = buildSimImage({ version: '0.2.1', behaviour: 'crash-loop' });
    const files: Record<string, Uint8Array> = { '/0.2.0.bin': good, '/0.2.1.bin': bad };
    const ranges: string[] = [];
    const server = http.createServer((req, res) => {
      const body = files[req.url ?? ''];
      if (req.headers.range) ranges.push(`${req.url} ${req.headers.range}`);
      if (!body) return void res.writeHead(404).end();
      const start = Number(/^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''))?.[1] ?? 0);
      res.writeHead(start ? 206 : 200, { 'content-length': body.length - start, ...(start ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
      let at = start;
      const timer = setInterval(() => {
        const piece = body.subarray(at, at + 8192);
        at += piece.length;
        res.write(piece);
        if (at >= body.length) {
          clearInterval(timer);
          res.end();
        }
      }, 60);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const key = createPrivateKey(signingKey.privatePem);
    const job = (id: string, image: Uint8Array, version: string) =>
      signJob({ id, version, url: `http://127.0.0.1:${port}/${version}.bin`, size: image.length, sha256: createHash('sha256').update(image).digest('hex') }, key);
    const peer = await mqtt.connectAsync(app.brokerUrl);
    try {
      const devices = app.fleet.devices;
      devices[1].armOtaPowerCut();
      for (const d of devices.slice(0, 4)) await peer.publishAsync(`nodemcu/${d.deviceId}/ota/job`, JSON.stringify(job('dash-1', good, '0.2.0')), { qos: 1, retain: true });
      await peer.publishAsync(`nodemcu/${devices[4].deviceId}/ota/job`, JSON.stringify(job('dash-bad', bad, '0.2.1')), { qos: 1, retain: true });

      // the campaign card and the rows while downloads run
      await page.waitForFunction(() => /in progress/.test(document.getElementById('camp-title')?.textContent ?? '') && document.querySelectorAll('#rows .mini').length >= 2, undefined, { timeout: 20_000 });
      await page.waitForFunction(() => Array.from(document.querySelectorAll("#rows .mini > i")).some((i) => parseFloat((i as HTMLElement).style.width) >= 20), undefined, { timeout: 10_000 });
      expect(await page.locator('#camp-title').textContent()).toMatch(/^to 0\.2\.0: \d+ % · 5 devices · in progress$/);
      await page.screenshot({ path: screenshotPath('dashboard.png') });

      // the power cut half way through device 2's download, then the job runs again after the boot
      await until(() => logs.some((l) => /\[2 [0-9a-f]{12}\] WARN  \[sim\] power cut during OTA to 0\.2\.0 at 5\d %/.test(l)), 'the power cut during the download', 20_000);
      await until(() => devices.slice(0, 4).every((d) => app.model.get(d.deviceId)?.ota?.state === 'success'), 'four devices updated', 90_000);
      // device 2 continued its download from its last checkpoint, not from byte 0
      expect(ranges.filter((r) => /^\/0\.2\.0\.bin bytes=[1-9]\d*-$/.test(r))).toHaveLength(1);
      await until(() => app.model.get(devices[4].deviceId)?.ota?.state === 'rolled-back', 'the crash-looping image rolled back', 90_000);
      await page.waitForFunction(() => /finished/.test(document.getElementById('camp-title')?.textContent ?? ''), undefined, { timeout: 10_000 });
      expect(await page.locator('#camp-title').textContent()).toBe('to 0.2.0: 80 % · 5 devices · finished');
      const states = await page.locator('#camp-states span').allTextContents();
      expect(states.sort()).toEqual(['rolled-back: 1', 'success: 4']);
      for (const d of devices.slice(0, 4)) expect(d.version).toBe('0.2.0');
      expect(devices[4].version).toBe('0.1.0');
      expect(devices[5].version).toBe('0.1.0');
      expect(await rowOf(2).locator('td').nth(3).textContent()).toBe('0.2.0');
      expect(await rowOf(5).locator('td').nth(9).textContent()).toMatch(/^rolled-back → 0\.2\.1/);
    } finally {
      await peer.endAsync();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
