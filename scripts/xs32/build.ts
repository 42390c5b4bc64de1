// Builds xs32: a 32-bit xsnap-worker that measures what a device's XS would run out of (stack depth,
// live slots and chunk bytes after each collection) and can run with a device's creation values.
// It is made from the XS sources that @agoric/xsnap ships in node_modules, with gcc -m32 (Debian's
// gcc-multilib) and scripts/xs32/xsnap-xs32.patch applied to a copy, into build/xs32/<hash>/ (git
// ignores build/). The hash covers the sources, the patch and the build recipe, so the build runs
// again only when one of them changes.
//   npx tsx scripts/xs32/build.ts     build when needed, print the path of the binary
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool } from '../broker/mosquitto-install';
import { applyPatch } from './patch';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const XSNAP = join(root, 'node_modules/@agoric/xsnap');
export const PATCH_FILE = join(root, 'scripts/xs32/xsnap-xs32.patch');
const CACHE = join(root, 'build/xs32');
/** What the hash covers besides the files: change it when the way of building changes. */
const RECIPE = 'xsnap-worker.mk GOAL=release CC="gcc -m32" v1';
/** The folders of the package the build reads (the XS engine, xsnap's own sources and makefiles). */
const INPUTS = ['moddable/xs', 'moddable/modules/data', 'xsnap-native/xsnap/sources', 'xsnap-native/xsnap/makefiles'];

export class Xs32BuildError extends Error {
  override name = 'Xs32BuildError';
}

const installHint = 'install Debian\'s gcc-multilib and make (`sudo apt-get install -y gcc-multilib make`), or set XS32_WORKER to a built binary';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else out.push(path);
  }
  return out;
}

