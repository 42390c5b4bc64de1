// Architecture rules, checked by `npm run arch` (part of `npm test`). The layers: src/ is firmware
// and reaches the world only through src/ports.ts; hosts/ adapts the ports (sim: Node, xs: the XS
// engine, moddable: the device); scripts/ holds applications and tools; test/ holds the suites.
//
// Type-only imports count (tsPreCompilationDeps): a cycle of types is still a tangle, and a type
// import from outside src/ still couples the firmware to it. The exception is what a bundle
// contains: type-only imports vanish there, so the 3.1.1-client rule is checked on a second cruise
// without them (BUNDLE_RULES below; scripts/arch/check.ts runs both cruises).

/** Portable test cases live beside the firmware they test and run on Node and on XS. */
const CASES = '\\.cases\\.ts$';
/** What portable cases may import besides src/: simulated chips, fakes and the portable harness. */
const CASE_KIT = '^(hosts/sim/chips/|hosts/sim/fakes/|hosts/xs/harness\\.ts$)';
/**
 * Code that runs inside the XS engine, where there are no Node built-ins: the simulated chips, the
 * fakes, the portable harness and runner, and portable cases (but the XS runner's own fixture that
 * imports Node on purpose).
 */
const RUNS_IN_XS = {
  path: `^(hosts/sim/chips/|hosts/sim/fakes/|hosts/xs/harness\\.ts$|hosts/xs/in-xs/)|${CASES}`,
  pathNot: '^test/xs/fixtures/',
};
/** Node's built-in modules, as dependency-cruiser names them (without node:). */
const NODE_BUILTINS = `^(${require('node:module')
  .builtinModules.filter((name) => !name.startsWith('_'))
  .map((name) => name.replace(/[/]/g, '\\/'))
  .join('|')})$`;

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const forbidden = [
  {
    name: 'no-cycles-in-src',
    comment: 'src/ modules must not import each other in a circle (type-only imports included).',
    severity: 'error',
    from: { path: '^src/' },
    to: { circular: true },
  },
  {
    name: 'src-imports-only-src',
    comment:
      'Firmware runs unchanged on XS: src/ imports only src/ (no hosts/, scripts/, test/ or npm modules). ' +
      'Portable cases (*.cases.ts) may also use the simulated chips, the fakes and the portable harness.',
    severity: 'error',
    from: { path: '^src/', pathNot: CASES },
    to: { pathNot: '^src/', dependencyTypesNot: ['core'] },
  },
  {
    name: 'src-imports-no-node-builtins',
    comment: 'XS has no Node built-ins: firmware reaches the world through the ports in src/ports.ts.',
    severity: 'error',
    from: { path: '^src/', pathNot: CASES },
    to: { dependencyTypes: ['core'] },
  },
  {
    name: 'firmware-imports-no-cases',
    comment: 'Portable test cases are not firmware: nothing in src/ but another case imports a *.cases.ts.',
    severity: 'error',
    from: { path: '^src/', pathNot: CASES },
    to: { path: CASES },
  },
  {
    name: 'cases-import-src-and-kit-only',
    comment:
      'Portable cases run on XS too: they import src/, hosts/sim/chips, hosts/sim/fakes and ' +
      'hosts/xs/harness.ts only.',
    severity: 'error',
    from: { path: `^src/.*${CASES}` },
    to: { pathNot: `^src/|${CASE_KIT}` },
  },
  {
    name: 'xs-code-reaches-no-node-builtins',
    comment:
      'Simulated chips, fakes, the portable harness and portable cases run inside XS, which has no Node ' +
      'built-ins: nothing they import, directly or through other modules, may use one.',
    severity: 'error',
    from: RUNS_IN_XS,
    to: { path: NODE_BUILTINS, reachable: true },
  },
  {
    name: 'only-test-imports-test',
    comment: 'test/ holds suites and test-only helpers: nothing outside test/ imports them.',
    severity: 'error',
    from: { pathNot: '^test/' },
    to: { path: '^test/' },
  },
  {
    name: 'hosts-import-no-scripts',
    comment: 'hosts/ are port adapters; scripts/ are applications and tools built on them, not the reverse.',
    severity: 'error',
    from: { path: '^hosts/' },
    to: { path: '^scripts/' },
  },
];

/**
 * Checked over the value imports reachable from src/mqtt/client.ts (what esbuild puts in the 3.1.1
 * client bundle), so this list runs without type-only imports. test/unit/mqtt-bundle.test.ts checks
 * the bundle itself.
 */
const BUNDLE_RULES = [
  {
    name: 'mqtt311-client-has-no-mqtt5',
    comment: 'A 3.1.1 client build must not carry MQTT 5: nothing reachable from src/mqtt/client.ts is under src/mqtt/v5/.',
    severity: 'error',
    from: { path: '^src/mqtt/client\\.ts$' },
    to: { path: '^src/mqtt/v5/', reachable: true },
  },
];

/** @type {import('dependency-cruiser').ICruiseOptions} */
const options = {
  tsPreCompilationDeps: true,
  tsConfig: { fileName: 'tsconfig.node.json' },
  doNotFollow: { path: 'node_modules' },
  enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'] },
};

module.exports = { forbidden, options };
// Not enumerable: dependency-cruiser's config schema allows no extra keys, so a plain
// `npx depcruise src hosts scripts test` still reads this file (without the bundle rule).
Object.defineProperty(module.exports, 'BUNDLE_RULES', { value: BUNDLE_RULES, enumerable: false });
