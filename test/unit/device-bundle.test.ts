// The device bundle (scripts/build/bundle.ts): the modules a build preloads packed into one module
// named after the target's start module, with the wrapper manifest mcconfig builds from. Checked
// without the SDK: what the bundle imports, what the wrapper drops, how it resolves modules (by
// name, as XS does), and that module-level constants stay `const` (xsl gives every mutable
// module-level binding an alias, RAM on the device).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildModules } from '../../scripts/build/modules';
import { bundleDevice, startModuleOf } from '../../scripts/build/bundle';
import { BuildError } from '../../scripts/build/errors';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'device-bundle-'));
  dirs.push(d);
  return d;
};

/** A small app: a manifest tree, a main, a start module and what it imports. */
function fixture(files: Record<string, string>): string {
  const dir = tmp();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return join(dir, 'manifest.json');
}

const APP = {
  'manifest.json': JSON.stringify({
    include: ['./app/manifest.json'],
    platforms: { esp: { creation: { main: 'app/target/main' } } },
  }),
  'app/manifest.json': JSON.stringify({
    modules: {
      'app/target/main': './target/main',
      'app/target/start': './target/start',
      'app/lib/*': './lib/*',
      'app/native': './native',
      'app/lib/board': './lib/board-small',
      '~': ['./lib/board'],
    },
    preload: ['app/target/start', 'app/lib/table', 'app/lib/board', 'app/native', 'app/lib/types'],
  }),
  'app/target/main.ts': "import { start } from './start';\nstart();\n",
  'app/target/start.ts':
    "import Timer from 'timer';\nimport { TABLE, bump } from '../lib/table';\nimport { board } from '../lib/board';\nimport { native } from '../native';\n" +
    'export const start = (): void => { Timer.set(() => bump(TABLE[0] + board + native())); };\n',
  'app/lib/table.ts': 'export const TABLE = [1, 2, 3];\nlet count = 0;\nexport const bump = (n: number): number => (count += n);\nexport const unused = (): string => "only in the source";\n',
  // the build gives app/lib/board another file, as the ESP8266 build does src/sensors/registry
  'app/lib/board.ts': "export const board = 'the big board';\n",
  'app/lib/board-small.ts': 'export const board = 7;\n',
  'app/lib/types.ts': 'export interface Shape { size: number }\n',
  'app/native.js': 'export function native() @ "xs_native";\n',
  'app/native.c': '',
};

describe('device bundle', () => {
  it('packs the preloaded TypeScript of a build into its start module; SDK and native modules stay imports, by name', async () => {
    const top = fixture(APP);
    const out = tmp();
    const bundle = await bundleDevice('esp', out, top);
    expect(bundle.name).toBe('app/target/start');
    expect(bundle.bundled).toEqual(['app/lib/board', 'app/lib/table', 'app/target/start']);
    expect(bundle.imports).toEqual(['app/native', 'timer']);
    const code = readFileSync(bundle.file, 'utf8');
    // the file the build names app/lib/board, not the one beside the importer
    expect(code).not.toContain('the big board');
    expect(code).toMatch(/from\s*["`']app\/native["`']/);
    expect(code).toMatch(/from\s*["`']timer["`']/);
    // unused exports are left out
    expect(code).not.toContain('only in the source');
    // module-level constants stay const, the one mutable binding is the only let, nothing is var
    expect(code).not.toMatch(/\bvar\b/);
    expect(code.match(/\blet\b/g)?.length).toBe(1);
    expect(code).toMatch(/\bconst\b/);
  });

  it('writes a wrapper manifest that includes the app, drops every preloaded TypeScript module and maps the start module to the bundle', async () => {
    const top = fixture(APP);
    const out = tmp();
    const bundle = await bundleDevice('esp', out, top);
    const wrapper = JSON.parse(readFileSync(bundle.manifest, 'utf8')) as { include: string[]; modules: Record<string, string | string[]>; preload: string[] };
    const app = dirname(top);
    expect(wrapper.include).toEqual([top]);
    expect([...(wrapper.modules['~'] as string[])].sort()).toEqual(
      ['app/lib/board-small.ts', 'app/lib/table.ts', 'app/lib/types.ts', 'app/target/start.ts'].map((f) => join(app, f)),
    );
    expect(wrapper.modules['app/target/start']).toBe('./start');
    expect(wrapper.preload).toEqual(['app/target/start']);
  });

  it('refuses an import of a module no manifest of the build lists, naming the file and the module', async () => {
    const top = fixture({ ...APP, 'app/lib/table.ts': "import { stray } from '../stray';\nexport const TABLE = [stray];\nexport const bump = (n: number): number => n;\n", 'app/stray.ts': 'export const stray = 1;\n' });
    const error = await bundleDevice('esp', tmp(), top).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as Error).message).toContain('app/lib/table.ts imports "../stray" (app/stray)');
    expect((error as Error).message).toContain('in no manifest of that build');
  });

  it('refuses a build whose main has no preloaded start module beside it', async () => {
    const manifest = JSON.parse(APP['app/manifest.json']) as { preload: string[] };
    manifest.preload = manifest.preload.filter((n) => n !== 'app/target/start');
    const top = fixture({ ...APP, 'app/manifest.json': JSON.stringify({ ...JSON.parse(APP['app/manifest.json']), preload: manifest.preload }) });
    await expect(bundleDevice('esp', tmp(), top)).rejects.toThrow(/no preloaded app\/target\/start/);
  });

  it('bundles the ESP8266 build: every module it preloads but main, imports only of SDK modules and our native ones', async () => {
    const out = tmp();
    const bundle = await bundleDevice('esp', out);
    const build = buildModules('esp');
    expect(bundle.name).toBe(startModuleOf(build.main));
    const ours = new Map(build.modules.map((m) => [m.name, m]));
    for (const name of bundle.imports) {
      const m = ours.get(name);
      // an import of ours is a JavaScript module with native functions, never TypeScript the bundle could hold
      if (m) expect(m.file, name).toMatch(/\.js$/);
      else expect(name, 'an SDK module').not.toMatch(/^(src|hosts)\//);
    }
    expect(bundle.bundled).toContain('src/mqtt/client');
    expect(bundle.bundled).toContain('src/sensors/registry');
    expect(bundle.bundled).not.toContain(build.main);
    const code = readFileSync(bundle.file, 'utf8');
    // the ESP8266 build carries no MQTT 5 and no 1-Wire
    expect(code).not.toContain('ds18b20');
  });

  it('minifies without calling anything the source does not: the ESP8266 build strips built-ins the firmware never calls', async () => {
    const plain = readFileSync((await bundleDevice('esp', tmp(), undefined, { minify: false })).file, 'utf8');
    const small = readFileSync((await bundleDevice('esp', tmp())).file, 'utf8');
    const called = (code: string) => new Set([...code.matchAll(/(?<!\.)\.([A-Za-z_$][\w$]*)\s*\(/g)].map((m) => m[1]!));
    const inPlain = called(plain);
    // property names are never shortened, so any method call the minifier added would show here
    const added = [...called(small)].filter((name) => !inPlain.has(name));
    expect(added).toEqual([]);
    expect(small.length).toBeLessThan(plain.length * 0.8);
  });
});
