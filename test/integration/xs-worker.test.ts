// The xsnap-worker driver against the real engine: deliveries, issueCommand, print, meter, errors.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XsWorker, type XsWorkerOptions } from '../../hosts/xs/worker';
import { XsCommandHandlerError, XsExceptionError, XsMeterLimitError, XsTimeoutError } from '../../hosts/xs/errors';

const workers: XsWorker[] = [];
function start(options?: XsWorkerOptions): XsWorker {
  const worker = new XsWorker(options);
  workers.push(worker);
  return worker;
}
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

describe('XsWorker', () => {
  it('evaluates source and returns an ArrayBuffer completion value as bytes', async () => {
    const worker = start();
    const { reply, meter } = await worker.evaluate('new Uint8Array([1, 2, 250]).buffer');
    expect([...reply]).toEqual([1, 2, 250]);
    expect(meter.compute).toBeGreaterThan(0);
    expect(meter.currentHeapCount).toBeGreaterThan(0);
  });

  it('keeps global state between deliveries and passes command bytes to handleCommand', async () => {
    const worker = start();
    await worker.evaluate('globalThis.handleCommand = (buffer) => new Uint8Array(buffer).reverse().buffer;');
    expect([...(await worker.command(new Uint8Array([1, 2, 3]))).reply]).toEqual([3, 2, 1]);
    expect(new TextDecoder().decode((await worker.command('abc')).reply)).toBe('cba');
  });

  it('answers issueCommand synchronously for XS, with sync and async handlers', async () => {
    const seen: number[][] = [];
    const worker = start({
      onCommand: async (request) => {
        seen.push([...request]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return request.map((b) => b * 2);
      },
    });
    const { reply } = await worker.evaluate(`
      const a = new Uint8Array(issueCommand(new Uint8Array([1, 2]).buffer));
      const b = new Uint8Array(issueCommand(new Uint8Array([a[1]]).buffer));
      new Uint8Array([...a, ...b]).buffer;
    `);
    expect(seen).toEqual([[1, 2], [4]]);
    expect([...reply]).toEqual([2, 4, 8]);
  });

  it('captures print() lines per delivery and streams them to onPrint', async () => {
    const lines: string[] = [];
    const worker = start({ onPrint: (line) => lines.push(line) });
    expect((await worker.evaluate('print("one"); print("two", 2)')).output).toEqual(['one', 'two 2']);
    expect((await worker.evaluate('print("three")')).output).toEqual(['three']);
    expect(lines).toEqual(['one', 'two 2', 'three']);
  });

  it('turns an uncaught exception into XsExceptionError with the XS text; the worker lives on', async () => {
    const worker = start();
    const error = await worker.evaluate('print("before"); throw new TypeError("bad value")').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XsExceptionError);
    expect(error).toMatchObject({ code: 'XS_EXCEPTION', xsMessage: 'TypeError: bad value', output: ['before'] });
    expect([...(await worker.evaluate('new Uint8Array([7]).buffer')).reply]).toEqual([7]);
    expect(await worker.close()).toBe(0);
  });

  it('reports the exception text of a failing script file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xs-worker-'));
    writeFileSync(join(dir, 'ok.js'), 'globalThis.loaded = 5;');
    writeFileSync(join(dir, 'bad.js'), 'missingFunction();');
    const worker = start();
    await worker.runFile(join(dir, 'ok.js'));
    expect([...(await worker.evaluate('new Uint8Array([loaded]).buffer')).reply]).toEqual([5]);
    await expect(worker.runFile(join(dir, 'bad.js'))).rejects.toMatchObject({
      code: 'XS_EXCEPTION',
      message: expect.stringContaining('get missingFunction: undefined variable'),
    });
  });

  it('stops an endless loop at the meter limit with XsMeterLimitError; exit status 17', async () => {
    const worker = start({ meterLimit: 200_000 });
    const error = await worker.evaluate('for (;;) {}').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XsMeterLimitError);
    expect(error).toMatchObject({ code: 'XS_METER_LIMIT', limit: 200_000 });
    await expect(worker.evaluate('1')).rejects.toMatchObject({ code: 'XS_CLOSED' });
    expect(await worker.close()).toBe(17);
  });

  it('fails the delivery when the Node handler throws, naming the cause', async () => {
    const worker = start({
      onCommand: () => {
        throw new Error('disk unplugged');
      },
    });
    const error = await worker.evaluate('issueCommand(new ArrayBuffer(1)); 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XsCommandHandlerError);
    expect((error as Error).message).toContain('disk unplugged');
  });

  it('kills a delivery that outlives timeoutMs', async () => {
    const worker = start({ timeoutMs: 200, onCommand: () => new Promise<Uint8Array>(() => {}) });
    await expect(worker.evaluate('issueCommand(new ArrayBuffer(0))')).rejects.toBeInstanceOf(XsTimeoutError);
    expect(worker.running).toBe(false);
  });

  it('close() kills a worker whose delivery hangs, after the grace period', async () => {
    const worker = start({ timeoutMs: 0, onCommand: () => new Promise<Uint8Array>(() => {}) });
    const hung = worker.evaluate('issueCommand(new ArrayBuffer(0))').catch((e: unknown) => e);
    const started = Date.now();
    expect(await worker.close(200)).toBe(null);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await hung).toMatchObject({ code: 'XS_EXIT', signal: 'SIGKILL' });
  });

  it('measures deterministically: same computrons and heap in two workers', async () => {
    const source = 'let s = 0; for (let i = 0; i < 1000; i++) s += i * i; globalThis.keep = new Array(100).fill({}); s';
    const a = await start().evaluate(source);
    const b = await start().evaluate(source);
    expect(b.meter.compute).toBe(a.meter.compute);
    expect(b.meter.currentHeapCount).toBe(a.meter.currentHeapCount);
  });

  it('counts live slots after gc(): retained objects raise currentHeapCount', async () => {
    const worker = start();
    const before = (await worker.evaluate('gc()')).meter.currentHeapCount;
    await worker.evaluate('globalThis.kept = Array.from({ length: 1000 }, (_, i) => ({ i }))');
    const after = (await worker.evaluate('gc()')).meter.currentHeapCount;
    expect(after - before).toBeGreaterThanOrEqual(1000);
  });

  it('refuses a meter limit xsnap cannot take', () => {
    expect(() => new XsWorker({ meterLimit: 2 ** 31 })).toThrow(RangeError);
    expect(() => new XsWorker({ meterLimit: -1 })).toThrow(/integer from 0/);
  });
});
