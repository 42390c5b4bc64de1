import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { bundleForXs, XsBundleError } from '../../hosts/xs/bundle';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('bundleForXs', () => {
  it('makes one ES2022 IIFE script with the imports inlined', async () => {
    const { code, bytes } = await bundleForXs({
      contents: "import { hex } from './hosts/xs/harness'; (globalThis as any).out = hex('0102');",
      resolveDir: root,
    });
    expect(code.trimStart().startsWith('(() => {')).toBe(true);
    expect(code).not.toMatch(/\bimport\b|\brequire\(/);
    expect(code).toContain('function hex(');
    expect(bytes).toBe(Buffer.byteLength(code));
  });

  it('minifies on request', async () => {
    const entry = { contents: "import { hex } from './hosts/xs/harness'; (globalThis as any).out = hex('0102');", resolveDir: root };
    expect((await bundleForXs(entry, { minify: true })).bytes).toBeLessThan((await bundleForXs(entry)).bytes);
  });

  it('fails the build on any Node built-in, with or without node:, naming where', async () => {
    const error = await bundleForXs({
      contents: "import { readFileSync } from 'node:fs';\nimport { join } from 'path';\nexport const x = [readFileSync, join];",
      resolveDir: root,
      sourcefile: 'device.ts',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XsBundleError);
    expect((error as XsBundleError).problems).toEqual([
      'device.ts:1:30: "node:fs" is a Node built-in, and XS has none: firmware must reach the world through the ports in src/ports.ts',
      'device.ts:2:22: "path" is a Node built-in, and XS has none: firmware must reach the world through the ports in src/ports.ts',
    ]);
  });

  it('reports a missing module as a bundle error', async () => {
    await expect(bundleForXs({ contents: "import './nowhere';", resolveDir: root, sourcefile: 'e.ts' })).rejects.toMatchObject({
      code: 'XS_BUNDLE',
      message: expect.stringContaining('Could not resolve "./nowhere"'),
    });
  });
});
