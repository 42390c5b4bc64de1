// Measures the firmware's budgets on the XS engine and prints them as JSON [{name, value, unit}].
//   tsx scripts/xs-budgets.ts                   print the figures
//   tsx scripts/xs-budgets.ts --check           fail when a figure grew >10% over the baseline
//   tsx scripts/xs-budgets.ts --write-baseline  record the figures as the new baseline
// Options: --baseline <file> (default scripts/budgets/baseline.json), --tolerance <fraction>
// (default 0.1), --twice (measure twice and fail unless both runs agree exactly).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BASELINE_FILE, compare, estimateReport, formatComparison, measureAll, type Figure } from './budgets/budgets';

const { values } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    'write-baseline': { type: 'boolean', default: false },
    baseline: { type: 'string', default: BASELINE_FILE },
    tolerance: { type: 'string', default: '0.1' },
    twice: { type: 'boolean', default: false },
  },
});

const tolerance = Number(values.tolerance);
if (!(tolerance >= 0)) {
  console.error(`--tolerance must be a fraction such as 0.1, got ${values.tolerance}`);
  process.exit(2);
}

const figures = await measureAll();
if (values.twice) {
  const again = await measureAll();
  const differ = figures.filter((f, i) => again[i]?.name !== f.name || again[i]?.value !== f.value);
  if (differ.length) {
    console.error(`not deterministic: ${differ.map((f) => f.name).join(', ')} changed between two runs`);
    process.exit(1);
  }
}
console.log(JSON.stringify(figures, null, 2));
for (const line of estimateReport(figures)) console.error(line);

if (values['write-baseline']) {
  writeFileSync(values.baseline, JSON.stringify(figures, null, 2) + '\n');
  console.error(`baseline written to ${values.baseline}`);
}

if (values.check) {
  let baseline: Figure[];
  try {
    baseline = JSON.parse(readFileSync(values.baseline, 'utf8')) as Figure[];
  } catch (error) {
    console.error(`cannot read the baseline ${values.baseline}: ${(error as Error).message}; create it with --write-baseline`);
    process.exit(2);
  }
  const rows = compare(figures, baseline, tolerance);
  console.error(formatComparison(rows));
  const over = rows.filter((r) => r.verdict === 'over');
  const failed = rows.filter((r) => r.verdict === 'grew' || r.verdict === 'missing');
  if (over.length) {
    console.error(
      `\n${over.map((r) => `${r.name} is ${r.value} ${r.unit}, over its limit of ${r.limit}`).join('\n')}\n` +
        'A hard limit is what the device has (firmware.stack-peak.*: the ESP8266\'s XS stack, docs/xs.md); a new baseline does not lift it. ' +
        'Make that path shallower (npx tsx scripts/budgets/stack.ts --trace <operation> names its frames).',
    );
  }
  if (failed.length) {
    console.error(
      `\n${failed.length} budget(s) failed (over ${tolerance * 100}% growth, or no longer measured). ` +
        'Make the code cheaper, or if the cost is deliberate, run with --write-baseline and commit the new baseline.',
    );
  }
  if (over.length || failed.length) process.exit(1);
  console.error('\nall budgets within the baseline');
}
