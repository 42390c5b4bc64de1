// The captive portal in a real browser (Debian chromium, headless, driven by playwright-core)
// against the simulator: the probe URL's redirect loads the page, a wrong password shows the
// error and keeps the access point, the right one connects and is stored. Saves the README
// screenshot to docs/img/portal.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { screenshotPath } from '../helpers/screenshots';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeNetwork, startPortalDevice, type PortalDevice } from './portal-rig';

let dev: PortalDevice;
let context: BrowserContext;
let page: Page;
let profile: string;

beforeAll(async () => {
  dev = await startPortalDevice();
  profile = mkdtempSync(join(tmpdir(), 'portal-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  dev?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('captive portal in chromium', () => {
  it('the Android probe URL redirects to the page, which lists networks and the device', async () => {
    const origin = `http://127.0.0.1:${dev.httpPort}`;
    const response = await page.goto(`${origin}/generate_204`);
    expect(response?.status()).toBe(200);
    expect(response?.request().redirectedFrom()?.url()).toBe(`${origin}/generate_204`);
    expect(page.url()).toBe(`${origin}/`);
    await expect(page.title()).resolves.toBe('nodemcu-00BEEF');
    const networks = await page.locator('li span').allTextContents();
    expect(networks).toEqual(['Home <Net> "5"', 'Neighbour', 'Café Libre']);
    const security = await page.locator('li small').allTextContents();
    expect(security.map((s) => s.split(' ')[0])).toEqual(['WPA2', 'WPA2', 'open']);
    await expect(page.locator('footer').textContent()).resolves.toBe('Device 5ccf7f00beef · firmware 0.1.0');
  });

  it('tapping a network fills in its name (screenshot of the page for the README)', async () => {
    await page.getByText('Home <Net> "5"').click();
    await expect(page.locator('#s').inputValue()).resolves.toBe(homeNetwork.ssid);
    await expect(page.locator('#p').evaluate((e) => e === document.activeElement)).resolves.toBe(true);
    await page.fill('#p', 'correct horse');
    await page.locator('details summary').click();
    await page.fill('#n', 'Greenhouse');
    await page.fill('#b', 'mqtt://192.168.1.2:1883');
    await page.screenshot({ path: screenshotPath('portal.png'), fullPage: true });
  });

  it('a short password is refused in the page', async () => {
    await page.fill('#p', 'short');
    await page.click('button[type=submit]');
    await expect(page.locator('#msg').textContent()).resolves.toContain('must be 8 to 63 characters (it has 5)');
    expect(dev.kv.keys()).toEqual([]);
  });

  it('a wrong password shows the error and keeps the device in AP mode', async () => {
    await page.fill('#s', homeNetwork.ssid);
    await page.fill('#p', 'wrong horse battery');
    await page.click('button[type=submit]');
    await page.waitForSelector('#msg.error', { timeout: 15_000 });
    await expect(page.locator('#msg').textContent()).resolves.toBe(`Wrong password for “${homeNetwork.ssid}”. Check it and try again.`);
    await expect(page.locator('#s').inputValue()).resolves.toBe(homeNetwork.ssid);
    expect(dev.prov.state).toBe('ap');
    expect(dev.prov.accessPointActive).toBe(true);
    expect(dev.kv.keys()).toEqual([]);
    await page.screenshot({ path: screenshotPath('portal-wrong-password.png') });
  });

  it('the right password gets the device online and stores the network and settings', async () => {
    await page.fill('#p', 'correct horse');
    await page.locator('details summary').click();
    await page.fill('#n', 'Greenhouse');
    await page.fill('#b', 'mqtt://192.168.1.2:1883');
    await page.click('button[type=submit]');
    await page.waitForSelector('#msg.ok', { timeout: 15_000 });
    await expect(page.locator('#msg').textContent()).resolves.toContain(`Connected to “${homeNetwork.ssid}” with address 192.168.1.50`);
    expect(dev.prov.state).toBe('connected');
    expect(dev.prov.ip).toBe('192.168.1.50');
    expect(dev.prov.store.list()).toEqual([{ ssid: homeNetwork.ssid, password: 'correct horse' }]);
    expect(dev.extras).toEqual([{ deviceName: 'Greenhouse', brokerUrl: 'mqtt://192.168.1.2:1883' }]);
    // The access point closes once the page is no longer used (apLingerMs 3 s in the rig).
    await dev.waitForState('connected');
    const deadline = Date.now() + 10_000;
    while (dev.prov.accessPointActive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(dev.prov.accessPointActive).toBe(false);
    expect(dev.radio.accessPoint).toBeUndefined();
  });
});
