// The ESP8266's memory, measured as close to the device as this machine allows: the modules the
// ESP8266 build preloads (read from the manifests: scripts/build/modules.ts) are loaded into the 32-bit XS
// worker (scripts/xs32) made with the creation values of Moddable's esp manifest, what is live then
// is marked and left out (a device keeps it in flash), and the firmware is driven through a first
// boot with Wi-Fi set-up, 1,000 telemetry cycles, commands, broker outages with a full persisted
// outbox, a burst of inbound messages and an OTA job (esp8266.bench.ts) with the ESP8266's heap
// fixed: more than ESP8266_HEAP_BYTES live above the mark after any collection stops XS
// (XsMemoryFullError), as a full heap stops the device. Every collection compacts, so each one gives
// the exact live bytes (slots x 16 + chunks). A second run, with the ports probed (stack-probe.ts),
// gives the most XS stack slots one call from the host into the firmware takes during the scenario.
// A third loads the modules alone: esp8266.bytecode.bytes, what they put into flash (docs/flash.md).
//   npx tsx scripts/budgets/esp8266.ts                      the figures, and live bytes by phase
//   npx tsx scripts/budgets/esp8266.ts --census <phase>...  and what is live after those phases, by class
//   npx tsx scripts/budgets/esp8266.ts --census --peak <step>...  what is live at the highest point of those steps
//   npx tsx scripts/budgets/esp8266.ts --no-cap             without the fixed heap (to see how far over it goes)
//   npx tsx scripts/budgets/esp8266.ts --trace              and the frames at each phase's deepest XS stack point
import { dirname, join, relative, resolve } from 'node:path';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { bundleForXs } from '../../hosts/xs/bundle';
import { decodeFrame, encodeFrame } from '../../hosts/xs/bridge/wire';
import { XsWorker, type MeterRecord } from '../../hosts/xs/worker';
import { bundleDevice } from '../build/bundle';
import { buildXs32 } from '../xs32/build';
import { buildModules, type BuildModules } from '../build/modules';
import type { Figure } from './figure';
import { ESP8266_CREATION, ESP8266_HEAP_BYTES } from './firmware32';
import { STACK_LIMIT_SLOTS, benchOtaJob } from './stack';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

/** The phases of esp8266.bench.ts, in order. */
export const ESP8266_PHASES = ['boot', 'improv', 'portal', 'join', 'telemetry', 'commands', 'outages', 'burst', 'ota', 'end'] as const;
export type Esp8266Phase = (typeof ESP8266_PHASES)[number];

/** The issue's target for the most live bytes: the rest of the 32 KB is the stack, fragmentation and the host's own objects. */
export const ESP8266_PEAK_TARGET_BYTES = 24_576;

/** What the scenario's board adds to the ESP8266 build's configuration: a BME280, the OTA key, the outbox kept in flash. */
const BOARD = {
  sensors: [{ type: 'bme280', name: 'climate', address: 0x76 }],
  otaPublicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  persistOutbox: true,
};

/**
 * The ESP8266's preference store (modules/files/preference/esp/modPreference.c): one 4 KB flash
 * sector less its 4-byte signature, each entry "domain\0key\0" + a type byte + the value (a buffer
 * with a 2-byte length), rounded up to 4 bytes; values of at most 63 bytes, names of at most 31
 * characters. A write that does not fit fails as the native one does ("can't save prefs").
 */
export class Esp8266Preferences {
  static readonly SECTOR_BYTES = 4096 - 4;
  readonly entries = new Map<string, { type: string; bytes: Uint8Array; value?: unknown; size: number }>();
  used = 0;
  /** Writes refused for want of room. */
  full = 0;

