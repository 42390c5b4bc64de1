// Builds the firmware with the Moddable SDK's mcconfig and our manifest.json.
//   npm run build -- --target esp32|esp8266|lin [--debug] [--board esp32/m5stack] [--out DIR]
//                    [--jobs N] [--bundle | --no-bundle] [key=value ...]
// key=value pairs go to mcconfig and override the manifest config (brokerHost=10.0.0.5 ...).
// Checks first that the SDK and the target's toolchain are installed, and says where to get them.
// esp8266 also builds nmboot (the OTA bootloader) and the OTA image (scripts/nmboot.ts).
// Also the library of scripts/flash.ts and scripts/sim-moddable.ts.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type { BuildPlatform } from './build/modules';
import { bundleDevice } from './build/bundle';
import { BuildError, REPO } from './build/errors';

export { BuildError, REPO };

export type Target = 'esp32' | 'esp8266' | 'lin';

/** mcconfig platform of each target, for a NodeMCU board. */
export const PLATFORMS: Record<Target, string> = { esp32: 'esp32/nodemcu', esp8266: 'esp/nodemcu', lin: 'lin' };

const BUNDLE_PLATFORMS: Record<Target, BuildPlatform> = { esp32: 'esp32', esp8266: 'esp', lin: 'lin' };

const GETTING_STARTED = 'https://github.com/Moddable-OpenSource/moddable/blob/public/documentation/Moddable%20SDK%20-%20Getting%20Started.md';
const ESP32_DOC = 'https://github.com/Moddable-OpenSource/moddable/blob/public/documentation/devices/esp32.md';
const ESP8266_DOC = 'https://github.com/Moddable-OpenSource/moddable/blob/public/documentation/devices/esp8266.md';

export function parseTarget(value: string | undefined): Target {
  if (value === 'esp32' || value === 'esp8266' || value === 'lin') return value;
  throw new BuildError('BAD_ARGUMENT', `--target must be esp32, esp8266 or lin${value === undefined ? '' : `, not "${value}"`}`);
}

/** Everything missing for building `target`, each with where to get it. Empty when all is there. */
export function missingPrerequisites(target: Target, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  const moddable = env.MODDABLE;
  if (!moddable) {
    problems.push(
      `MODDABLE is not set. Clone the Moddable SDK (git clone https://github.com/Moddable-OpenSource/moddable), ` +
        `build its tools as its Getting Started guide says for your OS (Linux: cd $MODDABLE/build/makefiles/lin && make), ` +
        `then export MODDABLE=<that folder>. Guide: ${GETTING_STARTED}`,
    );
  } else if (!existsSync(mcconfigPath(moddable))) {
    problems.push(
      `MODDABLE=${moddable} has no built tools (${mcconfigPath(moddable)} is missing). ` +
        `Build them: cd ${join(moddable, 'build/makefiles', hostPlatform())} && make. Guide: ${GETTING_STARTED}`,
    );
  }
  if (!existsSync(join(REPO, 'node_modules/.bin/tsc'))) {
    problems.push('TypeScript is not installed in this repository (mcconfig runs tsc on our sources): run npm install');
  }
  if (target === 'esp32') {
    const idf = env.IDF_PATH;
    if (!idf) {
      problems.push(
        `IDF_PATH is not set: ESP32 builds need ESP-IDF v6.0. ` +
          `git clone -b v6.0 --recursive https://github.com/espressif/esp-idf.git ~/esp32/esp-idf-v6.0, ` +
          `run its install.sh, export IDF_PATH=~/esp32/esp-idf-v6.0 and source $IDF_PATH/export.sh. Guide: ${ESP32_DOC}`,
      );
    } else if (!existsSync(join(idf, 'tools/idf.py'))) {
      problems.push(`IDF_PATH=${idf} is not an ESP-IDF checkout (no tools/idf.py). Guide: ${ESP32_DOC}`);
    }
  }
  if (target === 'esp8266') {
    const base = env.ESP_BASE ?? join(env.HOME ?? homedir(), 'esp');
    const parts: [string, string][] = [
      ['toolchain', 'the Xtensa lx106 toolchain (https://github.com/Moddable-OpenSource/tools/releases/download/v1.0.0/esp8266.toolchain.linux.tgz)'],
      ['esp8266-2.3.0', 'the ESP8266 Arduino core 2.3.0 (https://github.com/esp8266/Arduino/releases/download/2.3.0/esp8266-2.3.0.zip)'],
      ['ESP8266_RTOS_SDK', 'the ESP8266 RTOS SDK, branch release/v3.2 (git clone https://github.com/espressif/ESP8266_RTOS_SDK.git)'],
    ];
    const missing = parts.filter(([dir]) => !existsSync(join(base, dir)));
    if (missing.length) {
      problems.push(
        `ESP8266 builds need, in ${base} (or $ESP_BASE): ${missing.map(([dir, what]) => `${dir}/ = ${what}`).join('; ')}. Guide: ${ESP8266_DOC}`,
      );
    }
  }
  return problems;
}

function hostPlatform(): string {
  return process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'win' : 'lin';
}

function mcconfigPath(moddable: string): string {
  return join(moddable, 'build/bin', hostPlatform(), 'release', process.platform === 'win32' ? 'mcconfig.exe' : 'mcconfig');
}

/** The environment mcconfig and its makefiles need: the SDK tools and our tsc on PATH. */
export function toolEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const path = [join(REPO, 'node_modules/.bin'), env.PATH ?? '', join(env.MODDABLE ?? '', 'build/bin', hostPlatform(), 'release')].join(':');
  return { ...env, PATH: path };
}

