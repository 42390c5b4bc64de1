// Runs inside XS: serves one portable suite (test/portable/*.cases.ts) to the Node side.
// Commands (JSON in, JSON out): {op:'list'} -> {name, cases[]}; {op:'run', index} -> starts the case
// and reports {index, ok, error?} through issueCommand once it settles. Async cases settle within the
// same delivery, because xsnap drains the promise jobs before it answers; a case that waits for time
// never settles (XS has no setTimeout), and the Node side reports that.
import type { Suite } from '../harness';
import { toArrayBuffer, xsnap } from './globals';

export interface CaseReport {
  index: number;
  ok: boolean;
  error?: string;
}

/**
 * On a Moddable device the built-ins are read-only once the preloaded modules have run (they are in
 * flash). The same here, from when the suite's modules are loaded: code that writes over a built-in's
 * property at run time (an error assigning its `name`, which Error.prototype holds) fails in these
 * cases as it fails on the device.
 */
function freezeBuiltIns(): void {
  const typedArray = Object.getPrototypeOf(Uint8Array) as { prototype: object };
  const constructors: { prototype: object }[] = [
    Object, Function, Array, String, Number, Boolean, Symbol, BigInt, Date, Promise, Map, Set, WeakMap, WeakSet,
    ArrayBuffer, DataView, typedArray, Uint8Array, Uint16Array, Uint32Array, Int8Array, Int16Array, Int32Array, Float32Array, Float64Array,
    Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
  ];
  for (const c of constructors) {
    Object.freeze(c.prototype);
    Object.freeze(c);
  }
  Object.freeze(Math);
  Object.freeze(JSON);
  Object.freeze(Reflect);
}

export function servePortableSuite(suite: Suite): void {
  freezeBuiltIns();
  const xs = xsnap();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const send = (value: unknown): ArrayBuffer => toArrayBuffer(encoder.encode(JSON.stringify(value)));
  const report = (result: CaseReport): void => void xs.issueCommand(send(result));

  xs.handleCommand = (request) => {
    const command = JSON.parse(decoder.decode(request)) as { op: string; index?: number };
    if (command.op === 'list') return send({ name: suite.name, cases: suite.cases.map((c) => c.name) });
    if (command.op !== 'run') throw new Error(`unknown runner command ${command.op}`);
    const index = command.index!;
    const testCase = suite.cases[index];
    if (!testCase) throw new Error(`no case ${index} in suite ${suite.name}`);
    let outcome: void | Promise<void>;
    try {
      outcome = testCase.fn();
    } catch (error) {
      report({ index, ok: false, error: describe(error) });
      return send('done');
    }
    if (outcome && typeof (outcome as Promise<void>).then === 'function') {
      (outcome as Promise<void>).then(
        () => report({ index, ok: true }),
        (error: unknown) => report({ index, ok: false, error: describe(error) }),
      );
      return send('started');
    }
    report({ index, ok: true });
    return send('done');
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const head = `${error.name}: ${error.message}`;
    const stack = typeof error.stack === 'string' ? error.stack : '';
    // XS stacks start with the "Name: message" line; keep the frames only once.
    if (stack.startsWith(head)) return stack;
    return stack.includes('\n') ? `${head}\n${stack}` : head;
  }
  return `thrown non-error: ${String(error)}`;
}
