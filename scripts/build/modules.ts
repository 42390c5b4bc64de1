// Which modules a Moddable build carries, read from the manifests as mcmanifest reads them: from the
// top manifest.json down through every "include" of ours (the SDK's, "$(...)", are not followed),
// each manifest once, its own section and its platform's (or "..."), "./" relative to the manifest
// that says it, "dir/prefix*" for the files of dir whose names start with prefix, "~" dropping files
// from the build. The esp8266 memory budget (esp8266.ts) loads the modules the ESP8266 build
// preloads, so the figures leave out what a device keeps in flash.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** mcconfig's platform names: "esp" is the ESP8266, "lin" the desktop build. */
export type BuildPlatform = 'esp32' | 'esp' | 'lin';

type ModuleMap = Record<string, string | string[]>;
interface Section {
  include?: string | string[];
  modules?: ModuleMap;
  preload?: string[];
  config?: Record<string, unknown>;
  creation?: Record<string, unknown>;
}
interface ManifestJson extends Section {
  platforms?: Record<string, Section>;
}

export interface BuildModule {
  /** The module's name in the build, e.g. "src/mqtt/client". */
  name: string;
  /** Its source file. */
  file: string;
  /** Whether the build preloads it (its code and module-level objects in flash). */
  preloaded: boolean;
}

export interface BuildModules {
  platform: BuildPlatform;
  /** Our modules in the build (not the SDK's), after every "~". */
  modules: BuildModule[];
  /** The module the build starts with (creation.main): not preloaded, it runs at boot. */
  main: string;
  /** The build's `config` (mc/config): the top manifest's, then its platform's over it. */
  config: Record<string, unknown>;
}

function sections(json: ManifestJson, platform: BuildPlatform): Section[] {
  const own = json.platforms?.[platform] ?? json.platforms?.['...'];
  return own ? [json, own] : [json];
}

/** The module name of a file as mcmanifest forms it: its name without the extension (".d.ts" counts as one). */
function stem(file: string): string {
  return basename(file).replace(/(\.d)?\.[^.]+$/, '');
}

/** Files of `source` (resolved from `dir`) with what the "*" stood for. */
function matches(dir: string, source: string): { file: string; rest: string }[] {
  const path = resolve(dir, source);
  const folder = dirname(path);
  const pattern = basename(path);
  if (!existsSync(folder)) return [];
  const star = pattern.lastIndexOf('*');
  const out: { file: string; rest: string }[] = [];
  for (const name of readdirSync(folder).sort()) {
    const file = join(folder, name);
    if (name.startsWith('.') || !statSync(file).isFile() || /^manifest.*\.json$/.test(name)) continue;
    const s = stem(file);
    if (star >= 0 ? s.startsWith(pattern.slice(0, star)) : s === pattern) out.push({ file, rest: star >= 0 ? s.slice(star) : '' });
  }
  return out;
}

/** The modules of our files in the build on `platform`, read from `top` (default: the repository's manifest.json). */
export function buildModules(platform: BuildPlatform, top = join(root, 'manifest.json')): BuildModules {
  const seen = new Map<string, ManifestJson>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    const json = JSON.parse(readFileSync(path, 'utf8')) as ManifestJson;
    seen.set(path, json);
    for (const section of sections(json, platform)) {
      for (const include of [section.include ?? []].flat()) if (!include.startsWith('$(')) visit(resolve(dirname(path), include));
    }
  };
  visit(top);
  const listed: { name: string; file: string }[] = [];
  const dropped = new Set<string>();
  const preload = new Set<string>();
  for (const [path, json] of seen) {
    for (const section of sections(json, platform)) {
      for (const name of section.preload ?? []) preload.add(name);
      for (const [target, sources] of Object.entries(section.modules ?? {})) {
        for (const source of [sources].flat()) {
          if (source.startsWith('$(')) continue;
          if (target === '~') {
            for (const m of matches(dirname(path), source)) dropped.add(m.file);
            continue;
          }
          const star = target.lastIndexOf('*');
          for (const m of matches(dirname(path), source)) {
            listed.push({ name: star >= 0 ? target.slice(0, star) + m.rest + target.slice(star + 1) : target, file: m.file });
          }
        }
      }
    }
  }
  const topJson = seen.get(top)!;
  const main = sections(topJson, platform).map((s) => s.creation?.main).filter((m): m is string => typeof m === 'string').pop();
  if (!main) throw new Error(`${relative(root, top)} names no creation.main for the ${platform} build`);
  const config: Record<string, unknown> = {};
  for (const section of sections(topJson, platform)) Object.assign(config, section.config ?? {});
  const modules = listed.filter((m) => !dropped.has(m.file)).map((m) => ({ ...m, preloaded: preload.has(m.name) }));
  return { platform, modules, main, config };
}
