// Key-value stores of the simulator and the test kit: type round trips, NVS key limits, copies,
// persistence, atomicity, and the faults the in-memory store plants.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore, PowerCut } from '../../hosts/sim/fakes/store';
import { FileKeyValueStore } from '../../hosts/sim/kv';
import { KeyValueError } from '../../hosts/sim/kv-rules';
import type { KeyValueStore } from '../../src/ports';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sim-kv-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const writer = join(__dirname, '../helpers/kv-writer.ts');

const kinds: [string, () => KeyValueStore][] = [
  ['MemoryStore', () => new MemoryStore()],
  ['FileKeyValueStore', () => new FileKeyValueStore(tempDir())],
];

for (const [name, make] of kinds) {
  describe(name, () => {
    it('round-trips strings as strings and bytes as plain Uint8Array', () => {
      const kv = make();
      kv.set('s', 'héllo ✓');
      kv.set('b', Uint8Array.of(0, 0x7f, 0x80, 0xff));
      kv.set('empty-s', '');
      kv.set('empty-b', new Uint8Array(0));
      expect(kv.get('s')).toBe('héllo ✓');
      const b = kv.get('b');
      expect(b).toBeInstanceOf(Uint8Array);
      expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype);
      expect([...(b as Uint8Array)]).toEqual([0, 0x7f, 0x80, 0xff]);
      expect(kv.get('empty-s')).toBe('');
      expect(kv.get('empty-b')).toEqual(new Uint8Array(0));
      expect(kv.get('missing')).toBeUndefined();
    });

    it('stores a Buffer or a subarray view as exactly its bytes, returned as a plain Uint8Array', () => {
      const kv = make();
      kv.set('buf', Buffer.from([1, 2, 3]));
      const backing = Uint8Array.of(9, 9, 4, 5, 9);
      kv.set('view', backing.subarray(2, 4));
      expect(Object.getPrototypeOf(kv.get('buf'))).toBe(Uint8Array.prototype);
      expect([...(kv.get('buf') as Uint8Array)]).toEqual([1, 2, 3]);
      expect([...(kv.get('view') as Uint8Array)]).toEqual([4, 5]);
    });

    it('keeps its own copy: changing the input or the output later changes nothing stored', () => {
      const kv = make();
      const input = Uint8Array.of(1, 2, 3);
      kv.set('k', input);
      input[0] = 99;
      const out = kv.get('k') as Uint8Array;
      out[1] = 99;
      expect([...(kv.get('k') as Uint8Array)]).toEqual([1, 2, 3]);
    });

    it('overwrites across types, deletes, and lists keys sorted', () => {
      const kv = make();
      kv.set('b', 'text');
      kv.set('b', Uint8Array.of(7));
      kv.set('a', 'x');
      kv.set('c', 'y');
      expect(kv.get('b')).toEqual(Uint8Array.of(7));
      kv.delete('c');
      kv.delete('never-set');
      expect(kv.keys()).toEqual(['a', 'b']);
    });

    it('accepts keys of up to 15 bytes and refuses longer ones with EKEY', () => {
      const kv = make();
      kv.set('k'.repeat(15), 'ok');
      expect(kv.get('k'.repeat(15))).toBe('ok');
      // 8 Cyrillic letters are 16 UTF-8 bytes although only 8 characters.
      for (const key of ['k'.repeat(16), 'ключключ']) {
        let error: unknown;
        try {
          kv.set(key, 'no');
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(KeyValueError);
        expect((error as KeyValueError).code).toBe('EKEY');
        expect((error as Error).message).toMatch(/16 bytes.*at most 15/);
      }
      expect(() => kv.get('')).toThrow(KeyValueError);
      expect(kv.keys()).toEqual(['k'.repeat(15)]);
    });

    it('refuses values that are neither string nor bytes, keeping the old value', () => {
      const kv = make();
      kv.set('n', 'before');
      for (const bad of [42, null, { a: 1 }, [1, 2]]) {
        expect(() => kv.set('n', bad as unknown as string)).toThrow(expect.objectContaining({ code: 'EVALUE' }));
      }
      expect(kv.get('n')).toBe('before');
    });
  });
}

describe('value size limit', () => {
  it('enforces maxValueBytes on UTF-8 size when asked', () => {
    const kv = new MemoryStore({ maxValueBytes: 4 });
    kv.set('ok', 'éé');
    expect(() => kv.set('big', 'ééé')).toThrow(/6 bytes.*at most 4/);
    expect(() => new FileKeyValueStore(tempDir(), { maxValueBytes: 2 }).set('b', Uint8Array.of(1, 2, 3))).toThrow(KeyValueError);
  });
});

