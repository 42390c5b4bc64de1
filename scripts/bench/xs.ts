// Deterministic budgets on the real XS engine (computrons, heap slots, bundle sizes), from
// scripts/budgets/budgets.ts, with the goals of the project next to them.
import { measureAll } from '../budgets/budgets';
import type { BenchResult } from './result';

const GOALS: Record<string, string> = {
  'mqtt.client.publish-qos0': '<= 400 (Moddable 711)',
  'mqtt.client.inbound-qos0': '<= 1,000 (Moddable 3,358)',
  'mqtt.client.qos1-round': '<= 1,200 (Moddable 1,714)',
  'mqtt.client.garbage.': '<= 10 per operation',
  'bundle.mqtt-client.min': '<= 8,192',
  'firmware.heap-steady.bytes32': '<= 24,576',
  'firmware.heap-peak.live32': '<= 24,576 (an ESP8266 stops at 28,672)',
  'firmware.stack-peak.': '<= 224 of the ESP8266\'s 256 slots',
  'esp8266.heap-peak.bytes32': '<= 24,576 (an ESP8266 stops at 28,672)',
  'esp8266.bytecode.bytes': '<= 423,157 (160 KB of the linked image\'s flash code area free; docs/flash.md)',
  'esp8266.stack-peak.scenario': '<= 224 of the ESP8266\'s 256 slots',
};

export async function xsBench(): Promise<BenchResult[]> {
  const figures = await measureAll();
  return figures.map((f) => {
    const goal = Object.entries(GOALS).find(([k]) => (k.endsWith('.') ? f.name.startsWith(k) : f.name === k));
    return { name: `XS: ${f.name}`, value: f.value, unit: f.unit, target: goal?.[1] };
  });
}
