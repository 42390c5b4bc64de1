// Builds a benchmark child (the population, the observer) into one CommonJS file with esbuild, as a
// deployment of the simulator would run it: compiled once, without tsx's keepNames (which gives every
// function literal a name property: several KB per simulated device that no built simulator pays).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface Bundle {
  /** The built file, to fork. */
  file: string;
  remove(): void;
}

/** Bundles `entry` (a path relative to this folder) with every import, node modules included. */
export async function bundleChild(entry: string): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-bench-'));
  const file = join(dir, entry.replace(/^.*\//, '').replace(/\.ts$/, '.cjs'));
  await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    logLevel: 'warning',
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
