// The Moddable manifests: manifest.json (the app: config, creation, which features each build
// includes), hosts/moddable/manifest.json (the port adapters and each platform's main) and one
// manifest per src/ folder (its modules and preloads, and the folders it needs). Checked the way
// mcmanifest reads them: "./" is relative to the manifest that says it, a manifest is read once,
// "dir/*" stands for every file of dir, and "~" drops files from the build. Every module a build
// reaches from its main is in a manifest that build includes and is preloaded, nothing test-only
// is in a build, each folder's manifests list exactly its folder's files, and hosts/moddable
// type-checks against our own declarations of the SDK (no SDK needed).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { SCHEMA } from '../../src/device/config';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const TOP = join(root, 'manifest.json');

type ModuleMap = Record<string, string | string[]>;
interface Section {
  include?: string | string[];
  modules?: ModuleMap;
  preload?: string[];
  build?: Record<string, string>;
  creation?: Record<string, unknown>;
  config?: Record<string, unknown>;
  error?: string;
  typescript?: { tsconfig: { compilerOptions: Record<string, unknown> } };
}
interface ManifestJson extends Section {
  platforms?: Record<string, Section>;
}
interface Manifest {
  path: string;
  json: ManifestJson;
}

const PLATFORMS = ['esp32', 'esp', 'lin'] as const;
type Platform = (typeof PLATFORMS)[number];

/** Modules the SDK provides on each platform (through the manifests we include). */
const SDK_MODULES: Record<Platform, string[]> = {
  esp32: ['embedded:io/i2c', 'embedded:io/digital', 'embedded:io/analog', 'embedded:io/socket/tcp/tls', 'ota'],
  esp: ['embedded:io/i2c', 'embedded:io/digital', 'embedded:io/analog', 'flash'],
  lin: ['embedded:io/socket/tcp/tls'],
};
const SDK_COMMON = ['timer', 'time', 'preference', 'wifi', 'net', 'mc/config', 'embedded:io/socket/tcp', 'embedded:io/socket/listener', 'embedded:io/socket/udp'];
/** Our declarations of SDK modules, so mcconfig's tsc knows their types. */
const SDK_TYPINGS: Record<string, string> = { ota: 'hosts/moddable/types/ota.d.ts', 'embedded:io/socket/tcp/tls': 'hosts/moddable/types/tls.d.ts' };
/** Modules only tests, tools or library users import (all-packets decodes what a client never receives; the
 * device only verifies signatures; index.ts is the sensor library's barrel): dropped with "~" from every build. */
const OFF_DEVICE = ['src/mqtt/all-packets', 'src/mqtt/v5/all-packets', 'src/crypto/compare', 'src/crypto/ed25519-sign', 'src/sensors/index'];
/** Features in a manifest of their own that no build includes yet (md5 and sha1 come with token auth and WebSocket). */
const NOT_BUILT_YET = ['src/crypto/md5', 'src/crypto/sha1', 'src/mqtt/v5/protocol', 'src/transport/websocket', 'src/auth/token'];
/** The boot logic: it runs in the simulator; on the ESP8266 nmboot runs it in C before XS, so no device build carries it. */
const BOOT_IN_C = ['src/ota/bootloader', 'src/ota/placement'];
/** Imports a folder's manifest does not include the target of, and why. */
const BUILD_PICKS = {
  'src/sensors/registry.ts': 'lists every driver; the build includes the manifests of the chips it carries',
  'src/sensors/registry-no-1wire.ts': 'the same for a build without 1-Wire',
};

const manifests = new Map<string, ManifestJson>();
function readManifest(path: string): ManifestJson {
  let json = manifests.get(path);
  if (!json) manifests.set(path, (json = JSON.parse(readFileSync(path, 'utf8')) as ManifestJson));
  return json;
}
const top = readManifest(TOP);

/** The sections of a manifest that apply on `platform`: its own and its platform's (or "..."). */
function sections(json: ManifestJson, platform: Platform): Section[] {
  const own = json.platforms?.[platform] ?? json.platforms?.['...'];
  return own ? [json, own] : [json];
}

function isSdk(path: string): boolean {
  return path.startsWith('$(');
}

