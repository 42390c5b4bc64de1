// The ESP8266 build strips ECMAScript built-ins its firmware never calls (manifest.json,
// platforms.esp.strip), so their C code leaves the flash image. xsl turns each into a function
// that aborts the XS machine when called: a strip entry the firmware does use would crash the
// device the first time that code ran. This checks the list against the calls the TypeScript
// checker finds, by type, in everything the ESP8266 main reaches.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { builtinsUsed } from '../../scripts/build/builtins';
import { buildModules } from '../../scripts/build/modules';

const root = join(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as { platforms: Record<string, { strip?: string[] }> };
const strip = manifest.platforms.esp!.strip ?? [];
const ESP_MAIN = 'hosts/moddable/target/esp/main.ts';

describe('the ESP8266 strip list', () => {
  const used = builtinsUsed(ESP_MAIN);
  const usedNames = new Set(used.map((u) => u.name));

  it('keeps the implicit strip and names built-ins the way xsl does', () => {
    expect(strip[0]).toBe('*');
    for (const name of strip.slice(1)) expect(name).toMatch(/^[A-Z][A-Za-z]*(\.prototype)?\.[a-z][A-Za-z_]*$/);
  });

  // The analysis follows the TypeScript imports from the main, so it also reads src/sensors/registry.ts
  // and the DS18B20 driver, which the build replaces with registry-no-1wire.ts: only the build's files count.
  const buildFiles = new Set(buildModules('esp').modules.map((m) => `${m.name}.ts`));

  it('strips nothing the ESP8266 firmware calls', () => {
    const conflicts = used
      .filter((u) => strip.includes(u.name))
      .flatMap((u) => u.files.filter((f) => buildFiles.has(f)).map((f) => `${u.name} (${f})`));
    expect(conflicts).toEqual([]);
    // a call outside the build is not a conflict: the DS18B20 driver's TypedArray.from stays out of the image
    expect(used.find((u) => u.name === 'TypedArray.from')?.files.every((f) => !buildFiles.has(f))).toBe(true);
  });

  it('sees the calls it must: the analysis tells a typed array from an array', () => {
    // the firmware fills Uint8Arrays and sorts arrays; a blind spot here would make the test above pass vacuously
    expect(usedNames.has('TypedArray.prototype.fill')).toBe(true);
    expect(usedNames.has('Array.prototype.sort')).toBe(true);
    expect(usedNames.has('Array.prototype.fill')).toBe(false);
    expect(usedNames.has('Math.floor')).toBe(true);
    expect(usedNames.has('JSON.stringify')).toBe(true);
    // XS extensions: declared by our own typings (storage.ts) or reached through a cast (utf8.ts's feature test)
    expect(used.find((u) => u.name === 'String.fromArrayBuffer')?.files).toEqual(expect.arrayContaining(['hosts/moddable/storage.ts', 'src/text/utf8.ts']));
    expect(used.find((u) => u.name === 'ArrayBuffer.fromString')?.files).toEqual(expect.arrayContaining(['hosts/moddable/storage.ts', 'src/text/utf8.ts']));
  });

  it('would catch a stripped call: a module that fills an array is flagged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strip-'));
    try {
      const file = join(dir, 'fills.ts');
      writeFileSync(file, 'export function blank(n: number): number[] {\n  return new Array<number>(n).fill(0);\n}\n');
      const names = builtinsUsed(file, 'tsconfig.json').map((u) => u.name);
      expect(names).toContain('Array.prototype.fill');
      expect(strip).toContain('Array.prototype.fill');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes the ESP8266 firmware use no regular expression and no toLowerCase/toUpperCase, so xsl leaves their engines out (docs/flash.md)', () => {
    const modules = buildModules('esp').modules;
    const banned = used.filter((u) => /^(RegExp|String\.prototype\.(toLowerCase|toUpperCase|toLocale\w*|match\w*|search))/.test(u.name));
    expect(banned.flatMap((u) => u.files.filter((f) => buildFiles.has(f)).map((f) => `${u.name} (${f})`))).toEqual([]);
    expect(banned.length).toBeGreaterThan(0); // the analysis sees one: onewire.ts's, out of the build
    const literals: string[] = [];
    for (const m of modules) {
      if (!m.file.endsWith('.ts') || m.file.endsWith('.d.ts')) continue;
      const source = ts.createSourceFile(m.file, readFileSync(m.file, 'utf8'), ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node): void => {
        if (node.kind === ts.SyntaxKind.RegularExpressionLiteral || (ts.isIdentifier(node) && node.text === 'RegExp')) literals.push(`${m.name}: ${node.getText(source)}`);
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(literals).toEqual([]);
  });
});
