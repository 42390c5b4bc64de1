// A 3.1.1 client build carries no MQTT 5 module, and no outbox persistence unless it asks for it. This bundles src/mqtt/client.ts as the XS budgets
// do (hosts/xs/bundle.ts: esbuild, IIFE, ES2022, minified) and reads esbuild's list of the modules
// that went in. npm run arch checks the same by import graph; this checks the bundle itself.
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MQTT = join(ROOT, 'src/mqtt');
const isMqtt5 = (path: string) => path.startsWith('src/mqtt/v5/');

/** The repository-relative paths of the modules esbuild put in the bundle. */
async function bundledModules(entry: Pick<BuildOptions, 'entryPoints' | 'stdin'>): Promise<string[]> {
  const result = await build({
    ...entry,
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    format: 'iife',
    target: 'es2022',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    minify: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs).map((path) => relative(ROOT, resolve(ROOT, path)));
}

describe('the MQTT 3.1.1 client bundle', () => {
  it('contains no module under src/mqtt/v5/', async () => {
    const modules = await bundledModules({ entryPoints: [join(MQTT, 'client.ts')] });
    expect(modules).toContain('src/mqtt/client.ts');
    expect(modules.filter(isMqtt5)).toEqual([]);
  });

  it('carries no outbox persistence: outbox-store.ts comes in only with outboxStore()', async () => {
    expect(await bundledModules({ entryPoints: [join(MQTT, 'client.ts')] })).not.toContain('src/mqtt/outbox-store.ts');
    const modules = await bundledModules({
      stdin: { contents: `export * from './client';\nexport { outboxStore } from './outbox-store';\n`, resolveDir: MQTT, loader: 'ts' },
    });
    expect(modules).toContain('src/mqtt/outbox-store.ts');
  });

  it('would show an MQTT 5 module that a build pulls in', async () => {
    const v5 = readdirSync(join(MQTT, 'v5')).filter((name) => name.endsWith('.ts')).sort()[0]!;
    const modules = await bundledModules({
      stdin: { contents: `export * from './client';\nexport * from './v5/${v5}';\n`, resolveDir: MQTT, loader: 'ts' },
    });
    expect(modules.filter(isMqtt5)).toContain(`src/mqtt/v5/${v5}`);
  });
});
