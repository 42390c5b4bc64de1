// Stack budgets: the most XS stack slots the firmware uses in one call from the host, per operation,
// measured in the 32-bit worker (scripts/xs32) with scripts/budgets/firmware-stack.bench.ts. Unlike
// the other budgets, these have a hard limit: the ESP8266's XS stack is 256 slots (Moddable's esp
// manifest), and past it XS aborts the whole machine ("stack overflow"), so a figure over the limit
// fails `npm run budgets:check` whatever the baseline says.
import { createPrivateKey } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForXs } from '../../hosts/xs/bundle';
import { XsWorker } from '../../hosts/xs/worker';
import { hexDecode } from '../../src/text/hex';
import { signJob } from '../fleet/sign';
import { buildXs32 } from '../xs32/build';
import type { Figure } from './budgets';

const here = dirname(fileURLToPath(import.meta.url));

/** The ESP8266's XS stack, slots (creation.stack of Moddable's build/devices/esp/manifest.json). */
export const ESP8266_STACK_SLOTS = 256;
/**
 * Slots kept free for what the bench does not run: the device's own frames around the firmware's. At
 * the top, the runtime's call into JavaScript (xsBeginHost and the call: 12 slots) and the adapter's
 * callback (QueuedTcpSocket's onReadable arrow, the Timer callback of hosts/moddable/clock.ts); at the
 * bottom, the adapters below a port call: the Preference store (kv-chunks.ts) writing a chunked value,
 * QueuedTcpSocket.write and its flush into the native socket. Measured on this worker (stack.ts
 * hostFrames): see docs/xs.md. The rest of the margin is for code that changes between measurements.
 */
export const HOST_MARGIN_SLOTS = 64;
/** The most slots one operation may use: over it, budgets:check fails. */
export const STACK_LIMIT_SLOTS = ESP8266_STACK_SLOTS - HOST_MARGIN_SLOTS;

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

/** Stack peaks per operation, from one booted device in the 32-bit worker. */
export async function measureStack(): Promise<Figure[]> {
  const { binary } = await buildXs32({ log: (line) => console.error(line) });
  const { code } = await bundleForXs(join(here, 'firmware-stack.bench.ts'), { define: { OTA_JOB: JSON.stringify(benchOtaJob()) } });
  const worker = new XsWorker({ xs32: true, binary, meterLimit: 0, name: 'xs32-stack' });
  try {
    await worker.evaluate(code);
    const out: Figure[] = [];
    for (const op of STACK_OPERATIONS) {
      const { reply } = await worker.command(JSON.stringify({ op }));
      const { peak } = JSON.parse(new TextDecoder().decode(reply)) as { peak: number };
      out.push({ name: `firmware.stack-peak.${op}`, value: peak, unit: 'slots', limit: STACK_LIMIT_SLOTS });
    }
    return out;
  } finally {
    await worker.close();
  }
}
