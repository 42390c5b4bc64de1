// The unified-diff applier that builds the 32-bit XS worker (scripts/xs32/patch.ts), and the patch it
// applies: every hunk must fit the XS sources of the installed @agoric/xsnap.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PATCH_FILE } from '../../scripts/xs32/build';
import { PatchError, applyPatch, parsePatch } from '../../scripts/xs32/patch';

const dirs: string[] = [];
function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'xs32-patch-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const patch = [
  'A comment before the first file is ignored.',
  '--- a/one.c',
  '+++ b/one.c',
  '@@ -1,3 +1,4 @@',
  ' int a;',
  '-int b;',
  '+int b = 2;',
  '+int c;',
  ' int d;',
  '@@ -8,2 +9,2 @@',
  ' x();',
  '-y();',
  '+z();',
  '--- a/two.c',
  '+++ b/two.c',
  '@@ -1,1 +1,2 @@',
  ' two',
  '+three',
  '',
].join('\n');

describe('xs32 patch', () => {
  it('applies every hunk, even when the lines moved', () => {
    const d = dir({ 'one.c': 'int a;\nint b;\nint d;\n// added above the second hunk\n\n\n\n\nx();\ny();\n', 'two.c': 'two\n' });
    applyPatch(d, patch);
    expect(readFileSync(join(d, 'one.c'), 'utf8')).toBe('int a;\nint b = 2;\nint c;\nint d;\n// added above the second hunk\n\n\n\n\nx();\nz();\n');
    expect(readFileSync(join(d, 'two.c'), 'utf8')).toBe('two\nthree\n');
  });

  it('writes nothing when a hunk does not match, and says which', () => {
    const d = dir({ 'one.c': 'int a;\nint b;\nint d;\nx();\ny();\n', 'two.c': 'something else\n' });
    expect(() => applyPatch(d, patch)).toThrow(PatchError);
    expect(() => applyPatch(d, patch)).toThrow(/two\.c: hunk 1 \(at line 1\) does not match/);
    expect(readFileSync(join(d, 'one.c'), 'utf8')).toBe('int a;\nint b;\nint d;\nx();\ny();\n');
  });

  it('fits the XS sources that @agoric/xsnap ships', () => {
    const text = readFileSync(PATCH_FILE, 'utf8');
    const files = parsePatch(text).map((f) => f.path);
    expect(files).toContain('xsnap-native/xsnap/sources/xsnap-worker.c');
    const copy = mkdtempSync(join(tmpdir(), 'xs32-sources-'));
    dirs.push(copy);
    const xsnap = join(__dirname, '../../node_modules/@agoric/xsnap');
    for (const f of files) cpSync(join(xsnap, f), join(copy, f));
    expect(applyPatch(copy, text)).toHaveLength(files.length);
    expect(readFileSync(join(copy, 'xsnap-native/xsnap/sources/xsnap-worker.c'), 'utf8')).toContain('XSNAP_CREATION');
  });
});
