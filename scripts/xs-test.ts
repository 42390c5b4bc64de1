// Runs the portable suites (test/portable/*.cases.ts and src/**/*.cases.ts, or the files given)
// inside the XS engine.
//   tsx scripts/xs-test.ts [file.cases.ts ...] [--meter-limit N] [--verbose]
// Prints one line per case with its computrons; exits 1 when a case fails.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findPortableCaseFiles, runPortableSuites } from '../hosts/xs/run-portable';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'meter-limit': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

const meterLimit = values['meter-limit'] === undefined ? undefined : Number(values['meter-limit']);
if (meterLimit !== undefined && !(Number.isInteger(meterLimit) && meterLimit >= 0)) {
  console.error(`--meter-limit must be a whole number of computrons, got ${values['meter-limit']}`);
  process.exit(2);
}

const files = positionals.length ? positionals.map((f) => resolve(f)) : findPortableCaseFiles();
const results = await runPortableSuites(files, { meterLimit });
let failed = 0;
for (const r of results) {
  const mark = r.ok ? 'pass' : 'FAIL';
  if (!r.ok) failed++;
  if (!r.ok || values.verbose) {
    console.log(`${mark} ${r.file} > ${r.name}${r.compute === undefined ? '' : ` (${r.compute} computrons)`}`);
    if (!r.ok) console.log(`     ${r.error?.replace(/\n/g, '\n     ')}`);
    for (const line of r.output) console.log(`     | ${line}`);
  }
}
console.log(`\n${results.length - failed} passed, ${failed} failed, ${results.length} cases in ${files.length} suite file(s) on XS`);
process.exit(failed ? 1 : 0);
