// Every portable suite (test/portable/*.cases.ts and src/**/*.cases.ts) again, inside the real XS
// engine. Each case is a vitest test, so a failure on XS names the case; the suites are found when
// this file loads.
import { afterAll, describe, expect, it } from 'vitest';
import { basename } from 'node:path';
import { XsPortableSuite, findPortableCaseFiles } from '../../hosts/xs/run-portable';

const files = findPortableCaseFiles();

it('finds the portable suites', () => {
  expect(files.map((f) => basename(f))).toContain('xs-builtins.cases.ts');
  // cases kept next to their code in src/
  expect(files.map((f) => basename(f))).toContain('bme280.cases.ts');
});

for (const file of files) {
  let suite: XsPortableSuite | undefined;
  let loadError: Error | undefined;
  try {
    suite = await XsPortableSuite.load(file);
    // Listing is done; free the worker until this suite's cases run (one live worker at a time).
    await suite.close();
  } catch (error) {
    loadError = error as Error;
  }
  describe(`${suite?.name ?? basename(file)} (${basename(file)}) on XS`, () => {
    afterAll(() => suite?.close());
    if (!suite) {
      it('loads on XS', () => {
        throw loadError;
      });
      return;
    }
    suite.cases.forEach((name, index) => {
      it(name, async () => {
        const result = await suite!.run(index);
        if (!result.ok) throw new Error(`${result.error}${result.output.length ? `\nprinted:\n${result.output.join('\n')}` : ''}`);
      });
    });
  });
}