describe('MemoryStore faults', () => {
  it('a power cut at the n-th write: that write and every later one throw PowerCut and change nothing', () => {
    const kv = new MemoryStore();
    kv.set('a', '1');
    kv.cutAt = kv.writes + 2;
    kv.set('b', '2');
    expect(kv.cut).toBe(false);
    expect(() => kv.delete('a')).toThrow(PowerCut);
    expect(() => kv.set('c', '3')).toThrow(PowerCut);
    expect(kv.cut).toBe(true);
    expect([kv.get('a'), kv.get('b'), kv.get('c')]).toEqual(['1', '2', undefined]);
    kv.powerOn().set('c', '3');
    expect(kv.keys()).toEqual(['a', 'b', 'c']);
  });

  it('unreadable keys throw ECORRUPT until deleted; an unreadable index throws from keys(); copy() keeps both contents and faults', () => {
    const kv = new MemoryStore();
    kv.set('a', '1');
    kv.unreadable.push('a');
    expect(() => kv.get('a')).toThrow(expect.objectContaining({ code: 'ECORRUPT' }));
    const other = kv.copy();
    expect(() => other.get('a')).toThrow(KeyValueError);
    kv.delete('a');
    expect(kv.get('a')).toBeUndefined();
    expect(other.unreadable).toEqual(['a']);
    kv.keysThrow = true;
    expect(() => kv.keys()).toThrow(/index is unreadable/);
  });
});

describe('FileKeyValueStore on disk', () => {
  it('round-trips keys with characters that are not safe in file names', () => {
    const dir = tempDir();
    const kv = new FileKeyValueStore(dir);
    const keys = ['a/b', '..', '.', 'Key', 'key', 'x y%z', 'ü', 'wifi.ssid'];
    keys.forEach((k, i) => kv.set(k, `v${i}`));
    const again = new FileKeyValueStore(dir);
    keys.forEach((k, i) => expect(again.get(k)).toBe(`v${i}`));
    expect(again.keys()).toEqual([...keys].sort());
    expect(readdirSync(dir)).toHaveLength(keys.length);
  });

  it('survives a process restart: values written by another process are read back with their types', () => {
    const dir = tempDir();
    const run = spawnSync(process.execPath, ['--import', 'tsx', writer, dir, 'once'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const kv = new FileKeyValueStore(dir);
    expect(kv.get('greeting')).toBe('hello from child');
    expect(kv.get('blob')).toEqual(Uint8Array.of(0, 1, 2, 254, 255));
  });

  it('reports a corrupt file with ECORRUPT naming it, and other keys still work', () => {
    const dir = tempDir();
    const kv = new FileKeyValueStore(dir);
    kv.set('good', 'fine');
    kv.set('bad', 'soon broken');
    writeFileSync(join(dir, 'bad.json'), '{"type":"string","val');
    expect(() => kv.get('bad')).toThrow(expect.objectContaining({ code: 'ECORRUPT', message: expect.stringContaining('bad.json') }));
    expect(kv.get('good')).toBe('fine');
    kv.set('bad', 'repaired');
    expect(kv.get('bad')).toBe('repaired');
  });

  it('ignores and removes temp files left by an interrupted write', () => {
    const dir = tempDir();
    new FileKeyValueStore(dir).set('k', 'committed');
    writeFileSync(join(dir, '.tmp-12345-1'), '{"type":"string","value":"half-writ');
    const kv = new FileKeyValueStore(dir);
    expect(kv.keys()).toEqual(['k']);
    expect(kv.get('k')).toBe('committed');
    expect(readdirSync(dir)).toEqual(['k.json']);
  });

  it('is atomic under SIGKILL mid-write: the value is always one whole version', async () => {
    const size = 1024 * 1024;
    for (let round = 0; round < 3; round++) {
      const dir = tempDir();
      const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, 'loop', String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      });
      await new Promise((resolve) => setTimeout(resolve, 100 + round * 70));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const value = new FileKeyValueStore(dir).get('big') as string;
      expect(typeof value).toBe('string');
      expect(value.length).toBe(size);
      expect(value === 'a'.repeat(size) || value === 'b'.repeat(size)).toBe(true);
    }
  });
});
