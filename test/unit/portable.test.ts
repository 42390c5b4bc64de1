// Runs every portable suite under vitest: test/portable/*.cases.ts, and the cases kept next to their
// code in src/ (e.g. src/sensors/bme280/bme280.cases.ts). hosts/xs runs the same files on XS.
import { describe, it } from 'vitest';
import type { Suite } from '../../hosts/xs/harness';

const modules = {
  ...import.meta.glob<{ default: Suite }>('../portable/*.cases.ts', { eager: true }),
  ...import.meta.glob<{ default: Suite }>('../../src/**/*.cases.ts', { eager: true }),
};

for (const [file, mod] of Object.entries(modules)) {
  const suite = mod.default;
  describe(`${suite.name} (${file.replace('../portable/', '').replace('../../', '')})`, () => {
    for (const c of suite.cases) it(c.name, c.fn);
  });
}
