// What the 32-bit worker (scripts/xs32) adds for the esp8266 budget: functions made as a device's
// linked build makes them, code without line numbers as in a release build, a live-bytes peak exact
// at every collection, and a census of what was made since a mark, by class and holder.
import { afterEach, describe, expect, it } from 'vitest';
import { XsWorker } from '../../hosts/xs/worker';

const workers: XsWorker[] = [];
function start(): XsWorker {
  const worker = new XsWorker({ xs32: true });
  workers.push(worker);
  return worker;
}
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

const decoder = new TextDecoder();
async function text(worker: XsWorker, source: string): Promise<string> {
  return decoder.decode((await worker.evaluate(`new TextEncoder().encode(String(${source})).buffer`)).reply);
}

/** Live bytes (16 per slot, plus chunks) that `make` keeps in `keep`, per item, after a collection. */
async function bytesPer(worker: XsWorker, make: string, n = 50): Promise<number> {
  await worker.evaluate('globalThis.keep = []; gc()');
  const a = (await worker.evaluate('gc()')).meter.xs32!;
  await worker.evaluate(`for (let i = 0; i < ${n}; i++) keep.push(${make}); gc()`);
  const b = (await worker.evaluate('gc()')).meter.xs32!;
  return (b.liveSlots * 16 + b.liveChunks - a.liveSlots * 16 - a.liveChunks) / n;
}

describe('the 32-bit XS worker, as a device makes things', () => {
  it('linked: a function made at run time has no own length and name, as in a build Moddable linked', async () => {
    const worker = start();
    await worker.evaluate('globalThis.make = function () { return (a, b) => a + b; }');
    expect(await text(worker, 'Object.getOwnPropertyNames(make()).join()')).toBe('length,name');
    await worker.evaluate('xs32.linked(true)');
    expect(await text(worker, 'Object.getOwnPropertyNames(make()).join()')).toBe('');
    expect(await text(worker, 'make()(2, 3)')).toBe('5');
  });

  it('debugInfo(false): code parsed after it carries no line numbers, so a closure copies less of it into the heap', async () => {
    const source = 'globalThis.maker = function () { return () => {\n let a = 1;\n a += 2;\n a += 3;\n return a;\n }; }';
    const withLines = start();
    await withLines.evaluate(source);
    const release = start();
    await release.evaluate('xs32.debugInfo(false)');
    await release.evaluate(source);
    expect(await bytesPer(release, 'maker()')).toBeLessThan(await bytesPer(withLines, 'maker()'));
    expect(await text(release, 'maker()()')).toBe('6');
  });

  it('exactPeak: every collection compacts, so the live chunk bytes are known after each one', async () => {
    const worker = start();
    await worker.evaluate('xs32.exactPeak(true)');
    const a = (await worker.evaluate('0')).meter.xs32!;
    // many small objects: collections made to find free slots (XS does not compact the chunks for those)
    const b = (await worker.evaluate('{ let x; for (let i = 0; i < 200000; i++) x = { i }; }')).meter.xs32!;
    expect(b.collections).toBeGreaterThan(a.collections);
    expect(b.compactions - a.compactions).toBe(b.collections - a.collections);
  });

  it('census: what was made since the mark, by class, with a builtin named by its holder', async () => {
    const worker = start();
    await worker.evaluate('globalThis.Sensor = class Sensor { constructor() { this.window = new Uint8Array(64); } }; globalThis.keep = [];');
    await worker.evaluate('xs32.censusMark()');
    await worker.evaluate('for (let i = 0; i < 7; i++) keep.push(new Sensor())');
    const rows = (await text(worker, 'xs32.census()')).trim().split('\n');
    expect(rows[0]).toMatch(/^\* \d+ \d+$/);
    const sensor = rows.find((r) => / Sensor@\d+$/.test(r));
    expect(sensor?.split(' ')[0]).toBe('7');
    const buffers = rows.find((r) => /ArrayBuffer <- Uint8Array <- Sensor@\d+\.window$/.test(r));
    expect(buffers?.split(' ')[0]).toBe('7');
    // 7 buffers of 64 bytes, each with its 8-byte chunk header
    expect(Number(buffers?.split(' ')[2])).toBe(7 * 72);
  });

  it('peakCensus: the census at the highest collection above a threshold', async () => {
    const worker = start();
    await worker.evaluate('xs32.exactPeak(true); xs32.censusMark(); xs32.setHeapCap(0)');
    await worker.evaluate('xs32.peakCensus(1000)');
    await worker.evaluate('globalThis.Big = class Big { constructor() { this.bytes = new ArrayBuffer(4000); } }; { let b = new Big(); gc(); b = undefined; } gc()');
    const census = await text(worker, 'xs32.peakCensus(0)');
    expect(census).toMatch(/ Big@\d+$/m);
    expect(await text(worker, 'xs32.peakCensus(0)')).toBe('');
  });
});
