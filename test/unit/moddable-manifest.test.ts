// The Moddable manifest (manifest.json) and the host folder it builds: every module it lists exists,
// every module the device code imports is listed for its platform, config defaults have the types
// the firmware expects, the platform sections carry the chip-specific settings, and hosts/moddable
// type-checks against our own declarations of the SDK (no SDK needed).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA } from '../../src/device/config';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));

type ModuleMap = Record<string, string | string[]>;
const PLATFORMS = ['esp32', 'esp', 'lin'] as const;
type Platform = (typeof PLATFORMS)[number];

/** Modules the SDK provides on each platform (through the manifests we include). */
const SDK_MODULES: Record<Platform, string[]> = {
  esp32: ['embedded:io/i2c', 'embedded:io/digital', 'embedded:io/analog', 'embedded:io/socket/tcp/tls', 'ota'],
  esp: ['embedded:io/i2c', 'embedded:io/digital', 'embedded:io/analog'],
  lin: ['embedded:io/socket/tcp/tls'],
};
const SDK_COMMON = ['timer', 'time', 'preference', 'wifi', 'net', 'sntp', 'mc/config', 'embedded:io/socket/tcp', 'embedded:io/socket/listener', 'embedded:io/socket/udp'];

function ours(source: string): boolean {
  return source.startsWith('./');
}

function modulesFor(platform: Platform): ModuleMap {
  return { ...manifest.modules, ...manifest.platforms[platform].modules };
}

/** Repo files a module entry stands for: "./dir/*" is every source in dir, "./a/b" is a/b.{ts,js,d.ts,c}. */
function filesOf(source: string): string[] {
  const path = join(root, source);
  if (source.endsWith('/*')) {
    const dir = path.slice(0, -2);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => /\.(ts|js|c)$/.test(n) && statSync(join(dir, n)).isFile())
      .map((n) => join(dir, n));
  }
  return ['.ts', '.js', '.d.ts', '.c'].map((ext) => path + ext).filter(existsSync);
}

/** The manifest specifier a repo file is reachable under on `platform`, or undefined. */
function specifierOf(file: string, map: ModuleMap): string | undefined {
  const rel = relative(root, file).replace(/(\.d)?\.(ts|js|c)$/, '');
  for (const [target, source] of Object.entries(map)) {
    for (const s of [source].flat()) {
      if (!ours(s)) continue;
      if (s.endsWith('/*') && target.endsWith('/*') && rel.startsWith(s.slice(2, -1)) && !rel.slice(s.length - 3).includes('/')) {
        return target.slice(0, -1) + rel.slice(s.length - 3);
      }
      if (s.slice(2) === rel) return target;
    }
  }
  return undefined;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)) {
    if (m[1]) continue; // import type: erased by tsc
    const spec = m[2] ?? m[3]!;
    if (/^\s*import\s+\{[^}]*\}\s+from/.test(m[0]) && /\{\s*(type\s+\w+\s*,?\s*)+\}/.test(m[0])) continue; // only type names
    out.push(spec);
  }
  return out;
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return ['.ts', '.d.ts', '.js'].map((ext) => base + ext).find(existsSync);
}

/** Walks the runtime imports from the platform's main; returns problems. */
function closureProblems(platform: Platform): { problems: string[]; reached: Set<string> } {
  const map = modulesFor(platform);
  const main = manifest.platforms[platform].creation.main as string;
  const problems: string[] = [];
  const reached = new Set<string>();
  const start = resolveImport(join(root, 'manifest.json'), './' + main);
  if (!start) return { problems: [`${platform}: main module ${main} has no source`], reached };
  const queue = [start];
  while (queue.length) {
    const file = queue.pop()!;
    if (reached.has(file)) continue;
    reached.add(file);
    if (!specifierOf(file, map)) problems.push(`${platform}: ${relative(root, file)} is imported but not listed in the manifest`);
    if (file.endsWith('.d.ts')) {
      const js = file.replace(/\.d\.ts$/, '.js');
      if (!existsSync(js)) problems.push(`${platform}: ${relative(root, file)} declares a module with no .js`);
      continue;
    }
    if (file.endsWith('.js')) continue;
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) {
        const target = resolveImport(file, spec);
        if (target) queue.push(target);
        else problems.push(`${platform}: ${relative(root, file)} imports ${spec}, which does not exist`);
      } else if (!SDK_COMMON.includes(spec) && !SDK_MODULES[platform].includes(spec)) {
        problems.push(`${platform}: ${relative(root, file)} imports "${spec}", which the ${platform} build does not provide`);
      }
    }
  }
  return { problems, reached };
}

