// Ed25519 keys of the fleet: the private key signs jobs (PKCS#8 PEM, kept by the operator), the
// public key goes into the firmware configuration (otaPublicKey, 64 hex digits).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FleetError } from './errors';

export interface GeneratedKey {
  privatePem: string;
  publicHex: string;
}

export function generateKey(): GeneratedKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicHex: publicKeyHex(privateKey) };
}

/** The raw 32-byte public key, as hex, of a private or public Ed25519 key. */
export function publicKeyHex(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('hex');
}

/** Writes the private key (mode 0600) and refuses to overwrite one. */
export function writeKeyFile(path: string, key: GeneratedKey): void {
  if (existsSync(path)) throw new FleetError('key', `${path} exists; remove it first or choose another --out (a lost signing key cannot be recovered)`);
  try {
    writeFileSync(path, key.privatePem, { mode: 0o600, flag: 'wx' });
    writeFileSync(`${path}.pub`, key.publicHex + '\n');
  } catch (error) {
    throw new FleetError('key', `cannot write the key ${path}: ${(error as Error).message}`);
  }
}

export function loadPrivateKey(path: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FleetError('key', `cannot read the signing key ${path}: ${(error as Error).message}; make one with \`fleet keygen --out ${path}\``);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (error) {
    throw new FleetError('key', `${path} is not a PEM private key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new FleetError('key', `${path} holds a ${key.asymmetricKeyType} key; jobs are signed with Ed25519 (\`fleet keygen\`)`);
  return key;
}
