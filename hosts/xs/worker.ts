// A small driver for the xsnap-worker binary (the Moddable XS engine from @agoric/xsnap), without the
// package's JS API (which would impose SES lockdown on this Node process). The worker reads netstring
// commands on fd 3 and answers on fd 4; while it runs a delivery it may call the parent synchronously
// through issueCommand, which blocks XS until we answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import {
  XsClosedError,
  XsError,
  XsCommandHandlerError,
  XsExceptionError,
  XsExitError,
  XsMemoryFullError,
  XsMeterLimitError,
  XsProtocolError,
  XsStackOverflowError,
  XsTimeoutError,
} from './errors';
import { NetstringReader, netstring } from './netstring';

/** Per-delivery meter record from xsnap (meterType xs-meter-36). */
export interface MeterRecord {
  /** Computrons spent by this delivery: deterministic for the same code and input. */
  compute: number;
  /** Reserved arena bytes (not usage). */
  allocate: number;
  /** Slots in use now: live plus garbage not yet collected (call gc() first for live only). */
  currentHeapCount: number;
  /** The 32-bit worker's measurements (XsWorkerOptions.xs32); undefined from the npm worker. */
  xs32?: Xs32Meter;
}

/** What the 32-bit worker (scripts/xs32) adds to each meter record. */
export interface Xs32Meter {
  /** Slots the machine keeps at the top of its stack (xsnap's: the intrinsics; a device's clone: 13 roots). */
  stackBase: number;
  /** Most stack slots this delivery used below the level where it began (xsnap's host frame included). */
  stackPeak: number;
  /** Bytes of a slot: 16 in the 32-bit build, as on an ESP8266 or ESP32. */
  slotSize: number;
  /** Garbage collections since the machine started, and how many of them compacted the chunks. */
  collections: number;
  compactions: number;
  /** Live slots after the last collection. */
  liveSlots: number;
  /** Live chunk bytes (headers included) after the last compacting collection. */
  liveChunks: number;
  /** The most live bytes (liveSlots x slotSize + liveChunks) after any collection since xs32.resetPeak(). */
  livePeak: number;
}

/**
 * XS creation values (xsCreation): chunk heap bytes and slot counts at start and per growth, and the
 * stack in slots. Moddable's esp manifest: {chunk: 1536, chunkIncrement: 512, heap: 512,
 * heapIncrement: 64, stack: 256}. An increment of 0 makes that heap fixed: XS aborts when it is full.
 */
export interface XsCreation {
  chunk: number;
  chunkIncrement: number;
  heap: number;
  heapIncrement: number;
  stack: number;
}

export interface Delivery {
  /** The ArrayBuffer XS returned (evaluate: completion value when it is an ArrayBuffer; command: handleCommand's result). */
  reply: Uint8Array;
  meter: MeterRecord;
  /** Lines print()ed during this delivery. */
  output: string[];
}