function includesOf(section: Section): string[] {
  return [section.include ?? []].flat();
}

/** Our manifests a build on `platform` reads from `start` down, each once, as mcmanifest does. */
function tree(platform: Platform, start = TOP): Manifest[] {
  const seen = new Map<string, Manifest>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    const json = readManifest(path);
    seen.set(path, { path, json });
    for (const section of sections(json, platform)) {
      for (const include of includesOf(section)) if (!isSdk(include)) visit(resolve(dirname(path), include));
    }
  };
  visit(start);
  return [...seen.values()];
}

/** Every manifest file in the repository's src/ and hosts/moddable/. */
function allManifests(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/^manifest(_\w+)?\.json$/.test(name)) out.push(path);
    }
  };
  walk(join(root, 'src'));
  walk(join(root, 'hosts/moddable'));
  return out;
}

/** The module name of a file as mcmanifest forms it: its name without the extension (".d.ts" counts as one). */
function stem(file: string): string {
  return basename(file).replace(/(\.d)?\.[^.]+$/, '');
}

/** Files of `source` (resolved from `dir`): "x/prefix*" matches names starting with prefix, "x/name" the files named name. */
function matches(dir: string, source: string): { file: string; rest: string }[] {
  const path = resolve(dir, source);
  const folder = dirname(path);
  const pattern = basename(path);
  if (!existsSync(folder)) return [];
  const star = pattern.lastIndexOf('*');
  const out: { file: string; rest: string }[] = [];
  for (const name of readdirSync(folder)) {
    const file = join(folder, name);
    if (name.startsWith('.') || !statSync(file).isFile() || /^manifest.*\.json$/.test(name)) continue;
    const s = stem(file);
    if (star >= 0 ? s.startsWith(pattern.slice(0, star)) : s === pattern) out.push({ file, rest: star >= 0 ? s.slice(star) : '' });
  }
  return out;
}

/** The modules a manifest lists and does not drop itself. */
function kept(path: string): Listed[] {
  const { modules, dropped } = listed(path, 'all');
  return modules.filter((m) => !dropped.includes(m.file));
}

/**
 * A module listed under another file's name replaces that file in the builds that include its
 * manifest, which drops the replaced file with "~" (src/sensors/manifest_no_1wire.json lists
 * registry-no-1wire.ts as src/sensors/registry). The replaced file's path is the module's name.
 */
function isSubstitute(path: string, m: Listed): boolean {
  return m.name !== rel(m.file).replace(/(\.d)?\.[^.]+$/, '') && listed(path, 'all').dropped.includes(join(root, `${m.name}.ts`));
}

interface Listed {
  name: string;
  file: string;
  manifest: string;
}

/** What one manifest's sections list: modules (name, file) and the files its "~" drops. */
function listed(path: string, platform: Platform | 'all'): { modules: Listed[]; dropped: string[] } {
  const json = readManifest(path);
  const chosen = platform === 'all' ? [json, ...Object.values(json.platforms ?? {})] : sections(json, platform);
  const modules: Listed[] = [];
  const dropped: string[] = [];
  for (const section of chosen) {
    for (const [target, sources] of Object.entries(section.modules ?? {})) {
      for (const source of [sources].flat()) {
        if (isSdk(source)) continue;
        if (target === '~') {
          dropped.push(...matches(dirname(path), source).map((m) => m.file));
          continue;
        }
        const star = target.lastIndexOf('*');
        for (const m of matches(dirname(path), source)) {
          modules.push({ name: star >= 0 ? target.slice(0, star) + m.rest + target.slice(star + 1) : target, file: m.file, manifest: path });
        }
      }
    }
  }
  return { modules, dropped };
}

