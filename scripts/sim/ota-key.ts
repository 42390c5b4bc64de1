// The fleet key the simulated devices trust for OTA jobs (the firmware's otaPublicKey). By default a
// signing key lives in the state dir, made on the first run, so `npm start` and the fleet tool
// (`tsx scripts/fleet.ts rollout --key <state-dir>/fleet-key.pem ...`) work together at once.
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey, publicKeyHex, writeKeyFile } from '../fleet/keys';
import { CliError } from './cli';

export interface OtaKey {
  /** 64 hex digits. */
  publicHex: string;
  /** The signing key, when known (the default one, or a PEM given with --ota-key). */
  signingKeyFile?: string;
  created: boolean;
}

export const DEFAULT_KEY_FILE = 'fleet-key.pem';

/** Reads `file` (a PEM private key or a file holding the hex public key), or makes the default key. */
export function loadOtaKey(stateDir: string, file: string | undefined): OtaKey {
  if (file === undefined) {
    const path = join(stateDir, DEFAULT_KEY_FILE);
    if (!existsSync(path)) {
      mkdirSync(stateDir, { recursive: true });
      const key = generateKey();
      writeKeyFile(path, key);
      return { publicHex: key.publicHex, signingKeyFile: path, created: true };
    }
    return { ...read(path), created: false };
  }
  return { ...read(file), created: false };
}

function read(path: string): Omit<OtaKey, 'created'> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`--ota-key ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  if (/^\s*[0-9a-f]{64}\s*$/i.test(text)) return { publicHex: text.trim().toLowerCase() };
  try {
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    return { publicHex: publicKeyHex(key), signingKeyFile: path };
  } catch (error) {
    throw new CliError(`--ota-key ${path} is neither an Ed25519 private key (PEM) nor a public key (64 hex digits): ${(error as Error).message}; make one with \`tsx scripts/fleet.ts keygen --out key.pem\``);
  }
}