  handle(request: Uint8Array): Uint8Array {
    const { header, body } = decodeFrame(request);
    const domain = String(header.domain);
    const name = `${domain}\0${String(header.key ?? '')}`;
    switch (header.op) {
      case 'get': {
        const e = this.entries.get(name);
        if (!e) return encodeFrame({});
        return e.type === 'value' ? encodeFrame({ type: 'value', value: e.value }) : encodeFrame({ type: e.type }, e.bytes);
      }
      case 'set': {
        const key = String(header.key);
        if (domain.length > 31 || key.length > 31) return encodeFrame({ error: 'too long' });
        const type = String(header.type);
        const count = type === 'value' ? (typeof header.value === 'boolean' ? 1 : 4) : type === 'string' ? body.length + 1 : body.length;
        if (count > 63) return encodeFrame({ error: "can't save prefs" });
        const size = entrySize(domain, key, count, type === 'buffer');
        const old = this.entries.get(name);
        const free = Esp8266Preferences.SECTOR_BYTES - this.used + (old ? old.size : 0);
        if (size > free) {
          this.full++;
          return encodeFrame({ error: "can't save prefs" });
        }
        this.used += size - (old ? old.size : 0);
        this.entries.set(name, { type, bytes: body.slice(), value: header.value, size });
        return encodeFrame({});
      }
      case 'delete': {
        const old = this.entries.get(name);
        if (old) {
          this.used -= old.size;
          this.entries.delete(name);
        }
        return encodeFrame({});
      }
      case 'keys': {
        const keys: string[] = [];
        for (const n of this.entries.keys()) if (n.startsWith(`${domain}\0`)) keys.push(n.slice(domain.length + 1));
        return encodeFrame({ keys });
      }
      default:
        return encodeFrame({ error: `unknown preference operation ${String(header.op)}` });
    }
  }
}

function entrySize(domain: string, key: string, count: number, buffer: boolean): number {
  const size = domain.length + 1 + key.length + 1 + 1 + count + (buffer ? 2 : 0);
  return (size + 3) & ~3;
}

/**
 * Stand-ins for what the SDK provides (timer, preference, mc/config, embedded:io/..., wifi, net, sntp)
 * and for our native modules (a .js of host functions, `function f() @ "xs_f"`), so the build's
 * modules that import them load: their code is loaded to be left out, not run.
 */
const sdkStandIns: Plugin = {
  name: 'sdk-stand-ins',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('node:') ? undefined : { path: args.path, namespace: 'sdk' }));
    build.onLoad({ filter: /.*/, namespace: 'sdk' }, () => ({ contents: 'export default {};', loader: 'js' }));
    build.onLoad({ filter: /\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const natives = [...source.matchAll(/function\s+(\w+)\s*\([^)]*\)\s*@\s*"/g)].map((m) => m[1]!);
      if (!natives.length) return undefined;
      return { contents: source.replace(/function\s+(\w+)\s*\(([^)]*)\)\s*@\s*"[^"]*"\s*;/g, 'function $1($2) {}'), loader: 'js' };
    });
  },
};

/**
 * A module the build carries under another file's name (src/sensors/registry is registry-no-1wire.ts
 * on the ESP8266): an import of the module's own file gets the build's file, as on the device.
 */
function buildRenames(build: BuildModules): Plugin {
  const renamed = new Map<string, string>();
  const files = new Set(build.modules.map((m) => resolve(m.file)));
  for (const m of build.modules) {
    if (m.file.endsWith('.d.ts')) continue;
    for (const ext of ['.ts', '.js']) {
      const own = join(root, m.name + ext);
      if (!files.has(own) && existsSync(own)) renamed.set(own, resolve(m.file));
    }
  }
  return {
    name: 'build-renames',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === 'build-renames') return undefined;
        const found = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: 'build-renames' });
        const to = renamed.get(found.path);
        return to ? { path: to } : undefined;
      });
    },
  };
}

export interface Esp8266Bundle {
  code: string;
  /** The build's preloaded modules, loaded before the mark. */
  modules: string[];
}

/**
 * The scenario with every module the ESP8266 build preloads imported ahead of it.
 */
