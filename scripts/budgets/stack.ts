// Stack budgets: the most XS stack slots the firmware uses in one call from the host, per operation,
// measured in the 32-bit worker (scripts/xs32) with scripts/budgets/firmware-stack.bench.ts, the
// device's own adapters below the ports counted (stack-probe.ts). Unlike the other budgets these have
// a hard limit: the ESP8266's XS stack is 256 slots (Moddable's esp manifest) and past it XS aborts
// the whole machine ("stack overflow"), so a figure over the limit fails `npm run budgets:check`
// whatever the baseline says.
//   npx tsx scripts/budgets/stack.ts                    the figures
//   npx tsx scripts/budgets/stack.ts --trace <op>...    and the frames at each one's deepest point
import { createPrivateKey } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForXs } from '../../hosts/xs/bundle';
import { XsWorker } from '../../hosts/xs/worker';
import { hexDecode } from '../../src/text/hex';
import { signJob } from '../fleet/sign';
import { buildXs32 } from '../xs32/build';
import type { Figure } from './figure';

const here = dirname(fileURLToPath(import.meta.url));

/** The ESP8266's XS stack, slots (creation.stack of Moddable's build/devices/esp/manifest.json). */
export const ESP8266_STACK_SLOTS = 256;
/**
 * What the figures leave out, first: the XS machine's own slots. A device's machine is cloned from the
 * preloaded one (fxCloneMachine) and keeps 13 roots at the top of its stack (mxGlobal to
 * mxInstanceInspectors; xsnap's machine keeps all the intrinsics there, 156 slots, which is why the
 * figures are measured from a mark).
 */
export const DEVICE_STACK_ROOTS = 13;
/**
 * Then a native callback (a timer, a socket event) begins with xsBeginHost, 7 slots, before it calls
 * the adapter's callback, which the bench counts as its own closure.
 */
export const HOST_ENTRY_SLOTS = DEVICE_STACK_ROOTS + 7;
/**
 * What the bench approximates, one frame's worth: the native Preference, socket, timer and I2C calls
 * are stood in for by JavaScript functions (as deep as the native frames or deeper), and the native
 * callbacks' arguments by a closure's.
 */
export const SAFETY_SLOTS = 12;
/** The most slots one operation may use: over it, budgets:check fails. */
export const STACK_LIMIT_SLOTS = ESP8266_STACK_SLOTS - HOST_ENTRY_SLOTS - SAFETY_SLOTS;

/** The operations, in the order they run on one booted device. */
export const STACK_OPERATIONS = ['boot', 'telemetry-cycle', 'command-ping', 'get-config', 'set-config-heartbeat', 'set-config-broker', 'ota-job', 'reconnect'] as const;

/** RFC 8032 section 7.1, test 1: the secret of the public key the bench platform trusts. */
const OTA_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const OTA_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

function base64url(hex: string): string {
  return Buffer.from(hexDecode(hex)).toString('base64url');
}

/** A job the bench device accepts (a real signature) and answers "unsupported" (no update port). */
export function benchOtaJob(): string {
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: base64url(OTA_SECRET), x: base64url(OTA_PUBLIC) }, format: 'jwk' });
  return JSON.stringify(
    signJob({ id: 'bench-1', version: '99.0.0', url: 'http://10.0.0.2:8070/image.bin', size: 262_144, sha256: 'ab'.repeat(32) }, key),
  );
}

export interface StackPeak {
  operation: (typeof STACK_OPERATIONS)[number];
  /** The most slots one call from the host into the firmware used during the operation. */
  peak: number;
  /** With tracing: the frames at the deepest point, outermost first, each with the slots it holds. */
  frames?: { name: string; slots: number; line: number }[];
}

/** Stack peaks per operation, from one booted device in the 32-bit worker; `trace`: the operations to trace. */
export async function stackPeaks(trace: string[] = []): Promise<StackPeak[]> {
  const { binary } = await buildXs32({ log: (line) => console.error(line) });
  const { code } = await bundleForXs(join(here, 'firmware-stack.bench.ts'), { define: { OTA_JOB: JSON.stringify(benchOtaJob()) } });
  const worker = new XsWorker({ xs32: true, binary, meterLimit: 0, name: 'xs32-stack' });
  try {
    await worker.evaluate(code);
    const out: StackPeak[] = [];
    for (const operation of STACK_OPERATIONS) {
      const tracing = trace.includes(operation);
      const { reply } = await worker.command(JSON.stringify({ op: operation, trace: tracing }));
      const result = JSON.parse(new TextDecoder().decode(reply)) as { peak: number; trace: string };
      out.push(tracing ? { operation, peak: result.peak, frames: frames(result.trace) } : { operation, peak: result.peak });
    }
    return out;
  } finally {
    await worker.close();
  }
}

/**
 * xs32.stackTrace() text ("* deepest 0", then "name depth line", innermost first) as frames outermost
 * first, each with the slots from its frame to the next (the innermost: to the deepest point). The
 * bench's own frames come first (above the probe's `enter`) and last (the probe's `leaf`).
 */
function frames(trace: string): { name: string; slots: number; line: number }[] {
  const lines = trace.trim().split('\n').map((l) => l.split(' '));
  const deepest = Number(lines.shift()?.[1] ?? 0);
  const list = lines.reverse().map(([name, depth, line]) => ({ name: name ?? '?', depth: Number(depth), line: Number(line) }));
  return list.map((f, i) => ({ name: f.name, line: f.line, slots: (list[i + 1]?.depth ?? deepest) - f.depth }));
}

/** The stack figures of the budgets. */
export async function measureStack(): Promise<Figure[]> {
  return (await stackPeaks()).map((p) => ({ name: `firmware.stack-peak.${p.operation}`, value: p.peak, unit: 'slots', limit: STACK_LIMIT_SLOTS }));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--trace');
  const trace = at < 0 ? [] : process.argv.slice(at + 1);
  const unknown = trace.filter((op) => !(STACK_OPERATIONS as readonly string[]).includes(op));
  if (unknown.length) {
    console.error(`no operation ${unknown.join(', ')}; the operations: ${STACK_OPERATIONS.join(', ')}`);
    process.exit(2);
  }
  for (const p of await stackPeaks(trace)) {
    console.log(`${p.operation.padEnd(22)} ${String(p.peak).padStart(4)} slots of ${STACK_LIMIT_SLOTS}${p.peak > STACK_LIMIT_SLOTS ? '  OVER' : ''}`);
    for (const f of p.frames ?? []) console.log(`    ${f.name.padEnd(30)} ${String(f.slots).padStart(4)}   (bundle line ${f.line})`);
  }
}
