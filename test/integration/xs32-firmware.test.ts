// The firmware on the 32-bit XS worker (scripts/xs32), against an ESP8266's limits: its XS stack of
// 256 slots (Moddable's esp manifest) and its 32 KB heap.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleForXs } from '../../hosts/xs/bundle';
import { XsWorker } from '../../hosts/xs/worker';
import { ESP8266_HEAP_BYTES, runFirmware32 } from '../../scripts/budgets/firmware32';
import { DEVICE_STACK_ROOTS, ESP8266_STACK_SLOTS, STACK_LIMIT_SLOTS, STACK_OPERATIONS, stackPeaks } from '../../scripts/budgets/stack';

const here = dirname(fileURLToPath(import.meta.url));
const workers: XsWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

describe('the firmware within an ESP8266', () => {
  it('boot, a telemetry cycle, ping, get-config, set-config, an OTA job and a reconnect each fit the 256-slot XS stack, with the margin', async () => {
    const peaks = await stackPeaks();
    expect(peaks.map((p) => p.operation)).toEqual([...STACK_OPERATIONS]);
    const over = peaks.filter((p) => p.peak > STACK_LIMIT_SLOTS).map((p) => `${p.operation}: ${p.peak} slots`);
    expect(over, `over the ${STACK_LIMIT_SLOTS}-slot limit (npx tsx scripts/budgets/stack.ts --trace <operation> names the frames)`).toEqual([]);
  });

  it('a long OTA job and a long non-ASCII command decode within a 256-slot stack', async () => {
    // A machine with the room an ESP8266 leaves: 256 slots less the 13 roots a device's (cloned)
    // machine keeps on its stack; xsnap's keeps `stackBase`. The text decoders once put 1,024 (4,096)
    // code units on the stack at once, as the arguments of String.fromCharCode.apply.
    const probe = new XsWorker({ xs32: true });
    workers.push(probe);
    const stackBase = (await probe.evaluate('1')).meter.xs32!.stackBase;
    const stack = ESP8266_STACK_SLOTS - DEVICE_STACK_ROOTS + stackBase;
    const worker = new XsWorker({ xs32: true, creation: { chunk: 1 << 20, chunkIncrement: 1 << 20, heap: 1 << 16, heapIncrement: 1 << 16, stack } });
    workers.push(worker);
    const { code } = await bundleForXs({
      resolveDir: here,
      sourcefile: 'decode-entry.ts',
      contents: [
        "import { utf8Decode } from '../../src/text/utf8';",
        "import { decodeUtf8 } from '../../src/mqtt/utf8';",
        'const job = new Uint8Array(2048).fill(0x61);',
        // "é" is two bytes in UTF-8: no engine shortcut, the JavaScript decoder does it all
        'const command = new Uint8Array(2048).map((_, i) => (i % 2 ? 0xa9 : 0xc3));',
        '(globalThis as Record<string, unknown>).decodeJob = () => utf8Decode(job).length;',
        "(globalThis as Record<string, unknown>).decodeCommand = () => decodeUtf8(command, 0, command.length, 'command').length;",
      ].join('\n'),
    });
    await worker.evaluate(code);
    const decoded = async (call: string) => new TextDecoder().decode((await worker.evaluate(`new TextEncoder().encode(String(${call})).buffer`)).reply);
    expect(await decoded('decodeJob()')).toBe('2048');
    expect(await decoded('decodeCommand()')).toBe('1024');
  });

  it('runs boot and 1,000 telemetry intervals in a fixed heap of an ESP8266, with room to spare', async () => {
    const m = await runFirmware32();
    expect(m.collections).toBeGreaterThan(100); // the device's small heap increments make XS collect as a device does
    expect(m.peak).toBeGreaterThanOrEqual(m.steady.bytes);
    expect(m.peak).toBeLessThanOrEqual(ESP8266_HEAP_BYTES);
    expect(m.steady.bytes - m.boot.bytes).toBeLessThan(1024); // the steady state holds about what boot did
  });
});