export async function bundleEsp8266(options: { stackProbe?: boolean; trace?: boolean } = {}): Promise<Esp8266Bundle> {
  const build = buildModules('esp');
  const files = build.modules.filter((m) => m.preloaded && /\.(ts|js)$/.test(m.file) && !m.file.endsWith('.d.ts')).map((m) => m.file);
  const modules = [...new Set(files)];
  const imports = modules.map((file, i) => `import * as m${i} from ${JSON.stringify('./' + relative(here, file).replace(/\\/g, '/'))};`);
  const contents = [
    ...imports,
    // kept reachable, so the modules stay loaded (a device keeps them in flash)
    `(globalThis as Record<string, unknown>).esp8266Modules = [${modules.map((_, i) => `m${i}`).join(', ')}];`,
    "import './esp8266.bench';",
  ].join('\n');
  const { code } = await bundleForXs(
    { contents, resolveDir: here, sourcefile: 'esp8266-entry.ts' },
    { define: { ESP8266_BUILD: JSON.stringify({ ...build.config, ...BOARD }), OTA_JOB: JSON.stringify(benchOtaJob()), STACK_PROBE: String(!!options.stackProbe), STACK_TRACE: String(!!options.trace) }, plugins: [buildRenames(build), sdkStandIns] },
  );
  return { code, modules: modules.map((f) => relative(root, f)) };
}

export interface StepMemory {
  /** The phase, or the step it went on with (a phase that waits for promise jobs goes on in a next delivery). */
  step: string;
  /** The most live bytes above the mark after any collection during the step. */
  peak: number;
}

export interface PhaseMemory {
  phase: Esp8266Phase;
  /** Live bytes above the mark after the phase (after a collection), slots and chunks. */
  slots: number;
  chunks: number;
  bytes: number;
  /** The most live bytes above the mark after any collection during the phase. */
  peak: number;
  steps: StepMemory[];
  /** Collections since the mark. */
  collections: number;
  /** What the phase reported (counts it checked). */
  detail: Record<string, unknown>;
  /** With `census`: what is live above the mark after the phase, by class. */
  census?: string;
}

export interface Esp8266Memory {
  phases: PhaseMemory[];
  /** The most live bytes above the mark after any collection in the whole run. */
  peak: number;
  /** Live above the mark at the end (connected, nothing queued, the access point closed). */
  steady: number;
  /** Bytes live at the mark: the loaded modules and the fakes, left out. */
  mark: number;
  /** Modules of the build loaded before the mark. */
  modules: number;
  collections: number;
  /** Preference bytes in use at the end, of the 4,092 of the ESP8266's sector, and writes refused. */
  flash: { used: number; refused: number };
}

function xs32Of(meter: MeterRecord) {
  const m = meter.xs32;
  if (!m) throw new Error('the esp8266 budget needs the 32-bit worker');
  return m;
}

