// The process limits a large fleet runs into: every device holds a TCP connection, so one process
// needs a file descriptor per device, and more for itself. Checked at start so that a fleet too large
// for the limit fails with the fix instead of devices failing one by one with EMFILE.
import { readFileSync } from 'node:fs';

/** Descriptors the simulator uses besides the devices' sockets (stdio, broker, dashboard, OTA downloads, files). */
export const DESCRIPTOR_MARGIN = 256;

export class SimLimitError extends Error {
  override name = 'SimLimitError';
  readonly code = 'EMFILE';
}

/** This process's soft limit on open files (Linux: /proc/self/limits), or undefined where unknown. */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') return Infinity;
    const n = Number(soft);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Throws SimLimitError, saying how to raise the limit, when `devices` sockets would not fit. */
export function checkDescriptorLimit(devices: number, limit = openFileLimit()): void {
  if (limit === undefined) return;
  const needed = devices + DESCRIPTOR_MARGIN;
  if (needed <= limit) return;
  const fits = Math.max(0, limit - DESCRIPTOR_MARGIN);
  throw new SimLimitError(
    `${devices.toLocaleString('en-US')} devices need about ${needed.toLocaleString('en-US')} open files (a socket each), but this process may open ${limit.toLocaleString('en-US')}: ` +
      `raise the limit before starting (\`ulimit -n ${Math.ceil((needed * 1.1) / 1000) * 1000}\`; above the hard limit as root, or in /etc/security/limits.conf), ` +
      `or run fewer devices per process with --shard (${fits.toLocaleString('en-US')} fit in one)`,
  );
}