export interface BuildOptions {
  target: Target;
  /** mcconfig platform; default PLATFORMS[target]. */
  board?: string;
  debug?: boolean;
  /** mcconfig -o folder; default build/moddable in the repository. */
  out?: string;
  jobs?: number;
  /** Config overrides: key=value. */
  config?: string[];
  /**
   * Our preloaded modules as one bundled module (scripts/build/bundle.ts). Default: on for the
   * ESP8266, whose flash it fits; off for the others.
   */
  bundle?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface BuildResult {
  /** Folder of the built files (mc.so, xs_esp32.bin, main.bin ...). */
  binDir: string;
  /** The generated makefile. */
  makefile: string;
}

/** Name of the app, from the manifest's build.NAME. */
export function appName(): string {
  const manifest = JSON.parse(readFileSync(join(REPO, 'manifest.json'), 'utf8'));
  return manifest.build?.NAME ?? 'main';
}

export function buildPaths(options: BuildOptions): { tmpDir: string; binDir: string } {
  const out = resolve(options.out ?? join(REPO, 'build/moddable'));
  const board = options.board ?? PLATFORMS[options.target];
  const [platform, sub] = board.replace(/^(sim|simulator)\//, 'lin/').split('/');
  const variant = options.debug ? 'debug' : 'release';
  const parts = [platform!, sub ?? (platform === 'lin' || platform === 'mac' || platform === 'win' ? 'mc' : ''), variant, appName()].filter(Boolean);
  return { tmpDir: join(out, 'tmp', ...parts), binDir: join(out, 'bin', ...parts) };
}

/** Runs a command, streaming its output; rejects with BUILD_FAILED on a non-zero exit. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; what: string }): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: options.env, stdio: 'inherit' });
    child.on('error', (error) => fail(new BuildError('MISSING_TOOL', `${options.what}: cannot run ${command}: ${error.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) done();
      else fail(new BuildError('BUILD_FAILED', `${options.what} failed (${signal ? `signal ${signal}` : `exit code ${code}`}); see the output above`));
    });
  });
}

export function checkConfigArgs(pairs: string[]): void {
  for (const pair of pairs) {
    if (!/^[A-Za-z_][\w.]*=/.test(pair)) throw new BuildError('BAD_ARGUMENT', `"${pair}" is not a config override; write key=value, e.g. brokerHost=192.168.1.10`);
  }
}

/** mcconfig (generate the makefile), then make's `build` target: compiles, never flashes. */
export async function buildFirmware(options: BuildOptions): Promise<BuildResult> {
  const env = options.env ?? process.env;
  const problems = missingPrerequisites(options.target, env);
  if (problems.length) throw new BuildError('MISSING_TOOL', problems.join('\n'));
  checkConfigArgs(options.config ?? []);
  const out = resolve(options.out ?? join(REPO, 'build/moddable'));
  mkdirSync(out, { recursive: true });
  const board = options.board ?? PLATFORMS[options.target];
  const tools = toolEnv(env);
  let manifest = join(REPO, 'manifest.json');
  if (options.bundle ?? options.target === 'esp8266') {
    const platform = BUNDLE_PLATFORMS[options.target];
    // a debug build keeps names and lines readable in xsbug
    const bundle = await bundleDevice(platform, join(out, 'bundle', platform), undefined, { minify: !options.debug });
    console.log(`bundled ${bundle.bundled.length} modules into ${bundle.name} (${bundle.bytes} bytes): ${bundle.file}`);
    manifest = bundle.manifest;
  }
  const args = ['-p', board, '-o', out, ...(options.debug ? ['-d'] : []), manifest, ...(options.config ?? [])];
  await run('mcconfig', args, { env: tools, what: `mcconfig ${args.join(' ')}` });
  const { tmpDir, binDir } = buildPaths(options);
  const makefile = join(tmpDir, 'makefile');
  if (!existsSync(makefile)) throw new BuildError('BUILD_FAILED', `mcconfig wrote no makefile at ${makefile}`);
  const jobs = options.jobs ?? availableParallelism();
  await run('make', ['-f', makefile, 'build', `MAKEFLAGS=-j${jobs} -s`], { cwd: tmpDir, env: tools, what: `make (${board})` });
  return { binDir, makefile };
}

async function cli(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      board: { type: 'string' },
      debug: { type: 'boolean', default: false },
      out: { type: 'string' },
      jobs: { type: 'string' },
      bundle: { type: 'boolean' },
      'no-bundle': { type: 'boolean' },
    },
  });
  const target = parseTarget(values.target ?? 'lin');
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0)) throw new BuildError('BAD_ARGUMENT', `--jobs must be a positive whole number, not "${values.jobs}"`);
  const bundle = values['no-bundle'] ? false : values.bundle;
  const result = await buildFirmware({ target, board: values.board, debug: values.debug, out: values.out, jobs, config: positionals, bundle });
  console.log(`built ${values.board ?? PLATFORMS[target]}: ${result.binDir}`);
  if (target === 'esp8266') {
    // nmboot and the OTA image (main.bin and its trailer): loaded on demand, as it needs this module
    const { packageEsp8266 } = await import('./nmboot');
    const p = packageEsp8266(result.binDir);
    console.log(`nmboot: stage 1 ${p.sizes.stage1} bytes (${p.stage1}), stage 2 ${p.sizes.stage2} bytes (${p.stage2}); OTA image ${p.imageSize} bytes: ${p.image}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((error: unknown) => {
    console.error(error instanceof BuildError ? `build: ${error.message}` : error);
    process.exit(error instanceof BuildError && error.code === 'BAD_ARGUMENT' ? 2 : 1);
  });
}
