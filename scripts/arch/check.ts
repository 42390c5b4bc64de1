// Runs the architecture rules of .dependency-cruiser.cjs with dependency-cruiser, in two cruises:
//   1. every rule over src/, hosts/, scripts/ and test/, type-only imports included;
//   2. the bundle rules over what src/mqtt/client.ts reaches by value imports only, which is what
//      esbuild puts in a 3.1.1 client bundle (type-only imports vanish there).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type ICruiseResult, type IForbiddenRuleType, type IViolation } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG_FILE = join(ROOT, '.dependency-cruiser.cjs');
/** The layers the rules speak about; folders missing under baseDir are skipped. */
const LAYERS = ['src', 'hosts', 'scripts', 'test'];
/** The entry of the 3.1.1 client bundle (as scripts/budgets measures it). */
const MQTT311_ENTRY = 'src/mqtt/client.ts';

interface ArchConfig {
  forbidden: IForbiddenRuleType[];
  options: ICruiseOptions;
  BUNDLE_RULES: IForbiddenRuleType[];
}

interface ArchViolation {
  rule: string;
  from: string;
  to: string;
  /** The modules of a cycle, or the path of a reachability violation, after `from`. */
  path: string[];
}

export interface ArchReport {
  violations: ArchViolation[];
  /** Modules cruised in the first (whole-tree) cruise. */
  modules: number;
  /** One line per violation, with the rule's reason. */
  text: string;
}

function loadConfig(): ArchConfig {
  return createRequire(import.meta.url)(CONFIG_FILE) as ArchConfig;
}

/** Checks the tree under baseDir (the repository by default) against the rules. */
export async function checkArchitecture(baseDir: string = ROOT): Promise<ArchReport> {
  const config = loadConfig();
  const tsConfig = extractTSConfig(join(ROOT, config.options.tsConfig?.fileName ?? 'tsconfig.json'));
  const base = { ...config.options, baseDir, validate: true };

  const layers = LAYERS.filter((dir) => existsSync(join(baseDir, dir)));
  const tree = await cruise(layers, { ...base, ruleSet: { forbidden: config.forbidden } }, {}, { tsConfig });
  const results = [tree.output as ICruiseResult];

  if (existsSync(join(baseDir, MQTT311_ENTRY))) {
    const bundle = await cruise(
      [MQTT311_ENTRY],
      { ...base, tsPreCompilationDeps: false, ruleSet: { forbidden: config.BUNDLE_RULES } },
      {},
      { tsConfig },
    );
    results.push(bundle.output as ICruiseResult);
  }

  const violations = results.flatMap((result) => result.summary.violations.map(toViolation));
  return { violations, modules: results[0]!.summary.totalCruised, text: describe(violations, config) };
}

/** One line per violation: the rule, the import (or the whole cycle or path) and why the rule exists. */
function describe(violations: ArchViolation[], config: ArchConfig): string {
  const why = new Map([...config.forbidden, ...config.BUNDLE_RULES].map((rule) => [rule.name, rule.comment]));
  return violations
    .map((v) => `${v.rule}: ${[v.from, ...(v.path.length ? v.path : [v.to])].join(' -> ')}\n    ${why.get(v.rule) ?? ''}`)
    .join('\n');
}

function toViolation(v: IViolation): ArchViolation {
  return { rule: v.rule.name, from: v.from, to: v.to, path: (v.cycle ?? v.via ?? []).map((step) => step.name) };
}
