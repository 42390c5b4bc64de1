// Whole-firmware budgets on XS (scripts/budgets/firmware.bench.ts): live heap after boot and at
// steady state, and the cost of a telemetry cycle and of a command, with the real firmware booted on a
// scripted platform. Slots come from xsnap's meter after gc(); chunk bytes (strings, byte buffers,
// array storage, Map tables) from the BLOC section of an xsnap snapshot, which holds exactly the live
// chunks. Both are taken as differences from the same machine with only the bench platform built, so
// the code and the fakes are not counted.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './figure';
import { XsBench, XsBenchError } from '../../hosts/xs/meter';
import type { Delivery, XsWorker } from '../../hosts/xs/worker';

const here = dirname(fileURLToPath(import.meta.url));

/** Bytes of an XS slot on a 32-bit device (xsnap's 64-bit build uses 32). */
export const SLOT_BYTES_32 = 16;
/** Bytes of a chunk header (size and a pointer) in the 64-bit build and on a 32-bit device. */
const CHUNK_HEADER_64 = 16;
const CHUNK_HEADER_32 = 8;

export interface LiveMemory {
  /** Live slots (after a full collection). */
  slots: number;
  /** Bytes of live chunks in this 64-bit build, headers included. */
  chunkBytes: number;
  /** Number of live chunks. */
  chunks: number;
}

/** Live memory now, less `base`. */
export function subtract(now: LiveMemory, base: LiveMemory): LiveMemory {
  return { slots: now.slots - base.slots, chunkBytes: now.chunkBytes - base.chunkBytes, chunks: now.chunks - base.chunks };
}

/**
 * Estimated bytes on a 32-bit device: 16 per slot, plus the chunk bytes with 32-bit chunk headers.
 * An upper bound for the chunks: arrays of slots in chunks (Array elements) take 32 bytes per element
 * here and 16 on a device, which this does not correct.
 */
export function bytes32(m: LiveMemory): number {
  return m.slots * SLOT_BYTES_32 + m.chunkBytes - m.chunks * (CHUNK_HEADER_64 - CHUNK_HEADER_32);
}

/**
 * The chunks of an xsnap snapshot: atoms of [size (4 bytes, big-endian, with the 8-byte atom
 * header), tag (4 ASCII)] after the "XS_M" header; BLOC is the live chunks back to back, each
 * starting with its size (headers included, little-endian 32-bit). xsSnapshot.c fxWriteSnapshot().
 */
export function snapshotChunks(snapshot: Uint8Array): { chunkBytes: number; chunks: number } {
  const view = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  const tag = (at: number) => String.fromCharCode(snapshot[at]!, snapshot[at + 1]!, snapshot[at + 2]!, snapshot[at + 3]!);
  if (snapshot.length < 8 || tag(4) !== 'XS_M') throw new XsBenchError('not an xsnap snapshot (no XS_M header)');
  for (let at = 8; at + 8 <= snapshot.length; ) {
    const size = view.getUint32(at);
    if (size < 8 || at + size > snapshot.length) break;
    if (tag(at + 4) === 'BLOC') {
      const end = at + size;
      let chunks = 0;
      let p = at + 8;
      while (p < end) {
        const chunk = view.getInt32(p, true);
        if (chunk < CHUNK_HEADER_64 || p + chunk > end) throw new XsBenchError(`unreadable chunk of ${chunk} bytes at ${p} in the snapshot's BLOC section`);
        chunks++;
        p += chunk;
      }
      return { chunkBytes: size - 8, chunks };
    }
    at += size;
  }
  throw new XsBenchError('the snapshot has no BLOC (chunks) section');
}

/** Writes an xsnap snapshot of the worker's machine (which collects garbage first) to `path`. */
async function writeSnapshot(worker: XsWorker, path: string): Promise<Delivery> {
  return worker.snapshot(path);
}

/** Live chunks of the worker's machine, from a snapshot written to `path` (and removed). */
export async function chunkMemory(worker: XsWorker, path: string): Promise<{ chunkBytes: number; chunks: number }> {
  try {
    await writeSnapshot(worker, path);
    return snapshotChunks(await readFile(path));
  } finally {
    await rm(path, { force: true });
  }
}

async function liveMemory(bench: XsBench, dir: string): Promise<LiveMemory> {
  const slots = await bench.heap();
  return { slots, ...(await chunkMemory(bench.worker, join(dir, 'heap.xss'))) };
}

export async function measureFirmware(): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'xs-firmware-'));
  const bench = await XsBench.load(join(here, 'firmware.bench.ts'));
  try {
    const out: Figure[] = [];
    const memory = (phase: string, m: LiveMemory) => {
      out.push({ name: `firmware.heap-${phase}`, value: m.slots, unit: 'slots' });
      out.push({ name: `firmware.chunks-${phase}`, value: m.chunkBytes, unit: 'bytes' });
      out.push({ name: `firmware.heap-${phase}.bytes32`, value: bytes32(m), unit: 'bytes' });
    };
    await bench.exercise('platform', 1);
    const base = await liveMemory(bench, dir);
    await bench.exercise('boot', 1);
    memory('boot', subtract(await liveMemory(bench, dir), base));
    await bench.exercise('steady', 1);
    memory('steady', subtract(await liveMemory(bench, dir), base));
    for (const op of ['telemetry-cycle', 'command-ping']) {
      out.push({ name: `firmware.${op}`, value: await bench.computrons(op, 50), unit: 'computrons' });
      const use = await bench.slots(op, 50);
      out.push({ name: `firmware.garbage.${op}`, value: use.garbage, unit: 'slots' });
      out.push({ name: `firmware.retained.${op}`, value: use.retained, unit: 'slots' });
    }
    await bench.exercise('settled', 1);
    return out;
  } finally {
    await bench.close();
    await rm(dir, { recursive: true, force: true });
  }
}
