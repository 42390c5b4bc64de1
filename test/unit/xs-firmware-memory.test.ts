// How the firmware budgets read memory (scripts/budgets/firmware.ts): chunk bytes from an xsnap
// snapshot's BLOC section, and the 32-bit estimate. The parser is checked on a snapshot built by hand
// to the layout of xsSnapshot.c, and on the real engine against an allocation of known size.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes32, chunkMemory, snapshotChunks } from '../../scripts/budgets/firmware';
import { XsBenchError } from '../../hosts/xs/meter';
import { XsWorker } from '../../hosts/xs/worker';

/** An atom: size (big-endian, with its 8-byte header), 4-character tag, body. */
function atom(tag: string, body: number[]): number[] {
  const size = 8 + body.length;
  return [size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff, ...Array.from(tag, (c) => c.charCodeAt(0)), ...body];
}

/** A chunk: size (little-endian 32-bit, header included), 4 bytes padding, an 8-byte pointer, data. */
function chunk(size: number): number[] {
  return [size & 0xff, (size >>> 8) & 0xff, 0, 0, ...new Array(size - 4).fill(0)];
}

function snapshot(...atoms: number[][]): Uint8Array {
  const body = atoms.flat();
  return Uint8Array.from(atom('XS_M', body));
}

describe('snapshotChunks', () => {
  it('sums the BLOC section and counts its chunks', () => {
    const bytes = snapshot(atom('VERS', [13, 3, 0, 32]), atom('BLOC', [...chunk(24), ...chunk(40), ...chunk(16)]), atom('HEAP', new Array(64).fill(0)));
    expect(snapshotChunks(bytes)).toEqual({ chunkBytes: 80, chunks: 3 });
  });

  it('rejects what is not a snapshot, or a BLOC that does not add up, with a typed error', () => {
    expect(() => snapshotChunks(Uint8Array.of(0, 0, 0, 8, 0x41, 0x42, 0x43, 0x44))).toThrow(XsBenchError);
    expect(() => snapshotChunks(snapshot(atom('VERS', [13, 3, 0, 32])))).toThrow(/no BLOC/);
    // a chunk claiming 64 bytes in a 24-byte section
    expect(() => snapshotChunks(snapshot(atom('BLOC', [64, 0, 0, 0, ...new Array(20).fill(0)])))).toThrow(/unreadable chunk/);
  });
});

describe('bytes32', () => {
  it('counts 16 bytes a slot and 32-bit chunk headers (8 bytes, 16 in the 64-bit build)', () => {
    // 10 slots * 16 + 100 chunk bytes - 2 chunks * (16 - 8)
    expect(bytes32({ slots: 10, chunkBytes: 100, chunks: 2 })).toBe(244);
  });
});

describe('chunkMemory on xsnap', () => {
  let worker: XsWorker;
  let dir: string;
  let n = 0;
  const measure = () => chunkMemory(worker, join(dir, `${n++}.xss`));
  beforeAll(async () => {
    worker = new XsWorker();
    dir = await mkdtemp(join(tmpdir(), 'xs-chunks-'));
    // Commands, not evaluations, do the work: each evaluation keeps a small chunk of its own.
    await worker.evaluate(`
      globalThis.kept = undefined;
      globalThis.handleCommand = function (request) {
        if (new Uint8Array(request)[0] === 1) globalThis.kept = new ArrayBuffer(10000);
        else for (let i = 0; i < 100; i++) new ArrayBuffer(1000);
        return undefined;
      };
      undefined`);
  });
  afterAll(async () => {
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sees a kept 10,000-byte ArrayBuffer as one more chunk of its size plus a 16-byte header', async () => {
    const before = await measure();
    await worker.command(Uint8Array.of(1));
    const after = await measure();
    expect(after.chunks - before.chunks).toBe(1);
    // chunk sizes are rounded up to the alignment (8 bytes in this build)
    expect(after.chunkBytes - before.chunkBytes).toBe(10000 + 16);
  });

  it('does not count garbage: the snapshot collects first', async () => {
    const before = await measure();
    await worker.command(Uint8Array.of(2));
    expect(await measure()).toEqual(before);
  });
});
