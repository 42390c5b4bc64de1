// Runs inside XS: serves named benchmarks to hosts/xs/meter.ts. Each `run` delivery calls one
// benchmark `n` times in a loop; the same loop around an empty function gives the baseline, so the
// difference divided by n is the benchmark's own cost in computrons (deterministic).
import { toArrayBuffer, xsnap } from './globals';

export interface Benchmark {
  /** Called once, in its own delivery, before any run (build fixtures, warm caches). */
  setup?(): void;
  /**
   * The measured operation, written as a method (`run() {...}`). It must leave state as it found it,
   * so every iteration costs the same.
   */
  run(): void;
}

export function serveBenchmarks(benchmarks: Record<string, Benchmark>): void {
  const xs = xsnap();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  // A plain function: XS charges an arrow function's call 4 computrons more, so benchmarks write
  // `run() {...}` (a method) and the loop overhead cancels exactly.
  const empty = function (): void {};
  const ready = new Set<string>();

  xs.handleCommand = (request) => {
    const command = JSON.parse(decoder.decode(request)) as { op: string; name?: string; n?: number };
    if (command.op === 'list') return toArrayBuffer(encoder.encode(JSON.stringify(Object.keys(benchmarks))));
    if (command.op === 'gc') {
      xs.gc();
      return undefined;
    }
    const name = command.name ?? '';
    const benchmark = benchmarks[name];
    if (name && !benchmark) throw new Error(`no benchmark named "${name}" (have ${Object.keys(benchmarks).join(', ')})`);
    if (command.op === 'setup') {
      if (!ready.has(name)) benchmark?.setup?.();
      ready.add(name);
      return undefined;
    }
    if (command.op !== 'run') throw new Error(`unknown benchmark command ${command.op}`);
    const fn = benchmark ? benchmark.run : empty;
    const n = command.n ?? 1;
    for (let i = 0; i < n; i++) fn();
    return undefined;
  };
}