describe('manifest.json', () => {
  it('builds on the Moddable base manifest with TypeScript that the repo compiler understands', () => {
    expect(manifest.include).toContain('$(MODDABLE)/examples/manifest_base.json');
    expect(manifest.include).toContain('$(MODDABLE)/modules/io/manifest.json');
    // SDK 8.2.3 defaults tsc to es2025, which TypeScript 5.9 does not know; strict as our own tsconfig
    expect(manifest.typescript.tsconfig.compilerOptions).toEqual({ target: 'es2024', lib: ['es2024'], strict: true, skipLibCheck: true });
  });

  it('lists only module sources that exist', () => {
    const missing: string[] = [];
    const maps: [string, ModuleMap][] = [['top', manifest.modules], ...PLATFORMS.map((p): [string, ModuleMap] => [p, manifest.platforms[p].modules])];
    for (const [where, map] of maps) {
      for (const [target, source] of Object.entries(map)) {
        for (const s of [source].flat()) if (ours(s) && filesOf(s).length === 0) missing.push(`${where}: ${target} -> ${s}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('keeps the portable cases kept in src/ (*.cases.ts) out of the device build', () => {
    const cases: string[] = [];
    for (const map of [manifest.modules, ...PLATFORMS.map((p) => manifest.platforms[p].modules)] as ModuleMap[]) {
      for (const source of Object.values(map).flat()) {
        if (ours(source)) cases.push(...filesOf(source).filter((f) => f.endsWith('.cases.ts')).map((f) => relative(root, f)));
      }
    }
    expect(cases).toEqual([]);
  });

  it('names each of our modules by its path, so relative imports resolve the same in XS and tsc', () => {
    for (const map of [manifest.modules, ...PLATFORMS.map((p) => manifest.platforms[p].modules)] as ModuleMap[]) {
      for (const [target, source] of Object.entries(map)) {
        if (target === 'ota' || target === 'embedded:io/socket/tcp/tls') continue; // our typings of SDK modules
        expect(`./${target}`).toBe(source);
      }
    }
  });

  it.each(PLATFORMS)('lists every module the %s build reaches from its main, and uses only SDK modules that build has', (platform) => {
    const { problems, reached } = closureProblems(platform);
    expect(problems).toEqual([]);
    expect(reached.size).toBeGreaterThan(20);
  });

  it.each(PLATFORMS)('preloads every module of the %s build except its main, so their code stays in flash', (platform) => {
    // mcconfig matches "dir/*" preload patterns against .js modules only: TypeScript modules are named one by one
    const preload = new Set<string>([...manifest.preload, ...(manifest.platforms[platform].preload ?? [])]);
    const main = manifest.platforms[platform].creation.main as string;
    const missing: string[] = [];
    for (const file of closureProblems(platform).reached) {
      if (file.endsWith('.d.ts')) continue;
      const name = specifierOf(file, modulesFor(platform))!;
      if (name !== main && !preload.has(name)) missing.push(name);
    }
    expect(missing, 'add these to "preload" in manifest.json').toEqual([]);
    expect(preload.has(main), 'a main runs at boot and must not be preloaded').toBe(false);
  });

  it('keeps TLS and OTA out of the ESP8266 build and native helpers in each', () => {
    const esp = [...closureProblems('esp').reached].map((f) => relative(root, f));
    expect(esp).not.toContain('hosts/moddable/tls.ts');
    expect(esp.some((f) => f.includes('target/esp32'))).toBe(false);
    expect(esp).toContain('hosts/moddable/native/sysinfo.d.ts');
    const esp32 = [...closureProblems('esp32').reached].map((f) => relative(root, f));
    expect(esp32).toContain('hosts/moddable/target/esp32/otaboot.d.ts');
    expect(esp32).toContain('hosts/moddable/update-gate.ts');
    for (const c of ['hosts/moddable/native/sysinfo.c', 'hosts/moddable/target/esp32/otaboot.c']) expect(existsSync(join(root, c))).toBe(true);
  });

  it('has build-time defaults of the types the firmware schema expects', () => {
    const config = manifest.config as Record<string, unknown>;
    for (const key of ['prefix', 'brokerHost', 'brokerPort', 'heartbeatInterval', 'telemetryInterval']) expect(config).toHaveProperty(key);
    const kinds: Record<string, string> = { int: 'number', bool: 'boolean', string: 'string' };
    for (const [key, value] of Object.entries(config)) {
      const field = (SCHEMA as Record<string, { kind: string }>)[key];
      if (field) expect(typeof value, key).toBe(kinds[field.kind]);
    }
    expect(typeof config.otaHealthMs).toBe('number');
    expect(typeof config.otaMaxBoots).toBe('number');
    // Moddable's setup/network joins Wi-Fi before main when `ssid` is set; we must not set it
    expect(config).not.toHaveProperty('ssid');
  });

  it('gives the ESP32 OTA slots and a bootloader with app rollback', () => {
    const esp32 = manifest.platforms.esp32;
    expect(esp32.include).toContain('$(BUILD)/devices/esp32/modules/ota/manifest.json');
    const sdkconfig = readFileSync(join(root, esp32.build.SDKCONFIGPATH, 'sdkconfig.defaults'), 'utf8');
    expect(sdkconfig).toMatch(/^CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y$/m);
  });

  it("keeps the ESP8266 within the SDK's small-heap settings", () => {
    const creation = manifest.platforms.esp.creation;
    expect(creation.static).toBe(32768);
    expect(creation.stack).toBeLessThanOrEqual(512);
    expect(manifest.platforms.esp.include ?? []).not.toContain('$(MODDABLE)/examples/io/tcp/tlssocket/manifest.json');
  });

  it('answers other platforms with an error that names the supported ones', () => {
    expect(manifest.platforms['...'].error).toMatch(/esp32.*esp.*lin/);
  });
});

describe('hosts/moddable type-check', () => {
  it('passes tsc -p hosts/moddable/tsconfig.json without the SDK', () => {
    const tsc = join(root, 'node_modules/.bin/tsc');
    const result = spawnSync(tsc, ['-p', 'hosts/moddable/tsconfig.json', '--noEmit'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
