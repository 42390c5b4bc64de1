// The ESP8266 build in the 32-bit XS worker (scripts/xs32) with an ESP8266's fixed heap: its preloaded
// modules loaded and left out, then a first boot with Wi-Fi set-up through the portal and Improv,
// 1,000 telemetry cycles, 100 commands, 20 broker outages with a full persisted outbox, a burst of
// inbound messages and an OTA job (scripts/budgets/esp8266.ts, esp8266.bench.ts).
import { describe, expect, it } from 'vitest';
import { XsMemoryFullError } from '../../hosts/xs/errors';
import { ESP8266_PHASES, ESP8266_PEAK_TARGET_BYTES, runEsp8266, runEsp8266Stack } from '../../scripts/budgets/esp8266';
import { ESP8266_HEAP_BYTES } from '../../scripts/budgets/firmware32';
import { STACK_LIMIT_SLOTS } from '../../scripts/budgets/stack';

describe('the firmware on an ESP8266 through a first boot and weeks of work', () => {
  it('runs every phase in the fixed heap of an ESP8266, at most 24,576 bytes live after any collection', async () => {
    const m = await runEsp8266();
    expect(m.phases.map((p) => p.phase)).toEqual([...ESP8266_PHASES]);
    expect(m.modules).toBeGreaterThan(50); // the build's preloaded modules, from its manifests
    expect(m.mark).toBeGreaterThan(100_000); // their code and objects, left out
    expect(m.collections).toBeGreaterThan(1000); // collections come as on the device
    expect(m.peak).toBeLessThanOrEqual(ESP8266_PEAK_TARGET_BYTES);
    expect(m.steady).toBeLessThan(m.peak);
    // nothing kept for good by the outages, the burst or the job: the end is within 2 KB of the
    // state after joining (the MQTT client's topic cache fills meanwhile)
    expect(m.steady - m.phases.find((p) => p.phase === 'join')!.bytes).toBeLessThan(2048);
    // the persisted outbox fits the ESP8266's 4 KB preference sector
    expect(m.flash.refused).toBe(0);
  });

  it('stops with XsMemoryFullError when the scenario needs more heap than it has: running out is an error', async () => {
    const error = await runEsp8266({ heapBytes: 12_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XsMemoryFullError);
    expect(ESP8266_HEAP_BYTES).toBeGreaterThan(ESP8266_PEAK_TARGET_BYTES);
  });

  it('keeps every call from the host into the firmware within the 256-slot XS stack, with the margin', async () => {
    const s = await runEsp8266Stack();
    expect(s.phases.map((p) => p.phase)).toEqual([...ESP8266_PHASES]);
    const over = s.phases.filter((p) => p.peak > STACK_LIMIT_SLOTS).map((p) => `${p.phase}: ${p.peak} slots`);
    expect(over, `over the ${STACK_LIMIT_SLOTS}-slot limit (npx tsx scripts/budgets/esp8266.ts --trace names the frames)`).toEqual([]);
    expect(s.peak).toBeGreaterThan(100);
  });
});