/** Hash of the sources, the patch and the recipe: the name of the cache folder. */
function xs32Hash(): string {
  if (!existsSync(XSNAP)) throw new Xs32BuildError(`${XSNAP} is missing: run npm ci first (the XS sources come with @agoric/xsnap)`);
  const hash = createHash('sha256');
  hash.update(RECIPE);
  hash.update(readFileSync(PATCH_FILE));
  for (const input of INPUTS) {
    for (const path of files(join(XSNAP, input))) {
      hash.update(relative(XSNAP, path));
      hash.update(readFileSync(path));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** Where the binary of the current sources and patch lives once built. */
function xs32BinaryPath(hash: string): string {
  return join(CACHE, hash, 'xsnap-worker');
}

/** Whether `gcc -m32` can compile and link a C program (gcc-multilib is installed). */
function canCompile32(): boolean {
  const dir = join(tmpdir(), `xs32-probe-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, 'probe.c'), '#include <stdio.h>\n#include <math.h>\nint main(void) { printf("%d\\n", (int)sizeof(void*)); return 0; }\n');
    execFileSync('gcc', ['-m32', join(dir, 'probe.c'), '-lm', '-o', join(dir, 'probe')], { stdio: 'pipe' });
    return execFileSync(join(dir, 'probe'), { encoding: 'utf8' }).trim() === '4';
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function aptInstall(packages: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, stdio: 'pipe' });
  try {
    install();
  } catch {
    // usually an empty or stale package index: refresh it once and retry
    execFileSync('apt-get', ['update'], { env, stdio: 'pipe' });
    install();
  }
}

/** Makes sure gcc -m32 and make work, installing gcc-multilib and make with apt-get when root. */
export function ensureToolchain(log: (line: string) => void = () => {}): void {
  const missing = () => !findTool('gcc') || !findTool('make') || !canCompile32();
  if (!missing()) return;
  if (process.getuid?.() !== 0 || !findTool('apt-get')) {
    throw new Xs32BuildError(`The 32-bit XS build needs gcc with 32-bit support (gcc -m32) and make: ${installHint}.`);
  }
  log('xs32: installing gcc-multilib and make with apt-get...');
  try {
    aptInstall(['gcc-multilib', 'make']);
  } catch (error) {
    throw new Xs32BuildError(`Installing gcc-multilib with apt-get failed (${(error as Error).message.split('\n')[0]}); ${installHint}.`);
  }
  if (missing()) throw new Xs32BuildError(`apt-get finished but gcc -m32 still cannot build a program; ${installHint}.`);
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => reject(new Xs32BuildError(`${command} could not start: ${error.message}`)));
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Xs32BuildError(`${command} ${args.join(' ')} failed (exit ${code}):\n${output.trim()}`))));
  });
}

/** Removes the builds of other sources or patches (finished ones only; a build in progress ends in .tmp). */
function pruneOthers(hash: string): void {
  for (const name of readdirSync(CACHE)) {
    if (name !== hash && /^[0-9a-f]{16}$/.test(name)) rmSync(join(CACHE, name), { recursive: true, force: true });
  }
}

export interface Xs32Build {
  /** Path of the 32-bit xsnap-worker. */
  binary: string;
  /** Whether this call built it (false: it was in the cache). */
  built: boolean;
  /** Wall time of the build, seconds (0 from the cache). */
  seconds: number;
}

/**
 * Returns the 32-bit worker, building it first when the sources, the patch or the recipe changed.
 * XS32_WORKER in the environment names a binary to use instead.
 */
export async function buildXs32(options: { log?: (line: string) => void } = {}): Promise<Xs32Build> {
  const log = options.log ?? (() => {});
  const override = process.env.XS32_WORKER;
  if (override) {
    if (!existsSync(override)) throw new Xs32BuildError(`XS32_WORKER is set to "${override}", which does not exist: fix the path or unset XS32_WORKER.`);
    return { binary: override, built: false, seconds: 0 };
  }
  const hash = xs32Hash();
  const binary = xs32BinaryPath(hash);
  if (existsSync(binary)) return { binary, built: false, seconds: 0 };
  ensureToolchain(log);
  const started = Date.now();
  log('xs32: building the 32-bit xsnap-worker from the XS sources of @agoric/xsnap (about half a minute)...');
  // each build in its own folder, renamed into place at the end: concurrent builds cannot mix
  const work = join(CACHE, `${hash}.${process.pid}.tmp`);
  rmSync(work, { recursive: true, force: true });
  try {
    for (const input of INPUTS) cpSync(join(XSNAP, input), join(work, 'src', input), { recursive: true });
    rmSync(join(work, 'src/xsnap-native/xsnap/build'), { recursive: true, force: true });
    applyPatch(join(work, 'src'), readFileSync(PATCH_FILE, 'utf8'));
    const version = (JSON.parse(readFileSync(join(XSNAP, 'package.json'), 'utf8')) as { version: string }).version;
    await run(
      'make',
      [
        '-f', 'xsnap-worker.mk',
        `-j${Math.max(1, Math.min(4, availableParallelism()))}`,
        'GOAL=release',
        `MODDABLE=${join(work, 'src/moddable')}`,
        `XSNAP_VERSION=${version}`,
        'CC=gcc -m32',
      ],
      join(work, 'src/xsnap-native/xsnap/makefiles/lin'),
    );
    const made = join(work, 'src/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker');
    const out = join(work, 'out');
    mkdirSync(out);
    renameSync(made, join(out, 'xsnap-worker'));
    const seconds = (Date.now() - started) / 1000;
    writeFileSync(join(out, 'stamp.json'), JSON.stringify({ hash, recipe: RECIPE, xsnap: version, seconds, built: new Date().toISOString() }, null, 2) + '\n');
    try {
      renameSync(out, join(CACHE, hash));
    } catch (error) {
      // another process finished the same build first
      if (!existsSync(binary)) throw error;
    }
    pruneOthers(hash);
    log(`xs32: built in ${seconds.toFixed(1)} s: ${binary}`);
    return { binary, built: true, seconds };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildXs32({ log: (line) => console.error(line) }).then(
    (b) => console.log(b.binary),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
