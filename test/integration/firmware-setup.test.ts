// First-time set-up of the whole firmware, as a user does it: a fresh device opens its access point,
// a phone (headless chromium) follows the probe redirect to the page, a wrong password is refused,
// the right one with the broker's URL gets the device online: the retained "online" shows on
// mosquitto, with the boot counter of the restart that applied the broker settings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../hosts/sim/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { createNodeNetwork } from '../../hosts/sim/net';
import { SimRadio } from '../../hosts/sim/radio';
import type { Device } from '../../src/device/device';
import { main } from '../../src/main';
import type { Platform } from '../../src/ports';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { observer } from '../helpers/device';
import { until } from '../helpers/mqtt';

const home = { ssid: 'Home', password: 'correct horse', rssi: -50, ip: '192.168.1.60' };
const storage = new MemoryStore({ maxValueBytes: 63 }); // the ESP8266 Preference limit
const boots: { device: Device; radio: SimRadio; logs: string[] }[] = [];
let broker: MosquittoBroker;
let context: BrowserContext;
let page: Page;
let profile: string;

/** Boots the firmware on fresh "hardware" with the persistent storage, as after a power cycle. */
function boot(): void {
  const clock = new RealClock();
  const radio = new SimRadio({ clock, networks: [home, { ssid: 'Neighbour', password: 'xxxxxxxx', rssi: -80 }], scanMs: 50, associateMs: 100, authFailMs: 300, dhcpMs: 50 });
  const logs: string[] = [];
  const platform: Platform = {
    clock,
    network: createNodeNetwork(),
    storage,
    wifi: radio,
    log: { log: (level, message) => logs.push(`${level} ${message}`) },
    system: {
      deviceId: () => '5ccf7f0000aa',
      restart: () => setTimeout(boot, 50),
      freeMemory: () => 40_000,
      resetReason: () => (boots.length ? 'software' : 'power-on'),
      random: Math.random,
    },
  };
  const device = main(platform, { wifi: { portal: { listenAddress: '127.0.0.1', httpPort: 0, dnsPort: 0 }, apLingerMs: 2000, applyDelay: 6000 } });
  boots.push({ device, radio, logs });
}

beforeAll(async () => {
  broker = await startMosquitto();
  boot();
  profile = mkdtempSync(join(tmpdir(), 'setup-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 390, height: 844 },
    isMobile: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  for (const b of boots) {
    b.device.client.destroy();
    (b.device.provisioning as { stop(): void } | undefined)?.stop();
  }
  await broker?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

function portalPort(): number {
  const prov = boots[0].device.provisioning as unknown as { portalHttpPort: number };
  return prov.portalHttpPort;
}

describe('first-time set-up of the firmware', () => {
  it('a fresh device opens its access point and does not start MQTT yet', async () => {
    await until(() => !!boots[0].radio.accessPoint && portalPort() > 0, 'the access point and portal');
    expect(boots[0].radio.accessPoint?.ssid).toBe('nodemcu-0000AA');
    expect(boots[0].device.client.connected).toBe(false);
    expect(boots[0].device.presence.state).toBe('init');
  });

  it('the probe redirect leads to the page; a wrong password keeps the device in set-up', async () => {
    await page.goto(`http://127.0.0.1:${portalPort()}/generate_204`);
    await page.waitForSelector('#s');
    await page.fill('#s', 'Home');
    await page.fill('#p', 'wrong password');
    await page.click('button[type=submit]');
    await page.waitForSelector('#msg.error', { timeout: 15_000 });
    expect(await page.locator('#msg').textContent()).toMatch(/Wrong password/);
    expect(storage.keys().filter((k) => k.startsWith('w'))).toEqual([]);
  });

  it('the right password and the broker URL get the device online on mosquitto', async () => {
    const watcher = await observer(broker.url, ['nodemcu/5ccf7f0000aa/status']);
    try {
      await page.fill('#p', 'correct horse');
      await page.locator('details summary').click();
      await page.fill('#n', 'Greenhouse');
      await page.fill('#b', `mqtt://127.0.0.1:${broker.port}`);
      await page.click('button[type=submit]');
      await page.waitForSelector('#msg.ok', { timeout: 15_000 }).catch((e) => {
        throw new Error(`${e.message}\n${boots.map((b) => b.logs.join('\n')).join('\n--\n')}`);
      });
      // the broker settings are applied by a restart; the new boot joins the stored network by itself
      await until(() => watcher.seen.some((m) => m.json.status === 'online'), 'retained online', 20_000);
      const online = watcher.seen.find((m) => m.json.status === 'online')!;
      expect(online.json).toMatchObject({ state: 'ready', boot: 2 });
      expect(boots.length).toBe(2);
      const device = boots[1].device;
      expect(device.values).toMatchObject({ name: 'Greenhouse', brokerHost: '127.0.0.1', brokerPort: broker.port });
      expect(device.health()).toMatchObject({ wifi: true, mqtt: true });
      // every stored value fits the ESP8266's 63-byte Preference limit (the store enforces it)
      for (const k of storage.keys()) expect(k.length).toBeLessThanOrEqual(15);
    } finally {
      await watcher.peer.endAsync(true);
    }
  });
});
