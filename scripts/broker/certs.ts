// Test PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1/::1/localhost signed
// by it, a client certificate for mutual TLS, and an unrelated CA for negative tests. EC P-256 keys
// (fast to make, and what ESP32 mbedTLS handles well).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  wrongCaFile: string;
  /** PEM texts of the files above. */
  ca: string;
  wrongCa: string;
  clientCert: string;
  clientKey: string;
}

export class OpensslError extends Error {
  override name = 'OpensslError';
  readonly code = 'EOPENSSL';
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new OpensslError('openssl is not installed: install it (apt-get install openssl) to run TLS tests');
    throw new OpensslError(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

/** Checks that the openssl CLI runs; throws an OpensslError telling what to install otherwise. */
export function ensureOpenssl(): void {
  openssl(['version'], process.cwd());
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string, cn: string): void {
  openssl(
    ['req', '-x509', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '30', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
}

function makeLeaf(dir: string, name: string, cn: string, extensions: string): void {
  openssl(['req', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '30', '-out', `${name}.crt`, '-extfile', `${name}.ext`],
    dir,
  );
}

export function generateTestCertificates(dir: string): TestCertificates {
  makeCa(dir, 'ca', 'Test MQTT CA');
  makeCa(dir, 'wrong-ca', 'Unrelated Test CA');
  makeLeaf(dir, 'server', 'localhost',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\n' +
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n');
  makeLeaf(dir, 'client', 'test-device',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth\n');
  const file = (n: string) => join(dir, n);
  return {
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    wrongCaFile: file('wrong-ca.crt'),
    ca: readFileSync(file('ca.crt'), 'utf8'),
    wrongCa: readFileSync(file('wrong-ca.crt'), 'utf8'),
    clientCert: readFileSync(file('client.crt'), 'utf8'),
    clientKey: readFileSync(file('client.key'), 'utf8'),
  };
}
