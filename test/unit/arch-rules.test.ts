// The architecture rules (.dependency-cruiser.cjs, run by `npm run arch`) fire on planted
// violations and stay quiet on the allowed imports beside them. One small tree, one check.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArchitecture, type ArchReport } from '../../scripts/arch/check';

const TREE: Record<string, string> = {
  // A value cycle and a type-only cycle; ok.ts imports without a cycle.
  'src/ports.ts': 'export interface Clock { now(): number }\n',
  'src/a.ts': "import { b } from './b';\nexport const a = () => b();\n",
  'src/b.ts': "import { a } from './a';\nexport const b = (): number => a();\n",
  'src/shape-a.ts': "import type { B } from './shape-b';\nexport interface A { b?: B }\n",
  'src/shape-b.ts': "import type { A } from './shape-a';\nexport interface B { a?: A }\n",
  'src/ok.ts': "import type { Clock } from './ports';\nexport const at = (c: Clock) => c.now();\n",
  // Firmware reaching out of src/.
  'src/uses-host.ts': "import { net } from '../hosts/sim/net';\nexport const n = net;\n",
  'src/uses-node.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
  'src/uses-cases.ts': "import { cases } from './sensors/chip/chip.cases';\nexport const c = cases;\n",
  // Portable cases may use the kit, not the rest of hosts/.
  'src/sensors/chip/chip.cases.ts': [
    "import { chip } from '../../../hosts/sim/chips/chip';",
    "import { clock } from '../../../hosts/sim/fakes/clock';",
    "import { harness } from '../../../hosts/xs/harness';",
    "import { net } from '../../../hosts/sim/net';",
    'export const cases = [chip, clock, harness, net];',
    '',
  ].join('\n'),
  'hosts/sim/chips/chip.ts': "import { randomBytes } from 'node:crypto';\nexport const chip = randomBytes;\n",
  'hosts/sim/fakes/clock.ts': "import type { Clock } from '../../../src/ports';\nexport const clock: Clock = { now: () => 0 };\n",
  'hosts/sim/fakes/network.ts': "import { net } from '../net';\nexport const network = net;\n",
  'test/portable/os.cases.ts': "import { platform } from 'node:os';\nexport const p = platform;\n",
  'test/xs/fixtures/imports-node.cases.ts': "import { createHash } from 'node:crypto';\nexport const h = createHash;\n",
  'hosts/xs/harness.ts': 'export const harness = 1;\n',
  'hosts/sim/net.ts': "import { createServer } from 'node:net';\nexport const net = createServer;\n",
  'hosts/sim/app.ts': "import { tool } from '../../scripts/tool';\nexport const app = tool;\n",
  // test/ helpers used from outside test/ and from inside it.
  'scripts/tool.ts': "import { kit } from '../test/helpers/kit';\nexport const tool = kit;\n",
  'test/helpers/kit.ts': 'export const kit = 1;\n',
  'test/unit/kit.test.ts': "import { kit } from '../helpers/kit';\nexport const k = kit;\n",
  // The 3.1.1 client reaches MQTT 5 through a value import; a type-only import is allowed.
  'src/mqtt/client.ts': "import { session } from './session';\nimport type { Types5 } from './v5/types';\nexport const client = (t: Types5) => session(t);\n",
  'src/mqtt/session.ts': "import { dialect5 } from './v5/dialect';\nexport const session = (t: unknown) => dialect5(t);\n",
  'src/mqtt/v5/dialect.ts': 'export const dialect5 = (t: unknown) => t;\n',
  'src/mqtt/v5/types.ts': 'export interface Types5 { reason: number }\n',
};

let dir: string;
let report: ArchReport;
const found = (rule: string) =>
  report.violations
    .filter((v) => v.rule === rule)
    .map((v) => `${v.from} -> ${v.to}`)
    .sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arch-rules-'));
  for (const [path, text] of Object.entries(TREE)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  report = await checkArchitecture(dir);
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('architecture rules on a planted tree', () => {
  it('finds the planted cycle in src/, type-only cycles included', () => {
    // dependency-cruiser reports each cycle once, from its first module.
    expect(found('no-cycles-in-src')).toEqual(['src/a.ts -> src/b.ts', 'src/shape-a.ts -> src/shape-b.ts']);
    const cycle = report.violations.find((v) => v.rule === 'no-cycles-in-src' && v.from === 'src/a.ts');
    expect(cycle?.path).toEqual(['src/b.ts', 'src/a.ts']);
  });

  it('finds imports of test/ from outside test/ only', () => {
    expect(found('only-test-imports-test')).toEqual(['scripts/tool.ts -> test/helpers/kit.ts']);
  });

  it('keeps src/ to src/ and Node built-ins out of firmware', () => {
    expect(found('src-imports-only-src')).toEqual(['src/uses-host.ts -> hosts/sim/net.ts']);
    expect(found('src-imports-no-node-builtins')).toEqual(['src/uses-node.ts -> fs']);
    expect(found('firmware-imports-no-cases')).toEqual(['src/uses-cases.ts -> src/sensors/chip/chip.cases.ts']);
  });

  it('lets portable cases use the chips, fakes and harness but nothing else of hosts/', () => {
    expect(found('cases-import-src-and-kit-only')).toEqual(['src/sensors/chip/chip.cases.ts -> hosts/sim/net.ts']);
  });

  it('keeps Node out of code that runs in XS, directly or through other modules', () => {
    expect(found('xs-code-reaches-no-node-builtins')).toEqual([
      'hosts/sim/chips/chip.ts -> crypto',
      'hosts/sim/fakes/network.ts -> net',
      'src/sensors/chip/chip.cases.ts -> crypto',
      'src/sensors/chip/chip.cases.ts -> net',
      'test/portable/os.cases.ts -> os',
    ]);
    const through = report.violations.find((v) => v.from === 'hosts/sim/fakes/network.ts');
    expect(through?.path).toEqual(['hosts/sim/net.ts', 'net']);
  });

  it('keeps scripts/ out of hosts/', () => {
    expect(found('hosts-import-no-scripts')).toEqual(['hosts/sim/app.ts -> scripts/tool.ts']);
  });

  it('finds MQTT 5 reached from the 3.1.1 client by value imports, not by type-only ones', () => {
    expect(found('mqtt311-client-has-no-mqtt5')).toEqual(['src/mqtt/client.ts -> src/mqtt/v5/dialect.ts']);
    const reach = report.violations.find((v) => v.rule === 'mqtt311-client-has-no-mqtt5');
    expect(reach?.path).toEqual(['src/mqtt/session.ts', 'src/mqtt/v5/dialect.ts']);
  });

  it('reports nothing else', () => {
    expect(report.violations).toHaveLength(14);
    expect(report.text).toContain('no-cycles-in-src: src/a.ts -> src/b.ts -> src/a.ts');
  });
});
