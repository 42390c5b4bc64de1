// Applies a unified diff (diff -u / git diff output, paths a/... b/...) to a directory, with no
// `patch` or `git` binary: every hunk must match its context exactly, or nothing is written.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class PatchError extends Error {
  override name = 'PatchError';
}

interface Hunk {
  /** Line number of the hunk in the original file (1-based), from its @@ header. */
  at: number;
  old: string[];
  new: string[];
}

interface FilePatch {
  path: string;
  hunks: Hunk[];
}

/** The files and hunks of a unified diff; text before the first `--- ` line is a comment. */
export function parsePatch(text: string): FilePatch[] {
  const lines = text.split('\n');
  const files: FilePatch[] = [];
  let file: FilePatch | undefined;
  let hunk: Hunk | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const path = lines[i + 1]!.slice(4).split('\t')[0]!.replace(/^b\//, '');
      file = { path, hunks: [] };
      files.push(file);
      hunk = undefined;
      i++;
      continue;
    }
    const header = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(line);
    if (header) {
      if (!file) throw new PatchError(`line ${i + 1}: a hunk before any file header`);
      hunk = { at: Number(header[1]), old: [], new: [] };
      file.hunks.push(hunk);
      continue;
    }
    if (!hunk) continue;
    if (line.startsWith(' ')) {
      hunk.old.push(line.slice(1));
      hunk.new.push(line.slice(1));
    } else if (line.startsWith('-')) hunk.old.push(line.slice(1));
    else if (line.startsWith('+')) hunk.new.push(line.slice(1));
    else if (line.startsWith('\\')) continue; // "\ No newline at end of file"
    else if (line === '' && i === lines.length - 1) continue;
    else hunk = undefined; // end of the hunk: free text or the next file
  }
  if (!files.length) throw new PatchError('no file in the patch');
  return files;
}

/** Where `block` occurs in `lines` at or after `from`, nearest to `near` first; -1 when nowhere. */
function find(lines: string[], block: string[], from: number, near: number): number {
  const matches = (start: number) => block.every((l, k) => lines[start + k] === l);
  for (let d = 0; d < lines.length; d++) {
    for (const start of [near + d, near - d]) {
      if (start >= from && start + block.length <= lines.length && matches(start)) return start;
    }
  }
  return -1;
}

/** Applies `patchText` to the files under `dir`; throws PatchError naming the hunk that does not fit. */
export function applyPatch(dir: string, patchText: string): string[] {
  const results: { path: string; text: string }[] = [];
  for (const file of parsePatch(patchText)) {
    const path = join(dir, file.path);
    let lines: string[];
    try {
      lines = readFileSync(path, 'utf8').split('\n');
    } catch (error) {
      throw new PatchError(`${file.path}: ${(error as Error).message}`);
    }
    let from = 0;
    let shift = 0;
    for (const [n, hunk] of file.hunks.entries()) {
      const start = find(lines, hunk.old, from, hunk.at - 1 + shift);
      if (start < 0) throw new PatchError(`${file.path}: hunk ${n + 1} (at line ${hunk.at}) does not match the source; the XS sources changed, so update the patch`);
      lines.splice(start, hunk.old.length, ...hunk.new);
      from = start + hunk.new.length;
      shift += hunk.new.length - hunk.old.length;
    }
    results.push({ path, text: lines.join('\n') });
  }
  for (const r of results) writeFileSync(r.path, r.text);
  return results.map((r) => r.path);
}
