// The modules a build carries, read from the manifests (scripts/build/modules.ts): what the
// esp8266 memory budget loads and leaves out as flash.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModules } from '../../scripts/build/modules';

describe('buildModules', () => {
  it('reads the ESP8266 build: its main not preloaded, no TLS, MQTT 5 or test-only module, the build config over the top one', () => {
    const b = buildModules('esp');
    expect(b.main).toBe('hosts/moddable/target/esp/main');
    const names = b.modules.map((m) => m.name);
    expect(names).toContain('src/mqtt/client');
    expect(names).toContain('src/provisioning/portal');
    expect(names).toContain('hosts/moddable/kv-chunks');
    expect(names.filter((n) => /^src\/mqtt\/v5\/|^src\/transport\/|^src\/auth\/|^hosts\/moddable\/tls$|cases$|all-packets$|ed25519-sign$/.test(n))).toEqual([]);
    expect(b.modules.find((m) => m.name === b.main)?.preloaded).toBe(false);
    // C files (natives, nmboot's image check) are no XS modules: nothing to preload
    expect(b.modules.filter((m) => m.name !== b.main && !m.preloaded && !m.file.endsWith('.c')).map((m) => m.name)).toEqual([]);
    expect(typeof b.config.outboxMessages).toBe('number');
    expect(b.config.prefix).toBe('nodemcu');
    // the board type OTA jobs are checked against: the fleet tool signs ESP8266 images for "esp8266"
    expect(b.config.board).toBe('esp8266');
    expect(buildModules('esp32').config.board).toBe('esp32');
  });

  it('follows includes once, resolves "dir/prefix*", drops "~" files and skips the SDK', () => {
    const dir = mkdtempSync(join(tmpdir(), 'build-modules-'));
    mkdirSync(join(dir, 'lib'));
    for (const f of ['a.ts', 'ab.ts', 'b.ts', 'a.cases.ts']) writeFileSync(join(dir, 'lib', f), '');
    writeFileSync(
      join(dir, 'lib', 'manifest.json'),
      JSON.stringify({ include: ['../manifest.json'], modules: { 'lib/*': './*', '~': './a.cases' }, preload: ['lib/a', 'lib/b'] }),
    );
    writeFileSync(join(dir, 'main.ts'), '');
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        include: ['$(MODDABLE)/examples/manifest_base.json', './lib/manifest.json'],
        modules: { main: './main' },
        config: { x: 1, y: 1 },
        platforms: { esp: { config: { y: 2 }, creation: { main: 'main' } } },
      }),
    );
    const b = buildModules('esp', join(dir, 'manifest.json'));
    expect(b.modules.map((m) => [m.name, relative(dir, m.file), m.preloaded])).toEqual([
      ['main', 'main.ts', false],
      ['lib/a', 'lib/a.ts', true],
      ['lib/ab', 'lib/ab.ts', false],
      ['lib/b', 'lib/b.ts', true],
    ]);
    expect(b.config).toEqual({ x: 1, y: 2 });
  });
});

describe('the ESP8266 build bundled for the 32-bit XS', () => {
  it('takes a module the build carries under another file\'s name: src/sensors/registry is registry-no-1wire, without DS18B20', async () => {
    const { bundleEsp8266 } = await import('../../scripts/budgets/esp8266');
    const { code } = await bundleEsp8266();
    const files = [...code.matchAll(/^\s*\/\/ ((?:src|hosts)\/\S+\.ts)$/gm)].map((m) => m[1]);
    expect(files).toContain('src/sensors/registry-no-1wire.ts');
    expect(files).toContain('src/mqtt/client.ts');
    expect(files.filter((f) => f === 'src/sensors/registry.ts' || f!.startsWith('src/sensors/ds18b20/'))).toEqual([]);
  });
});