/** The modules of our files in a build on `platform` (from `start`), after every "~" of the build. */
function build(platform: Platform, start = TOP): { modules: Listed[]; dropped: Set<string>; preload: Set<string>; tree: Manifest[] } {
  const manifestsOfBuild = tree(platform, start);
  const all = manifestsOfBuild.map((m) => listed(m.path, platform));
  const dropped = new Set(all.flatMap((l) => l.dropped));
  const modules = all.flatMap((l) => l.modules).filter((m) => !dropped.has(m.file));
  const preload = new Set(manifestsOfBuild.flatMap((m) => sections(m.json, platform).flatMap((s) => s.preload ?? [])));
  return { modules, dropped, preload, tree: manifestsOfBuild };
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

/** Our modules a runtime import of `file` reaches (relative imports only). */
function runtimeImports(file: string): string[] {
  if (!file.endsWith('.ts') || file.endsWith('.d.ts')) return [];
  return importsOf(file)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolveImport(file, spec) ?? `${relative(root, file)} imports ${spec}, which does not exist`);
}

function mainOf(platform: Platform): string {
  return sections(top, platform).find((s) => s.creation?.main)!.creation!.main as string;
}

/** Walks the runtime imports from the platform's main; returns problems and the files reached. */
function closure(platform: Platform): { problems: string[]; reached: Set<string> } {
  const { modules } = build(platform);
  const inBuild = new Set(modules.map((m) => m.file));
  // XS resolves an import by module name: a substitute's file answers to the name it is listed under
  const byName = new Map(modules.map((m) => [m.name, m.file]));
  const problems: string[] = [];
  const reached = new Set<string>();
  const start = resolveImport(TOP, './' + mainOf(platform));
  if (!start) return { problems: [`${platform}: main module ${mainOf(platform)} has no source`], reached };
  const queue = [start];
  while (queue.length) {
    const file = queue.pop()!;
    if (reached.has(file)) continue;
    reached.add(file);
    if (!inBuild.has(file)) problems.push(`${platform}: ${relative(root, file)} is imported but in no manifest the build includes`);
    if (file.endsWith('.d.ts')) {
      if (!existsSync(file.replace(/\.d\.ts$/, '.js'))) problems.push(`${platform}: ${relative(root, file)} declares a module with no .js`);
      continue;
    }
    if (file.endsWith('.js')) continue;
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) {
        const target = resolveImport(file, spec);
        if (target) queue.push(inBuild.has(target) ? target : (byName.get(rel(target).replace(/(\.d)?\.[^.]+$/, '')) ?? target));
        else problems.push(`${platform}: ${relative(root, file)} imports ${spec}, which does not exist`);
      } else if (!SDK_COMMON.includes(spec) && !SDK_MODULES[platform].includes(spec)) {
        problems.push(`${platform}: ${relative(root, file)} imports "${spec}", which the ${platform} build does not provide`);
      }
    }
  }
  return { problems, reached };
}

/** The src/ folders that hold TypeScript. */
function sourceFolders(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const names = readdirSync(dir);
    if (names.some((n) => n.endsWith('.ts'))) out.push(dir);
    for (const n of names) if (statSync(join(dir, n)).isDirectory()) walk(join(dir, n));
  };
  walk(join(root, 'src'));
  return out;
}

const rel = (file: string) => relative(root, file);

