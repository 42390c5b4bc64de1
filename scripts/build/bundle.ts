// One module for the firmware on a device build: the TypeScript modules a build preloads, bundled by
// rolldown into one ES module that takes the name of the target's start module
// (hosts/moddable/target/<target>/start). The manifests still choose what goes in; the bundle only
// changes how it is packed. On the ESP8266 this is what makes the firmware fit: every module xsl
// preloads costs flash beyond its code (its module record, an environment slot per import and
// export), and a bundle has one module, no imports between our files, no unused exports and short
// local names. docs/flash.md has the figures.
//
// What stays a module of its own: the target's main (it runs at boot, never preloaded), our
// JavaScript modules with native functions (`@ "xs_..."`, which only XS parses), and every SDK module.
// The wrapper manifest written beside the bundle includes the repository's manifest.json, drops the
// bundled files from the build with "~" and maps the start module to the bundle.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { rolldown, type Plugin } from 'rolldown';
import { buildModules, type BuildPlatform } from './modules';
import { BuildError, REPO } from './errors';

export interface DeviceBundle {
  /** The wrapper manifest to give mcconfig instead of manifest.json. */
  manifest: string;
  /** The bundle (an ES module). */
  file: string;
  /** Its module name in the build. */
  name: string;
  /** Our modules it holds, as build module names. */
  bundled: string[];
  /** Modules it imports, by module name: the SDK's and our native ones. */
  imports: string[];
  /** Of those, ours (JavaScript with native functions): module name to file. */
  ownImports: Map<string, string>;
  bytes: number;
}

/**
 * rolldown, not esbuild: esbuild turns a bundle's top-level `const` into `var`, and xsl gives every
 * mutable module-level binding an alias, a RAM slot each on the device. (esp8266.bytecode.bytes, the
 * CI stand-in for flash, measures this same bundle.)
 */
const DEVICE_BUNDLE = {
  // as the SDK's tsc compiles our TypeScript (manifest.json "typescript": useDefineForClassFields false)
  input: { tsconfig: join(REPO, 'tsconfig.json'), transform: { target: 'es2022' } },
  // short local names: in a preloaded module each distinct name of a captured variable is a key in flash
  output: { format: 'esm', minify: true, comments: false },
} as const;

const SOURCE = /\.(ts|js)$/;

/** The start module of a build whose main is `main` (e.g. hosts/moddable/target/esp/main). */
export function startModuleOf(main: string): string {
  return `${main.slice(0, main.lastIndexOf('/'))}/start`;
}

/** Bundles the modules `platform` preloads into `outDir` and writes the wrapper manifest there. */
export async function bundleDevice(platform: BuildPlatform, outDir: string, top = join(REPO, 'manifest.json'), options: { minify?: boolean } = {}): Promise<DeviceBundle> {
  const buildInfo = buildModules(platform, top);
  const name = startModuleOf(buildInfo.main);
  const start = buildInfo.modules.find((m) => m.name === name);
  if (!start || !start.preloaded) {
    throw new BuildError('BUILD_FAILED', `the ${platform} build has no preloaded ${name}: its main must import the target from ./start, which the manifests list and preload`);
  }
  // resolved as XS resolves them: by module name (a build may give a name another file, as the
  // ESP8266 build does src/sensors/registry)
  const sources = buildInfo.modules.filter((m) => SOURCE.test(m.file) && !m.file.endsWith('.d.ts'));
  const moduleOfName = new Map(sources.map((m) => [m.name, m]));
  const nameOfFile = new Map(sources.map((m) => [m.file, m.name]));
  const bundled = new Set<string>();
  const imports = new Set<string>();
  const ownImports = new Map<string, string>();
  const plugin: Plugin = {
    name: 'device-modules',
    resolveId(path, importerFile) {
      if (importerFile === undefined) return null;
      if (!path.startsWith('.')) {
        // an SDK module ('timer', 'embedded:io/i2c', 'mc/config'): the build links it by name
        imports.add(path);
        return { id: path, external: true };
      }
      const importer = nameOfFile.get(importerFile);
      const wanted = importer === undefined ? undefined : posix.join(posix.dirname(importer), path);
      const module = wanted === undefined ? undefined : moduleOfName.get(wanted);
      if (!module) {
        throw new BuildError('BUILD_FAILED', `cannot bundle the ${platform} build: ${relative(REPO, importerFile)} imports "${path}" (${wanted ?? 'from a file in no manifest'}), which is in no manifest of that build: list it in its folder's manifest.json`);
      }
      if (module.file.endsWith('.js') || !module.preloaded) {
        // ours, but not bundled: a module with native functions, or one the build does not preload
        imports.add(module.name);
        ownImports.set(module.name, module.file);
        return { id: module.name, external: true };
      }
      bundled.add(module.name);
      return { id: module.file };
    },
  };
  let code: string;
  try {
    const bundler = await rolldown({ input: start.file, plugins: [plugin], logLevel: 'silent', ...DEVICE_BUNDLE.input });
    try {
      code = (await bundler.generate({ ...DEVICE_BUNDLE.output, minify: options.minify ?? DEVICE_BUNDLE.output.minify })).output[0].code;
    } finally {
      await bundler.close();
    }
  } catch (error) {
    // rolldown wraps what a plugin throws
    const ours = (error as { errors?: unknown[] }).errors?.find((e) => e instanceof BuildError);
    throw ours ?? new BuildError('BUILD_FAILED', `cannot bundle the ${platform} build: ${error instanceof Error ? error.message : String(error)}`);
  }
  bundled.add(name);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'start.js');
  writeFileSync(file, code);
  // every preloaded TypeScript module of ours goes: the bundled ones, and those nothing imports (type-only ones)
  const dropped = sources.filter((m) => m.preloaded && m.file.endsWith('.ts')).map((m) => m.file);
  const manifest = join(outDir, 'manifest.json');
  writeFileSync(
    manifest,
    `${JSON.stringify(
      {
        include: [top],
        modules: { '~': dropped, [name]: './start' },
        preload: [name],
      },
      null,
      '\t',
    )}\n`,
  );
  return { manifest, file, name, bundled: [...bundled].sort(), imports: [...imports].sort(), ownImports, bytes: Buffer.byteLength(code) };
}
