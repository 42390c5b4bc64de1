// Deterministic cost measurement inside XS. Computrons: run a benchmark n and 2n times in single
// deliveries, difference them, and subtract the same for an empty function. Heap: currentHeapCount after gc() is live slots;
// without gc() it also counts garbage made since the last collection (XS collects only when its
// 256K-slot heap runs low, so short runs do not trigger one).
import { bundleForXs, type BundleSource } from './bundle';
import { XsError } from './errors';
import { XsWorker, type MeterRecord, type XsWorkerOptions } from './worker';

export interface SlotUse {
  /** Slots allocated per iteration (live plus garbage). */
  allocated: number;
  /** Slots still reachable per iteration after gc() (growth, e.g. a leak or a cache filling). */
  retained: number;
  /** allocated - retained: short-lived slots per iteration. */
  garbage: number;
}

/** Live memory of the 32-bit worker (XsWorkerOptions.xs32), in a device's own units. */
export interface Live32 {
  /** Live slots after the last collection (16 bytes each). */
  slots: number;
  /** Live chunk bytes, 32-bit headers included, after the last compacting collection. */
  chunks: number;
  /** slots x 16 + chunks. */
  bytes: number;
  /** The most live bytes after any collection since the last capHeap() (or the machine's start). */
  peak: number;
}

export class XsBenchError extends XsError {
  constructor(message: string) {
    super('XS_BENCH', message);
  }
}

/** A bundle that called serveBenchmarks() inside XS (hosts/xs/in-xs/bench.ts), loaded in a worker. */
export class XsBench {
  private readonly prepared = new Set<string>();

  private constructor(readonly worker: XsWorker) {}

  /** Bundles `entry` and evaluates it in a fresh worker. */
  static async load(entry: string | BundleSource | { code: string }, options: Omit<XsWorkerOptions, 'onCommand'> = {}): Promise<XsBench> {
    const code = typeof entry === 'object' && 'code' in entry ? entry.code : (await bundleForXs(entry)).code;
    const worker = new XsWorker({ meterLimit: 0x7fffffff, ...options });
    try {
      await worker.evaluate(code);
    } catch (error) {
      await worker.close();
      throw error;
    }
    return new XsBench(worker);
  }

  async names(): Promise<string[]> {
    const { reply } = await this.worker.command(JSON.stringify({ op: 'list' }));
    return JSON.parse(new TextDecoder().decode(reply)) as string[];
  }

  /**
   * Computrons per iteration of `name`, after `warmup` unmeasured iterations. Runs of n and 2n
   * iterations are differenced, so the fixed cost of a delivery cancels; the same for an empty
   * function removes the loop's own cost.
   */
  async computrons(name: string, iterations = 100, warmup = 5): Promise<number> {
    await this.prepare(name);
    if (warmup) await this.run(name, warmup);
    const perIteration = async (target: string) =>
      ((await this.run(target, 2 * iterations)).compute - (await this.run(target, iterations)).compute) / iterations;
    return (await perIteration(name)) - (await perIteration(''));
  }

  /** Slots per iteration of `name`: allocated, retained after gc, and the garbage in between. */
  async slots(name: string, iterations = 100, warmup = 5): Promise<SlotUse> {
    await this.prepare(name);
    if (warmup) await this.run(name, warmup);
    const use = async (target: string) => {
      const before = await this.heap();
      const after = (await this.run(target, iterations)).currentHeapCount;
      const live = await this.heap();
      if (after < before) throw new XsBenchError(`XS collected garbage during ${iterations} runs of "${target || 'baseline'}": use fewer iterations`);
      return { allocated: after - before, retained: live - before };
    };
    const measured = await use(name);
    const baseline = await use('');
    const allocated = (measured.allocated - baseline.allocated) / iterations;
    const retained = (measured.retained - baseline.retained) / iterations;
    return { allocated, retained, garbage: allocated - retained };
  }

  /** Live slots now (after a full collection). */
  async heap(): Promise<number> {
    return (await this.worker.command(JSON.stringify({ op: 'gc' }))).meter.currentHeapCount;
  }

  /** 32-bit worker only: live memory now, after a full collection, in device bytes. */
  async live(): Promise<Live32> {
    return live32((await this.worker.command(JSON.stringify({ op: 'gc' }))).meter);
  }

  /**
   * 32-bit worker only: from now on the machine has a fixed heap of `bytes` above what is live now
   * (the mark, returned): XS stops the worker (XsMemoryFullError) when a collection finds more live.
   * Restarts the peak of live().
   */
  async capHeap(bytes: number): Promise<Live32> {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`capHeap: bytes must be a whole number, got ${bytes}`);
    return live32((await this.worker.evaluate(`xs32.setHeapCap(${bytes}); xs32.resetPeak();`)).meter);
  }

  /** Runs `name` n times in one delivery (unmeasured setup included the first time). */
  async exercise(name: string, n: number): Promise<void> {
    await this.prepare(name);
    await this.run(name, n);
  }

  close(): Promise<number | null> {
    return this.worker.close();
  }

  private async prepare(name: string): Promise<void> {
    if (this.prepared.has(name)) return;
    await this.worker.command(JSON.stringify({ op: 'setup', name }));
    this.prepared.add(name);
  }

  private async run(name: string, n: number) {
    return (await this.worker.command(JSON.stringify({ op: 'run', name, n }))).meter;
  }
}

function live32(meter: MeterRecord): Live32 {
  const m = meter.xs32;
  if (!m) throw new XsBenchError('live memory in device bytes needs the 32-bit worker: load the bench with xs32: true');
  return { slots: m.liveSlots, chunks: m.liveChunks, bytes: m.liveSlots * m.slotSize + m.liveChunks, peak: m.livePeak };
}
