// Checks the architecture rules (.dependency-cruiser.cjs): prints dependency-cruiser's report and
// fails when any rule is broken. `npm run arch`; part of `npm test`.
import { checkArchitecture } from './arch/check';

const started = performance.now();
const report = await checkArchitecture();
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (report.violations.length) {
  console.error(report.text);
  console.error(`\narch: ${report.violations.length} rule violation(s); the rules and why are in .dependency-cruiser.cjs`);
  process.exit(1);
}
console.log(`arch: ok (${report.modules} modules, ${seconds} s)`);