describe('manifest.json', () => {
  it('builds on the Moddable base manifest with TypeScript that the repo compiler understands', () => {
    expect(top.include).toContain('$(MODDABLE)/examples/manifest_base.json');
    const sdk = tree('esp32').flatMap((m) => sections(m.json, 'esp32').flatMap(includesOf)).filter(isSdk);
    expect(sdk).toContain('$(MODDABLE)/modules/io/manifest.json');
    // SDK 8.2.3 defaults tsc to es2025, which TypeScript 5.9 does not know; strict as our own tsconfig.
    // Class fields are assigned in the constructor, as tsconfig.json has it for Node and the XS tests:
    // defined fields cost XS a hidden initializer function (and its prototype object) per class.
    expect(top.typescript?.tsconfig.compilerOptions).toEqual({ target: 'es2024', lib: ['es2024'], strict: true, skipLibCheck: true, useDefineForClassFields: false });
    const ours = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    expect(ours.compilerOptions.useDefineForClassFields).toBe(false);
  });

  it('includes only manifests that exist, and lists only module sources that exist', () => {
    const missing: string[] = [];
    for (const path of [TOP, ...allManifests()]) {
      const json = readManifest(path);
      for (const section of [json, ...Object.values(json.platforms ?? {})]) {
        for (const include of includesOf(section)) if (!isSdk(include) && !existsSync(resolve(dirname(path), include))) missing.push(`${rel(path)}: include ${include}`);
        for (const [target, sources] of Object.entries(section.modules ?? {})) {
          for (const source of [sources].flat()) if (!isSdk(source) && matches(dirname(path), source).length === 0) missing.push(`${rel(path)}: ${target} -> ${source}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('names each of our modules by its path, so relative imports resolve the same in XS and tsc', () => {
    const wrong: string[] = [];
    for (const path of allManifests()) {
      for (const m of kept(path)) {
        const { name, file } = m;
        if (SDK_TYPINGS[name] === rel(file) || isSubstitute(path, m)) continue;
        if (name !== rel(file).replace(/(\.d)?\.[^.]+$/, '')) wrong.push(`${rel(path)}: ${name} -> ${rel(file)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('gives every src/ folder a manifest; its manifests list each of its files once, or drop it with "~" when only tests use it', () => {
    const problems: string[] = [];
    for (const folder of sourceFolders()) {
      const own = readdirSync(folder).filter((n) => /^manifest(_\w+)?\.json$/.test(n)).map((n) => join(folder, n));
      if (!own.includes(join(folder, 'manifest.json'))) problems.push(`${rel(folder)} has no manifest.json`);
      const count = new Map<string, number>();
      const dropped = new Set<string>();
      for (const path of own) {
        const { modules, dropped: all } = listed(path, 'all');
        const replaced = new Set(modules.filter((m) => isSubstitute(path, m)).map((m) => join(root, `${m.name}.ts`)));
        const drops = all.filter((file) => !replaced.has(file));
        for (const file of drops) {
          if (dirname(file) !== folder) problems.push(`${rel(path)} drops ${rel(file)}, which is not in its folder`);
          dropped.add(file);
        }
        for (const { file } of modules) {
          if (dirname(file) !== folder) problems.push(`${rel(path)} lists ${rel(file)}, which is not in its folder`);
          count.set(file, (count.get(file) ?? 0) + 1);
        }
      }
      for (const name of readdirSync(folder).filter((n) => n.endsWith('.ts'))) {
        const file = join(folder, name);
        if (dropped.has(file)) {
          if (!name.endsWith('.cases.ts') && !OFF_DEVICE.includes(rel(file).slice(0, -3))) problems.push(`${rel(file)} is dropped with "~" but not known as test-only`);
        } else if (name.endsWith('.cases.ts')) problems.push(`${rel(file)}: portable cases must be dropped with "~"`);
        else if (count.get(file) !== 1) problems.push(`${rel(file)} is listed by ${count.get(file) ?? 0} of ${rel(folder)}'s manifests, not 1`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(PLATFORMS)('has every module the %s build reaches from its main in a manifest it includes, and uses only SDK modules that build has', (platform) => {
    const { problems, reached } = closure(platform);
    expect(problems).toEqual([]);
    expect(reached.size).toBeGreaterThan(20);
  });

  it.each(PLATFORMS)('preloads every module of the %s build except its main, so their code stays in flash', (platform) => {
    // mcconfig matches "dir/*" preload patterns against .js modules only: TypeScript modules are named one by one
    const { modules, preload } = build(platform);
    const main = mainOf(platform);
    const missing = [...new Set(modules.filter((m) => !m.file.endsWith('.d.ts') && !m.file.endsWith('.c') && m.name !== main).map((m) => m.name))].filter((n) => !preload.has(n));
    expect(missing, 'add these to "preload" in the manifest that lists them').toEqual([]);
    expect(preload.has(main), 'a main runs at boot and must not be preloaded').toBe(false);
    const names = new Set(modules.map((m) => m.name));
    expect([...preload].filter((n) => (n.startsWith('src/') || n.startsWith('hosts/')) && !names.has(n)), 'preloaded but in no module list').toEqual([]);
  });

  it.each(PLATFORMS)('keeps test-only modules, portable cases and the features it does not include out of the %s build', (platform) => {
    const names = build(platform).modules.map((m) => m.name);
    expect(names.filter((n) => OFF_DEVICE.includes(n) || NOT_BUILT_YET.includes(n) || BOOT_IN_C.includes(n) || n.endsWith('.cases'))).toEqual([]);
    expect(names).toContain('src/mqtt/client');
  });

  it('has no module in any manifest that imports a test-only module or a case', () => {
    const testOnly = new Set(OFF_DEVICE.map((n) => join(root, n + '.ts')));
    const bad: string[] = [];
    for (const path of allManifests()) {
      for (const { file } of kept(path)) {
        for (const target of runtimeImports(file)) if (testOnly.has(target) || target.endsWith('.cases.ts')) bad.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has each src/ manifest include the folders its modules import, so a build that includes it is whole', () => {
    const problems: string[] = [];
    for (const path of allManifests().filter((p) => p.startsWith(join(root, 'src')))) {
      const { modules } = build('esp32', path);
      const present = new Set(modules.map((m) => m.file));
      for (const { file } of kept(path)) {
        if (rel(file) in BUILD_PICKS) continue;
        for (const target of runtimeImports(file)) if (!present.has(target)) problems.push(`${rel(path)}: ${rel(file)} imports ${rel(target)}, which it does not include`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lets a build pick its sensor drivers: one manifest per chip, which the app includes', () => {
    const chips = readdirSync(join(root, 'src/sensors')).filter((n) => statSync(join(root, 'src/sensors', n)).isDirectory());
    expect(chips.length).toBeGreaterThanOrEqual(5);
    const includedBy = (platform: Platform) => sections(top, platform).flatMap(includesOf);
    for (const chip of chips) for (const platform of ['esp32', 'lin'] as const) expect(includedBy(platform)).toContain(`./src/sensors/${chip}/manifest.json`);
    // the ESP8266 build carries every chip but DS18B20: no Moddable host has a 1-Wire port, and the
    // ESP8266 needs the flash; its registry is the shorter one
    expect(chips.filter((chip) => includedBy('esp').includes(`./src/sensors/${chip}/manifest.json`)).sort()).toEqual(chips.filter((c) => c !== 'ds18b20').sort());
    expect(build('esp').modules.filter((m) => m.name === 'src/sensors/registry').map((m) => rel(m.file))).toEqual(['src/sensors/registry-no-1wire.ts']);
    expect(build('esp32').modules.filter((m) => m.name === 'src/sensors/registry').map((m) => rel(m.file))).toEqual(['src/sensors/registry.ts']);
    // no folder manifest pulls a chip in: only the app's list does
    const pulled = allManifests()
      .filter((p) => p !== TOP)
      .flatMap((p) => includesOf(readManifest(p)).map((i) => resolve(dirname(p), i)))
      .filter((i) => /src\/sensors\/[^/]+\/manifest\.json$/.test(i));
    expect(pulled.map(rel)).toEqual([]);
  });

  it('keeps TLS, MQTT 5, WebSocket and token auth out of the ESP8266 build, gives it OTA through nmboot, and native helpers in each', () => {
    const esp = [...closure('esp').reached].map(rel);
    expect(esp).not.toContain('hosts/moddable/tls.ts');
    // the update port, the checkpoints and the firmware's view of the boot record; the boot logic itself is nmboot's C
    for (const f of ['src/ota/slot-update.ts', 'src/ota/resume-log.ts', 'src/ota/attach.ts', 'hosts/moddable/target/esp/boot-flash.ts', 'hosts/moddable/target/esp/otaflash.d.ts']) expect(esp).toContain(f);
    expect(esp.filter((f) => BOOT_IN_C.includes(f.replace(/\.ts$/, '')))).toEqual([]);
    expect(build('esp').modules.map((m) => rel(m.file))).toContain('hosts/moddable/target/esp/nmboot/image.c');
    expect(esp.some((f) => f.includes('target/esp32'))).toBe(false);
    expect(esp).toContain('hosts/moddable/native/sysinfo.d.ts');
    const espNames = build('esp').modules.map((m) => m.name);
    expect(espNames.filter((n) => /^(src\/mqtt\/v5|src\/transport|src\/auth)\//.test(n) || n === 'hosts/moddable/tls')).toEqual([]);
    const espSdk = tree('esp').flatMap((m) => sections(m.json, 'esp').flatMap(includesOf));
    expect(espSdk).not.toContain('$(MODDABLE)/examples/io/tcp/tlssocket/manifest.json');
    const esp32 = [...closure('esp32').reached].map(rel);
    expect(esp32).toContain('hosts/moddable/target/esp32/otaboot.d.ts');
    expect(esp32).toContain('hosts/moddable/update-gate.ts');
    for (const c of ['hosts/moddable/native/sysinfo.c', 'hosts/moddable/target/esp32/otaboot.c', 'hosts/moddable/target/esp/otaflash.c']) expect(existsSync(join(root, c))).toBe(true);
  });

  it("never preloads the SDK's preference module: a preloaded one reads its file at build time, so the desktop build would start empty and save empty files", () => {
    for (const platform of PLATFORMS) {
      const { modules, preload } = build(platform);
      const byName = new Map(modules.map((m) => [m.name, m.file]));
      // the preloaded modules of ours that reach "preference" through their runtime imports
      const reaches = (file: string, seen: Set<string>): boolean => {
        if (seen.has(file) || !file.endsWith('.ts') || file.endsWith('.d.ts')) return false;
        seen.add(file);
        for (const spec of importsOf(file)) {
          if (spec === 'preference') return true;
          const target = spec.startsWith('.') ? resolveImport(file, spec) : byName.get(spec);
          if (target && reaches(target, seen)) return true;
        }
        return false;
      };
      const offenders = [...preload].filter((name) => byName.has(name) && reaches(byName.get(name)!, new Set()));
      expect(offenders, platform).toEqual([]);
      expect(preload.has('preference'), platform).toBe(false);
    }
  });

  it('has no preloaded module of ours make a Map, Set, WeakMap or WeakSet when it loads: made while preloading, it is read-only on the device', () => {
    // (the desktop build aborted at boot on the BME280 model's module-level ROM cache)
    const COLLECTIONS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet']);
    for (const platform of PLATFORMS) {
      const { modules, preload } = build(platform);
      const offenders: string[] = [];
      for (const m of modules) {
        if (!preload.has(m.name) || !m.file.endsWith('.ts') || m.file.endsWith('.d.ts')) continue;
        const source = ts.createSourceFile(m.file, readFileSync(m.file, 'utf8'), ts.ScriptTarget.ES2022, true);
        for (const statement of source.statements) {
          if (!ts.isVariableStatement(statement)) continue;
          for (const d of statement.declarationList.declarations) {
            const init = d.initializer;
            if (init && ts.isNewExpression(init) && ts.isIdentifier(init.expression) && COLLECTIONS.has(init.expression.text)) {
              offenders.push(`${relative(root, m.file)}: ${d.name.getText(source)} = new ${init.expression.text}`);
            }
          }
        }
      }
      expect(offenders, `${platform}: make it on first use (a let, or a field of an object made at run time)`).toEqual([]);
    }
  });

  it('has build-time defaults of the types the firmware schema expects', () => {
    const config = top.config as Record<string, unknown>;
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
    const manifestsOfEsp32 = tree('esp32');
    expect(manifestsOfEsp32.flatMap((m) => sections(m.json, 'esp32').flatMap(includesOf))).toContain('$(BUILD)/devices/esp32/modules/ota/manifest.json');
    const setting = manifestsOfEsp32.flatMap((m) => sections(m.json, 'esp32').flatMap((s) => (s.build?.SDKCONFIGPATH ? [resolve(dirname(m.path), s.build.SDKCONFIGPATH)] : [])));
    expect(setting).toHaveLength(1);
    const sdkconfig = readFileSync(join(setting[0]!, 'sdkconfig.defaults'), 'utf8');
    expect(sdkconfig).toMatch(/^CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y$/m);
  });

  it("keeps the ESP8266 within the SDK's small-heap settings", () => {
    const creation = top.platforms!.esp!.creation as { static: number; stack: number };
    expect(creation.static).toBe(32768);
    expect(creation.stack).toBeLessThanOrEqual(512);
  });

  it('answers other platforms with an error that names the supported ones', () => {
    expect(top.platforms!['...']!.error).toMatch(/esp32.*esp.*lin/);
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
