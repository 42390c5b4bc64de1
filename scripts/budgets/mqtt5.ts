// MQTT 5 and WebSocket budgets on XS (scripts/budgets/mqtt5.bench.ts), beside the MQTT 3.1.1 ones of
// scripts/budgets/budgets.ts: bundle sizes of a firmware that uses them, computrons and slots per operation.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForXs } from '../../hosts/xs/bundle';
import { XsBench } from '../../hosts/xs/meter';
import type { Figure } from './figure';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

const BUNDLES: { name: string; entry: string }[] = [
  { name: 'bundle.mqtt5-client.min', entry: join(here, 'mqtt5-client.entry.ts') },
  { name: 'bundle.mqtt-client-ws.min', entry: join(here, 'mqtt-client-ws.entry.ts') },
  { name: 'bundle.websocket.min', entry: join(root, 'src/transport/websocket.ts') },
];

export async function measureMqtt5(): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const b of BUNDLES) out.push({ name: b.name, value: (await bundleForXs(b.entry, { minify: true })).bytes, unit: 'bytes' });
  const bench = await XsBench.load(join(here, 'mqtt5.bench.ts'));
  try {
    const c = async (name: string, benchName = name) => out.push({ name, value: await bench.computrons(benchName), unit: 'computrons' });
    await c('mqtt5.codec.publish-props.encode', 'codec5.publish-props.encode');
    await c('mqtt5.codec.publish-props.parse', 'codec5.publish-props.parse');
    const empty = await bench.heap();
    await bench.exercise('client5.connect', 1);
    out.push({ name: 'mqtt5.client.heap-connected', value: (await bench.heap()) - empty, unit: 'slots' });
    for (const op of ['publish-qos0', 'inbound-qos0', 'qos1-round']) {
      await c(`mqtt5.client.${op}`, `client5.${op}`);
      const use = await bench.slots(`client5.${op}`);
      out.push({ name: `mqtt5.client.garbage.${op}`, value: use.garbage, unit: 'slots' });
      out.push({ name: `mqtt5.client.retained.${op}`, value: use.retained, unit: 'slots' });
    }
    for (const op of ['publish-qos0', 'inbound-qos0']) {
      await c(`websocket.client.${op}`, `ws.client.${op}`);
      out.push({ name: `websocket.client.garbage.${op}`, value: (await bench.slots(`ws.client.${op}`)).garbage, unit: 'slots' });
    }
    return out;
  } finally {
    await bench.close();
  }
}