/** Answers an issueCommand(ArrayBuffer) from XS; XS waits (blocked) until the answer is written. */
export type CommandHandler = (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export interface XsWorkerOptions {
  /** Computrons allowed per delivery (xsnap -l); 0 for no limit. Default 100,000,000. */
  meterLimit?: number;
  onCommand?: CommandHandler;
  /** Called with each print() line as it arrives (besides Delivery.output). */
  onPrint?: (line: string) => void;
  /** Kills the worker when a delivery takes longer (wall time). Default 60,000 ms. */
  timeoutMs?: number;
  /** Path of xsnap-worker; default XSNAP_WORKER from the environment, then the installed package. */
  binary?: string;
  /** Name shown in `ps` (argv[0] of the worker). */
  name?: string;
  /**
   * Runs the 32-bit measuring worker that scripts/xs32/build.ts builds (`binary`, or XS32_WORKER from
   * the environment): 16-byte slots as on the device, stack depth and live memory in every meter
   * record (MeterRecord.xs32), and the global `xs32` inside (hosts/xs/in-xs/globals.ts).
   */
  xs32?: boolean;
  /** Creation values of the machine (xs32 only); default xsnap's: 32 MB chunks, 256K slots, 4096 stack slots. */
  creation?: XsCreation;
}

export const DEFAULT_METER_LIMIT = 100_000_000;
const MAX_METER_LIMIT = 2 ** 31 - 1; // xsnap parses -l with atoi

/** The 32-bit worker: XS32_WORKER from the environment (scripts/xs32/build.ts and the test setup set it). */
export function xs32WorkerPath(): string {
  const path = process.env.XS32_WORKER;
  if (path && existsSync(path)) return path;
  throw new XsExitError(
    null,
    null,
    'start',
    `the 32-bit xsnap-worker is not built${path ? ` (XS32_WORKER names ${path}, which does not exist)` : ''}: ` +
      'build it with `npx tsx scripts/xs32/build.ts` and pass its path as `binary` or XS32_WORKER (npm test does this)',
  );
}

export function xsnapWorkerPath(): string {
  const fromEnv = process.env.XSNAP_WORKER;
  if (fromEnv) return fromEnv;
  const path = fileURLToPath(
    new URL('../../node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker', import.meta.url),
  );
  if (!existsSync(path)) {
    throw new XsExitError(
      null,
      null,
      'start',
      `xsnap-worker not found at ${path}; run npm install (the @agoric/xsnap install script builds it) or set XSNAP_WORKER`,
    );
  }
  return path;
}

type Pending = {
  what: string;
  resolve: (delivery: Delivery) => void;
  reject: (error: Error) => void;
  output: string[];
  stderrStart: number;
  handlerError?: unknown;
  timer?: NodeJS.Timeout;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class XsWorker {
  readonly meterLimit: number;
  private readonly child: ChildProcess;
  private readonly toXs: Writable;
  private readonly reader = new NetstringReader();
  private readonly onCommand?: CommandHandler;
  private readonly onPrint?: (line: string) => void;
  private readonly timeoutMs: number;
  private readonly xs32: boolean;
  private queue: Promise<unknown> = Promise.resolve();
  private pending?: Pending;
  /** Where print() lines go: the current delivery's, kept until it settles. */
  private printTarget?: string[];
  private stdoutRest = '';
  private stderrText = '';
  private exit?: { code: number | null; signal: string | null };
  private readonly exited: Promise<void>;
  private lastDeliveryFailed = false;
  private closing = false;
  private killed = false;

  constructor(options: XsWorkerOptions = {}) {
    const limit = options.meterLimit ?? DEFAULT_METER_LIMIT;
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_METER_LIMIT) {
      throw new RangeError(`meterLimit must be an integer from 0 (no limit) to ${MAX_METER_LIMIT}, got ${limit}`);
    }
    this.meterLimit = limit;
    this.onCommand = options.onCommand;
    this.onPrint = options.onPrint;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.xs32 = options.xs32 ?? false;
    if (options.creation && !this.xs32) throw new RangeError('creation values need the 32-bit worker (xs32: true): the npm worker ignores them');
    const env = { ...process.env };
    delete env.XSNAP_CREATION;
    if (options.creation) env.XSNAP_CREATION = creationSpec(options.creation);
    const args = [options.name ?? 'xs-firmware', ...(limit ? ['-l', String(limit)] : [])];
    const binary = options.binary ?? (this.xs32 ? xs32WorkerPath() : xsnapWorkerPath());
    this.child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], env });
    this.toXs = this.child.stdio[3] as Writable;
    const fromXs = this.child.stdio[4] as Readable;
    this.toXs.on('error', () => {}); // EPIPE after the worker died; the exit handler reports it
    fromXs.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => this.onStdout(text));
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.stderrText = (this.stderrText + text).slice(-1_000_000)));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        // Let the last stdout/stderr chunks arrive before reporting.
        setImmediate(() => {
          this.failPending();
          resolve();
        });
      });
      this.child.once('error', (error) => {
        this.exit = { code: null, signal: null };
        this.stderrText += error.message;
        this.failPending();
        resolve();
      });
    });
  }

  get running(): boolean {
    return !this.exit && !this.closing && !this.killed;
  }

  /** Evaluates script source (global eval). Resolves with the completion value when it is an ArrayBuffer. */
  evaluate(source: string): Promise<Delivery> {
    return this.deliver('e', encoder.encode(source), `evaluate(${abbreviate(source)})`);
  }

  /** Runs a script file (path as the worker sees it). XS prints the error text of a failure on stderr. */
  runFile(path: string): Promise<Delivery> {
    return this.deliver('s', encoder.encode(path), `runFile(${path})`);
  }

  /** Calls globalThis.handleCommand(ArrayBuffer) inside XS; resolves with the ArrayBuffer it returns. */
  command(bytes: Uint8Array | string): Promise<Delivery> {
    const payload = typeof bytes === 'string' ? encoder.encode(bytes) : bytes;
    return this.deliver('?', payload, `command(${payload.length} bytes)`);
  }

  /**
   * Ends the worker politely once queued deliveries are done (waiting at most `graceMs` for them and
   * for the exit, then killing it); resolves with its exit status.
   */
  async close(graceMs = 5000): Promise<number | null> {
    if (!this.exit && !this.closing) {
      this.closing = true;
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([this.queue.catch(() => {}), grace]);
      if (this.pending) this.kill();
      else if (!this.exit) {
        this.toXs.write(netstring(encoder.encode('q')));
        this.toXs.end();
      }
      await Promise.race([this.exited, grace.then(() => this.kill())]);
      clearTimeout(timer);
    }
    await this.exited;
    const code = this.exit?.code ?? null;
    // xsnap exits 15 when the last delivery threw; that error was already reported to its caller.
    return code === XsExceptionError.exitCode && this.lastDeliveryFailed ? 0 : code;
  }

  /** Writes a snapshot of the machine to `path` (xsnap collects garbage first). */
  snapshot(path: string): Promise<Delivery> {
    return this.deliver('w', new TextEncoder().encode(path), `snapshot(${path})`);
  }

  kill(): void {
    this.killed = true;
    if (!this.exit) this.child.kill('SIGKILL');
  }

  private deliver(kind: string, payload: Uint8Array, what: string): Promise<Delivery> {
    const run = (): Promise<Delivery> =>
      new Promise<Delivery>((resolve, reject) => {
        if (this.exit || this.killed) return reject(new XsClosedError(what));
        this.stderrText = this.stderrText.slice(-8192);
        const pending: Pending = { what, resolve, reject, output: [], stderrStart: this.stderrText.length };
        this.pending = pending;
        this.printTarget = pending.output;
        if (this.timeoutMs > 0) {
          pending.timer = setTimeout(() => {
            if (this.pending !== pending) return;
            this.pending = undefined;
            reject(new XsTimeoutError(this.timeoutMs, what));
            this.kill();
          }, this.timeoutMs);
        }
        this.toXs.write(netstring(concat(encoder.encode(kind), payload)));
      });
    if (this.closing) return Promise.reject(new XsClosedError(what));
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  private onData(chunk: Buffer): void {
    let messages: Uint8Array[];
    try {
      messages = this.reader.push(chunk);
    } catch (error) {
      this.fail(error as Error);
      this.kill();
      return;
    }
    for (const message of messages) this.onMessage(message);
  }

  private onMessage(message: Uint8Array): void {
    const pending = this.pending;
    if (!pending) {
      this.kill();
      return;
    }
    const tag = message[0];
    if (tag === 0x3f /* ? */) {
      void this.answer(pending, message.subarray(1));
    } else if (tag === 0x2e /* . */) {
      const split = message.indexOf(1, 1);
      let meter: MeterRecord;
      try {
        meter = parseMeter(message.subarray(1, split < 0 ? message.length : split), this.xs32);
      } catch (error) {
        this.fail(error as Error);
        this.kill();
        return;
      }
      const reply = split < 0 ? new Uint8Array(0) : message.slice(split + 1);
      this.settle(pending, () => {
        this.lastDeliveryFailed = pending.handlerError !== undefined;
        if (pending.handlerError !== undefined) {
          const error = new XsCommandHandlerError(pending.handlerError, pending.what);
          error.output = pending.output;
          pending.reject(error);
        }
        else pending.resolve({ reply, meter, output: pending.output });
      });
    } else if (tag === 0x21 /* ! */) {
      this.settle(pending, () => {
        this.lastDeliveryFailed = true;
        let text = decoder.decode(message.subarray(1));
        // runFile failures carry no text in the reply; XS wrote it to stderr.
        if (!text) text = this.stderrText.slice(pending.stderrStart).trim() || 'unknown exception (XS wrote nothing on stderr)';
        const error = new XsExceptionError(text, pending.what);
        error.output = pending.output;
        pending.reject(error);
      });
    } else {
      this.fail(new XsProtocolError(`unexpected reply tag ${JSON.stringify(String.fromCharCode(tag ?? 0))}`));
      this.kill();
    }
  }

  private async answer(pending: Pending, request: Uint8Array): Promise<void> {
    let reply: Uint8Array = new Uint8Array(0);
    if (this.onCommand) {
      try {
        reply = await this.onCommand(request);
      } catch (error) {
        pending.handlerError ??= error;
      }
    } else {
      pending.handlerError ??= new Error('XS called issueCommand but this worker has no onCommand handler');
    }
    if (!this.exit) this.toXs.write(netstring(concat(encoder.encode('/'), reply)));
  }

  /** Completes a delivery after the print() lines written before its reply have been read. */
  private settle(pending: Pending, finish: () => void): void {
    this.pending = undefined;
    clearTimeout(pending.timer);
    // The worker flushes stdout before it writes the reply, so both pipes were readable in the same
    // poll phase; setImmediate runs after that phase has delivered the stdout data.
    setImmediate(() => {
      if (this.printTarget === pending.output) this.printTarget = undefined;
      finish();
    });
  }

  private onStdout(text: string): void {
    const lines = (this.stdoutRest + text).split('\n');
    this.stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      this.printTarget?.push(line);
      this.onPrint?.(line);
    }
  }

  private fail(error: Error): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if (error instanceof XsError) error.output = pending.output;
    pending.reject(error);
  }

  private failPending(): void {
    const pending = this.pending;
    if (!pending) return;
    const { code, signal } = this.exit ?? { code: null, signal: null };
    if (code === XsMeterLimitError.exitCode) this.fail(new XsMeterLimitError(this.meterLimit, pending.what));
    else if (code === XsMemoryFullError.exitCode) this.fail(new XsMemoryFullError(pending.what, this.stderrText));
    else if (code === XsStackOverflowError.exitCode) this.fail(new XsStackOverflowError(pending.what, this.stderrText));
    else this.fail(new XsExitError(code, signal, pending.what, this.stderrText));
  }
}

