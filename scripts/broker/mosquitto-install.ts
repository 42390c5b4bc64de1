// Finds the mosquitto broker binary, installing it with apt-get when running as root.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export class MosquittoMissingError extends Error {
  override name = 'MosquittoMissingError';
  readonly code = 'EMOSQUITTOMISSING';
}

const installHint =
  'install it first: `sudo apt-get install -y mosquitto mosquitto-clients` (Debian/Ubuntu), ' +
  '`brew install mosquitto` (macOS), or put the mosquitto binary on PATH';

/** Absolute path of an executable found on PATH or in the sbin folders, or undefined. */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function aptInstall(): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'mosquitto', 'mosquitto-clients'], { env, stdio: 'pipe' });
  try {
    install();
  } catch {
    // Usually an empty or stale package index: refresh it once and retry.
    execFileSync('apt-get', ['update'], { env, stdio: 'pipe' });
    install();
  }
}

/**
 * Returns the path of the mosquitto binary: $MOSQUITTO when set, else from PATH or the sbin folders,
 * installing it with apt-get when missing and running as root.
 */
export function ensureMosquitto(): string {
  const override = process.env.MOSQUITTO;
  if (override) {
    if (existsSync(override)) return override;
    throw new MosquittoMissingError(`MOSQUITTO is set to "${override}", which does not exist: fix the path or unset MOSQUITTO.`);
  }
  let path = findTool('mosquitto');
  if (path) return path;
  const root = process.getuid?.() === 0;
  if (!root || !findTool('apt-get')) throw new MosquittoMissingError(`The tests need the mosquitto MQTT broker: ${installHint}.`);
  try {
    aptInstall();
  } catch (error) {
    throw new MosquittoMissingError(`Installing mosquitto with apt-get failed (${(error as Error).message.split('\n')[0]}); ${installHint}.`);
  }
  path = findTool('mosquitto');
  if (!path) throw new MosquittoMissingError(`apt-get finished but no mosquitto binary was found; ${installHint}.`);
  return path;
}

/** Path of mosquitto_passwd (ships with the mosquitto package), or a clear error. */
export function ensureMosquittoPasswd(): string {
  ensureMosquitto();
  const path = findTool('mosquitto_passwd');
  if (!path) throw new MosquittoMissingError(`mosquitto_passwd was not found (it ships with mosquitto); ${installHint}.`);
  return path;
}
