// FileKeyValueStore when a write dies halfway (disk full, crash): the committed value must survive.
// The file system is real; only writeFileSync is made to write part of its data and then fail.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { FileKeyValueStore } from '../../hosts/sim/kv';
import { KeyValueError } from '../../hosts/sim/kv-rules';

const disk = vi.hoisted(() => ({ full: false }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeFileSync: typeof fs.writeFileSync = (path, data, options) => {
    if (!disk.full) return fs.writeFileSync(path, data, options);
    fs.writeFileSync(path, String(data).slice(0, 7));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  return { ...fs, default: { ...fs, writeFileSync }, writeFileSync };
});

const dir = mkdtempSync(join(tmpdir(), 'sim-kv-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('keeps the committed value and leaves no stray file when a write fails halfway', () => {
  const kv = new FileKeyValueStore(dir);
  kv.set('k', 'committed');
  disk.full = true;
  let error: unknown;
  try {
    kv.set('k', 'replacement that never lands');
  } catch (e) {
    error = e;
  }
  disk.full = false;
  expect(error).toBeInstanceOf(KeyValueError);
  expect((error as KeyValueError).code).toBe('EIO');
  expect((error as Error).message).toMatch(/writing "k".*no space left/);
  expect(kv.get('k')).toBe('committed');
  expect(new FileKeyValueStore(dir).get('k')).toBe('committed');
  expect(readdirSync(dir)).toEqual(['k.json']);
});
