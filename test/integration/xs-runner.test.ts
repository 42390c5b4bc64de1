// How the XS runner reports each kind of case outcome (fixtures with known results).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { XsPortableSuite, findPortableCaseFiles, runPortableSuites } from '../../hosts/xs/run-portable';

const file = fileURLToPath(new URL('../xs/fixtures/runner-behaviour.cases.ts', import.meta.url));

describe('portable runner on XS', () => {
  let suite: XsPortableSuite;
  beforeAll(async () => {
    suite = await XsPortableSuite.load(file, { meterLimit: 5_000_000 });
  });
  afterAll(() => suite.close());

  const run = (name: string) => suite.run(suite.cases.indexOf(name));

  it('lists the cases in order with the suite name', () => {
    expect(suite.name).toBe('runner behaviour');
    expect(suite.cases).toEqual([
      'passes',
      'fails an assertion',
      'throws a non-error',
      'awaits a promise that settles',
      'rejects asynchronously',
      'waits for something that never comes',
      'loops forever',
      'passes after the worker was restarted',
    ]);
  });

  it('reports a pass with the computrons spent', async () => {
    const result = await run('passes');
    expect(result).toMatchObject({ ok: true, suite: 'runner behaviour', file: 'runner-behaviour.cases.ts', name: 'passes' });
    expect(result.compute).toBeGreaterThan(0);
  });

  it('reports an assertion failure with the harness message', async () => {
    const result = await run('fails an assertion');
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/^AssertionError: list: expected \[1,3\], got \[1,2\]/);
  });

  it('reports a thrown non-error', async () => {
    expect((await run('throws a non-error')).error).toBe('thrown non-error: plain string');
  });

  it('awaits async cases within the delivery', async () => {
    expect(await run('awaits a promise that settles')).toMatchObject({ ok: true });
    const rejected = await run('rejects asynchronously');
    expect(rejected.ok).toBe(false);
    expect(rejected.error).toMatch(/^RangeError: late failure/);
  });

  it('fails a case whose promise never settles, explaining that XS has no timers', async () => {
    const result = await run('waits for something that never comes');
    expect(result.ok).toBe(false);
    expect(result.error).toContain('did not settle within its delivery');
    expect(result.error).toContain('no setTimeout');
  });

  it('fails an endless case at the meter limit, then runs the next case in a fresh worker', async () => {
    const endless = await run('loops forever');
    expect(endless.ok).toBe(false);
    expect(endless.error).toContain('exceeded the meter limit of 5000000 computrons');
    const next = await run('passes after the worker was restarted');
    expect(next).toMatchObject({ ok: true, output: ['still here'] });
  });

  it('without a meter limit, stops an endless case at the timeout', async () => {
    const timed = await XsPortableSuite.load(file, { timeoutMs: 300 });
    try {
      const endless = await timed.run(timed.cases.indexOf('loops forever'));
      expect(endless.ok).toBe(false);
      expect(endless.error).toContain('did not finish within 300 ms');
      expect(await timed.run(timed.cases.indexOf('passes'))).toMatchObject({ ok: true });
    } finally {
      await timed.close();
    }
  });

  it('gives the same computrons for the same case in two workers', async () => {
    const other = await XsPortableSuite.load(file);
    try {
      const a = await run('awaits a promise that settles');
      const b = await other.run(suite.cases.indexOf('awaits a promise that settles'));
      expect(b.compute).toBe(a.compute);
    } finally {
      await other.close();
    }
  });
});

describe('runPortableSuites', () => {
  it('turns a suite that cannot load into one failed result and runs the rest', async () => {
    const fixtures = fileURLToPath(new URL('../xs/fixtures/', import.meta.url));
    const results = await runPortableSuites([`${fixtures}imports-node.cases.ts`, `${fixtures}uses-structured-clone.cases.ts`]);
    expect(results.map((r) => [r.file, r.name, r.ok])).toEqual([
      ['imports-node.cases.ts', '(loading the suite)', false],
      ['uses-structured-clone.cases.ts', 'copies settings', false],
    ]);
  });

  it('finds only *.cases.ts files', () => {
    const dir = fileURLToPath(new URL('../xs/fixtures/', import.meta.url));
    expect(findPortableCaseFiles(dir).map((f) => f.slice(dir.length))).toEqual([
      'imports-node.cases.ts',
      'runner-behaviour.cases.ts',
      'uses-queue-microtask.cases.ts',
      'uses-structured-clone.cases.ts',
    ]);
  });
});
