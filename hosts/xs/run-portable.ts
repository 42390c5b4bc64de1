// Runs the portable suites (test/portable/*.cases.ts and src/**/*.cases.ts, the files vitest runs on
// Node) inside XS.
// Each file gets its own bundle and worker, so one broken suite cannot hide the others; each case is
// its own delivery, so its computrons are known and an endless loop fails only that case.
import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForXs } from './bundle';
import { XsError, hintFor } from './errors';
import { XsWorker } from './worker';
import type { CaseReport } from './in-xs/portable-runner';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PORTABLE_DIR = join(root, 'test/portable');
/** Cases kept next to the code they test, anywhere below it (e.g. src/sensors/bme280/bme280.cases.ts). */
const SRC_DIR = join(root, 'src');
const RUNNER = join(root, 'hosts/xs/in-xs/portable-runner.ts');

export interface CaseResult {
  suite: string;
  file: string;
  name: string;
  ok: boolean;
  /** Why it failed, as XS described the error. */
  error?: string;
  /** Computrons of the case's delivery (including the runner's small overhead). */
  compute?: number;
  /** Lines the case print()ed. */
  output: string[];
}

export interface SuiteOptions {
  /**
   * Computrons allowed per case; default 0, no limit. xsnap's meter can wrap around on BigInt
   * remainders (docs/xs.md), so a limit could stop correct BigInt code; the timeout bounds cases instead.
   */
  meterLimit?: number;
  /** Wall-clock ms per case (and per suite load) before the worker is killed. Default 30,000. */
  timeoutMs?: number;
}

/**
 * The case files present now, sorted (new files are picked up on every call): those in `dir`, or by
 * default those in test/portable and anywhere under src/.
 */
export function findPortableCaseFiles(dir?: string): string[] {
  if (dir !== undefined) return casesIn(dir, false);
  return [...casesIn(PORTABLE_DIR, false), ...casesIn(SRC_DIR, true)];
}

function casesIn(dir: string, recursive: boolean): string[] {
  return readdirSync(dir, { recursive })
    .map(String)
    .filter((name) => name.endsWith('.cases.ts'))
    .sort()
    .map((name) => join(dir, name));
}

/** One portable suite loaded into XS, ready to run its cases one delivery at a time. */
export class XsPortableSuite {
  private worker?: XsWorker;
  private reports: CaseReport[] = [];

  name = '';
  cases: string[] = [];

  private constructor(
    readonly file: string,
    private readonly code: string,
    private readonly options: SuiteOptions,
  ) {}

  /** Bundles the case file with the in-XS runner, evaluates it in a fresh worker and lists the cases. */
  static async load(file: string, options: SuiteOptions = {}): Promise<XsPortableSuite> {
    const { code } = await bundleForXs({
      contents: `import suite from ${JSON.stringify(file)};\nimport { servePortableSuite } from ${JSON.stringify(RUNNER)};\nservePortableSuite(suite);\n`,
      resolveDir: dirname(file),
      sourcefile: `${basename(file)} (XS runner entry)`,
    });
    const suite = new XsPortableSuite(file, code, options);
    const listing = await suite.request<{ name: string; cases: string[] }>({ op: 'list' });
    suite.name = listing.name;
    suite.cases = listing.cases;
    return suite;
  }

  async run(index: number): Promise<CaseResult> {
    const name = this.cases[index];
    if (name === undefined) throw new RangeError(`suite ${this.name} has no case ${index}`);
    const base = { suite: this.name, file: basename(this.file), name };
    this.reports = [];
    try {
      const worker = await this.ready();
      const delivery = await worker.command(JSON.stringify({ op: 'run', index }));
      const report = this.reports.find((r) => r.index === index);
      if (!report) {
        return {
          ...base,
          ok: false,
          compute: delivery.meter.compute,
          output: delivery.output,
          error:
            'the case returned a promise that did not settle within its delivery. XS has no timers ' +
            '(no setTimeout): an async case may only await work that completes without waiting for time',
        };
      }
      return { ...base, ok: report.ok, error: report.error && withHint(report.error), compute: delivery.meter.compute, output: delivery.output };
    } catch (error) {
      // The worker may be gone (meter limit, crash); the next case starts a fresh one.
      if (!this.worker?.running) this.worker = undefined;
      return { ...base, ok: false, error: (error as Error).message, output: error instanceof XsError ? error.output : [] };
    }
  }

  async runAll(): Promise<CaseResult[]> {
    const results: CaseResult[] = [];
    for (let i = 0; i < this.cases.length; i++) results.push(await this.run(i));
    return results;
  }

  /** Ends the worker (each holds ~45 MB); a later run() starts a fresh one. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.close();
  }

  private async ready(): Promise<XsWorker> {
    if (this.worker?.running) return this.worker;
    const worker = new XsWorker({
      meterLimit: this.options.meterLimit ?? 0,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      onCommand: (bytes) => {
        this.reports.push(JSON.parse(new TextDecoder().decode(bytes)) as CaseReport);
        return new Uint8Array(0);
      },
    });
    try {
      await worker.evaluate(this.code);
    } catch (error) {
      await worker.close();
      if (error instanceof XsError) error.message = `loading ${basename(this.file)} on XS: ${error.message}`;
      throw error;
    }
    this.worker = worker;
    return worker;
  }

  private async request<T>(command: object): Promise<T> {
    const worker = await this.ready();
    const { reply } = await worker.command(JSON.stringify(command));
    return JSON.parse(new TextDecoder().decode(reply)) as T;
  }
}

/** Puts the advice for a missing built-in right after the error's first line (before the stack). */
function withHint(error: string): string {
  const hint = hintFor(error);
  if (!hint) return error;
  const newline = error.indexOf('\n');
  return newline < 0 ? error + hint : error.slice(0, newline) + hint + error.slice(newline);
}

/** Loads and runs every portable suite; a suite that fails to load yields one failed result. */
export async function runPortableSuites(files = findPortableCaseFiles(), options: SuiteOptions = {}): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const file of files) {
    let suite: XsPortableSuite;
    try {
      suite = await XsPortableSuite.load(file, options);
    } catch (error) {
      results.push({ suite: basename(file), file: basename(file), name: '(loading the suite)', ok: false, error: (error as Error).message, output: [] });
      continue;
    }
    try {
      results.push(...(await suite.runAll()));
    } finally {
      await suite.close();
    }
  }
  return results;
}