/** Runs the scenario in a fixed heap of `heapBytes` (default an ESP8266's) and reads the heap after every phase. */
export async function runEsp8266(options: { heapBytes?: number; census?: string[] } = {}): Promise<Esp8266Memory> {
  const { binary } = await buildXs32({ log: (line) => console.error(line) });
  const { code, modules } = await bundleEsp8266();
  const flash = new Esp8266Preferences();
  // the device's warnings and errors (esp8266-platform.ts prints them), the last few shown when a check fails
  const problems: string[] = [];
  const onPrint = (line: string) => {
    problems.push(line);
    if (problems.length > 4) problems.shift();
  };
  const worker = new XsWorker({ xs32: true, binary, creation: ESP8266_CREATION, meterLimit: 0, name: 'xs32-esp8266', onCommand: (r) => flash.handle(r), onPrint });
  const command = async (phase: string) => {
    const { reply, meter } = await worker.command(JSON.stringify({ phase }));
    return { detail: JSON.parse(new TextDecoder().decode(reply)) as Record<string, unknown>, meter };
  };
  const text = async (source: string) => new TextDecoder().decode((await worker.evaluate(`new TextEncoder().encode(String(${source})).buffer`)).reply);
  const census = options.census ?? [];
  try {
    // functions and errors as a device's linked build makes them; no line numbers in the code, as in
    // a release build (a census names closures by their line, so keeps them)
    await worker.evaluate('xs32.linked(true)');
    if (!census.length) await worker.evaluate('xs32.debugInfo(false)');
    await worker.evaluate(code);
    await command('setup');
    // the mark: every collection from here compacts (exact chunk bytes), and more than heapBytes above it stops XS
    const mark = Number(await text(`(xs32.exactPeak(true), xs32.censusMark(), xs32.setHeapCap(${options.heapBytes ?? ESP8266_HEAP_BYTES}))`));
    const markChunks = xs32Of((await worker.evaluate('xs32.resetPeak()')).meter).liveChunks;
    const lines = census.length ? code.split('\n') : [];
    const start = xs32Of((await worker.evaluate('0')).meter).collections;
    const phases: PhaseMemory[] = [];
    const peakCensuses: string[] = [];
    for (const phase of ESP8266_PHASES) {
      let detail: Record<string, unknown> = {};
      const steps: StepMemory[] = [];
      try {
        // a phase may go on in a next step (after its promise jobs ran: they run when a delivery ends)
        for (let step: string | undefined = phase, n = 0; step && n < 10; n++) {
          const before = xs32Of((await worker.evaluate('xs32.resetPeak()')).meter);
          // a census at the step's highest point, taken by the collector (any point above the live bytes before it)
          const atPeak = census.includes(step) && census.includes('--peak');
          if (atPeak) await worker.evaluate(`xs32.peakCensus(${before.liveSlots * before.slotSize + before.liveChunks - mark})`);
          const done = await command(step);
          detail = done.detail;
          steps.push({ step, peak: xs32Of(done.meter).livePeak - mark });
          if (atPeak) peakCensuses.push(`at the peak of ${step}:\n${describeCensus(await text('xs32.peakCensus(0)') || '* 0 0', markChunks, lines)}`);
          step = typeof detail.next === 'string' ? detail.next : undefined;
        }
      } catch (error) {
        if (error instanceof Error) {
          const after = phases.map((p) => `${p.phase} ${p.bytes}`).join(', ') || 'the mark';
          error.message = `esp8266 scenario, phase ${phase} (live bytes after ${after}): ${error.message}${problems.length ? `\nthe device's last warnings:\n  ${problems.join('\n  ')}` : ''}`;
        }
        throw error;
      }
      const m = xs32Of((await worker.evaluate('gc()')).meter);
      const bytes = m.liveSlots * m.slotSize + m.liveChunks - mark;
      const peak = Math.max(bytes, ...steps.map((s) => s.peak));
      const entry: PhaseMemory = { phase, slots: m.liveSlots, chunks: m.liveChunks, bytes, peak, steps, collections: m.collections - start, detail };
      if (census.includes(phase) && !census.includes('--peak')) entry.census = describeCensus(await text('xs32.census()'), markChunks, lines);
      if (peakCensuses.length) entry.census = peakCensuses.splice(0).join('\n');
      phases.push(entry);
    }
    const last = phases[phases.length - 1]!;
    return { phases, peak: Math.max(...phases.map((p) => p.peak)), steady: last.bytes, mark, modules: modules.length, collections: last.collections, flash: { used: flash.used, refused: flash.full } };
  } finally {
    await worker.close();
  }
}

/** For each line of the bundle, the source file it comes from (esbuild marks each module with a "// path" line). */
function sourceFiles(lines: string[]): string[] {
  const out: string[] = [];
  let file = '?';
  for (const line of lines) {
    const m = /^\s*\/\/ ((?:src|hosts|scripts|node_modules)\/\S+\.[jt]s)$/.exec(line);
    if (m) file = m[1]!;
    out.push(file);
  }
  return out;
}

/** Where a census name comes from: the file of its first "@line" (the class, or the holder's class). */
function areaOf(name: string, files: string[]): string {
  const at = /@(\d+)/.exec(name);
  const file = at ? files[Number(at[1]) - 1] ?? '?' : '?';
  return file.split('/').slice(0, file.startsWith('src/') && file.split('/').length > 2 ? 2 : 2).join('/');
}

/**
 * xs32.census() as a table: bytes (16 per slot plus chunks), instances, slots, chunk bytes and the
 * class (a function's or constructor's bundle line shown as the source file), most bytes first; then
 * the bytes by source folder.
 */
