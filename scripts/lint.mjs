#!/usr/bin/env node
// Fast checks that src/ stays firmware: it imports only src/, uses no Node or DOM API, no built-in
// that the XS engine lacks, and keeps no module-level mutable state (many simulated devices share
// one process). The XS test run catches the rest; this tells developers first.
// Portable cases kept next to their code (src/**/*.cases.ts) are not firmware: they may also import
// the portable harness and the simulated chips of hosts/, and no firmware module may import them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const srcDir = join(root, 'src');
// What a portable case in src/ may import besides src/: the portable harness and the simulated chips.
const caseImports = [join(root, 'hosts/xs/harness.ts'), join(root, 'hosts/sim/chips') + '/', join(root, 'hosts/sim/fakes') + '/'];
const isCases = (path) => /\.cases(\.ts)?$/.test(path);

const forbidden = [
  [/\bstructuredClone\s*\(/, 'structuredClone is missing on XS'],
  [/\bqueueMicrotask\s*\(/, 'queueMicrotask is missing on XS: use Promise.resolve().then'],
  [/\bIntl\./, 'Intl is missing on XS'],
  [/\bPromise\.withResolvers\b/, 'Promise.withResolvers is missing on XS'],
  [/\.(toSorted|toReversed|toSpliced|findLast|findLastIndex)\s*\(/, 'ES2023 array methods are missing on XS'],
  [/\bObject\.groupBy\b|\bMap\.groupBy\b/, 'groupBy is missing on XS'],
  [/\.(fromBase64|fromHex|toBase64|toHex)\s*\(/, 'Uint8Array base64/hex methods are missing on XS'],
  [/\.(union|intersection|difference|symmetricDifference|isSubsetOf|isSupersetOf|isDisjointFrom)\s*\(/, 'Set methods are missing on XS'],
  [/\bIterator\.from\b|\.values\(\)\s*\.(map|filter|take|drop|toArray)\s*\(/, 'iterator helpers are missing on XS'],
  [/\b(setTimeout|setInterval|clearTimeout|clearInterval|setImmediate)\s*\(/, 'timers come from the Clock port, not globals'],
  [/\bBuffer\b/, 'Buffer is Node-only: use Uint8Array'],
  [/\bprocess\./, 'process is Node-only'],
  [/\b(window|document|navigator|localStorage)\./, 'DOM globals are not on the device'],
  [/\bconsole\./, 'console is missing on XS: log through the Logger port'],
  [/\brequire\s*\(/, 'require is not available: use import'],
  [/\bthis\.name\s*=[^=]/, 'Moddable freezes Error.prototype: assigning this.name throws on XS; declare `override name = ...` as a class field'],
  [/\.toFixed\(\s*0\s*\)/, 'toFixed(0) is wrong on XS for |x| <= 0.5: use String(Math.round(x))'],
  [/\/[a-z]*v[a-z]*\s*\.test\(|new RegExp\([^)]*,\s*['"][a-z]*v/, 'regex v flag is missing on XS'],
];

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (/\.(ts|js)$/.test(name)) out.push(path);
  }
  return out;
}

function stripComments(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, (m, p) => p + ' '.repeat(m.length - p.length));
}

const problems = [];
for (const file of walk(srcDir)) {
  const rel = relative(root, file);
  const text = stripComments(readFileSync(file, 'utf8'));
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const where = `${rel}:${i + 1}`;
    for (const m of line.matchAll(/(?:^|\s)(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const target = resolve(dirname(file), spec);
      if (!spec.startsWith('.')) {
        problems.push(`${where}: imports "${spec}": src/ may import only src/ (no node: or npm modules)`);
      } else if (isCases(file) && caseImports.some((allowed) => (target + '.ts').startsWith(allowed))) {
        // a portable case: the harness and the simulated chips run on XS too
      } else if (!target.startsWith(srcDir + '/')) {
        problems.push(`${where}: imports "${spec}", outside src/${isCases(file) ? ' (a case may also import hosts/xs/harness, hosts/sim/chips/ and hosts/sim/fakes/)' : ''}`);
      } else if (isCases(spec) && !isCases(file)) {
        problems.push(`${where}: imports the portable cases "${spec}": firmware must not carry its tests`);
      }
    }
    for (const [re, why] of forbidden) if (re.test(line)) problems.push(`${where}: ${why}`);
    if (/^(let|var)\s/.test(line) || /^export\s+(let|var)\s/.test(line)) {
      problems.push(`${where}: module-level mutable state; keep state in instances (many devices share a process)`);
    }
  });
}

if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`\nlint: ${problems.length} problem(s) in src/`);
  process.exit(1);
}
console.log('lint: src/ ok');
