// The operator's side in OTA tests: a signing key on disk, simulator images, an MQTT.js observer of
// the devices' retained reports, and the fleet CLI run as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSimImage, type SimImageBehaviour } from '../../hosts/sim/bootloader';
import { generateKey } from '../../scripts/fleet/keys';

export interface OperatorKey {
  file: string;
  publicHex: string;
}

export function writeOperatorKey(dir: string): OperatorKey {
  const key = generateKey();
  const file = join(dir, 'fleet-key.pem');
  writeFileSync(file, key.privatePem, { mode: 0o600 });
  return { file, publicHex: key.publicHex };
}

export function writeImage(dir: string, version: string, behaviour: SimImageBehaviour = 'ok', size = 128 * 1024, board?: string): string {
  const file = join(dir, `fw-${version}-${behaviour}${board ? `-${board}` : ''}.bin`);
  writeFileSync(file, buildSimImage({ version, behaviour, board }, size));
  return file;
}

export interface CliRun {
  child: ChildProcess;
  output(): string;
  /** Exit code (signal kills give 128 + n). */
  exit: Promise<number>;
}

/**
 * Runs `node --import tsx scripts/fleet.ts ...args` (one process, so a kill reaches the tool itself,
 * not a wrapper) with a hard time limit.
 */
export function fleetCli(args: string[], timeoutMs = 60_000): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/fleet.ts', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (b) => (text += b));
  child.stderr!.on('data', (b) => (text += b));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    }),
  );
  return { child, output: () => text, exit };
}