function describeCensus(census: string, markChunks: number, lines: string[]): string {
  const files = sourceFiles(lines);
  const rows = census.trim().split('\n');
  const [, slots, chunks] = rows.shift()!.split(' ').map(Number);
  const out = [`${slots! * 16 + chunks! - markChunks} bytes new: ${slots} slots, ${chunks! - markChunks} chunk bytes`];
  const areas = new Map<string, number>();
  for (const row of rows) {
    const [count, s, c, ...rest] = row.split(' ');
    const raw = rest.join(' ');
    const bytes = Number(s) * 16 + Number(c);
    const area = areaOf(raw, files);
    areas.set(area, (areas.get(area) ?? 0) + bytes);
    let name = raw.replace(/@(\d+)/g, (_, n: string) => `@${(files[Number(n) - 1] ?? '?').replace(/^.*\//, '')}`);
    const anonymous = /^fn \(anonymous\)@(\d+)/.exec(raw);
    if (anonymous) name += `  ${(lines[Number(anonymous[1]) - 1] ?? '').trim().slice(0, 80)}`;
    out.push(`${String(bytes).padStart(6)} ${count!.padStart(4)} x ${s!.padStart(4)} slots ${c!.padStart(5)} B  ${name}`);
  }
  out.push('  by source folder (a builtin object counts where its holder is made; ? = not known):');
  for (const [area, bytes] of [...areas].sort((a, b) => b[1] - a[1])) out.push(`${String(bytes).padStart(8)}  ${area}`);
  return out.join('\n');
}

export interface Esp8266Stack {
  /** The most XS stack slots one call from the host into the firmware took during the whole scenario. */
  peak: number;
  /** The same per phase; with `trace`, the frames at the phase's deepest point (xs32.stackTrace() text). */
  phases: { phase: Esp8266Phase; peak: number; trace?: string }[];
}

/**
 * The scenario again, in a worker of xsnap's large heap and stack, with every call from the host into
 * the firmware measured (esp8266-probe.ts): the deepest one, as the stack budgets (stack.ts) measure
 * their operations.
 */
export async function runEsp8266Stack(options: { trace?: boolean } = {}): Promise<Esp8266Stack> {
  const { binary } = await buildXs32({ log: (line) => console.error(line) });
  const { code } = await bundleEsp8266({ stackProbe: true, trace: options.trace });
  const flash = new Esp8266Preferences();
  const worker = new XsWorker({ xs32: true, binary, meterLimit: 0, name: 'xs32-esp8266-stack', onCommand: (r) => flash.handle(r) });
  try {
    await worker.evaluate('xs32.linked(true); xs32.debugInfo(false)');
    await worker.evaluate(code);
    await worker.command(JSON.stringify({ phase: 'setup' }));
    const phases: Esp8266Stack['phases'] = [];
    for (const phase of ESP8266_PHASES) {
      let peak = 0;
      let trace: string | undefined;
      for (let step: string | undefined = phase, n = 0; step && n < 10; n++) {
        const detail = JSON.parse(new TextDecoder().decode((await worker.command(JSON.stringify({ phase: step }))).reply)) as Record<string, unknown>;
        if (Number(detail.stack ?? 0) > peak) {
          peak = Number(detail.stack);
          trace = typeof detail.trace === 'string' ? detail.trace : undefined;
        }
        step = typeof detail.next === 'string' ? detail.next : undefined;
      }
      phases.push(trace ? { phase, peak, trace } : { phase, peak });
    }
    return { peak: Math.max(...phases.map((p) => p.peak)), phases };
  } finally {
    await worker.close();
  }
}

/**
 * esp8266.bytecode.bytes: what the ESP8266 build's own modules take in flash, measured without the
 * SDK. The module is the one the build preloads: our modules bundled by scripts/build/bundle.ts into
 * the start module, exactly as `npm run build -- --target esp8266` packs them. Loaded into the 32-bit
 * XS (as a script, the SDK's modules and our native ones stand-ins) and collected: its bytecode
 * (string literals inline) plus 16 bytes per slot of the functions, classes, module-level objects and
 * property names it makes, which is what xsl preloads into flash on a device (mc.xs.c). The SDK's own
 * modules and XS's built-ins are not in it. docs/flash.md has the calibration against the linked
 * image and where ESP8266_FLASH_JS_LIMIT_BYTES comes from.
 */
