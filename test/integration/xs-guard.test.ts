// The guard: firmware-like code that uses a built-in XS lacks passes on Node but fails on XS, with an
// error that names the built-in and the alternative. Without this, the XS run could not be trusted
// to catch what `npm run lint` misses.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { XsPortableSuite } from '../../hosts/xs/run-portable';
import structuredCloneSuite from '../xs/fixtures/uses-structured-clone.cases';
import queueMicrotaskSuite from '../xs/fixtures/uses-queue-microtask.cases';

const fixture = (name: string) => fileURLToPath(new URL(`../xs/fixtures/${name}`, import.meta.url));

describe('XS guard against built-ins the engine lacks', () => {
  it('structuredClone: works on Node, fails on XS naming it', async () => {
    await structuredCloneSuite.cases[0]!.fn();
    const suite = await XsPortableSuite.load(fixture('uses-structured-clone.cases.ts'));
    try {
      const result = await suite.run(0);
      expect(result.ok).toBe(false);
      expect(result.error).toContain('ReferenceError');
      expect(result.error).toContain('get structuredClone: undefined variable');
      expect(result.error).toContain('structuredClone does not exist on XS: copy the fields by hand');
    } finally {
      await suite.close();
    }
  });

  it('queueMicrotask: works on Node, fails on XS naming it', async () => {
    await queueMicrotaskSuite.cases[0]!.fn();
    const suite = await XsPortableSuite.load(fixture('uses-queue-microtask.cases.ts'));
    try {
      const result = await suite.run(0);
      expect(result.ok).toBe(false);
      expect(result.error).toContain('get queueMicrotask: undefined variable');
      expect(result.error).toContain('use Promise.resolve().then(fn)');
    } finally {
      await suite.close();
    }
  });

  it('a Node built-in in the import graph is a build error naming the importer', async () => {
    await expect(XsPortableSuite.load(fixture('imports-node.cases.ts'))).rejects.toMatchObject({
      code: 'XS_BUNDLE',
      message: expect.stringMatching(/imports-node\.cases\.ts:\d+:\d+: "node:crypto" is a Node built-in, and XS has none/),
    });
  });
});
