// TLS sockets from Moddable's ECMA-419 TLS socket (examples/io/tcp/tlssocket over the SDK's TLS
// stack in modules/crypt), and the PEM-to-DER conversion of our TLS options. Listed only in builds
// that include that stack (esp32, lin).
// The TLS socket runs its handshake inside the TCP socket's callbacks, and a refused certificate
// throws from there ("certificate: auth err"): uncaught, that aborts the whole XS machine. So the
// TCP class handed to it catches what its callbacks throw and fails just this connection.
import TLSSocket from 'embedded:io/socket/tcp/tls';
import TCP from 'embedded:io/socket/tcp';
import type { TlsOptions } from '../../src/ports';
import { ModdableHostError, describe } from './errors';
import type { TlsSupport } from './network';
import { pemBlocks } from './pem';
import type { RawSocket } from './tcp';

type TcpOptions = ConstructorParameters<typeof TCP>[0] & {
  onReadable?: (count: number) => void;
  onWritable?: (count: number) => void;
  onError?: () => void;
};

function guardedTcp(failed: (error: unknown) => void): typeof TCP {
  const guard = <A extends unknown[]>(callback: ((...args: A) => void) | undefined) =>
    callback &&
    ((...args: A) => {
      try {
        callback(...args);
      } catch (error) {
        failed(error);
      }
    });
  return class GuardedTCP extends TCP {
    constructor(options: TcpOptions) {
      super({ ...options, onReadable: guard(options.onReadable), onWritable: guard(options.onWritable), onError: guard(options.onError) } as TcpOptions);
    }
  };
}

function secureOptions(host: string, tls: TlsOptions): Record<string, unknown> {
  const secure: Record<string, unknown> = { serverName: tls.serverName ?? host };
  if (tls.ca) secure.certificate = pemBlocks(tls.ca, 'tls.ca')[0];
  if (tls.cert || tls.key) {
    if (!tls.cert || !tls.key) throw new ModdableHostError('TLS_UNAVAILABLE', 'mutual TLS needs both tls.cert and tls.key');
    secure.clientCertificates = pemBlocks(tls.cert, 'tls.cert');
    secure.clientKey = pemBlocks(tls.key, 'tls.key')[0];
  }
  return secure;
}

const open: TlsSupport['open'] = ({ host, address, port, secure, callbacks }) => {
  let failed = false;
  const io = guardedTcp((error) => {
    if (failed) return;
    failed = true;
    callbacks.onError(`TLS handshake failed: ${describe(error)}`);
  });
  const options = { host, address, port, secure, TCP: { io }, ...callbacks, onError: () => callbacks.onError() };
  return new TLSSocket(options as unknown as ConstructorParameters<typeof TLSSocket>[0]) as unknown as RawSocket;
};

export const tlsSupport: TlsSupport = { secureOptions, open };