export async function measureEsp8266Bytecode(): Promise<number> {
  const { binary } = await buildXs32({ log: (line) => console.error(line) });
  const out = mkdtempSync(join(tmpdir(), 'esp8266-bundle-'));
  let code: string;
  try {
    const device = await bundleDevice('esp', out);
    ({ code } = await bundleForXs(
      // kept reachable, so it stays loaded (a device keeps it in flash)
      { contents: `import * as start from ${JSON.stringify(device.file)};\n(globalThis as Record<string, unknown>).esp8266Modules = [start];`, resolveDir: out, sourcefile: 'esp8266-device-bundle.ts' },
      { plugins: [nativeModulesByName(device.ownImports), sdkStandIns] },
    ));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const worker = new XsWorker({ xs32: true, binary, meterLimit: 0, name: 'xs32-esp8266-modules' });
  try {
    // as a device's release build links them: no line numbers, functions made as xsl makes them
    await worker.evaluate('xs32.linked(true); xs32.debugInfo(false); xs32.exactPeak(true)');
    const before = xs32Of((await worker.evaluate('gc()')).meter);
    await worker.evaluate(code);
    const after = xs32Of((await worker.evaluate('gc()')).meter);
    return (after.liveSlots - before.liveSlots) * after.slotSize + after.liveChunks - before.liveChunks;
  } finally {
    await worker.close();
  }
}

/** The device bundle imports our native modules by name (hosts/moddable/native/sysinfo): their files, natives stubbed by sdkStandIns. */
function nativeModulesByName(files: Map<string, string>): Plugin {
  return {
    name: 'native-modules-by-name',
    setup(b) {
      b.onResolve({ filter: /^(src|hosts)\// }, (args) => {
        const file = files.get(args.path);
        return file ? { path: file } : undefined;
      });
    },
  };
}

/**
 * esp8266.bytecode.bytes at which the linked ESP8266 image would leave 160 KB (163,840 bytes) of its
 * 1,044,464-byte flash code area free, by the calibration against the linked image in docs/flash.md:
 * flash code used = 526,951 + 0.902 x the figure while the C side stays as it is (recalibrate, by a
 * link, when it changes). The image meets it, so it is the figure's limit.
 */
export const ESP8266_FLASH_JS_LIMIT_BYTES = 392_099;

export async function measureEsp8266(): Promise<Figure[]> {
  const m = await runEsp8266();
  const stack = await runEsp8266Stack();
  const bytecode = await measureEsp8266Bytecode();
  return [
    { name: 'esp8266.heap-peak.bytes32', value: m.peak, unit: 'bytes', limit: ESP8266_PEAK_TARGET_BYTES },
    { name: 'esp8266.heap-steady.bytes32', value: m.steady, unit: 'bytes' },
    { name: 'esp8266.stack-peak.scenario', value: stack.peak, unit: 'slots', limit: STACK_LIMIT_SLOTS },
    { name: 'esp8266.bytecode.bytes', value: bytecode, unit: 'bytes', limit: ESP8266_FLASH_JS_LIMIT_BYTES },
  ];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--census');
  const census = at < 0 ? [] : process.argv.slice(at + 1);
  const started = Date.now();
  // --no-cap: no fixed heap, to see how far over it a run goes
  const m = await runEsp8266({ census, heapBytes: process.argv.includes('--no-cap') ? 0 : undefined });
  console.log(`${m.modules} modules of the ESP8266 build loaded, ${m.mark} bytes at the mark (left out); ${m.collections} collections; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log('phase         live after    peak during');
  for (const p of m.phases) {
    const steps = p.steps.length > 1 ? `  steps: ${p.steps.map((s) => `${s.step} ${s.peak}`).join(', ')}` : '';
    console.log(`${p.phase.padEnd(10)} ${String(p.bytes).padStart(8)} ${String(p.peak).padStart(12)}   ${JSON.stringify(p.detail)}${steps}`);
    if (p.census) console.log(p.census.replace(/^/gm, '    '));
  }
  console.log(`peak ${m.peak} bytes (target ${ESP8266_PEAK_TARGET_BYTES}), steady ${m.steady} bytes; flash preferences ${m.flash.used} of ${Esp8266Preferences.SECTOR_BYTES} bytes, ${m.flash.refused} writes refused`);
  const stack = await runEsp8266Stack({ trace: process.argv.includes('--trace') });
  console.log(`XS stack: at most ${stack.peak} slots of ${STACK_LIMIT_SLOTS} (${stack.phases.map((p) => `${p.phase} ${p.peak}`).join(', ')})`);
  for (const p of stack.phases) if (p.trace) console.log(`  ${p.phase}, deepest point, innermost first:\n${p.trace.replace(/^/gm, '    ')}`);
}
