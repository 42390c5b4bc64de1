// The 32-bit, measuring XS worker (scripts/xs32): device-sized slots, the stack depth of a delivery
// and of a marked call, live memory after collections exact to the byte, and a fixed heap that stops
// XS when it is full.
import { afterEach, describe, expect, it } from 'vitest';
import { XsMemoryFullError } from '../../hosts/xs/errors';
import { XsWorker, type XsWorkerOptions } from '../../hosts/xs/worker';

const workers: XsWorker[] = [];
function start(options: XsWorkerOptions = {}): XsWorker {
  const worker = new XsWorker({ xs32: true, ...options });
  workers.push(worker);
  return worker;
}
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

const decoder = new TextDecoder();
/** Evaluates `source`, whose value is a string, and returns it. */
async function text(worker: XsWorker, source: string): Promise<string> {
  return decoder.decode((await worker.evaluate(`new TextEncoder().encode(String(${source})).buffer`)).reply);
}

describe('the 32-bit XS worker', () => {
  it('has 16-byte slots, as the ESP8266 and ESP32', async () => {
    const { meter } = await start().evaluate('1');
    expect(meter.xs32?.slotSize).toBe(16);
  });

  it('reports how deep a delivery went: 10 more recursions, 10 more frames', async () => {
    const worker = start();
    await worker.evaluate('globalThis.down = function (n) { return n ? down(n - 1) + 1 : 0 }');
    const shallow = (await worker.evaluate('down(10)')).meter.xs32!.stackPeak;
    const deep = (await worker.evaluate('down(20)')).meter.xs32!.stackPeak;
    // every recursion the same frame: at least this, function, target, result, frame, argc, the argument and the scope
    expect((deep - shallow) % 10).toBe(0);
    expect((deep - shallow) / 10).toBeGreaterThanOrEqual(8);
    expect((await worker.evaluate('1')).meter.xs32!.stackPeak).toBeLessThan(shallow);
  });

  it('measures a call from a mark, as the stack budgets measure each call into the firmware', async () => {
    const worker = start();
    await worker.evaluate('globalThis.down = function down(n) { return n ? down(n - 1) + 1 : 0 }');
    const peaks = JSON.parse(
      await text(worker, "(() => { const p = []; for (const n of [5, 15]) { const base = xs32.stackMark(); down(n); p.push(xs32.stackPeak() - base); } return JSON.stringify(p) })()"),
    ) as number[];
    expect((peaks[1]! - peaks[0]!) % 10).toBe(0);
    expect(peaks[1]! - peaks[0]!).toBeGreaterThanOrEqual(10 * 8);
    const trace = await text(worker, "(() => { xs32.stackMark(true); down(3); return xs32.stackTrace() })()");
    expect(trace.split('\n').filter((l) => l.startsWith('down ')).length).toBe(4);
  });

  it('counts live memory exactly: a 1,000-byte buffer is 1,008 chunk bytes (an 8-byte header) after a collection', async () => {
    const worker = start();
    // commands, not evaluations: each evaluated script leaves a little of itself behind
    await worker.evaluate(
      "let kept; globalThis.handleCommand = (b) => { const n = new Uint8Array(b)[0]; if (n) kept = new ArrayBuffer(n * 100); else if (n === 0) kept = undefined; gc(); }",
    );
    const live = async (n: number) => (await worker.command(new Uint8Array([n]))).meter.xs32!;
    const before = await live(0);
    const after = await live(10);
    expect(after.liveChunks - before.liveChunks).toBe(1008);
    expect((await live(11)).liveChunks - after.liveChunks).toBe(100);
    const freed = await live(0);
    expect(freed.liveChunks).toBe(before.liveChunks);
    expect(freed.liveSlots).toBe(before.liveSlots);
    expect(freed.collections).toBe(before.collections + 3);
  });

  it('keeps the most live bytes after a collection since the peak was reset', async () => {
    const worker = start();
    await worker.evaluate('xs32.resetPeak()');
    const base = (await worker.evaluate('gc()')).meter.xs32!;
    await worker.evaluate('globalThis.big = new ArrayBuffer(20000); gc(); globalThis.big = undefined; gc()');
    const m = (await worker.evaluate('gc()')).meter.xs32!;
    expect(m.livePeak - (base.liveSlots * 16 + base.liveChunks)).toBeGreaterThanOrEqual(20008);
    expect(m.liveSlots * 16 + m.liveChunks).toBeLessThan(m.livePeak - 20000);
  });

  it('with a fixed heap, stops XS when a collection finds more live than the heap holds', async () => {
    const worker = start({ creation: { chunk: 1536, chunkIncrement: 512, heap: 512, heapIncrement: 64, stack: 4096 } });
    await worker.evaluate('globalThis.keep = []; xs32.setHeapCap(8000)');
    await worker.evaluate('keep.push(new ArrayBuffer(3000)); gc()'); // fits
    const full = worker.evaluate('keep.push(new ArrayBuffer(3000), new ArrayBuffer(3000)); gc()');
    await expect(full).rejects.toThrow(XsMemoryFullError);
    await expect(full).rejects.toThrow(/more than the 8000 bytes of the heap/);
  });

  it('refuses creation values for the npm worker, which would ignore them', () => {
    expect(() => new XsWorker({ creation: { chunk: 1536, chunkIncrement: 512, heap: 512, heapIncrement: 64, stack: 256 } })).toThrow(/need the 32-bit worker/);
    expect(() => start({ creation: { chunk: 0, chunkIncrement: 512, heap: 512, heapIncrement: 64, stack: 256 } })).toThrow(/creation values must be whole numbers/);
  });
});
