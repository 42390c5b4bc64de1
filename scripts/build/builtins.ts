// Which ECMAScript built-ins a device build's firmware calls, by type: `bytes.fill()` on a Uint8Array
// is TypedArray.prototype.fill, not Array.prototype.fill. The ESP8266 build strips what it never
// calls (manifest.json, platforms.esp.strip), and xsl's own "*" strip keeps a built-in whenever its
// name is used anywhere, on any type. A stripped built-in aborts the XS machine if called, so
// test/unit/esp8266-strip.test.ts checks the strip list against this.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Interfaces of TypeScript's lib files, by the XS name of what they describe. */
const OWNERS: Record<string, string> = {
  Array: 'Array.prototype',
  ReadonlyArray: 'Array.prototype',
  ArrayConstructor: 'Array',
  ArrayBuffer: 'ArrayBuffer.prototype',
  ArrayBufferConstructor: 'ArrayBuffer',
  SharedArrayBuffer: 'SharedArrayBuffer.prototype',
  BigInt: 'BigInt.prototype',
  BigIntConstructor: 'BigInt',
  Boolean: 'Boolean.prototype',
  CallableFunction: 'Function.prototype',
  NewableFunction: 'Function.prototype',
  Function: 'Function.prototype',
  Date: 'Date.prototype',
  DateConstructor: 'Date',
  Error: 'Error.prototype',
  JSON: 'JSON',
  Map: 'Map.prototype',
  ReadonlyMap: 'Map.prototype',
  MapConstructor: 'Map',
  Math: 'Math',
  Number: 'Number.prototype',
  NumberConstructor: 'Number',
  Object: 'Object.prototype',
  ObjectConstructor: 'Object',
  Promise: 'Promise.prototype',
  PromiseConstructor: 'Promise',
  RegExp: 'RegExp.prototype',
  RegExpConstructor: 'RegExp',
  Set: 'Set.prototype',
  ReadonlySet: 'Set.prototype',
  SetConstructor: 'Set',
  String: 'String.prototype',
  StringConstructor: 'String',
  Symbol: 'Symbol.prototype',
  SymbolConstructor: 'Symbol',
  Iterator: 'Iterator.prototype',
  IteratorObject: 'Iterator.prototype',
  IterableIterator: 'Iterator.prototype',
  ArrayIterator: 'Iterator.prototype',
  MapIterator: 'Iterator.prototype',
  SetIterator: 'Iterator.prototype',
  StringIterator: 'Iterator.prototype',
  IteratorConstructor: 'Iterator',
};
for (const kind of ['Int8', 'Uint8', 'Uint8Clamped', 'Int16', 'Uint16', 'Int32', 'Uint32', 'Float32', 'Float64', 'BigInt64', 'BigUint64']) {
  OWNERS[`${kind}Array`] = 'TypedArray.prototype';
  OWNERS[`${kind}ArrayConstructor`] = 'TypedArray';
}

export interface BuiltinUse {
  /** XS name, as xsl's strip list spells it: `Array.prototype.fill`, `Math.log`. */
  name: string;
  /** Files (relative to the repository) that use it. */
  files: string[];
}

/** The built-ins reached from `entry` (a path, relative to the repository or absolute), type-checked with `tsconfig`'s options. */
export function builtinsUsed(entry: string, tsconfig = 'hosts/moddable/tsconfig.json'): BuiltinUse[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(REPO, tsconfig), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!parsed) throw new Error(`cannot read ${tsconfig}`);
  const program = ts.createProgram([resolve(REPO, entry)], parsed.options);
  const checker = program.getTypeChecker();
  const used = new Map<string, Set<string>>();
  const add = (name: string, file: string) => {
    let files = used.get(name);
    if (!files) used.set(name, (files = new Set()));
    files.add(file);
  };
  for (const source of program.getSourceFiles()) {
    if (source.isDeclarationFile) continue;
    const file = relative(REPO, source.fileName);
    const visit = (node: ts.Node): void => {
      const member = ts.isPropertyAccessExpression(node)
        ? node.name
        : ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)
          ? node.argumentExpression
          : undefined;
      if (member) {
        const object = (node as ts.PropertyAccessExpression | ts.ElementAccessExpression).expression;
        const alias = globalBehind(checker, program, object);
        if (alias) add(`${alias}.${member.text}`, file);
        for (const declaration of checker.getSymbolAtLocation(member)?.declarations ?? []) {
          // lib files, and our own declarations that add to a lib interface (XS's String.fromArrayBuffer)
          const owner = ownerName(declaration);
          if (owner && OWNERS[owner]) add(`${OWNERS[owner]}.${member.text}`, file);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return [...used].map(([name, files]) => ({ name, files: [...files].sort() })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

function ownerName(declaration: ts.Declaration): string | undefined {
  let node: ts.Node | undefined = declaration.parent;
  while (node && !ts.isInterfaceDeclaration(node) && !ts.isClassDeclaration(node) && !ts.isModuleDeclaration(node)) node = node.parent;
  return node && (node as ts.InterfaceDeclaration).name?.text;
}

/**
 * The global a receiver stands for when its type hides it: `(ArrayBuffer as Natives).fromString`, or
 * `const XsString = String as Natives` then `XsString.fromArrayBuffer`. Feature tests of engine
 * extensions look like that, and they call what the strip list must keep.
 */
function globalBehind(checker: ts.TypeChecker, program: ts.Program, expression: ts.Expression, depth = 0): string | undefined {
  let e = expression;
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
  if (!ts.isIdentifier(e) || depth > 4) return undefined;
  const symbol = checker.getSymbolAtLocation(e);
  const declaration = symbol?.valueDeclaration ?? symbol?.declarations?.[0];
  if (!declaration) return undefined;
  if (program.isSourceFileDefaultLibrary(declaration.getSourceFile())) return e.text;
  if (ts.isVariableDeclaration(declaration) && declaration.initializer) return globalBehind(checker, program, declaration.initializer, depth + 1);
  return undefined;
}