const XS32_FIELDS = ['stackBase', 'stackPeak', 'slotSize', 'collections', 'compactions', 'liveSlots', 'liveChunks', 'livePeak'] as const;

function parseMeter(bytes: Uint8Array, xs32: boolean): MeterRecord {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new XsProtocolError(`unreadable meter record ${JSON.stringify(decoder.decode(bytes))}`);
  }
  const meter: MeterRecord = { compute: record.compute as number, allocate: record.allocate as number, currentHeapCount: record.currentHeapCount as number };
  if (!xs32) return meter;
  const fields: Partial<Xs32Meter> = {};
  for (const name of XS32_FIELDS) {
    if (typeof record[name] !== 'number') throw new XsProtocolError(`the meter record has no ${name}: the binary is not the 32-bit worker of scripts/xs32 (rebuild it)`);
    fields[name] = record[name];
  }
  meter.xs32 = fields as Xs32Meter;
  return meter;
}

function creationSpec(c: XsCreation): string {
  const values = [c.chunk, c.chunkIncrement, c.heap, c.heapIncrement, c.stack];
  if (!values.every((v) => Number.isInteger(v) && v >= 0) || c.chunk <= 0 || c.heap <= 0 || c.stack <= 0) {
    throw new RangeError(`creation values must be whole numbers (sizes above 0, increments 0 or more), got ${JSON.stringify(c)}`);
  }
  return values.join(',');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function abbreviate(source: string): string {
  const flat = source.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 60 ? `${flat.slice(0, 57)}...` : flat);
}
