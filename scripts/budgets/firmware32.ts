// The whole-firmware memory figures measured on a 32-bit XS (scripts/xs32) instead of estimated from
// the 64-bit one (firmware.ts), with a fixed heap of an ESP8266's size: the same bench
// (firmware.bench.ts: boot, then 1,000 telemetry intervals with 100 commands), in a machine made with
// the creation values of Moddable's esp manifest, whose live slots (16 bytes each) and chunk bytes
// (32-bit headers) are read after each collection.
//
// Fixed heap: once the bench platform is built, what is live is marked (on a device the code and the
// module-level objects are preloaded into flash, so they are not in its heap), and from then on more
// than ESP8266_HEAP_BYTES live above the mark after any collection stops XS, as a full heap stops a
// device: budgets:check then fails with XsMemoryFullError. docs/xs.md says what this does not match.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XsBench, type Live32 } from '../../hosts/xs/meter';
import type { XsCreation } from '../../hosts/xs/worker';
import { buildXs32 } from '../xs32/build';
import type { Figure } from './figure';
import { ESP8266_STACK_SLOTS } from './stack';

const here = dirname(fileURLToPath(import.meta.url));

/** Moddable's build/devices/esp/manifest.json: creation.static, the one block the XS heap and stack share. */
export const ESP8266_STATIC_BYTES = 32_768;
/** What the static block leaves for slots and chunks once the stack (16 bytes a slot) is taken. */
export const ESP8266_HEAP_BYTES = ESP8266_STATIC_BYTES - ESP8266_STACK_SLOTS * 16;

/**
 * The esp manifest's chunk and heap creation values, so collections come when they would on the
 * device. The stack stays large: loading the bundled firmware (one script) takes more than the
 * device's 256 slots, which a device never does (its modules are preloaded); stack-peak figures are
 * measured apart (stack.ts).
 */
export const ESP8266_CREATION: XsCreation = { chunk: 1536, chunkIncrement: 512, heap: 512, heapIncrement: 64, stack: 4096 };

export interface Firmware32 {
  /** Live above the platform's baseline after boot and at steady state, 32-bit bytes. */
  boot: Live32;
  steady: Live32;
  /** The most live bytes above the mark after any collection during boot and the steady run. */
  peak: number;
  /** Bytes live at the mark (the loaded code and the bench platform), not counted. */
  mark: number;
  /** Collections during boot and the steady run. */
  collections: number;
}

function above(now: Live32, base: Live32): Live32 {
  return { slots: now.slots - base.slots, chunks: now.chunks - base.chunks, bytes: now.bytes - base.bytes, peak: now.peak - base.bytes };
}

/** Boots the firmware bench in the 32-bit worker with a fixed heap of `heapBytes` (default: an ESP8266's). */
export async function runFirmware32(heapBytes = ESP8266_HEAP_BYTES): Promise<Firmware32> {
  const { binary } = await buildXs32({ log: (line) => console.error(line) });
  const bench = await XsBench.load(join(here, 'firmware.bench.ts'), { xs32: true, binary, creation: ESP8266_CREATION, name: 'xs32-firmware' });
  try {
    await bench.exercise('platform', 1);
    const mark = await bench.capHeap(heapBytes);
    const before = (await bench.worker.evaluate('0')).meter.xs32!.collections;
    await bench.exercise('boot', 1);
    const boot = above(await bench.live(), mark);
    await bench.exercise('steady', 1);
    const steady = above(await bench.live(), mark);
    const collections = (await bench.worker.evaluate('0')).meter.xs32!.collections - before;
    await bench.exercise('settled', 1);
    return { boot, steady, peak: steady.peak, mark: mark.bytes, collections };
  } finally {
    await bench.close();
  }
}

export async function measureFirmware32(): Promise<Figure[]> {
  const m = await runFirmware32();
  return [
    { name: 'firmware.heap-boot.live32', value: m.boot.bytes, unit: 'bytes' },
    { name: 'firmware.heap-steady.live32', value: m.steady.bytes, unit: 'bytes' },
    { name: 'firmware.heap-peak.live32', value: m.peak, unit: 'bytes', limit: ESP8266_HEAP_BYTES },
  ];
}
