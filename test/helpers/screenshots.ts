// Browser tests take their screenshots every run, into a temp dir; with UPDATE_SCREENSHOTS=1 they
// replace the README's images in docs/img instead (review them before committing).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export function screenshotPath(name: string): string {
  if (process.env.UPDATE_SCREENSHOTS) return resolve('docs/img', name);
  const dir = join(tmpdir(), 'nodemcu-screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
