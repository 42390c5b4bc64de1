// Runs every portable suite (test/portable/*.cases.ts) under vitest. hosts/xs runs the same files on XS.
import { describe, it } from 'vitest';
import type { Suite } from '../../hosts/xs/harness';

const modules = import.meta.glob<{ default: Suite }>('../portable/*.cases.ts', { eager: true });

for (const [file, mod] of Object.entries(modules)) {
  const suite = mod.default;
  describe(`${suite.name} (${file.replace('../portable/', '')})`, () => {
    for (const c of suite.cases) it(c.name, c.fn);
  });
}
